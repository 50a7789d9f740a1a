"""The authorization matrix (issue 2 §2): every URL pattern and every API operation is listed here
with what an anonymous visitor and a signed-in user *without any role* get. A new route that is not
in the matrix fails the suite; a denied request must change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from kehu.access import services as access_services
from kehu.audit.models import AuditEvent
from kehu.customers import services as customer_services
from kehu.customers.models import Contact, Customer, Pool
from kehu.engagement import services as engagement_services
from kehu.engagement.mail import mailboxes as mail_mailboxes
from kehu.engagement.mail import services as mail_services
from kehu.engagement.models import (
    Interaction,
    InteractionAttachment,
    MailAttachment,
    Mailbox,
    MailMessage,
    MailThread,
    RevisitPlan,
    Task,
    WorkItemHandled,
)
from kehu.engagement.revisits import revisit_plan_create
from kehu.imports.models import ImportBatch, ImportProblem
from kehu.imports.services import import_upload
from kehu.jobs.models import Job
from kehu.notifications.models import Notification
from kehu.notifications.services import notify
from kehu.sales.leads import services as lead_services
from kehu.sales.leads.models import CaptureAttempt, Lead, LeadForm, RiskRule, RiskSettings

pytestmark = pytest.mark.django_db

LOGIN = "login"  # pages redirect anonymous visitors (302) to the log-in page

# name: (method, anonymous status, no-role user status)
PAGES: dict[str, tuple[str, int | str | tuple[int, ...], int | tuple[int, ...]]] = {
    "home": ("GET", LOGIN, 200),
    "healthz": ("GET", 200, 200),
    "ping": ("GET", 200, 200),
    "set_language": ("POST", 302, 302),
    "access:login": ("GET", 200, (200, 302)),
    "access:logout": ("POST", 302, 302),
    "access:users": ("GET", LOGIN, 403),
    "access:user_create": ("GET", LOGIN, 403),
    "access:user_edit": ("GET", LOGIN, 403),
    "access:user_password": ("GET", LOGIN, 403),
    "access:departments": ("GET", LOGIN, 403),
    "access:department_create": ("GET", LOGIN, 403),
    "access:department_edit": ("GET", LOGIN, 403),
    "access:roles": ("GET", LOGIN, 403),
    "access:role_create": ("GET", LOGIN, 403),
    "access:role_edit": ("GET", LOGIN, 403),
    "access:tokens": ("GET", LOGIN, 200),
    "access:token_revoke": ("POST", LOGIN, 404),
    "customers:list": ("GET", LOGIN, 200),
    "customers:create": ("GET", LOGIN, 403),
    "customers:export": ("GET", LOGIN, 403),
    "customers:claim": ("POST", LOGIN, 302),
    "customers:release": ("POST", LOGIN, 302),
    "customers:assign": ("POST", LOGIN, 302),
    "customers:pool_lock": ("POST", LOGIN, 302),
    "customers:pools": ("GET", LOGIN, 403),
    "customers:pool_create": ("GET", LOGIN, 403),
    "customers:pool_edit": ("GET", LOGIN, 403),
    "customers:pool_recycle": ("POST", LOGIN, 302),
    "customers:dup_check": ("POST", LOGIN, 403),
    "customers:detail": ("GET", LOGIN, 404),
    "customers:edit": ("GET", LOGIN, 404),
    "customers:transfer": ("POST", LOGIN, (302, 404)),
    "customers:classify": ("POST", LOGIN, (302, 404)),
    "customers:delete": ("POST", LOGIN, (302, 404)),
    "customers:reveal": ("POST", LOGIN, 403),
    "customers:merge": ("POST", LOGIN, (302, 404)),
    "customers:collaborator_add": ("POST", LOGIN, (302, 404)),
    "customers:collaborator_remove": ("POST", LOGIN, (302, 404)),
    "customers:contact_create": ("GET", LOGIN, 404),
    "customers:contacts": ("GET", LOGIN, 200),
    "customers:contact_edit": ("GET", LOGIN, 404),
    "customers:contact_delete": ("POST", LOGIN, 404),
    "customers:recycle_bin": ("GET", LOGIN, 403),
    "customers:restore": ("POST", LOGIN, 302),
    "customers:purge": ("POST", LOGIN, 302),
    "customers:options": ("GET", LOGIN, 403),
    "customers:option_toggle": ("POST", LOGIN, 302),
    "audit:list": ("GET", LOGIN, 403),
    "engagement:list": ("GET", LOGIN, 200),
    "engagement:create": ("GET", LOGIN, 404),
    "engagement:edit": ("GET", LOGIN, 404),
    "engagement:delete": ("POST", LOGIN, 404),
    "engagement:attachment_upload": ("POST", LOGIN, 404),
    "engagement:attachment_download": ("GET", LOGIN, 404),
    "engagement:attachment_delete": ("POST", LOGIN, 404),
    "engagement:tasks": ("GET", LOGIN, 200),
    "engagement:work_item_handle": ("POST", LOGIN, 302),
    "engagement:dashboard": ("GET", LOGIN, 403),
    "engagement:revisits": ("GET", LOGIN, 403),
    "engagement:revisit_edit": ("GET", LOGIN, 403),
    "engagement:revisit_run": ("POST", LOGIN, 302),
    "engagement:task_create": ("GET", LOGIN, 403),
    "engagement:task_edit": ("GET", LOGIN, 404),
    "engagement:task_delete": ("POST", LOGIN, 404),
    "engagement:task_transition": ("POST", LOGIN, 404),
    "imports:list": ("GET", LOGIN, 403),
    "imports:template": ("GET", LOGIN, 403),
    "imports:detail": ("GET", LOGIN, 403),
    "imports:commit": ("POST", LOGIN, 403),
    "jobs:list": ("GET", LOGIN, 200),
    "jobs:detail": ("GET", LOGIN, 404),
    "jobs:retry": ("POST", LOGIN, 404),
    "jobs:periodic_run": ("POST", LOGIN, 403),
    "jobs:selftest": ("POST", LOGIN, 403),
    "jobs:file": ("GET", LOGIN, 404),
    "notifications:inbox": ("GET", LOGIN, 200),
    "notifications:read": ("POST", LOGIN, 404),
    "notifications:read_all": ("POST", LOGIN, 302),
    "engagement:mail_inbox": ("GET", LOGIN, 200),
    "engagement:mail_thread": ("GET", LOGIN, 404),
    "engagement:mail_assign": ("POST", LOGIN, 404),
    "engagement:mail_reply": ("POST", LOGIN, 404),
    "engagement:mail_no_reply": ("POST", LOGIN, 404),
    "engagement:mail_attachment": ("GET", LOGIN, 404),
    "engagement:mailboxes": ("GET", LOGIN, 403),
    "engagement:mailbox_edit": ("GET", LOGIN, 403),
    "engagement:mailbox_fetch": ("POST", LOGIN, 302),
    "engagement:mailbox_token": ("POST", LOGIN, 403),
    # leads (SAL-1, SAL-2)
    "sales:lead_list": ("GET", LOGIN, 403),
    "sales:lead_pool": ("GET", LOGIN, 403),
    "sales:lead_create": ("GET", LOGIN, 403),
    "sales:lead_detail": ("GET", LOGIN, 404),
    "sales:lead_edit": ("GET", LOGIN, 403),
    "sales:lead_claim": ("POST", LOGIN, 403),
    "sales:lead_assign": ("POST", LOGIN, 302),
    "sales:lead_release": ("POST", LOGIN, 403),
    "sales:lead_discard": ("POST", LOGIN, 404),
    "sales:lead_review": ("POST", LOGIN, 404),
    "sales:lead_convert": ("GET", LOGIN, 403),
    "sales:lead_transition": ("POST", LOGIN, 404),
    "sales:lead_risk_rules": ("GET", LOGIN, 403),
    "sales:lead_forms": ("GET", LOGIN, 403),
    "sales:lead_form_edit": ("GET", LOGIN, 403),
    # The hosted capture form is public by design: its token is the key (it writes only on POST).
    "sales:lead_capture_page": ("GET", 200, 200),
}
# Routes whose own framework guards them: Django's admin (is_staff only) and the ninja API (below).
FRAMEWORK_NAMESPACES = {"admin", "api"}
TOKEN_CREATE_PAGE = "access:token_create"  # creates the caller's own token: allowed for everyone signed in

# "METHOD path": (anonymous status, no-role user status)
API: dict[str, tuple[int, int | tuple[int, ...]]] = {
    "POST /api/v1/auth/token": (422, 422),
    "GET /api/v1/auth/tokens": (401, 200),
    "POST /api/v1/auth/tokens": (401, 201),
    "DELETE /api/v1/auth/tokens/{token_id}": (401, 404),
    "GET /api/v1/me": (401, 200),
    "GET /api/v1/users": (401, 403),
    "POST /api/v1/users": (401, 403),
    "GET /api/v1/users/{user_id}": (401, 403),
    "PATCH /api/v1/users/{user_id}": (401, 403),
    "GET /api/v1/departments": (401, 200),
    "POST /api/v1/departments": (401, 403),
    "PATCH /api/v1/departments/{department_id}": (401, 403),
    "GET /api/v1/roles": (401, 200),
    "POST /api/v1/roles": (401, 403),
    "PATCH /api/v1/roles/{role_id}": (401, 403),
    "GET /api/v1/customers": (401, 200),
    "GET /api/v1/customers/export": (401, 403),
    "GET /api/v1/pools": (401, 200),
    "POST /api/v1/pools": (401, 403),
    "PATCH /api/v1/pools/{pool_id}": (401, 403),
    "POST /api/v1/pools/recycle": (401, 403),
    "POST /api/v1/customers/{customer_id}/claim": (401, 403),
    "POST /api/v1/customers/{customer_id}/release": (401, 403),
    "POST /api/v1/customers/{customer_id}/assign": (401, 403),
    "POST /api/v1/customers/{customer_id}/pool-lock": (401, 403),
    "POST /api/v1/customers": (401, 403),
    "GET /api/v1/customers/{customer_id}": (401, 404),
    "PATCH /api/v1/customers/{customer_id}": (401, 403),
    "DELETE /api/v1/customers/{customer_id}": (401, 403),
    "POST /api/v1/customers/{customer_id}/transfer": (401, 403),
    "POST /api/v1/customers/{customer_id}/classify": (401, 403),
    "POST /api/v1/customers/{customer_id}/reveal": (401, 403),
    "POST /api/v1/customers/merge": (401, 403),
    "POST /api/v1/customers/duplicates": (401, 403),
    "GET /api/v1/customers/{customer_id}/collaborators": (401, 404),
    "PUT /api/v1/customers/{customer_id}/collaborators": (401, 403),
    "DELETE /api/v1/customers/{customer_id}/collaborators/{user_id}": (401, 403),
    "GET /api/v1/customers/{customer_id}/timeline": (401, 404),
    "GET /api/v1/customers/{customer_id}/contacts": (401, 404),
    "POST /api/v1/customers/{customer_id}/contacts": (401, 403),
    "GET /api/v1/contacts": (401, 200),
    "GET /api/v1/contacts/{contact_id}": (401, 404),
    "PATCH /api/v1/contacts/{contact_id}": (401, 403),
    "DELETE /api/v1/contacts/{contact_id}": (401, 403),
    "GET /api/v1/recycle-bin": (401, 403),
    "POST /api/v1/recycle-bin/{customer_id}/restore": (401, 403),
    "DELETE /api/v1/recycle-bin/{customer_id}": (401, 403),
    "GET /api/v1/options": (401, 200),
    "POST /api/v1/options": (401, 403),
    "PATCH /api/v1/options/{option_id}": (401, 403),
    "GET /api/v1/audit": (401, 403),
    "GET /api/v1/interactions": (401, 200),
    "POST /api/v1/interactions": (401, 403),
    "GET /api/v1/interactions/{interaction_id}": (401, 404),
    "PATCH /api/v1/interactions/{interaction_id}": (401, 403),
    "DELETE /api/v1/interactions/{interaction_id}": (401, 403),
    "POST /api/v1/interactions/{interaction_id}/attachments": (401, 403),
    "GET /api/v1/attachments/{attachment_id}": (401, 404),
    "DELETE /api/v1/attachments/{attachment_id}": (401, 403),
    "GET /api/v1/tasks": (401, 200),
    "GET /api/v1/worklist": (401, 200),
    "GET /api/v1/dashboard": (401, 403),
    "GET /api/v1/revisit-plans": (401, 403),
    "GET /api/v1/jobs": (401, 200),
    "GET /api/v1/notifications": (401, 200),
    "POST /api/v1/notifications/read-all": (401, 200),
    "POST /api/v1/notifications/{notification_id}/read": (401, 404),
    "GET /api/v1/notifications/settings": (401, 200),
    "PUT /api/v1/notifications/settings": (401, 200),
    "GET /api/v1/jobs/periodic": (401, 200),
    "POST /api/v1/jobs/periodic/{kind}/run": (401, 403),
    "POST /api/v1/jobs/selftest": (401, 403),
    "GET /api/v1/jobs/{job_id}": (401, 404),
    "POST /api/v1/jobs/{job_id}/retry": (401, 404),
    "GET /api/v1/jobs/{job_id}/file": (401, 404),
    "POST /api/v1/customers/export-jobs": (401, 403),
    "POST /api/v1/revisit-plans": (401, 403),
    "POST /api/v1/revisit-plans/run": (401, 403),
    "PATCH /api/v1/revisit-plans/{plan_id}": (401, 403),
    "POST /api/v1/worklist/handled": (401, 403),
    "POST /api/v1/tasks": (401, 403),
    "GET /api/v1/tasks/{task_id}": (401, 404),
    "PATCH /api/v1/tasks/{task_id}": (401, 403),
    "POST /api/v1/tasks/{task_id}/complete": (401, 403),
    "POST /api/v1/tasks/{task_id}/cancel": (401, 403),
    "POST /api/v1/tasks/{task_id}/reopen": (401, 403),
    "DELETE /api/v1/tasks/{task_id}": (401, 403),
    "GET /api/v1/imports": (401, 403),
    "POST /api/v1/imports": (401, 403),
    "GET /api/v1/imports/templates/{kind}": (401, 403),
    "GET /api/v1/imports/{batch_id}": (401, 403),
    "GET /api/v1/imports/{batch_id}/problems": (401, 403),
    "POST /api/v1/imports/{batch_id}/commit": (401, 403),
    # The inbound endpoint takes a mailbox's token only: a user's API token is no key to it.
    "POST /api/v1/mail/inbound": (401, 401),
    "GET /api/v1/mail/messages": (401, 200),
    "GET /api/v1/mail/response-counts": (401, 200),
    "GET /api/v1/mail/messages/{message_id}": (401, 404),
    "POST /api/v1/mail/messages/{message_id}/reply": (401, 403),
    "POST /api/v1/mail/messages/{message_id}/no-reply": (401, 403),
    "GET /api/v1/mail/threads/{thread_id}": (401, 404),
    "POST /api/v1/mail/threads/{thread_id}/assign": (401, 403),
    "GET /api/v1/mail/attachments/{mail_attachment_id}": (401, 404),
    "GET /api/v1/mailboxes": (401, 403),
    "POST /api/v1/mailboxes": (401, 403),
    "GET /api/v1/mailboxes/{mailbox_id}": (401, 403),
    "PATCH /api/v1/mailboxes/{mailbox_id}": (401, 403),
    "POST /api/v1/mailboxes/{mailbox_id}/token": (401, 403),
    "POST /api/v1/mailboxes/{mailbox_id}/fetch": (401, 403),
    # Public lead capture: no sign-in; an unknown form token is not found, a missing one invalid.
    "GET /api/v1/leads/capture/stamp": (422, 422),
    "POST /api/v1/leads/capture": (404, 404),
    "GET /api/v1/leads": (401, 200),
    "POST /api/v1/leads": (401, 403),
    "GET /api/v1/leads/{lead_id}": (401, 404),
    "PATCH /api/v1/leads/{lead_id}": (401, 403),
    "POST /api/v1/leads/{lead_id}/claim": (401, 403),
    "POST /api/v1/leads/{lead_id}/assign": (401, 403),
    "POST /api/v1/leads/{lead_id}/release": (401, 403),
    "POST /api/v1/leads/{lead_id}/screen": (401, 403),
    "POST /api/v1/leads/{lead_id}/qualify": (401, 403),
    "POST /api/v1/leads/{lead_id}/discard": (401, 403),
    "POST /api/v1/leads/{lead_id}/review": (401, 403),
    "POST /api/v1/leads/{lead_id}/samples-sent": (401, 403),
    "GET /api/v1/leads/{lead_id}/duplicates": (401, 404),
    "POST /api/v1/leads/{lead_id}/convert": (401, 403),
    "GET /api/v1/lead-risk-rules": (401, 403),
    "PATCH /api/v1/lead-risk-rules/{rule_id}": (401, 403),
    "GET /api/v1/lead-risk-settings": (401, 403),
    "PUT /api/v1/lead-risk-settings": (401, 403),
    "POST /api/v1/lead-risk-settings/rescore": (401, 403),
    "GET /api/v1/lead-forms": (401, 403),
    "POST /api/v1/lead-forms": (401, 403),
    "PATCH /api/v1/lead-forms/{form_id}": (401, 403),
}
# Bodies that pass schema validation, so that the permission check (not a 422) decides.
API_BODIES: dict[str, dict[str, Any]] = {
    "PUT /api/v1/notifications/settings": {"by_email": True},
    "POST /api/v1/auth/tokens": {"name": "mine"},
    "POST /api/v1/users": {"username": "intruder", "password": "Xy-2026-long-pass"},
    "PATCH /api/v1/users/{user_id}": {"version": 1, "display_name": "x"},
    "POST /api/v1/departments": {"name": "x"},
    "PATCH /api/v1/departments/{department_id}": {"version": 1, "name": "x"},
    "POST /api/v1/roles": {"code": "x", "name": "x", "permissions": [], "data_scope": "all"},
    "PATCH /api/v1/roles/{role_id}": {"version": 1, "name": "x", "permissions": [], "data_scope": "all"},
    "POST /api/v1/customers": {"name": "入侵公司"},
    "PATCH /api/v1/customers/{customer_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/customers/{customer_id}/transfer": {"to_user": 1, "reason": "x"},
    "POST /api/v1/customers/{customer_id}/classify": {
        "dimension": "value_tier",
        "value": "vip",
        "reason": "x",
        "version": 1,
    },
    "POST /api/v1/customers/merge": {"keep_id": 1, "drop_id": 2},
    "POST /api/v1/customers/duplicates": {"name": "华为"},
    "PUT /api/v1/customers/{customer_id}/collaborators": {"user_id": 1},
    "POST /api/v1/customers/{customer_id}/contacts": {"name": "某人"},
    "PATCH /api/v1/contacts/{contact_id}": {"version": 1, "name": "x"},
    "POST /api/v1/options": {"kind": "industry", "code": "x", "label": "x"},
    "PATCH /api/v1/options/{option_id}": {"label": "x"},
    "POST /api/v1/interactions": {"customer": 1, "channel": "phone", "summary": "x"},
    "PATCH /api/v1/interactions/{interaction_id}": {"version": 1, "summary": "x"},
    "POST /api/v1/tasks": {"title": "x", "due_on": "2030-01-01"},
    "POST /api/v1/pools": {"name": "入侵公海"},
    "PATCH /api/v1/pools/{pool_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/customers/{customer_id}/release": {"reason": "x"},
    "POST /api/v1/customers/{customer_id}/assign": {"to_user": 1},
    "POST /api/v1/customers/{customer_id}/pool-lock": {"locked": True},
    "POST /api/v1/worklist/handled": {"kind": "contact_today", "object_id": 1},
    "POST /api/v1/revisit-plans": {"name": "入侵计划", "every_days": 30, "task_title": "x"},
    "PATCH /api/v1/revisit-plans/{plan_id}": {"version": 1, "name": "改名"},
    "PATCH /api/v1/tasks/{task_id}": {"version": 1, "title": "x"},
    "POST /api/v1/tasks/{task_id}/complete": {"version": 1, "result": "x"},
    "POST /api/v1/tasks/{task_id}/cancel": {"version": 1, "reason": "x"},
    "POST /api/v1/tasks/{task_id}/reopen": {"version": 1},
    "POST /api/v1/auth/token": {},
    "POST /api/v1/imports/{batch_id}/commit": {"on_duplicate": "update"},
    "POST /api/v1/mail/messages/{message_id}/reply": {"text": "入侵回复"},
    "POST /api/v1/mail/messages/{message_id}/no-reply": {"reason": "x"},
    "POST /api/v1/mail/threads/{thread_id}/assign": {"customer": 1},
    "POST /api/v1/mailboxes": {"name": "入侵邮箱", "address": "x@kehu.test"},
    "PATCH /api/v1/mailboxes/{mailbox_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/leads/capture": {"token": "nope", "contact_name": "机器人", "mobile": "13800138000"},
    "POST /api/v1/leads": {"contact_name": "入侵线索", "mobile": "13800138000"},
    "PATCH /api/v1/leads/{lead_id}": {"version": 1, "city": "x"},
    "POST /api/v1/leads/{lead_id}/assign": {"to_user": 1},
    "POST /api/v1/leads/{lead_id}/discard": {"reason": "spam"},
    "POST /api/v1/leads/{lead_id}/review": {"comment": "x"},
    "PATCH /api/v1/lead-risk-rules/{rule_id}": {"version": 1, "points": 1},
    "PUT /api/v1/lead-risk-settings": {"threshold": 1},
    "POST /api/v1/lead-forms": {"name": "入侵表单"},
    "PATCH /api/v1/lead-forms/{form_id}": {"version": 1, "name": "改名"},
}


def _walk(resolver: URLResolver, namespace: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or ""
            found += _walk(entry, f"{namespace}:{ns}".strip(":") if ns else namespace)
        elif entry.name:
            found.append((f"{namespace}:{entry.name}" if namespace else entry.name, entry))
    return found


def _page_names() -> set[str]:
    return {name for name, _ in _walk(get_resolver()) if name.split(":")[0] not in FRAMEWORK_NAMESPACES}


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    admin = access_services.user_create(
        username="admin", password="Admin-2026-long", role_codes=["admin"], by=None
    )
    nobody = access_services.user_create(username="nobody", password="Nobody-2026-long", by=None)
    dept = access_services.department_create(name="华东销售部", by=admin)
    customer = customer_services.customer_create(
        data={"name": "矩阵测试有限公司", "mobile": "13800138000"}, by=admin
    )
    gone = customer_services.customer_create(data={"name": "回收站里的公司"}, by=admin)
    customer_services.customer_delete(customer_id=gone.pk, by=admin)
    contact = customer_services.contact_create(customer_id=customer.pk, data={"name": "张三"}, by=admin)
    interaction = engagement_services.interaction_create(
        customer_id=customer.pk,
        data={"channel": "phone", "occurred_at": timezone.now(), "summary": "矩阵测试的通话"},
        by=admin,
        files=[("报价单.pdf", b"%PDF-1.4 matrix")],
    )
    task = engagement_services.task_create(
        data={"title": "矩阵测试任务", "due_on": timezone.localdate(), "customer": customer.pk}, by=admin
    )
    notice = notify(recipient=admin, kind="x", key="matrix", title="给管理员的通知")
    failed_job = Job.objects.create(kind="jobs.selftest", title="自检", status="failed", created_by=admin)
    plan = revisit_plan_create(data={"name": "矩阵回访", "every_days": 30, "task_title": "回访"}, by=admin)
    batch = import_upload(
        kind="customers", name="matrix.csv", data="客户名称\n矩阵导入公司\n".encode(), by=admin
    )
    mailbox = mail_mailboxes.mailbox_create(
        data={"name": "矩阵邮箱", "address": "sales@kehu.test", "imap_host": "127.0.0.1", "imap_port": 9,
              "imap_ssl": False, "imap_username": "x", "imap_password": "y"},
        by=admin,
    )  # fmt: skip
    mail_mailboxes.mailbox_token_rotate(mailbox_id=mailbox.pk, by=admin)
    email_message = mail_services.mail_receive(
        raw=b"From: stranger@nowhere.cn\r\nSubject: hello\r\nMessage-ID: <matrix@nowhere.cn>\r\n"
        b"Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhi\r\n"
        b"--XX\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\n"
        b"%PDF-1.4 x\r\n--XX--\r\n",
        mailbox=mailbox,
    ).message
    lead = lead_services.lead_create(data={"contact_name": "矩阵线索", "mobile": "13900139000"}, by=admin)
    lead_form = lead_services.lead_form_create(data={"name": "矩阵表单"}, by=admin)
    token, _secret = access_services.token_create(user=admin, name="admin-token", by=admin)
    _n, nobody_secret = access_services.token_create(user=nobody, name="nobody-token", by=nobody)
    from kehu.access.models import Role
    from kehu.customers.models import Option

    return {
        "admin": admin,
        "nobody": nobody,
        "nobody_secret": nobody_secret,
        "kwargs": {
            "pk": customer.pk,
            "user_id": admin.pk,
            "contact_id": contact.pk,
            "option_id": Option.objects.first().pk,
            "token_id": token.pk,
            "department_id": dept.pk,
            "role_id": Role.objects.first().pk,
            "customer_id": customer.pk,
            "gone": gone.pk,
            "interaction_id": interaction.pk,
            "attachment_id": interaction.attachments.get().pk,
            "task_id": task.pk,
            "plan_id": plan.pk,
            "mailbox_id": mailbox.pk,
            "message_id": email_message.pk,
            "thread_id": email_message.thread_id,
            "mail_attachment_id": email_message.attachments.get().pk,
            "pool_id": Pool.objects.get(is_default=True).pk,
            "verb": "complete",
            "batch_id": batch.pk,
            "job_id": failed_job.pk,
            "notification_id": notice.pk if notice else 0,
            "kind": "customers.pool_recycle",
            "lead_id": lead.pk,
            "form_id": lead_form.pk,
            "token": lead_form.token,
            "rule_id": RiskRule.objects.first().pk,
        },
        "gone": gone,
    }


def _page_kwargs(name: str, pattern: URLPattern, world: dict[str, Any]) -> dict[str, Any]:
    kw = world["kwargs"]
    out = {}
    for key in pattern.pattern.converters:
        if name.startswith("access:user"):
            out[key] = kw["user_id"]
        elif name.startswith("access:department"):
            out[key] = kw["department_id"]
        elif name.startswith("access:role"):
            out[key] = kw["role_id"]
        elif name.startswith("access:token"):
            out[key] = kw["token_id"]
        elif name.startswith("notifications:") and key == "pk":
            out[key] = kw["notification_id"]
        elif name.startswith("jobs:") and key == "pk":
            out[key] = kw["job_id"]
        elif name in ("engagement:mail_thread", "engagement:mail_assign"):
            out[key] = kw["thread_id"]
        elif name in ("engagement:mail_reply", "engagement:mail_no_reply"):
            out[key] = kw["message_id"]
        elif name.startswith("engagement:task") and key == "pk":
            out[key] = kw["task_id"]
        elif name.startswith("engagement:") and key == "pk":
            out[key] = kw["interaction_id"]
        elif name.startswith("sales:lead") and key == "pk":
            out[key] = kw["lead_id"]
        elif name.startswith("imports:") and key == "pk":
            out[key] = kw["batch_id"]
        elif name in ("customers:restore", "customers:purge"):
            out[key] = kw["gone"]
        elif key == "pk":
            out[key] = kw["pk"]
        else:
            out[key] = kw[key]
    return out


def _snapshot() -> tuple[Any, ...]:
    return (
        list(Interaction.objects.order_by("pk").values_list("summary", "version", "deleted_at")),
        InteractionAttachment.objects.count(),
        list(Task.objects.order_by("pk").values_list("title", "status", "version", "deleted_at")),
        WorkItemHandled.objects.count(),
        list(RevisitPlan.objects.order_by("pk").values_list("name", "version")),
        list(Pool.objects.order_by("pk").values_list("name", "version", "no_follow_up_days")),
        list(Customer.objects.order_by("pk").values_list("pool_locked", "previous_owner_id")),
        Customer.objects.count(),
        Contact.objects.filter(deleted_at__isnull=True).count(),
        Customer.objects.filter(deleted_at__isnull=False).count(),
        list(Customer.objects.order_by("pk").values_list("name", "owner_id", "version")),
        list(ImportBatch.objects.order_by("pk").values_list("status", "created", "total_rows")),
        ImportProblem.objects.count(),
        list(Job.objects.order_by("pk").values_list("status", "attempts")),
        list(Notification.objects.order_by("pk").values_list("read_at", flat=True)),
        list(MailMessage.objects.order_by("pk").values_list("response", "no_reply_reason", "thread_id")),
        list(MailThread.objects.order_by("pk").values_list("customer_id", "contact_id")),
        list(
            Mailbox.objects.order_by("pk").values_list(
                "name", "version", "token_hash", "last_uid", "last_error"
            )
        ),
        MailAttachment.objects.count(),
        list(
            Lead.objects.order_by("pk").values_list(
                "status", "owner_id", "version", "flagged_for_review", "samples_sent_at", "city"
            )
        ),
        list(LeadForm.objects.order_by("pk").values_list("name", "version", "is_active")),
        list(RiskRule.objects.order_by("pk").values_list("points", "version")),
        list(RiskSettings.objects.order_by("pk").values_list("threshold", "version")),
        CaptureAttempt.objects.count(),
    )


def test_every_page_is_in_the_matrix() -> None:
    assert _page_names() - {TOKEN_CREATE_PAGE} == set(PAGES)


def test_every_api_operation_is_in_the_matrix() -> None:
    from config.api import api

    schema = api.get_openapi_schema()
    operations = {f"{method.upper()} {path}" for path, ops in schema["paths"].items() for method in ops}
    assert operations == set(API)


def _fill(path: str, world: dict[str, Any]) -> str:
    for key, value in world["kwargs"].items():
        path = path.replace("{" + key + "}", str(value))
    return path


@pytest.mark.parametrize("name", sorted(PAGES))
def test_pages_refuse_anonymous_and_roleless_users_and_change_nothing(
    name: str, world: dict[str, Any]
) -> None:
    method, anonymous, roleless = PAGES[name]
    pattern = dict(_walk(get_resolver()))[name]
    url = reverse(name, kwargs=_page_kwargs(name, pattern, world))
    before = _snapshot()

    response = getattr(Client(), method.lower())(url)
    if anonymous == LOGIN:
        assert response.status_code == 302, url
        assert reverse("access:login") in response["Location"]
    else:
        assert response.status_code in (anonymous if isinstance(anonymous, tuple) else (anonymous,)), url

    client = Client()
    client.force_login(world["nobody"])
    audit_before = AuditEvent.objects.count()
    response = getattr(client, method.lower())(url)
    assert response.status_code in (roleless if isinstance(roleless, tuple) else (roleless,)), url
    assert _snapshot() == before
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("operation", sorted(API))
def test_api_refuses_anonymous_and_roleless_callers_and_changes_nothing(
    operation: str, world: dict[str, Any]
) -> None:
    anonymous, roleless = API[operation]
    method, path = operation.split(" ", 1)
    url = _fill(path, world) + ("?kind=industry" if operation == "GET /api/v1/options" else "")
    body = json.dumps(API_BODIES.get(operation, {}))
    before = _snapshot()

    call = getattr(Client(), method.lower())
    response = call(url, data=body, content_type="application/json") if method != "GET" else call(url)
    assert response.status_code == anonymous, (operation, response.content[:300])

    headers = {"HTTP_AUTHORIZATION": f"Bearer {world['nobody_secret']}"}
    call = getattr(Client(), method.lower())
    if method == "GET":
        response = call(url, **headers)
    else:
        response = call(url, data=body, content_type="application/json", **headers)
    expected = roleless if isinstance(roleless, tuple) else (roleless,)
    assert response.status_code in expected, (operation, response.content[:300])
    if response.status_code == 200 and method == "GET" and "items" in response.json():
        # Lists a roleless user may call return nothing of anybody's.
        assert response.json()["count"] == 0 or operation in {"GET /api/v1/auth/tokens"}
    assert _snapshot() == before
    if response.status_code >= 400:
        body_json = response.json()
        assert set(body_json) >= {"code", "message", "field"}
