"""The e-mail endpoints (ENG-5): the HTTP inbound endpoint with a mailbox token, mailbox settings, the
lists of the 24-hour rule, and replying through a real SMTP server — same services as the pages."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client

from kehu.audit.models import AuditEvent
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement.mail import mailboxes
from kehu.engagement.models import Interaction, Mailbox, MailMessage, MailThread
from kehu.integrations.mail import parse_message

from .test_mail import eml

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(cast: SimpleNamespace) -> SimpleNamespace:
    acme = make_customer(cast.rep_east, name="艾克米机械有限公司")
    make_contact(acme, cast.rep_east, name="王工", email="buyer@acme.cn")
    box = mailboxes.mailbox_create(
        data={"name": "销售邮箱", "address": "sales@kehu.test", "owner": cast.manager_east.pk}, by=cast.admin
    )
    token = mailboxes.mailbox_token_rotate(mailbox_id=box.pk, by=cast.admin)
    return SimpleNamespace(acme=acme, box=box, token=token)


def post_raw(raw: bytes, *, token: str | None, content_type: str = "message/rfc822") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client().post("/api/v1/mail/inbound", raw, content_type=content_type, headers=headers)


def test_the_inbound_endpoint_stores_a_raw_message_once(cast: Any, setup: SimpleNamespace) -> None:
    raw = eml(subject="询价：空压机", charset="gbk", body="请报价。", message_id="<http-1@acme.cn>")
    first = post_raw(raw, token=setup.token)
    assert first.status_code == 201, first.content
    assert first.json()["created"] is True and first.json()["customer"] == setup.acme.pk
    again = post_raw(raw, token=setup.token)
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    message = MailMessage.objects.get()
    assert (message.subject, message.body, message.mailbox_id) == ("询价：空压机", "请报价。", setup.box.pk)


def test_the_inbound_endpoint_takes_messages_larger_than_djangos_upload_buffer(
    setup: SimpleNamespace,
) -> None:
    big = b"%PDF-1.4 " + b"0" * (3 * 1024 * 1024)  # above DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
    raw = eml(subject="图纸", attachments=(("图纸.pdf", big, "application/pdf"),))
    response = post_raw(raw, token=setup.token)
    assert response.status_code == 201, response.content[:300]
    message = MailMessage.objects.get()
    assert [(a.name, a.size) for a in message.attachments.all()] == [("图纸.pdf", len(big))]


def test_the_inbound_endpoint_refuses_without_the_mailbox_token_and_writes_nothing(
    cast: Any, setup: SimpleNamespace, api_as: Any
) -> None:
    from kehu.access.services import token_create

    raw = eml()
    _t, admin_secret = token_create(user=cast.admin, name="admin", by=cast.admin)
    audit = AuditEvent.objects.count()
    for token in (None, "kmb_wrong", admin_secret):  # a user's API token is no key to it, not even admin's
        response = post_raw(raw, token=token)
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
    Mailbox.objects.filter(pk=setup.box.pk).update(is_active=False)
    assert post_raw(raw, token=setup.token).status_code == 401  # a switched-off mailbox takes nothing
    Mailbox.objects.filter(pk=setup.box.pk).update(is_active=True)
    wrong_type = post_raw(raw, token=setup.token, content_type="text/plain")
    assert wrong_type.status_code == 422 and wrong_type.json()["field"] == "content_type"
    no_sender = post_raw(b"Subject: x\r\n\r\nbody\r\n", token=setup.token)
    assert no_sender.status_code == 422 and no_sender.json()["field"] == "message"
    assert MailMessage.objects.count() == 0 and MailThread.objects.count() == 0
    assert AuditEvent.objects.count() == audit


def test_mailboxes_over_the_api_never_show_the_password(cast: Any, api_as: Any) -> None:
    admin = api_as(cast.admin)
    created = admin.post(
        "/api/v1/mailboxes",
        {"name": "客服邮箱", "address": "service@kehu.test", "imap_host": "imap.kehu.test", "imap_port": 993,
         "imap_username": "service", "imap_password": "s3cret", "team": cast.service.pk},
    )  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["has_password"] is True and "s3cret" not in created.content.decode()
    assert body["team"]["id"] == cast.service.pk
    patched = admin.patch(f"/api/v1/mailboxes/{body['id']}", {"version": body["version"], "imap_port": 0})
    assert patched.status_code == 422 and patched.json()["field"] == "imap_port"
    patched = admin.patch(f"/api/v1/mailboxes/{body['id']}", {"version": body["version"], "imap_port": 143})
    assert patched.status_code == 200 and patched.json()["imap_port"] == 143
    stale = admin.patch(f"/api/v1/mailboxes/{body['id']}", {"version": body["version"], "name": "x"})
    assert stale.status_code == 409
    token = admin.post(f"/api/v1/mailboxes/{body['id']}/token")
    assert token.status_code == 201 and token.json()["token"].startswith("kmb_")
    assert admin.get("/api/v1/mailboxes").json()[0]["has_token"] is True
    unknown = admin.post("/api/v1/mailboxes", {"name": "x", "address": "x@kehu.test", "password": "x"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "password"
    # A sales manager is no mail administrator.
    refused = api_as(cast.manager_east).post("/api/v1/mailboxes", {"name": "x", "address": "x@kehu.test"})
    assert refused.status_code == 403
    assert Mailbox.objects.count() == 1


def test_fetch_now_reports_an_unreachable_imap_server(cast: Any, api_as: Any) -> None:
    from kehu.integrations.tests.servers import free_port

    box = mailboxes.mailbox_create(
        data={"name": "坏服务器", "address": "x@kehu.test", "imap_host": "127.0.0.1", "imap_port": free_port(),
              "imap_ssl": False, "imap_username": "x", "imap_password": "y"},
        by=cast.admin,
    )  # fmt: skip
    result = api_as(cast.admin).post(f"/api/v1/mailboxes/{box.pk}/fetch")
    assert result.status_code == 200 and result.json()["stored"] == 0
    assert "127.0.0.1" in result.json()["error"]
    box.refresh_from_db()
    assert box.last_error == result.json()["error"]


def test_rep_east_lists_answers_and_the_smtp_server_receives_the_reply(
    cast: Any, setup: SimpleNamespace, api_as: Any, smtp_server: Any
) -> None:
    post_raw(eml(subject="样品", message_id="<api-q@acme.cn>"), token=setup.token)
    api = api_as(cast.rep_east)
    listed = api.get("/api/v1/mail/messages", {"scene": "pending"})
    assert listed.status_code == 200 and listed.json()["count"] == 1
    item = listed.json()["items"][0]
    assert item["response_state"] == "waiting" and item["responsible"]["id"] == cast.rep_east.pk
    assert item["customer"]["id"] == setup.acme.pk

    empty = api.post(f"/api/v1/mail/messages/{item['id']}/reply", {"text": ""})
    assert empty.status_code == 422 and empty.json()["field"] == "text"
    assert empty.json()["messages"] == {"zh-hans": "请填写回复内容", "en": "Enter the reply"}
    assert (
        api_as(cast.rep_west).post(f"/api/v1/mail/messages/{item['id']}/reply", {"text": "hi"}).status_code
        == 404
    )
    assert smtp_server.messages() == [] and Interaction.objects.count() == 0

    sent = api.post(
        f"/api/v1/mail/messages/{item['id']}/reply", {"text": "样品周三寄出。", "cc": ["boss@acme.cn"]}
    )
    assert sent.status_code == 201, sent.content
    assert sent.json()["direction"] == "outbound" and sent.json()["sent_by"]["id"] == cast.rep_east.pk
    [(rcpt, raw)] = smtp_server.wait_for(1)
    assert sorted(rcpt) == ["boss@acme.cn", "buyer@acme.cn"]
    assert parse_message(raw).in_reply_to == "<api-q@acme.cn>"

    thread = api.get(f"/api/v1/mail/threads/{item['thread']}").json()
    assert [m["direction"] for m in thread["messages"]] == ["inbound", "outbound"]
    assert thread["messages"][0]["response_state"] == "in_time"
    assert thread["messages"][0]["response_seconds"] is not None
    assert api.get("/api/v1/mail/messages", {"scene": "pending"}).json()["count"] == 0
    counts = api_as(cast.manager_east).get("/api/v1/mail/response-counts").json()
    assert counts == []  # nothing waiting, nothing late
    bad = api.get("/api/v1/mail/messages", {"scene": "nonsense"})
    assert bad.status_code == 422 and bad.json()["field"] == "scene"


def test_no_reply_and_assign_over_the_api(cast: Any, setup: SimpleNamespace, api_as: Any) -> None:
    post_raw(eml(sender="who@nowhere.cn", subject="合作", message_id="<api-u@nowhere.cn>"), token=setup.token)
    message = MailMessage.objects.get()
    manager = api_as(cast.manager_east)  # the mailbox owner answers for unmatched mail
    unmatched = manager.get("/api/v1/mail/messages", {"scene": "unmatched"}).json()
    assert [m["id"] for m in unmatched["items"]] == [message.pk]
    assigned = manager.post(f"/api/v1/mail/threads/{message.thread_id}/assign", {"customer": setup.acme.pk})
    assert assigned.status_code == 200 and assigned.json()["customer"]["id"] == setup.acme.pk
    done = api_as(cast.rep_east).post(f"/api/v1/mail/messages/{message.pk}/no-reply", {"reason": "广告邮件"})
    assert done.status_code == 200 and done.json()["response"] == "not_needed"
    assert done.json()["response_state"] == "not_needed" and done.json()["no_reply_reason"] == "广告邮件"
    again = api_as(cast.rep_east).post(f"/api/v1/mail/messages/{message.pk}/no-reply", {"reason": "x"})
    assert again.status_code == 409
