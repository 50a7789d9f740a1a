"""Leads from e-mail (SAL-1): an inquiry from an unknown sender becomes a lead in the lead pool; mail from
a customer's contact, our own replies, automatic replies and further mails of the same conversation do
not."""

from __future__ import annotations

from typing import Any

import pytest

from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.mail import services as mail_services
from kehu.sales.leads.choices import LeadChannel
from kehu.sales.leads.models import Lead

pytestmark = pytest.mark.django_db


def eml(sender: str, subject: str, body: str, msgid: str, *, headers: str = "", reply_to: str = "") -> bytes:
    extra = f"In-Reply-To: <{reply_to}>\r\n" if reply_to else ""
    return (
        f"From: 采购 张经理 <{sender}>\r\nTo: sales@kehu.test\r\nSubject: {subject}\r\nMessage-ID: <{msgid}>\r\n"
        f"{extra}{headers}Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ).encode()


def test_an_inquiry_from_an_unknown_sender_becomes_a_pool_lead() -> None:
    mail_services.mail_receive(raw=eml("zhang@newbuyer.cn", "询价：空压机", "请报价 20 台", "a1@newbuyer.cn"),
                               mailbox=None)  # fmt: skip
    lead = Lead.objects.get()
    assert lead.channel == LeadChannel.EMAIL and lead.owner is None
    assert lead.email == "zhang@newbuyer.cn" and lead.contact_name == "采购 张经理"
    assert "询价：空压机" in lead.content and "请报价 20 台" in lead.content
    assert lead.source.code == "inbound" and lead.mail_thread_id is not None
    # The next mail of the same conversation, and a new one while the lead is open, add no lead.
    mail_services.mail_receive(raw=eml("zhang@newbuyer.cn", "Re: 询价：空压机", "补充一下", "a2@newbuyer.cn",
                                       reply_to="a1@newbuyer.cn"), mailbox=None)  # fmt: skip
    mail_services.mail_receive(
        raw=eml("zhang@newbuyer.cn", "另一个问题", "还有", "a3@newbuyer.cn"), mailbox=None
    )
    assert Lead.objects.count() == 1


def test_mail_from_a_known_contact_or_an_auto_reply_makes_no_lead(rep_east: Any) -> None:
    customer = make_customer(rep_east, name="老客户有限公司")
    make_contact(customer, rep_east, email="li@oldcustomer.cn")
    mail_services.mail_receive(
        raw=eml("li@oldcustomer.cn", "订单", "再来 10 台", "b1@oldcustomer.cn"), mailbox=None
    )
    mail_services.mail_receive(
        raw=eml("robot@somewhere.cn", "自动回复", "我不在办公室", "b2@somewhere.cn", headers="Auto-Submitted: auto-replied\r\n"),
        mailbox=None,
    )  # fmt: skip
    assert not Lead.objects.exists()


def test_a_bad_sender_address_loses_no_mail() -> None:
    received = mail_services.mail_receive(raw=eml("a..b@x.cn", "hi", "x", "c1@x.cn"), mailbox=None)
    assert received.created and not Lead.objects.exists()
