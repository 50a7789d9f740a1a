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
from kehu.analytics.models import AnalyticsRun, AnalyticsSettings, CustomerScore
from kehu.analytics.refresh import refresh as analytics_refresh
from kehu.approvals.models import ApprovalDecision, ApprovalFlow, ApprovalRequest
from kehu.audit.models import AuditEvent
from kehu.catalog.models import Product
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
from kehu.orders.models import Contract, Instalment, Invoice, Order, OrderDocument, PaymentRecord, Shipment
from kehu.sales import services as sales_services
from kehu.sales.leads import services as lead_services
from kehu.sales.leads.models import CaptureAttempt, Lead, LeadForm, RiskRule, RiskSettings
from kehu.sales.models import (
    Competitor,
    Letterhead,
    Opportunity,
    OpportunityContact,
    OpportunityProduct,
    Quote,
    QuoteLine,
    Stage,
    StageGroup,
)
from kehu.service.models import (
    AgentPresence,
    CalendarDay,
    EscalationRule,
    IncomingCall,
    ServiceSettings,
    ServiceTeam,
    SlaPolicy,
    TeamMember,
    Ticket,
    TicketEscalation,
    TicketMessage,
)
from kehu.targets import services as target_services
from kehu.targets.models import SalesTarget

pytestmark = pytest.mark.django_db
ORDER_MODELS = (Contract, Instalment, Order, Shipment, Invoice, PaymentRecord, OrderDocument)

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
    "sales:list": ("GET", LOGIN, 200),
    "sales:create": ("GET", LOGIN, 403),
    "sales:customer_options": ("GET", LOGIN, 403),
    "sales:detail": ("GET", LOGIN, 404),
    "sales:edit": ("GET", LOGIN, 404),
    "sales:line_add": ("POST", LOGIN, 404),
    "sales:line_edit": ("POST", LOGIN, 404),
    "sales:line_remove": ("POST", LOGIN, 404),
    "sales:member_add": ("POST", LOGIN, 404),
    "sales:member_edit": ("POST", LOGIN, 404),
    "sales:member_remove": ("POST", LOGIN, 404),
    "sales:competitor_add": ("POST", LOGIN, 404),
    "sales:competitor_edit": ("POST", LOGIN, 404),
    "sales:competitor_remove": ("POST", LOGIN, 404),
    "sales:transition": ("POST", LOGIN, 404),
    "sales:board": ("GET", LOGIN, 403),
    "sales:board_move": ("POST", LOGIN, 403),
    "sales:board_column": ("GET", LOGIN, 403),
    "sales:forecast": ("GET", LOGIN, 403),
    "sales:stage_groups": ("GET", LOGIN, 403),
    "sales:stage_group_create": ("GET", LOGIN, 403),
    "sales:stage_group_edit": ("GET", LOGIN, 403),
    "approvals:list": ("GET", LOGIN, 200),
    "approvals:submit": ("POST", LOGIN, 302),
    "approvals:detail": ("GET", LOGIN, 404),
    "approvals:decide": ("POST", LOGIN, 404),
    "approvals:panel_withdraw": ("POST", LOGIN, 404),
    "approvals:flows": ("GET", LOGIN, 403),
    "approvals:flow_create": ("GET", LOGIN, 403),
    "approvals:flow_edit": ("GET", LOGIN, 403),
    "approvals:flow_deactivate": ("POST", LOGIN, 302),
    "catalog:list": ("GET", LOGIN, 403),
    "catalog:create": ("GET", LOGIN, 403),
    "catalog:picker": ("GET", LOGIN, 403),
    "catalog:detail": ("GET", LOGIN, 404),
    "catalog:edit": ("GET", LOGIN, 403),
    "catalog:picture": ("GET", LOGIN, 404),
    "catalog:toggle": ("POST", LOGIN, 403),
    "sales:quote_list": ("GET", LOGIN, 403),
    "sales:quote_create": ("GET", LOGIN, 403),
    "sales:quote_history": ("GET", LOGIN, 403),
    "sales:letterhead": ("GET", LOGIN, 403),
    "sales:letterhead_logo": ("GET", LOGIN, 403),
    "sales:quote_detail": ("GET", LOGIN, 404),
    "sales:quote_edit": ("GET", LOGIN, 403),
    "sales:quote_line_add": ("POST", LOGIN, 404),
    "sales:quote_line_edit": ("GET", LOGIN, 404),
    "sales:quote_line_delete": ("POST", LOGIN, 404),
    "sales:quote_revise": ("POST", LOGIN, 403),
    "sales:quote_pdf": ("GET", LOGIN, 404),
    "sales:quote_xlsx": ("GET", LOGIN, 404),
    "sales:quote_transition": ("POST", LOGIN, 403),
    "sales:quote_line_picture": ("GET", LOGIN, 404),
    # contracts, orders, invoices, payments, receivables (SAL-6, SAL-7)
    "orders:contracts": ("GET", LOGIN, 403),
    "orders:contract_create": ("GET", LOGIN, 403),
    "orders:contract_detail": ("GET", LOGIN, 404),
    "orders:contract_edit": ("GET", LOGIN, 404),
    "orders:contract_attachment": ("POST", LOGIN, 404),
    "orders:instalment_add": ("POST", LOGIN, 404),
    "orders:contract_transition": ("POST", LOGIN, 404),
    "orders:instalment_edit": ("GET", LOGIN, 404),
    "orders:instalment_delete": ("POST", LOGIN, 404),
    "orders:orders": ("GET", LOGIN, 403),
    "orders:order_create": ("GET", LOGIN, 403),
    "orders:order_detail": ("GET", LOGIN, 404),
    "orders:order_edit": ("GET", LOGIN, 404),
    "orders:shipment_create": ("GET", LOGIN, 403),
    "orders:order_transition": ("POST", LOGIN, 404),
    "orders:shipment_deliver": ("POST", LOGIN, 404),
    "orders:shipment_proof": ("POST", LOGIN, 404),
    "orders:invoices": ("GET", LOGIN, 403),
    "orders:invoice_create": ("GET", LOGIN, 403),
    "orders:invoice_detail": ("GET", LOGIN, 404),
    "orders:invoice_edit": ("GET", LOGIN, 404),
    "orders:invoice_file": ("POST", LOGIN, 404),
    "orders:invoice_void": ("POST", LOGIN, 404),
    "orders:payments": ("GET", LOGIN, 403),
    "orders:payment_create": ("GET", LOGIN, 403),
    "orders:payment_detail": ("GET", LOGIN, 404),
    "orders:payment_edit": ("GET", LOGIN, 404),
    "orders:payment_delete": ("POST", LOGIN, 404),
    "orders:payment_proof": ("POST", LOGIN, 404),
    "orders:receivables": ("GET", LOGIN, 403),
    "orders:document_download": ("GET", LOGIN, 404),
    "orders:document_delete": ("POST", LOGIN, 404),
    "orders:customer_documents": ("GET", LOGIN, 404),
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
PAGES.update(
    {
        "targets:list": ("GET", LOGIN, 403),
        "targets:create": ("GET", LOGIN, 403),
        "targets:edit": ("GET", LOGIN, 403),
        "targets:delete": ("POST", LOGIN, 404),
        "targets:rates": ("GET", LOGIN, 403),
    }
)
# Analytics (ANA-1 … ANA-7): analytics.view for the pages, analytics.manage for settings and refresh.
PAGES.update(
    {
        "analytics:overview": ("GET", LOGIN, 403),
        "analytics:overview_export": ("GET", LOGIN, 403),
        "analytics:customers": ("GET", LOGIN, 403),
        "analytics:customer_export": ("GET", LOGIN, 403),
        "analytics:churn": ("GET", LOGIN, 403),
        "analytics:funnel": ("GET", LOGIN, 403),
        "analytics:funnel_export": ("GET", LOGIN, 403),
        "analytics:relationship": ("GET", LOGIN, 403),
        "analytics:relationship_export": ("GET", LOGIN, 403),
        "analytics:settings": ("GET", LOGIN, 403),
        "analytics:refresh": ("POST", LOGIN, 403),
    }
)
# Customer service (SVC-1 … SVC-5): ticket.view to read, ticket.edit to work, service.settings to configure.
PAGES.update(
    {
        "service:queue": ("GET", LOGIN, 403),
        "service:presence": ("POST", LOGIN, 403),
        "service:bulk": ("POST", LOGIN, 403),
        "service:ticket_create": ("GET", LOGIN, 403),
        "service:ticket": ("GET", LOGIN, 403),
        "service:ticket_edit": ("GET", LOGIN, 403),
        "service:ticket_message": ("POST", LOGIN, 403),
        "service:ticket_assign": ("POST", LOGIN, 403),
        "service:ticket_escalate": ("POST", LOGIN, 403),
        "service:ticket_transition": ("POST", LOGIN, 403),
        "service:attachment": ("GET", LOGIN, 403),
        "service:call_pop": ("GET", LOGIN, 403),
        "service:call_handle": ("POST", LOGIN, 403),
        # The ring poller of every page answers nothing (200, empty) to someone who may not take calls.
        "service:call_incoming": ("GET", LOGIN, 200),
        "service:reports": ("GET", LOGIN, 403),
        "service:settings": ("GET", LOGIN, 403),
        "service:settings_save": ("POST", LOGIN, 403),
        "service:team_save": ("POST", LOGIN, 403),
        "service:member_save": ("POST", LOGIN, 403),
        "service:policy_save": ("POST", LOGIN, 403),
        "service:rule_save": ("POST", LOGIN, 403),
        "service:calendar_save": ("POST", LOGIN, 403),
    }
)
# Pages that also take a POST besides the method above: (anonymous, no-role user) for the POST.
PAGE_POSTS: dict[str, tuple[int | str, int]] = {"analytics:settings": (LOGIN, 403)}
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
    "GET /api/v1/opportunities": (401, 200),
    "POST /api/v1/opportunities": (401, 403),
    "GET /api/v1/opportunities/{opportunity_id}": (401, 404),
    "PATCH /api/v1/opportunities/{opportunity_id}": (401, 403),
    "DELETE /api/v1/opportunities/{opportunity_id}": (401, 403),
    "POST /api/v1/opportunities/{opportunity_id}/move": (401, 403),
    "POST /api/v1/opportunities/{opportunity_id}/win": (401, 403),
    "POST /api/v1/opportunities/{opportunity_id}/lose": (401, 403),
    "POST /api/v1/opportunities/{opportunity_id}/invalidate": (401, 403),
    "POST /api/v1/opportunities/{opportunity_id}/reopen": (401, 403),
    "POST /api/v1/opportunities/{opportunity_id}/transfer": (401, 403),
    "GET /api/v1/opportunities/{opportunity_id}/stage-changes": (401, 404),
    "POST /api/v1/opportunities/{opportunity_id}/lines": (401, 403),
    "PATCH /api/v1/opportunities/{opportunity_id}/lines/{line_id}": (401, 403),
    "DELETE /api/v1/opportunities/{opportunity_id}/lines/{line_id}": (401, 403),
    "GET /api/v1/opportunities/{opportunity_id}/buying-centre": (401, 404),
    "POST /api/v1/opportunities/{opportunity_id}/buying-centre": (401, 403),
    "PATCH /api/v1/opportunities/{opportunity_id}/buying-centre/{member_id}": (401, 403),
    "DELETE /api/v1/opportunities/{opportunity_id}/buying-centre/{member_id}": (401, 403),
    "GET /api/v1/opportunities/{opportunity_id}/competitors": (401, 404),
    "POST /api/v1/opportunities/{opportunity_id}/competitors": (401, 403),
    "PATCH /api/v1/opportunities/{opportunity_id}/competitors/{competitor_id}": (401, 403),
    "DELETE /api/v1/opportunities/{opportunity_id}/competitors/{competitor_id}": (401, 403),
    "GET /api/v1/pipeline/board": (401, 403),
    "GET /api/v1/pipeline/board/{group_id}/stages/{stage_id}/cards": (401, 403),
    "GET /api/v1/pipeline/forecast": (401, 403),
    "GET /api/v1/stage-groups": (401, 403),
    "POST /api/v1/stage-groups": (401, 403),
    "GET /api/v1/stage-groups/{group_id}": (401, 403),
    "PATCH /api/v1/stage-groups/{group_id}": (401, 403),
    "GET /api/v1/approvals": (401, 200),
    # A roleless user names no document type the engine knows / may see.
    "POST /api/v1/approvals": (401, 403),
    "GET /api/v1/approvals/document": (401, 422),
    "GET /api/v1/approvals/{request_id}": (401, 404),
    "POST /api/v1/approvals/{request_id}/approve": (401, 404),
    "POST /api/v1/approvals/{request_id}/reject": (401, 404),
    "POST /api/v1/approvals/{request_id}/withdraw": (401, 404),
    "GET /api/v1/approval-flows": (401, 403),
    "POST /api/v1/approval-flows": (401, 403),
    "GET /api/v1/approval-flows/{flow_id}": (401, 403),
    "PATCH /api/v1/approval-flows/{flow_id}": (401, 403),
    "DELETE /api/v1/approval-flows/{flow_id}": (401, 403),
    # contracts, orders, invoices, payments, receivables (SAL-6, SAL-7)
    "GET /api/v1/contracts": (401, 200),
    "POST /api/v1/contracts": (401, 403),
    "GET /api/v1/contracts/{contract_id}": (401, 404),
    "PATCH /api/v1/contracts/{contract_id}": (401, 403),
    "POST /api/v1/contracts/{contract_id}/put-in-force": (401, 403),
    "POST /api/v1/contracts/{contract_id}/complete": (401, 403),
    "POST /api/v1/contracts/{contract_id}/terminate": (401, 403),
    "POST /api/v1/contracts/{contract_id}/transfer": (401, 403),
    "POST /api/v1/contracts/{contract_id}/attachments": (401, 403),
    "GET /api/v1/contracts/{contract_id}/instalments": (401, 404),
    "POST /api/v1/contracts/{contract_id}/instalments": (401, 403),
    "PATCH /api/v1/instalments/{instalment_id}": (401, 403),
    "DELETE /api/v1/instalments/{instalment_id}": (401, 403),
    "GET /api/v1/orders": (401, 200),
    "POST /api/v1/orders": (401, 403),
    "GET /api/v1/orders/{order_id}": (401, 404),
    "PATCH /api/v1/orders/{order_id}": (401, 403),
    "POST /api/v1/orders/{order_id}/start-production": (401, 403),
    "POST /api/v1/orders/{order_id}/cancel": (401, 403),
    "POST /api/v1/orders/{order_id}/transfer": (401, 403),
    "POST /api/v1/orders/{order_id}/shipments": (401, 403),
    "POST /api/v1/shipments/{shipment_id}/deliver": (401, 403),
    "POST /api/v1/shipments/{shipment_id}/proofs": (401, 403),
    "GET /api/v1/invoices": (401, 200),
    "POST /api/v1/invoices": (401, 403),
    "GET /api/v1/invoices/{invoice_id}": (401, 404),
    "PATCH /api/v1/invoices/{invoice_id}": (401, 403),
    "POST /api/v1/invoices/{invoice_id}/files": (401, 403),
    "POST /api/v1/invoices/{invoice_id}/void": (401, 403),
    "GET /api/v1/payments": (401, 200),
    "POST /api/v1/payments": (401, 403),
    "GET /api/v1/payments/{payment_id}": (401, 404),
    "PATCH /api/v1/payments/{payment_id}": (401, 403),
    "DELETE /api/v1/payments/{payment_id}": (401, 403),
    "POST /api/v1/payments/{payment_id}/proofs": (401, 403),
    "GET /api/v1/receivables/aging": (401, 403),
    "GET /api/v1/receivables": (401, 403),
    "GET /api/v1/customers/{customer_id}/documents": (401, 404),
    "GET /api/v1/order-documents/{document_id}": (401, 404),
    "DELETE /api/v1/order-documents/{document_id}": (401, 403),
    "GET /api/v1/customers/{customer_id}/order-stats": (401, 404),
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
API.update(
    {
        "GET /api/v1/targets": (401, 403),
        "GET /api/v1/targets/ranking": (401, 403),
        "POST /api/v1/targets": (401, 403),
        "GET /api/v1/targets/{target_id}": (401, 404),
        "PATCH /api/v1/targets/{target_id}": (401, 403),
        "DELETE /api/v1/targets/{target_id}": (401, 403),
        "GET /api/v1/exchange-rates": (401, 403),
        "PUT /api/v1/exchange-rates": (401, 403),
        "DELETE /api/v1/exchange-rates/{rate_id}": (401, 403),
    }
)
API.update(
    {
        "GET /api/v1/analytics/overview": (401, 403),
        "GET /api/v1/analytics/customers": (401, 403),
        "GET /api/v1/analytics/churn": (401, 403),
        "GET /api/v1/analytics/customers/{customer_id}": (401, 403),
        "GET /api/v1/analytics/settings": (401, 403),
        "PATCH /api/v1/analytics/settings": (401, 403),
        "POST /api/v1/analytics/refresh": (401, 403),
        "GET /api/v1/analytics/runs": (401, 403),
        "GET /api/v1/analytics/funnel": (401, 403),
        "GET /api/v1/analytics/relationship": (401, 403),
        "GET /api/v1/analytics/value": (401, 403),
        "GET /api/v1/analytics/trend": (401, 403),
    }
)
API.update(
    {
        "GET /api/v1/products": (401, 200),
        "POST /api/v1/products": (401, 403),
        "GET /api/v1/products/{product_id}": (401, 404),
        "PATCH /api/v1/products/{product_id}": (401, 403),
        "POST /api/v1/products/{product_id}/deactivate": (401, 403),
        "POST /api/v1/products/{product_id}/reactivate": (401, 403),
        "POST /api/v1/products/{product_id}/picture": (401, 403),
        "GET /api/v1/products/{product_id}/picture": (401, 404),
        "GET /api/v1/letterhead": (401, 403),
        "PATCH /api/v1/letterhead": (401, 403),
        "POST /api/v1/letterhead/logo": (401, 403),
        "GET /api/v1/letterhead/logo": (401, 403),
        "GET /api/v1/quotes": (401, 200),
        "POST /api/v1/quotes": (401, 403),
        "GET /api/v1/quote-history": (401, 404),
        "GET /api/v1/quotes/{quote_id}": (401, 404),
        "PATCH /api/v1/quotes/{quote_id}": (401, 403),
        "GET /api/v1/quotes/{quote_id}/history": (401, 404),
        "GET /api/v1/quotes/{quote_id}/revisions": (401, 404),
        "POST /api/v1/quotes/{quote_id}/lines": (401, 403),
        "PATCH /api/v1/quote-lines/{quote_line_id}": (401, 403),
        "DELETE /api/v1/quote-lines/{quote_line_id}": (401, 403),
        "POST /api/v1/quotes/{quote_id}/revise": (401, 403),
        "POST /api/v1/quotes/{quote_id}/send": (401, 403),
        "POST /api/v1/quotes/{quote_id}/accept": (401, 403),
        "POST /api/v1/quotes/{quote_id}/reject": (401, 403),
        "POST /api/v1/quotes/{quote_id}/expire": (401, 403),
        "GET /api/v1/quotes/{quote_id}/pdf": (401, 404),
        "GET /api/v1/quotes/{quote_id}/xlsx": (401, 404),
    }
)
# Query strings some GET operations need to pass validation.
API.update(
    {
        "GET /api/v1/tickets": (401, 403),
        "POST /api/v1/tickets": (401, 403),
        "POST /api/v1/tickets/bulk": (401, 403),
        "GET /api/v1/tickets/{ticket_id}": (401, 403),
        "PATCH /api/v1/tickets/{ticket_id}": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/replies": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/notes": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/customer-messages": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/attachments": (401, 403),
        "GET /api/v1/ticket-attachments/{attachment_id}": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/start": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/acknowledge": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/investigate": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/wait": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/resume": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/resolve": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/confirm": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/close": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/revisit": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/reopen": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/cancel": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/assign": (401, 403),
        "POST /api/v1/tickets/{ticket_id}/escalate": (401, 403),
        "GET /api/v1/service/queue-counts": (401, 403),
        "PUT /api/v1/service/presence": (401, 403),
        "GET /api/v1/service/sla-report": (401, 403),
        "GET /api/v1/service/improvements": (401, 403),
        "GET /api/v1/service/teams": (401, 403),
        "POST /api/v1/service/teams": (401, 403),
        "PATCH /api/v1/service/teams/{team_id}": (401, 403),
        "PUT /api/v1/service/teams/{team_id}/members/{user_id}": (401, 403),
        "DELETE /api/v1/service/teams/{team_id}/members/{user_id}": (401, 403),
        "GET /api/v1/service/sla-policies": (401, 403),
        "POST /api/v1/service/sla-policies": (401, 403),
        "PATCH /api/v1/service/sla-policies/{policy_id}": (401, 403),
        "GET /api/v1/service/escalation-rules": (401, 403),
        "POST /api/v1/service/escalation-rules": (401, 403),
        "PATCH /api/v1/service/escalation-rules/{rule_id}": (401, 403),
        "GET /api/v1/service/calendar": (401, 403),
        "PUT /api/v1/service/calendar/{day}": (401, 403),
        "DELETE /api/v1/service/calendar/{day}": (401, 403),
        "GET /api/v1/service/settings": (401, 403),
        "PATCH /api/v1/service/settings": (401, 403),
        "GET /api/v1/calls/screen-pop": (401, 403),
        "POST /api/v1/calls": (401, 403),
        "POST /api/v1/calls/ring": (401, 403),
    }
)
QUERIES = {
    "GET /api/v1/options": "?kind=industry",
    "GET /api/v1/quote-history": "?customer={customer_id}",
    "GET /api/v1/calls/screen-pop": "?number=13800138000",
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
    "POST /api/v1/targets": {
        "metric": "deals",
        "period_kind": "month",
        "year": 2026,
        "number": 12,
        "value": "5",
    },
    "PATCH /api/v1/targets/{target_id}": {"version": 1, "value": "9"},
    "PUT /api/v1/exchange-rates": {"currency": "USD", "month": "2026-12", "rate": "7"},
    "POST /api/v1/opportunities": {"customer": 1, "name": "入侵商机"},
    "PATCH /api/v1/opportunities/{opportunity_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/opportunities/{opportunity_id}/move": {"version": 1, "stage": 1},
    "POST /api/v1/opportunities/{opportunity_id}/win": {"version": 1},
    "POST /api/v1/opportunities/{opportunity_id}/lose": {"version": 1, "reason": "x", "competitor": "x"},
    "POST /api/v1/opportunities/{opportunity_id}/invalidate": {"version": 1, "reason": "x"},
    "POST /api/v1/opportunities/{opportunity_id}/reopen": {"version": 1},
    "POST /api/v1/opportunities/{opportunity_id}/transfer": {"version": 1, "to_user": 1},
    "POST /api/v1/opportunities/{opportunity_id}/lines": {"product": 1},
    "PATCH /api/v1/opportunities/{opportunity_id}/lines/{line_id}": {"quantity": "9"},
    "POST /api/v1/opportunities/{opportunity_id}/buying-centre": {"contact": 1, "roles": ["user"]},
    "PATCH /api/v1/opportunities/{opportunity_id}/buying-centre/{member_id}": {"stance": "opponent"},
    "POST /api/v1/opportunities/{opportunity_id}/competitors": {"name": "入侵对手"},
    "PATCH /api/v1/opportunities/{opportunity_id}/competitors/{competitor_id}": {"name": "改名"},
    "POST /api/v1/stage-groups": {"name": "入侵阶段组", "stages": [{"name": "x", "probability": 10}]},
    "PATCH /api/v1/stage-groups/{group_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/approvals": {"document_type": "contract", "object_id": 1},
    "POST /api/v1/approvals/{request_id}/approve": {"comment": "同意"},
    "POST /api/v1/approvals/{request_id}/reject": {"comment": "驳回"},
    "POST /api/v1/approval-flows": {
        "document_type": "contract",
        "name": "入侵流程",
        "steps": [{"kind": "supervisor"}],
    },
    "PATCH /api/v1/approval-flows/{flow_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/products": {"code": "X1", "name": "入侵产品"},
    "PATCH /api/v1/products/{product_id}": {"version": 1, "name": "改名"},
    "PATCH /api/v1/letterhead": {"version": 1, "company_name": "入侵公司"},
    "POST /api/v1/quotes": {"customer": 1, "title": "入侵设备报价"},
    "PATCH /api/v1/quotes/{quote_id}": {"version": 1, "title": "改名设备报价"},
    "POST /api/v1/quotes/{quote_id}/lines": {"quantity": "1", "name": "x", "unit_price": "1"},
    "PATCH /api/v1/quote-lines/{quote_line_id}": {"quantity": "2"},
    "POST /api/v1/quotes/{quote_id}/accept": {"note": "x"},
    "POST /api/v1/quotes/{quote_id}/reject": {"note": "x"},
    "POST /api/v1/contracts": {"customer": 1, "title": "入侵合同", "amount": "1"},
    "PATCH /api/v1/contracts/{contract_id}": {"version": 1, "title": "x"},
    "POST /api/v1/contracts/{contract_id}/put-in-force": {"version": 1},
    "POST /api/v1/contracts/{contract_id}/complete": {"version": 1},
    "POST /api/v1/contracts/{contract_id}/terminate": {"version": 1, "reason": "x"},
    "POST /api/v1/contracts/{contract_id}/transfer": {"version": 1, "to_user": 1, "reason": "x"},
    "POST /api/v1/contracts/{contract_id}/instalments": {"due_on": "2030-01-01", "amount": "1"},
    "PATCH /api/v1/instalments/{instalment_id}": {"version": 1, "amount": "1"},
    "POST /api/v1/orders": {"customer": 1, "lines": [{"product_name": "x", "quantity": "1"}]},
    "PATCH /api/v1/orders/{order_id}": {"version": 1, "notes": "x"},
    "POST /api/v1/orders/{order_id}/start-production": {"version": 1},
    "POST /api/v1/orders/{order_id}/cancel": {"version": 1, "reason": "x"},
    "POST /api/v1/orders/{order_id}/transfer": {"version": 1, "to_user": 1, "reason": "x"},
    "POST /api/v1/orders/{order_id}/shipments": {"lines": [{"order_line": 1, "quantity": "1"}]},
    "POST /api/v1/invoices": {"contract": 1, "title": "x", "amount": "1"},
    "PATCH /api/v1/invoices/{invoice_id}": {"version": 1, "title": "x"},
    "POST /api/v1/invoices/{invoice_id}/void": {"reason": "x"},
    "POST /api/v1/payments": {"contract": 1, "received_on": "2026-01-01", "amount": "1"},
    "PATCH /api/v1/payments/{payment_id}": {"version": 1, "payer": "x"},
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
    "PATCH /api/v1/analytics/settings": {"version": 1, "rfm_bins": 4, "winback_tasks": False},
    "POST /api/v1/tickets": {"kind": "aftersale", "title": "入侵工单", "customer_id": 1},
    "POST /api/v1/tickets/bulk": {"ids": [1], "action": "close"},
    "PATCH /api/v1/tickets/{ticket_id}": {"version": 1, "title": "改名"},
    "POST /api/v1/tickets/{ticket_id}/replies": {"body": "入侵回复"},
    "POST /api/v1/tickets/{ticket_id}/notes": {"body": "入侵备注"},
    "POST /api/v1/tickets/{ticket_id}/customer-messages": {"body": "入侵"},
    "POST /api/v1/tickets/{ticket_id}/start": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/acknowledge": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/investigate": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/wait": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/resume": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/resolve": {"version": 1, "resolution": "x"},
    "POST /api/v1/tickets/{ticket_id}/confirm": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/close": {"version": 1},
    "POST /api/v1/tickets/{ticket_id}/revisit": {"version": 1, "satisfaction": 5, "note": "x"},
    "POST /api/v1/tickets/{ticket_id}/reopen": {"version": 1, "reason": "x"},
    "POST /api/v1/tickets/{ticket_id}/cancel": {"version": 1, "reason": "x"},
    "POST /api/v1/tickets/{ticket_id}/assign": {"version": 1, "assignee_id": 1},
    "POST /api/v1/tickets/{ticket_id}/escalate": {"version": 1, "action": "supervisor", "reason": "x"},
    "PUT /api/v1/service/presence": {"away": True},
    "POST /api/v1/service/teams": {"name": "入侵组"},
    "PATCH /api/v1/service/teams/{team_id}": {"version": 1, "name": "改名"},
    "PUT /api/v1/service/teams/{team_id}/members/{user_id}": {"skills": []},
    "POST /api/v1/service/sla-policies": {
        "name": "入侵",
        "first_response_minutes": 1,
        "resolution_minutes": 2,
    },
    "PATCH /api/v1/service/sla-policies/{policy_id}": {"version": 1, "name": "改名"},
    "POST /api/v1/service/escalation-rules": {
        "name": "入侵",
        "clock": "resolution",
        "when": "after",
        "minutes": 0,
        "action": "notify",
    },
    "PATCH /api/v1/service/escalation-rules/{rule_id}": {"version": 1, "name": "改名"},
    "PUT /api/v1/service/calendar/{day}": {"is_workday": True},
    "PATCH /api/v1/service/settings": {"version": 1, "soon_minutes": 5},
    "POST /api/v1/calls": {"number": "13800138000", "customer_id": 1, "summary": "入侵"},
    "POST /api/v1/calls/ring": {"number": "13800138000"},
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
    target = target_services.target_create(
        metric="deals", period_kind="month", year=2026, number=12, value=3, user_id=admin.pk, by=admin
    )
    from kehu.catalog.models import Product

    product = Product.objects.create(code="P-MATRIX", name="矩阵产品")
    opportunity = sales_services.opportunity_create(customer_id=customer.pk, name="矩阵商机", by=admin)
    line = sales_services.opportunity_line_add(
        opportunity_id=opportunity.pk, data={"product": product.pk}, by=admin
    )
    member = sales_services.opportunity_contact_add(
        opportunity_id=opportunity.pk, data={"contact": contact.pk, "roles": ["decider"]}, by=admin
    )
    competitor = sales_services.competitor_add(opportunity_id=opportunity.pk, data={"name": "对手"}, by=admin)
    group = StageGroup.objects.get(is_default=True)
    # The engine's rows are written directly: no approvable document type exists in this app-wide test.
    flow = ApprovalFlow.objects.create(document_type="contract", name="矩阵流程")
    approval = ApprovalRequest.objects.create(
        document_type="contract", object_id=1, title="矩阵合同", owner=admin, submitted_by=admin,
        plan=[{"step": 1, "kind": "any_of", "users": [admin.pk]}], current_step=1,
    )  # fmt: skip
    approval.approvers.create(step=1, user=admin, is_current=True)
    from kehu.catalog.services import product_create
    from kehu.catalog.tests.factories import png_bytes
    from kehu.sales.quotes import services as quote_services

    product = product_create(
        data={"code": "MX-1", "name": "矩阵产品", "price": "100"}, picture=png_bytes(), by=admin
    )
    quote_services.letterhead_update(
        data={"company_name": "矩阵公司"}, version=None, logo=png_bytes(), by=admin
    )
    quote = quote_services.quote_create(customer_id=customer.pk, data={"title": "矩阵设备报价"}, by=admin)
    quote_line = quote_services.quote_line_add(
        quote_id=quote.pk, data={"product": product.pk, "quantity": "2"}, by=admin
    )
    lead = lead_services.lead_create(data={"contact_name": "矩阵线索", "mobile": "13900139000"}, by=admin)
    lead_form = lead_services.lead_form_create(data={"name": "矩阵表单"}, by=admin)
    token, _secret = access_services.token_create(user=admin, name="admin-token", by=admin)
    _n, nobody_secret = access_services.token_create(user=nobody, name="nobody-token", by=nobody)
    from kehu.access.models import Role
    from kehu.customers.models import Option

    analytics_refresh()  # score rows exist: the analytics API refuses by permission, not for want of data
    from kehu.service import configuration as service_configuration
    from kehu.service.services import ticket_create

    service_team = service_configuration.team_create(data={"name": "矩阵客服组"}, by=admin)
    ticket = ticket_create(
        data={"kind": "aftersale", "category": "repair", "title": "矩阵工单", "customer_id": customer.pk},
        by=admin,
    )
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
            "target_id": target.pk,
            "opportunity_id": opportunity.pk,
            "line_id": line.pk,
            "member_id": member.pk,
            "competitor_id": competitor.pk,
            "group_id": group.pk,
            "stage_id": opportunity.stage_id,
            "request_id": approval.pk,
            "flow_id": flow.pk,
            "product_id": product.pk,
            "quote_id": quote.pk,
            "quote_line_id": quote_line.pk,
            # Ids of the sales chain's records: none exist, so a roleless caller meets 403 or 404.
            "contract_id": customer.pk,
            "instalment_id": customer.pk,
            "order_id": customer.pk,
            "shipment_id": customer.pk,
            "invoice_id": customer.pk,
            "payment_id": customer.pk,
            "document_id": customer.pk,
            "rate_id": customer.pk,  # no exchange rate exists: a roleless caller meets 403 first
            "lead_id": lead.pk,
            "form_id": lead_form.pk,
            "token": lead_form.token,
            "rule_id": RiskRule.objects.first().pk,
            "ticket_id": ticket.pk,
            "team_id": service_team.pk,
            "policy_id": SlaPolicy.objects.first().pk,
            "day": "2027-02-13",
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
        elif name.startswith("targets:") and key == "pk":
            out[key] = kw["target_id"]
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
        elif name.startswith("sales:quote") and key == "pk":
            out[key] = kw["quote_id"]
        elif name.startswith("sales:") and key == "pk":
            out[key] = kw["opportunity_id"]
        elif name == "sales:transition" and key == "verb":
            out[key] = "win"
        elif name.startswith("approvals:") and key == "pk":
            out[key] = kw["request_id"]
        elif name.startswith("sales:lead") and key == "pk":
            out[key] = kw["lead_id"]
        elif name.startswith("imports:") and key == "pk":
            out[key] = kw["batch_id"]
        elif name.startswith("catalog:") and key == "pk":
            out[key] = kw["product_id"]
        elif key == "verb" and name in ("catalog:toggle", "sales:quote_transition"):
            out[key] = "deactivate" if name == "catalog:toggle" else "send"
        elif name.startswith("service:") and key == "pk":
            out[key] = kw["ticket_id"]
        elif name == "service:ticket_transition" and key == "verb":
            out[key] = "start"
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
        list(SalesTarget.objects.order_by("pk").values_list("value", "version")),
        list(
            Opportunity.objects.order_by("pk").values_list(
                "name", "stage_id", "status", "owner_id", "version", "deleted_at"
            )
        ),
        list(OpportunityProduct.objects.order_by("pk").values_list("quantity", "amount")),
        list(OpportunityContact.objects.order_by("pk").values_list("roles", "stance")),
        list(Competitor.objects.order_by("pk").values_list("name", "notes")),
        list(StageGroup.objects.order_by("pk").values_list("name", "version")),
        list(Stage.objects.order_by("pk").values_list("name", "probability", "order")),
        list(ApprovalRequest.objects.order_by("pk").values_list("status", "current_step", "version")),
        ApprovalDecision.objects.count(),
        list(ApprovalFlow.objects.order_by("pk").values_list("name", "is_active", "version")),
        list(Product.objects.order_by("pk").values_list("name", "version", "is_active", "picture")),
        list(Letterhead.objects.order_by("pk").values_list("company_name", "version", "logo")),
        list(Quote.objects.order_by("pk").values_list("title", "version", "status", "is_current", "total")),
        list(QuoteLine.objects.order_by("pk").values_list("quantity", "unit_price", "amount")),
        [list(m.objects.order_by("pk").values_list("pk", flat=True)) for m in ORDER_MODELS],
        list(
            Lead.objects.order_by("pk").values_list(
                "status", "owner_id", "version", "flagged_for_review", "samples_sent_at", "city"
            )
        ),
        list(LeadForm.objects.order_by("pk").values_list("name", "version", "is_active")),
        list(RiskRule.objects.order_by("pk").values_list("points", "version")),
        list(RiskSettings.objects.order_by("pk").values_list("threshold", "version")),
        CaptureAttempt.objects.count(),
        list(AnalyticsSettings.objects.order_by("pk").values_list("rfm_bins", "winback_tasks", "version")),
        list(AnalyticsRun.objects.order_by("pk").values_list("status", "as_of")),
        list(CustomerScore.objects.order_by("pk").values_list("customer_id", "rfm_class", "churn_risk")),
        list(Ticket.objects.order_by("pk").values_list("status", "assignee_id", "title", "version")),
        TicketMessage.objects.count(),
        TicketEscalation.objects.count(),
        IncomingCall.objects.count(),
        list(ServiceTeam.objects.order_by("pk").values_list("name", "version")),
        list(TeamMember.objects.order_by("pk").values_list("team_id", "user_id", "skills")),
        list(SlaPolicy.objects.order_by("pk").values_list("name", "version", "is_active")),
        list(EscalationRule.objects.order_by("pk").values_list("name", "version", "is_active")),
        list(CalendarDay.objects.order_by("pk").values_list("day", "is_workday")),
        list(ServiceSettings.objects.order_by("pk").values_list("version", "soon_minutes")),
        list(AgentPresence.objects.order_by("pk").values_list("user_id", "is_away")),
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


@pytest.mark.parametrize("name", sorted(PAGE_POSTS))
def test_page_posts_refuse_anonymous_and_roleless_users_and_change_nothing(
    name: str, world: dict[str, Any]
) -> None:
    anonymous, roleless = PAGE_POSTS[name]
    pattern = dict(_walk(get_resolver()))[name]
    url = reverse(name, kwargs=_page_kwargs(name, pattern, world))
    data = {"rfm_bins": "4", "rfm_threshold": "median", "version": "1"}
    before = _snapshot()
    response = Client().post(url, data)
    if anonymous == LOGIN:
        assert response.status_code == 302 and reverse("access:login") in response["Location"]
    else:
        assert response.status_code == anonymous
    client = Client()
    client.force_login(world["nobody"])
    audit_before = AuditEvent.objects.count()
    assert client.post(url, data).status_code == roleless
    assert _snapshot() == before
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("operation", sorted(API))
def test_api_refuses_anonymous_and_roleless_callers_and_changes_nothing(
    operation: str, world: dict[str, Any]
) -> None:
    anonymous, roleless = API[operation]
    method, path = operation.split(" ", 1)
    url = _fill(path + QUERIES.get(operation, ""), world)
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
