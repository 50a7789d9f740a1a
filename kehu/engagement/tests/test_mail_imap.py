"""Fetching mail over IMAP from a real dovecot on 127.0.0.1 (ENG-5): ``kehu fetchmail`` stores each new
message once, however often it runs; the arrival time is the server's INTERNALDATE."""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.mail import mailboxes, selectors
from kehu.engagement.models import Mailbox, MailMessage

from .test_mail import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def inbox(cast: Any, imap_server: Any) -> SimpleNamespace:
    """A fresh IMAP user on dovecot, configured as the mailbox "销售邮箱" owned by manager_east."""
    username, password = imap_server.add_user()
    box = mailboxes.mailbox_create(
        data={
            "name": "销售邮箱", "address": "sales@kehu.test", "imap_host": imap_server.host,
            "imap_port": imap_server.port, "imap_ssl": False, "imap_username": username,
            "imap_password": password, "owner": cast.manager_east.pk,
        },
        by=cast.admin,
    )  # fmt: skip
    acme = make_customer(cast.rep_east, name="艾克米机械有限公司")
    make_contact(acme, cast.rep_east, name="王工", email="buyer@acme.cn")

    def deliver(raw: bytes, *, hours_ago: float = 0) -> None:
        imap_server.append(username, password, raw, when=time.time() - hours_ago * 3600)

    return SimpleNamespace(box=box, acme=acme, deliver=deliver, username=username, password=password)


def test_fetchmail_stores_new_messages_once_however_often_it_runs(cast: Any, inbox: SimpleNamespace) -> None:
    inbox.deliver(eml(subject="询价：空压机", charset="gbk", body="请报价 200 台，谢谢。"), hours_ago=22)
    inbox.deliver(eml(sender="stranger@nowhere.cn", subject="合作"), hours_ago=1)

    call_command("fetchmail")
    assert MailMessage.objects.count() == 2
    first = MailMessage.objects.get(subject="询价：空压机")
    assert first.thread.customer == inbox.acme
    assert first.body == "请报价 200 台，谢谢。"
    assert first.imap_uid == 1 and first.imap_uidvalidity
    # The arrival time is the IMAP server's INTERNALDATE (22 hours ago): at risk already.
    assert selectors.sla_of(first).state == "at_risk"
    assert [m.subject for m in selectors.message_list(actor=cast.rep_east, scene="at_risk").items] == [
        "询价：空压机"
    ]

    call_command("fetchmail")
    call_command("fetchmail", "--mailbox", "销售邮箱")
    assert MailMessage.objects.count() == 2

    inbox.deliver(eml(subject="Re: 询价：空压机", body="补充：需要含税价。"))
    result = mailboxes.mailbox_fetch_all()
    assert [(r.mailbox, r.fetched, r.stored, r.error) for r in result.results] == [("销售邮箱", 1, 1, "")]
    assert MailMessage.objects.count() == 3
    assert MailMessage.objects.get(body="补充：需要含税价。").thread_id == first.thread_id
    box = Mailbox.objects.get(pk=inbox.box.pk)
    assert box.last_uid == 3 and box.last_error == "" and box.last_fetched_at is not None


def test_a_forgotten_uid_mark_still_stores_nothing_twice(imap_server: Any, inbox: SimpleNamespace) -> None:
    """The UIDs start over (a new UIDVALIDITY, or the mark lost): Message-IDs keep it idempotent."""
    inbox.deliver(eml(subject="一"))
    inbox.deliver(eml(subject="二"))
    mailboxes.mailbox_fetch_all()
    Mailbox.objects.filter(pk=inbox.box.pk).update(last_uid=0, uidvalidity=None)
    result = mailboxes.mailbox_fetch_all()
    assert (result.results[0].fetched, result.results[0].stored) == (2, 0)
    assert MailMessage.objects.count() == 2


def test_a_mailbox_that_refuses_the_login_is_reported_and_the_others_still_run(
    cast: Any, imap_server: Any, inbox: SimpleNamespace, capsys: Any
) -> None:
    inbox.deliver(eml(subject="正常邮箱的邮件"))
    mailboxes.mailbox_create(
        data={"name": "密码错误的邮箱", "address": "bad@kehu.test", "imap_host": imap_server.host,
              "imap_port": imap_server.port, "imap_ssl": False, "imap_username": inbox.username,
              "imap_password": "wrong-password"},
        by=cast.admin,
    )  # fmt: skip
    with pytest.raises(CommandError) as failed:
        call_command("fetchmail")
    assert "密码错误的邮箱" in str(failed.value)
    assert MailMessage.objects.filter(subject="正常邮箱的邮件").count() == 1
    bad = Mailbox.objects.get(name="密码错误的邮箱")
    assert "login" in bad.last_error.lower() and bad.last_uid == 0


def test_fetchmail_names_an_unknown_mailbox(db: Any) -> None:
    with pytest.raises(CommandError) as failed:
        call_command("fetchmail", "--mailbox", "没有这个邮箱")
    assert "mailbox" in str(failed.value)


def test_fetch_now_from_the_mailbox_page(cast: Any, inbox: SimpleNamespace, signed_in: Any) -> None:
    from django.urls import reverse

    inbox.deliver(eml(subject="页面收信"))
    client = signed_in(cast.admin)
    response = client.post(reverse("engagement:mailbox_fetch", args=[inbox.box.pk]), follow=True)
    assert "收到新邮件 1 封" in response.content.decode()
    assert MailMessage.objects.filter(subject="页面收信").count() == 1
    client.post(reverse("engagement:mailbox_fetch", args=[inbox.box.pk]))
    assert MailMessage.objects.count() == 1
