"""Notifications (issue 3): in the app under the bell, and by e-mail through a real SMTP server process
(aiosmtpd on 127.0.0.1) — the daily 待办 reminder, and customers or tasks a colleague hands over."""

from __future__ import annotations

import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from email.header import decode_header, make_header
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone

from kehu.core.errors import NotFound
from kehu.customers.tests.factories import make_customer
from kehu.engagement import services as engagement_services
from kehu.engagement.reminders import reminder_text, reminders_send
from kehu.engagement.worklist import WorkSection
from kehu.notifications import services
from kehu.notifications.models import Notification
from kehu.notifications.selectors import notification_list, unread_count

pytestmark = pytest.mark.django_db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SimpleNamespace]:
    """A real SMTP server in its own process; what it receives lands in a Maildir."""
    port = _free_port()
    maildir = tmp_path / "maildir"
    proc = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox",
         str(maildir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"aiosmtpd did not start: {proc.stderr.read() if proc.stderr else ''}"
                ) from None
            time.sleep(0.1)
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend", EMAIL_HOST="127.0.0.1", EMAIL_PORT=port,
            EMAIL_HOST_USER="", EMAIL_HOST_PASSWORD="", EMAIL_USE_TLS=False, EMAIL_USE_SSL=False,
            DEFAULT_FROM_EMAIL="kehu@example.com", KEHU_BASE_URL="https://crm.example.com",
        ):  # fmt: skip
            yield SimpleNamespace(port=port, received=lambda: list(mailbox.Maildir(maildir, create=True)))
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _subject(message: Any) -> str:
    return str(make_header(decode_header(message["Subject"])))


def test_a_notification_is_written_once_per_key(cast: SimpleNamespace) -> None:
    first = services.notify(
        recipient=cast.rep_east, kind="digest", key="digest:2026-12-01", title="今日待办 3 项"
    )
    again = services.notify(
        recipient=cast.rep_east, kind="digest", key="digest:2026-12-01", title="今日待办 4 项"
    )
    assert first is not None and again is None
    assert Notification.objects.get().title == "今日待办 3 项"
    assert unread_count(actor=cast.rep_east) == 1 and unread_count(actor=cast.rep_west) == 0


def test_reading_is_only_for_the_recipient(cast: SimpleNamespace) -> None:
    n = services.notify(recipient=cast.rep_east, kind="x", key="k1", title="给华东")
    services.notify(recipient=cast.rep_east, kind="x", key="k2", title="也给华东")
    assert n is not None
    with pytest.raises(NotFound):
        services.notification_read(notification_id=n.pk, by=cast.rep_west)
    assert Notification.objects.filter(read_at__isnull=False).count() == 0
    services.notification_read(notification_id=n.pk, by=cast.rep_east)
    assert unread_count(actor=cast.rep_east) == 1
    assert services.notifications_read_all(by=cast.rep_east) == 1
    assert notification_list(actor=cast.rep_east, unread=True).count == 0


def test_handing_a_task_to_a_colleague_tells_them_but_not_oneself(cast: SimpleNamespace) -> None:
    today = timezone.localdate()
    engagement_services.task_create(data={"title": "给自己的", "due_on": today}, by=cast.rep_east)
    assert not Notification.objects.exists()
    task = engagement_services.task_create(
        data={"title": "回访东方精工", "due_on": today, "owner": cast.rep_east.pk}, by=cast.manager_east
    )
    (n,) = Notification.objects.all()
    assert n.recipient == cast.rep_east and "回访东方精工" in n.title and n.kind == "task_assigned"
    engagement_services.task_update(
        task_id=task.pk, version=task.version, data={"owner": cast.rep_east2.pk}, by=cast.manager_east
    )
    assert Notification.objects.filter(recipient=cast.rep_east2, kind="task_assigned").count() == 1


def test_transferring_a_customer_tells_the_new_owner(cast: SimpleNamespace) -> None:
    from kehu.customers.services import customer_transfer

    acme = make_customer(cast.rep_east, name="东方精工机械有限公司")
    customer_transfer(customer_id=acme.pk, to_user=cast.rep_east2, reason="调整区域", by=cast.manager_east)
    n = Notification.objects.get(recipient=cast.rep_east2)
    assert "东方精工机械有限公司" in n.title and n.url == f"/customers/{acme.pk}/"


def test_the_morning_reminder_counts_the_work_list_once_a_day(cast: SimpleNamespace) -> None:
    from kehu.customers.models import Customer

    late = make_customer(cast.rep_east, name="逾期客户有限公司")
    Customer.objects.filter(pk=late.pk).update(next_follow_up_on=timezone.localdate() - timedelta(days=2))
    result = reminders_send()
    assert result["notified"] >= 1
    n = Notification.objects.get(recipient=cast.rep_east, kind="digest")
    assert n.title.startswith("今日待办") and "逾期未跟进：1" in n.body and n.url == "/"
    assert not Notification.objects.filter(recipient=cast.rep_west).exists()  # nothing to do, no message
    assert reminders_send()["notified"] == 0  # the same day again: nothing new


def test_reminder_text_is_none_for_an_empty_list_and_sums_the_sections() -> None:
    assert reminder_text([WorkSection(kind="a", label="逾期未跟进")]) is None
    title, body = reminder_text(
        [WorkSection(kind="a", label="逾期未跟进", count=2), WorkSection(kind="b", label="本周生日", count=1)]
    ) or ("", "")
    assert title == "今日待办 3 项" and body == "逾期未跟进：2\n本周生日：1"


def test_notifications_are_mailed_through_smtp_once(
    cast: SimpleNamespace, smtp_server: SimpleNamespace
) -> None:
    cast.rep_east.email = "zhang.huadong@example.com"
    cast.rep_east.save(update_fields=["email"])
    cast.rep_west.email = "li.huanan@example.com"
    cast.rep_west.save(update_fields=["email"])
    services.notification_setting_update(by_email=False, by=cast.rep_west)
    services.notify(
        recipient=cast.rep_east, kind="digest", key="d1", title="今日待办 3 项", body="逾期未跟进：3", url="/"
    )
    services.notify(recipient=cast.rep_west, kind="digest", key="d1", title="今日待办 1 项")
    services.notify(recipient=cast.agent, kind="digest", key="d1", title="没有邮箱")  # no address on file

    assert services.notifications_mail() == {"sent": 1, "skipped": 2, "failed": 0}
    (message,) = smtp_server.received()
    assert message["To"] == "zhang.huadong@example.com"
    assert _subject(message) == "[Kehu] 今日待办 3 项"
    body = message.get_payload(decode=True).decode(message.get_content_charset() or "utf-8")
    assert "逾期未跟进：3" in body and "https://crm.example.com/" in body
    assert services.notifications_mail() == {"sent": 0, "skipped": 0, "failed": 0}  # never twice
    assert len(smtp_server.received()) == 1


def test_an_unreachable_smtp_server_fails_the_mail_job_and_keeps_the_notifications(
    cast: SimpleNamespace,
) -> None:
    from kehu.jobs.services import job_start

    cast.rep_east.email = "zhang.huadong@example.com"
    cast.rep_east.save(update_fields=["email"])
    services.notify(recipient=cast.rep_east, kind="digest", key="d1", title="今日待办 3 项")
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=_free_port(),
    ):
        job = job_start(kind="notifications.mail", by=None)
    job.refresh_from_db()
    assert job.status == "failed" and "Connection" in job.error
    assert Notification.objects.get().mailed_at is None  # the next run tries again


def test_the_api_lists_reads_and_switches_mail(cast: SimpleNamespace, api_as: Any) -> None:
    n = services.notify(recipient=cast.rep_east, kind="x", key="k", title="给华东")
    assert n is not None
    api = api_as(cast.rep_east)
    listed = api.get("/api/v1/notifications").json()
    assert listed["count"] == 1 and listed["unread"] == 1 and listed["items"][0]["title"] == "给华东"
    assert api_as(cast.rep_west).post(f"/api/v1/notifications/{n.pk}/read").status_code == 404
    assert api.post(f"/api/v1/notifications/{n.pk}/read").json()["read_at"] is not None
    assert api.get("/api/v1/notifications?unread=true").json()["count"] == 0
    assert api.post("/api/v1/notifications/read-all").json() == {"read": 0}
    assert api.get("/api/v1/notifications/settings").json()["by_email"] is True
    assert api.put("/api/v1/notifications/settings", {"by_email": False}).json()["by_email"] is False
    bad = api.put("/api/v1/notifications/settings", {"by_email": False, "sms": True})
    assert bad.status_code == 422 and bad.json()["field"] == "sms"


def test_the_bell_and_the_inbox(cast: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(cast.rep_east)
    assert 'data-testid="bell-count"' not in client.get("/notifications/").content.decode()
    empty = client.get("/notifications/").content.decode()
    assert 'data-testid="empty"' in empty
    n = services.notify(recipient=cast.rep_east, kind="x", key="k", title="新分配的客户", url="/customers/")
    assert n is not None
    page = client.get("/notifications/").content.decode()
    assert 'data-testid="bell-count">1<' in page and "新分配的客户" in page
    followed = client.post(f"/notifications/{n.pk}/read/")
    assert followed.status_code == 302 and followed["Location"] == "/customers/"
    assert unread_count(actor=cast.rep_east) == 0
    client.post("/notifications/", {})  # the mail switch unticked
    assert services.wants_email(cast.rep_east) is False
