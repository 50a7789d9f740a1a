"""The e-mail pages (ENG-5): the customer's 邮件 tab, the lists, a thread, replying and the mailbox
settings, as the cast uses them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse

from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.mail import mailboxes, services
from kehu.engagement.models import Mailbox, MailMessage

from .test_mail import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail(cast: SimpleNamespace) -> SimpleNamespace:
    acme = make_customer(cast.rep_east, name="艾克米机械有限公司")
    make_contact(acme, cast.rep_east, name="王工", email="buyer@acme.cn")
    box = mailboxes.mailbox_create(data={"name": "销售邮箱", "address": "sales@kehu.test"}, by=cast.admin)
    question = services.mail_receive(
        raw=eml(subject="询价：空压机", body="<b>请报价</b> 200 台"), mailbox=box
    ).message
    stranger = services.mail_receive(
        raw=eml(sender="who@nowhere.cn", subject="合作意向"), mailbox=box
    ).message
    return SimpleNamespace(acme=acme, box=box, question=question, stranger=stranger)


def test_the_customer_page_has_a_mail_tab_with_the_thread(
    cast: Any, mail: SimpleNamespace, signed_in: Any
) -> None:
    page = signed_in(cast.rep_east).get(reverse("customers:detail", args=[mail.acme.pk]) + "?tab=mail")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="tab-mail"' in html and "邮件 (1)" in html
    assert "询价：空压机" in html
    assert "&lt;b&gt;请报价&lt;/b&gt; 200 台" in html  # the body is text, never markup
    assert 'data-testid="mail-reply-form"' in html
    # The timeline shows the inbound mail too.
    assert "发来邮件" in html


def test_a_customer_without_mail_shows_the_empty_tab(
    cast: Any, mail: SimpleNamespace, signed_in: Any
) -> None:
    other = make_customer(cast.rep_east, name="没有邮件有限公司")
    html = (
        signed_in(cast.rep_east)
        .get(reverse("customers:detail", args=[other.pk]) + "?tab=mail")
        .content.decode()
    )
    assert 'data-testid="mail-empty"' in html


def test_rep_east_replies_from_the_thread_page(
    cast: Any, mail: SimpleNamespace, signed_in: Any, smtp_server: Any
) -> None:
    client = signed_in(cast.rep_east)
    url = reverse("engagement:mail_thread", args=[mail.question.thread_id])
    assert client.get(url).status_code == 200
    response = client.post(
        reverse("engagement:mail_reply", args=[mail.question.pk]), {"text": "报价单今天发您。", "next": url}
    )
    assert response.status_code == 302 and response["Location"] == url
    assert len(smtp_server.wait_for(1)) == 1
    html = client.get(url).content.decode()
    assert "报价单今天发您。" in html and "按时回复" in html
    # An off-site "next" is ignored.
    response = client.post(
        reverse("engagement:mail_reply", args=[mail.question.pk]),
        {"text": "再补充一句。", "next": "https://evil.example/"},
    )
    assert response["Location"] == url


def test_the_lists_show_scenes_counts_and_empty_states(
    cast: Any, mail: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    html = client.get(reverse("engagement:mail_inbox")).content.decode()
    assert "询价：空压机" in html and 'data-testid="mail-counts"' in html
    assert "合作意向" in client.get(reverse("engagement:mail_inbox") + "?scene=unmatched").content.decode()
    assert (
        'data-testid="empty"'
        in client.get(reverse("engagement:mail_inbox") + "?scene=missed").content.decode()
    )
    bad = client.get(reverse("engagement:mail_inbox") + "?scene=nope").content.decode()
    assert 'data-testid="list-error"' in bad
    rep_west = signed_in(cast.rep_west).get(reverse("engagement:mail_inbox") + "?scene=all").content.decode()
    assert "询价：空压机" not in rep_west and 'data-testid="empty"' in rep_west


def test_assigning_and_no_reply_from_the_thread_page(
    cast: Any, mail: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    url = reverse("engagement:mail_thread", args=[mail.stranger.thread_id])
    assert 'data-testid="mail-unmatched"' in client.get(url).content.decode()
    found = client.get(url, {"q": "艾克米"}).content.decode()
    assert 'data-testid="assign-candidates"' in found and "艾克米机械有限公司" in found
    assert "没有找到您能查看的客户" in client.get(url, {"q": "不存在的公司"}).content.decode()
    assert signed_in(cast.rep_west).get(url, {"q": "艾克米"}).status_code == 404
    client = signed_in(cast.admin)
    client.post(
        reverse("engagement:mail_assign", args=[mail.stranger.thread_id]), {"customer": str(mail.acme.pk)}
    )
    assert 'data-testid="mail-unmatched"' not in client.get(url).content.decode()
    client.post(reverse("engagement:mail_no_reply", args=[mail.stranger.pk]), {"reason": "", "next": url})
    assert MailMessage.objects.get(pk=mail.stranger.pk).response == "pending"  # a reason is required
    client.post(reverse("engagement:mail_no_reply", args=[mail.stranger.pk]), {"reason": "广告", "next": url})
    assert MailMessage.objects.get(pk=mail.stranger.pk).response == "not_needed"


def test_the_mailbox_page_saves_and_never_shows_the_password(
    cast: Any, mail: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(cast.admin)
    data = {
        "name": "客服邮箱", "address": "service@kehu.test", "imap_host": "imap.kehu.test", "imap_port": "993",
        "imap_ssl": "on", "imap_username": "service", "imap_password": "s3cret-pw", "imap_folder": "INBOX",
        "owner": str(cast.agent.pk), "team": str(cast.service.pk), "is_active": "on",
    }  # fmt: skip
    assert client.post(reverse("engagement:mailboxes"), data).status_code == 302
    box = Mailbox.objects.get(name="客服邮箱")
    assert box.imap_password == "s3cret-pw" and box.owner == cast.agent
    edit = client.get(reverse("engagement:mailbox_edit", args=[box.pk])).content.decode()
    assert "s3cret-pw" not in edit and "已保存 IMAP 密码" in edit
    bad = client.post(reverse("engagement:mailboxes"), {**data, "name": "客服邮箱"}).content.decode()
    assert "已存在" in bad
    token_page = client.post(reverse("engagement:mailbox_token", args=[box.pk])).content.decode()
    assert "kmb_" in token_page
    assert signed_in(cast.manager_east).get(reverse("engagement:mailboxes")).status_code == 403
