"""E-mail in the browser (ENG-5): a customer's mail arrives through the HTTP inbound endpoint, rep_east
opens the customer's 邮件 tab, replies, and sees the reply in the thread — the real SMTP server (aiosmtpd
on 127.0.0.1) received it with the right In-Reply-To."""

from __future__ import annotations

import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.mime.text import MIMEText
from typing import Any

import pytest

from kehu.integrations.mail import parse_message
from kehu.integrations.tests.servers import SmtpServer, running_smtp

from .conftest import LiveKehu, browser_required, login, running_kehu, unique_word

try:
    from playwright.sync_api import Page, expect
except ImportError:  # pragma: no cover - requirements/test.txt installs it
    if browser_required():
        raise
    pytest.skip("the playwright Python package is not installed", allow_module_level=True)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with running_smtp() as server:
        yield server


@pytest.fixture(scope="module")
def mail_kehu(chromium_available: None, smtp: SmtpServer) -> Iterator[LiveKehu]:
    """A Kehu server of its own whose replies go to the test's SMTP server."""
    env = {"KEHU_SMTP_HOST": smtp.host, "KEHU_SMTP_PORT": str(smtp.port), "KEHU_SMTP_USE_TLS": "0"}
    with running_kehu(label="mail", customers=5, env=env) as live:
        yield live


def call(live: LiveKehu, method: str, path: str, body: Any = None, *, token: str = "", raw: bytes | None = None,
         content_type: str = "application/json") -> Any:  # fmt: skip
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(live.url + path, data=data, method=method)
    request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise AssertionError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc


def api_token(live: LiveKehu, username: str) -> str:
    return call(live, "POST", "/api/v1/auth/token", {"username": username, "password": live.password})[
        "token"
    ]


@pytest.fixture
def browser_page(browser: Any, mail_kehu: LiveKehu) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, base_url=mail_kehu.url
    )
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def test_rep_east_answers_a_customer_mail_from_the_mail_tab(
    browser_page: Page, mail_kehu: LiveKehu, smtp: SmtpServer
) -> None:
    live, page = mail_kehu, browser_page
    word = unique_word()
    tag = f"{os.getpid()}-{time.time_ns() % 10**9}"  # ASCII: addresses and Message-IDs
    address = f"buyer-{tag}@yuanhang.cn"
    admin = api_token(live, "admin")
    box = call(
        live,
        "POST",
        "/api/v1/mailboxes",
        {"name": f"销售邮箱{word}", "address": "sales@kehu.example.com"},
        token=admin,
    )
    inbound_token = call(live, "POST", f"/api/v1/mailboxes/{box['id']}/token", token=admin)["token"]
    rep = api_token(live, "rep_east")
    customer = call(
        live, "POST", "/api/v1/customers", {"name": f"远航{word}电子有限公司", "email": address}, token=rep
    )

    msg = MIMEText("请报二期设备的价格，谢谢。", "plain", "gbk")  # a GBK body, as many Chinese mailers send
    msg["From"] = f"采购 王工 <{address}>"
    msg["To"] = "sales@kehu.example.com"
    msg["Subject"] = "询价：二期设备"
    msg["Message-ID"] = f"<ask-{tag}@yuanhang.cn>"
    delivered = call(
        live,
        "POST",
        "/api/v1/mail/inbound",
        raw=msg.as_bytes(),
        content_type="message/rfc822",
        token=inbound_token,
    )
    assert delivered["created"] is True and delivered["customer"] == customer["id"]

    login(page, live, "rep_east")
    page.goto(f"/customers/{customer['id']}/?tab=mail")
    section = page.get_by_test_id("section-mail")
    thread = section.get_by_test_id("mail-thread")
    expect(thread).to_contain_text("询价：二期设备")
    expect(thread.get_by_test_id("mail-body").first).to_have_text("请报二期设备的价格，谢谢。")
    expect(thread.get_by_test_id("mail-state")).to_have_text("待回复")

    section.get_by_test_id("mail-reply-text").fill("王工您好，报价单明天发您。")
    section.get_by_test_id("mail-send").click()

    expect(page).to_have_url(re.compile(rf"/customers/{customer['id']}/\?tab=mail$"))
    messages = page.get_by_test_id("section-mail").get_by_test_id("mail-message")
    expect(messages).to_have_count(2)
    expect(messages.nth(1)).to_have_attribute("data-direction", "outbound")
    expect(messages.nth(1)).to_contain_text("王工您好，报价单明天发您。")
    expect(messages.nth(0).get_by_test_id("mail-state")).to_have_text("按时回复")

    sent = smtp.wait_for(1)
    assert len(sent) == 1
    rcpt, raw = sent[0]
    assert rcpt == [address]
    reply = parse_message(raw)
    assert reply.in_reply_to == f"<ask-{tag}@yuanhang.cn>"
    assert reply.subject == "Re: 询价：二期设备"
    assert "报价单明天发您" in reply.text
    # The reply is also a follow-up record (channel 邮件) on the customer.
    page.goto(f"/customers/{customer['id']}/?tab=interactions")
    expect(page.get_by_test_id("section-interactions").get_by_test_id("interaction").first).to_contain_text(
        "回复邮件"
    )
