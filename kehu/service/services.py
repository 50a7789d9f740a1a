"""Writes of tickets and complaints (SVC-1, SVC-2): registering, the conversation, assigning and one
service per transition of ``choices.TRANSITIONS``. The page and the API call these same functions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.core.events import diff, emit
from kehu.core.files import store_with_row
from kehu.core.sequences import next_values
from kehu.customers.extensions import reassign
from kehu.customers.models import Contact, Customer
from kehu.customers.selectors import customer_get
from kehu.engagement.revisits import SystemTask, revisit_after_event, system_task_create
from kehu.notifications.services import notify_handover
from kehu.orders.documents import checked_file

from . import clocks
from .choices import (
    KIND_CATEGORIES,
    TRANSITIONS,
    VERB_LABELS,
    Channel,
    HandlingStrategy,
    MessageKind,
    Priority,
    RootCause,
    TicketKind,
    TicketStatus,
    track_of,
)
from .events import TicketChanged
from .models import Ticket, TicketAttachment, TicketMessage

TEXT_LIMITS = {"title": 200, "description": 5000, "caller_name": 60, "caller_phone": 30}
CREATE_FIELDS = {
    "kind", "category", "title", "description", "customer_id", "contact_id", "order_id", "product_id",
    "caller_name", "caller_phone", "channel", "priority", "team_id", "assignee_id",
}  # fmt: skip
UPDATE_FIELDS = {"category", "title", "description", "contact_id", "order_id", "product_id", "priority"}
BODY_LIMIT = 10000


def _event(
    by: User | None, verb: str, ticket: Ticket, changes: dict[str, Any] | None = None
) -> TicketChanged:
    return TicketChanged(
        actor_id=by.pk if by else None, verb=verb, subject_type="ticket", subject_id=ticket.pk,
        subject_label=f"{ticket.number} {ticket.title}"[:200], customer_id=ticket.customer_id,
        changes=changes or {},
    )  # fmt: skip


def ticket_visible(*, ticket_id: int, actor: User) -> Ticket:
    """The ticket if the actor may see it (``Ticket.objects.visible_to``), else ``NotFound``."""
    qs = Ticket.objects.visible_to(actor).select_related("customer", "team", "assignee", "sla_policy")
    ticket = qs.filter(pk=ticket_id).first()
    if ticket is None:
        raise NotFound(_("工单不存在或您无权查看"), field="id", code="ticket_not_found")
    return ticket


def may_work(ticket: Ticket, actor: User) -> bool:
    """Who works a ticket — replies, moves it on: its handler; anyone of its team; anyone with
    ``ticket.edit`` while nobody has it yet; a supervisor (``ticket.manage``) always."""
    if can(actor, Perm.TICKET_MANAGE):
        return True
    if not can(actor, Perm.TICKET_EDIT):
        return False
    if ticket.assignee_id is None or ticket.assignee_id == actor.pk:
        return True
    return ticket.team is not None and ticket.team.members.filter(user=actor).exists()


def _workable(*, ticket_id: int, by: User, version: int | None = None) -> Ticket:
    require(by, Perm.TICKET_EDIT)
    ticket = ticket_visible(ticket_id=ticket_id, actor=by)
    if not may_work(ticket, by):
        raise PermissionDenied(
            _("工单 %(n)s 由 %(who)s 处理，只有处理人、同组客服或主管可以操作"), code="not_ticket_handler",
            params={"n": ticket.number, "who": ticket.assignee.display_name if ticket.assignee else "—"},
        )  # fmt: skip
    if version is not None and version != ticket.version:
        raise Conflict(
            _("该记录已被他人修改（当前版本与您编辑的版本 %(version)s 不一致），请刷新后重试"),
            field="version", code="stale_version", params={"version": version},
        )  # fmt: skip
    return ticket


def _text(data: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = str(data.get(key) or "").strip()
    if required and not value:
        raise ValidationError(_("%(f)s 不能为空"), field=key, params={"f": key})
    limit = TEXT_LIMITS.get(key, 5000)
    if len(value) > limit:
        raise ValidationError(_("%(f)s 不能超过 %(n)s 个字"), field=key, params={"f": key, "n": limit})
    return value


def _choice(data: dict[str, Any], key: str, values: Sequence[str], default: str = "") -> str:
    value = data.get(key) or default
    if value not in values:
        raise ValidationError(_("%(f)s 的取值“%(v)s”无效"), field=key, params={"f": key, "v": value})
    return str(value)


def _id(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("%(f)s 必须是整数"), field=key, params={"f": key}) from exc


def _links(data: dict[str, Any], *, by: User, customer: Customer | None, partial: bool) -> dict[str, Any]:
    """Contact, order and product of a ticket, each checked against the customer and the actor's view."""
    out: dict[str, Any] = {}
    if "contact_id" in data or not partial:
        contact_id = _id(data, "contact_id")
        if contact_id is not None and (
            customer is None
            or not Contact.objects.filter(pk=contact_id, customer=customer, deleted_at__isnull=True).exists()
        ):
            raise ValidationError(_("联系人不属于该客户"), field="contact_id")
        out["contact_id"] = contact_id
    if "order_id" in data or not partial:
        order_id = _id(data, "order_id")
        if order_id is not None:
            from kehu.orders.models import Order

            if (
                customer is None
                or not Order.objects.visible_to(by).filter(pk=order_id, customer=customer).exists()
            ):
                raise ValidationError(_("订单不属于该客户或您无权查看"), field="order_id")
        out["order_id"] = order_id
    if "product_id" in data or not partial:
        product_id = _id(data, "product_id")
        if product_id is not None:
            from kehu.catalog.models import Product

            if not Product.objects.visible_to(by).filter(pk=product_id).exists():
                raise ValidationError(_("产品不存在"), field="product_id")
        out["product_id"] = product_id
    return out


def _clean_create(data: dict[str, Any], *, by: User) -> tuple[dict[str, Any], Customer | None]:
    unknown = sorted(set(data) - CREATE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    kind = _choice(data, "kind", TicketKind.values)
    category = _choice(data, "category", KIND_CATEGORIES[kind], "other")
    cleaned: dict[str, Any] = {
        "kind": kind,
        "category": category,
        "title": _text(data, "title", required=True),
        "description": _text(data, "description"),
        "caller_name": _text(data, "caller_name"),
        "caller_phone": _text(data, "caller_phone"),
        "channel": _choice(data, "channel", Channel.values, Channel.PHONE),
        "priority": _choice(data, "priority", Priority.values, Priority.NORMAL),
    }
    customer_id = _id(data, "customer_id")
    customer = customer_get(actor=by, customer_id=customer_id) if customer_id is not None else None
    if customer is None and kind == TicketKind.COMPLAINT:
        # A complaint is revisited and feeds the customer's churn warning: it needs the customer.
        raise ValidationError(_("投诉必须关联客户（未建档的来电人请先新建客户）"), field="customer_id")
    if customer is None and not (cleaned["caller_name"] or cleaned["caller_phone"]):
        raise ValidationError(_("请选择客户，或填写来电人姓名/号码"), field="customer_id")
    cleaned.update(_links(data, by=by, customer=customer, partial=False))
    return cleaned, customer


@transaction.atomic
def ticket_create(*, data: dict[str, Any], by: User, files: Sequence[tuple[str, bytes]] = ()) -> Ticket:
    """Register a service request or complaint (SVC-1, SVC-2): the SLA policy that matches its kind,
    category, customer tier and priority sets both deadlines (SVC-5); it goes to the team that takes
    its kind and, unless a handler is named, to an agent by the team's distribution rule (SVC-4)."""
    from .distribution import assign_to, distribute, route_team, team_get

    require(by, Perm.TICKET_EDIT)
    cleaned, customer = _clean_create(data, by=by)
    team_id = _id(data, "team_id")
    assignee_id = _id(data, "assignee_id")
    for name, content in files:
        checked_file(name, content)  # every file is checked before anything is written
    now = timezone.now()
    service_settings = clocks.settings_get()
    calendar = clocks.work_calendar(service_settings)
    policy = clocks.policy_for(
        kind=cleaned["kind"], category=cleaned["category"], priority=cleaned["priority"], customer=customer
    )
    (number,) = next_values("ticket")
    ticket = Ticket(number=f"GD{number:08d}", customer=customer, created_by=by, created_at=now, **cleaned)
    ticket.team = team_get(team_id) if team_id is not None else route_team(cleaned["kind"], service_settings)
    clocks.start_clocks(ticket, policy=policy, at=now, calendar=calendar)
    ticket.save()
    emit(_event(by, "create", ticket, diff({}, _snapshot(ticket))))
    for name, content in files:
        _attach(ticket, None, name, content, by)
    if assignee_id is not None:
        assign_to(ticket, assignee_id=assignee_id, by=by, reason="")
    else:
        distribute(ticket, by=by)
    return ticket


def _snapshot(ticket: Ticket) -> dict[str, Any]:
    return {
        "number": ticket.number,
        "kind": ticket.kind,
        "category": ticket.category,
        "title": ticket.title,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "team": ticket.team.name if ticket.team_id and ticket.team else None,
        "sla_policy": ticket.sla_policy.name if ticket.sla_policy_id and ticket.sla_policy else None,
        "first_response_due_at": ticket.first_response_due_at,
        "resolution_due_at": ticket.resolution_due_at,
    }


@transaction.atomic
def ticket_update(*, ticket_id: int, version: int | None, data: dict[str, Any], by: User) -> Ticket:
    """Correct what a ticket is about (category, title, description, linked contact/order/product,
    priority). Kind and customer stay: they decided the policy and the team."""
    require(by, Perm.TICKET_EDIT)
    unknown = sorted(set(data) - UPDATE_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    ticket = _workable(ticket_id=ticket_id, by=by)
    cleaned: dict[str, Any] = {}
    if "category" in data:
        cleaned["category"] = _choice(data, "category", KIND_CATEGORIES[ticket.kind])
    for key in ("title", "description"):
        if key in data:
            cleaned[key] = _text(data, key, required=key == "title")
    if "priority" in data:
        cleaned["priority"] = _choice(data, "priority", Priority.values)
    cleaned.update(_links(data, by=by, customer=ticket.customer, partial=True))
    before = {k: getattr(ticket, k) for k in cleaned}
    for key, value in cleaned.items():
        setattr(ticket, key, value)
    ticket.save_versioned(expected_version=version, fields=[k.removesuffix("_id") for k in cleaned])
    emit(_event(by, "update", ticket, diff(before, cleaned)))
    return ticket


def _attach(
    ticket: Ticket, message: TicketMessage | None, name: str, data: bytes, by: User
) -> TicketAttachment:
    filename, content_type = checked_file(name, data)
    attachment = TicketAttachment(
        ticket=ticket,
        message=message,
        name=filename,
        content_type=content_type,
        size=len(data),
        uploaded_by=by,
    )
    store_with_row(attachment, data)
    return attachment


def _message(
    ticket: Ticket, *, kind: str, body: str, by: User, files: Sequence[tuple[str, bytes]]
) -> TicketMessage:
    body = (body or "").strip()
    if not body:
        raise ValidationError(_("内容不能为空"), field="body")
    if len(body) > BODY_LIMIT:
        raise ValidationError(_("内容不能超过 %(n)s 个字"), field="body", params={"n": BODY_LIMIT})
    for name, content in files:
        checked_file(name, content)
    message = TicketMessage.objects.create(ticket=ticket, kind=kind, body=body, author=by)
    for name, content in files:
        _attach(ticket, message, name, content, by)
    return message


@transaction.atomic
def ticket_reply(
    *, ticket_id: int, body: str, by: User, files: Sequence[tuple[str, bytes]] = ()
) -> TicketMessage:
    """A reply to the customer (SVC-1). The first one stamps the first response (SVC-5) and starts
    work on a new ticket."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by)
    if not ticket.is_open:
        raise Conflict(_("工单已%(s)s，不能再回复；如需继续处理请重新打开"), field="status", code="ticket_done",
                       params={"s": ticket.get_status_display()})  # fmt: skip
    message = _message(ticket, kind=MessageKind.REPLY, body=body, by=by, files=files)
    changes: dict[str, Any] = {"reply": [None, message.body[:200]]}
    fields: list[str] = []
    if ticket.first_responded_at is None:
        if ticket.paused_at is not None and ticket.first_response_due_at is not None:
            # Answered while waiting: the first-response clock stood still since the pause (SVC-5).
            before_due = ticket.first_response_due_at
            clocks.push_back_first_response(ticket, until=message.at, calendar=clocks.work_calendar())
            fields.append("first_response_due_at")
            changes.update(
                diff(
                    {"first_response_due_at": before_due},
                    {"first_response_due_at": ticket.first_response_due_at},
                )
            )
        ticket.first_responded_at = message.at
        fields.append("first_responded_at")
        changes["first_responded_at"] = [None, message.at.isoformat()]
    if ticket.status == TicketStatus.NEW and track_of(ticket.kind) == "ticket":
        changes["status"] = [ticket.status, TicketStatus.OPEN]
        ticket.status = TicketStatus.OPEN
        fields.append("status")
    ticket.save_versioned(expected_version=None, fields=fields)
    emit(_event(by, "reply", ticket, changes))
    return message


@transaction.atomic
def ticket_note(
    *, ticket_id: int, body: str, by: User, files: Sequence[tuple[str, bytes]] = ()
) -> TicketMessage:
    """An internal note the customer never sees — anyone who may see the ticket and work tickets may
    add one (a seller adding what they know of the customer)."""
    require(by, Perm.TICKET_EDIT)
    ticket = ticket_visible(ticket_id=ticket_id, actor=by)
    message = _message(ticket, kind=MessageKind.NOTE, body=body, by=by, files=files)
    ticket.save_versioned(expected_version=None, fields=[])
    emit(_event(by, "note", ticket, {"note": [None, message.body[:200]]}))
    return message


@transaction.atomic
def ticket_customer_message(
    *, ticket_id: int, body: str, by: User, files: Sequence[tuple[str, bytes]] = ()
) -> TicketMessage:
    """What the customer wrote or said, recorded by an agent or an integration. A ticket waiting for
    the customer resumes: the clocks run again."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by)
    message = _message(ticket, kind=MessageKind.CUSTOMER, body=body, by=by, files=files)
    if ticket.status == TicketStatus.WAITING:
        _transition(ticket, "resume", by)
    else:
        ticket.save_versioned(expected_version=None, fields=[])
    emit(_event(by, "customer_message", ticket, {"customer_message": [None, message.body[:200]]}))
    return message


def _check_verb(ticket: Ticket, verb: str) -> tuple[tuple[str, ...], str]:
    """The transition table's rule for ``verb`` on this ticket, or ``Conflict`` naming the status."""
    rule = TRANSITIONS[verb].get(track_of(ticket.kind))
    if rule is None or ticket.status not in rule[0]:
        raise Conflict(
            _("工单当前状态为“%(s)s”，不能“%(v)s”"), field="status", code="bad_transition",
            params={"s": ticket.get_status_display(), "v": VERB_LABELS[verb]},
        )  # fmt: skip
    return rule


def _transition(ticket: Ticket, verb: str, by: User | None, **extra: Any) -> Ticket:
    rule = _check_verb(ticket, verb)
    before = ticket.status
    ticket.status = rule[1]
    now = timezone.now()
    fields = ["status"]
    changes: dict[str, Any] = {"status": [before, ticket.status]}
    if verb == "wait":
        ticket.paused_at = now
        fields.append("paused_at")
    elif verb == "resume":
        paused = clocks.push_back_paused(ticket, until=now, calendar=clocks.work_calendar())
        ticket.paused_at = None
        fields += ["paused_at", "first_response_due_at", "resolution_due_at"]
        changes["paused_minutes"] = [None, paused]
    for key, value in extra.items():
        changes.update(diff({key: getattr(ticket, key)}, {key: value}))
        setattr(ticket, key, value)
        fields.append(key)
    ticket.save_versioned(expected_version=None, fields=fields)
    emit(_event(by, verb, ticket, changes))
    return ticket


def _first_response(ticket: Ticket, at: Any) -> dict[str, Any]:
    return {"first_responded_at": at} if ticket.first_responded_at is None else {}


@transaction.atomic
def ticket_start(*, ticket_id: int, version: int | None, by: User) -> Ticket:
    """Begin work on a new service ticket."""
    require(by, Perm.TICKET_EDIT)
    return _transition(_workable(ticket_id=ticket_id, by=by, version=version), "start", by)


@transaction.atomic
def ticket_acknowledge(*, ticket_id: int, version: int | None, note: str = "", by: User) -> Ticket:
    """Acknowledge a complaint to the customer (受理): the mandatory first response within 24 hours (SVC-2)."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    now = timezone.now()
    if note.strip():
        _message(ticket, kind=MessageKind.REPLY, body=note, by=by, files=())
    return _transition(ticket, "acknowledge", by, **_first_response(ticket, now))


@transaction.atomic
def ticket_investigate(*, ticket_id: int, version: int | None, by: User) -> Ticket:
    """Start investigating an acknowledged complaint."""
    require(by, Perm.TICKET_EDIT)
    return _transition(_workable(ticket_id=ticket_id, by=by, version=version), "investigate", by)


@transaction.atomic
def ticket_wait(*, ticket_id: int, version: int | None, by: User) -> Ticket:
    """Wait for the customer (information, a visit slot): the SLA clocks stop until work resumes."""
    require(by, Perm.TICKET_EDIT)
    return _transition(_workable(ticket_id=ticket_id, by=by, version=version), "wait", by)


@transaction.atomic
def ticket_resume(*, ticket_id: int, version: int | None, by: User) -> Ticket:
    """Work goes on: the deadlines move back by the time spent waiting (SVC-5)."""
    require(by, Perm.TICKET_EDIT)
    return _transition(_workable(ticket_id=ticket_id, by=by, version=version), "resume", by)


@transaction.atomic
def ticket_resolve(*, ticket_id: int, version: int | None, data: dict[str, Any], by: User) -> Ticket:
    """Resolve a ticket with what was done (``resolution``). A complaint also needs what the
    investigation found — ``root_cause`` and ``root_cause_detail`` — and the ``corrective_measures`` that
    prevent recurrence, and may record the ``handling_strategy`` (SVC-2); resolving it puts a revisit on
    the handler's P&A list and starts the customer owner's after-complaint revisit plans (ENG-4)."""
    require(by, Perm.TICKET_EDIT)
    allowed = {"resolution", "root_cause", "root_cause_detail", "corrective_measures", "handling_strategy"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    _check_verb(ticket, "resolve")  # the state first: a new complaint is refused before its fields are read
    resolution = str(data.get("resolution") or "").strip()
    if not resolution:
        raise ValidationError(_("请填写处理结果"), field="resolution")
    now = timezone.now()
    extra: dict[str, Any] = {
        "resolution": resolution[:5000],
        "resolved_at": now,
        **_first_response(ticket, now),
    }
    if ticket.paused_at is not None:
        # Resolved straight from waiting: the wait ends here, and its time stays off the clocks as when
        # work resumes (SVC-5) — else the stopped clocks would be measured as if they had run.
        clocks.push_back_paused(ticket, until=now, calendar=clocks.work_calendar())
        extra.update(
            paused_at=None,
            first_response_due_at=ticket.first_response_due_at,
            resolution_due_at=ticket.resolution_due_at,
        )
    if ticket.is_complaint:
        root_cause = data.get("root_cause") or ""
        if root_cause not in RootCause.values:
            raise ValidationError(_("请选择投诉的根本原因"), field="root_cause")
        for key in ("root_cause_detail", "corrective_measures"):
            if not str(data.get(key) or "").strip():
                label = _("原因分析") if key == "root_cause_detail" else _("纠正与预防措施")
                raise ValidationError(_("请填写%(f)s"), field=key, params={"f": label})
        strategy = data.get("handling_strategy") or HandlingStrategy.DIRECT
        if strategy not in HandlingStrategy.values:
            raise ValidationError(_("处理策略“%(v)s”无效"), field="handling_strategy", params={"v": strategy})
        extra.update(
            root_cause=root_cause,
            root_cause_detail=str(data["root_cause_detail"]).strip()[:5000],
            corrective_measures=str(data["corrective_measures"]).strip()[:5000],
            handling_strategy=strategy,
        )
    ticket = _transition(ticket, "resolve", by, **extra)
    if ticket.is_complaint and ticket.customer_id is not None:
        _plan_revisit(ticket)
    return ticket


def _plan_revisit(ticket: Ticket) -> None:
    """The complaint process's revisit (SVC-2): a task for the handler to call the customer back the next
    day, and the owner's after-complaint revisit plans (ENG-4)."""
    tomorrow = timezone.localdate() + timedelta(days=1)
    owner_id = ticket.assignee_id or ticket.created_by_id
    if owner_id is not None and ticket.customer_id is not None:
        task = system_task_create(
            source="complaint",
            task=SystemTask(
                customer_id=ticket.customer_id, owner_id=owner_id, due_on=tomorrow,
                title=str(_("投诉回访：%(n)s %(t)s") % {"n": ticket.number, "t": ticket.title})[:200],
                description=str(_("回访客户：问题是否已解决、对处理是否满意；在工单上记录回访结果。")),
            ),
        )  # fmt: skip
        if task is not None:
            ticket.revisit_task = task
            ticket.save_versioned(expected_version=None, fields=["revisit_task"])
        revisit_after_event(trigger="after_complaint", customer_id=ticket.customer_id, about=ticket.number)


def _satisfaction(value: Any, *, required: bool) -> int | None:
    if value in (None, ""):
        if required:
            raise ValidationError(_("请填写客户满意度（1–5）"), field="satisfaction")
        return None
    try:
        score = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(_("客户满意度必须是 1–5 的整数"), field="satisfaction") from exc
    if not 1 <= score <= 5:
        raise ValidationError(_("客户满意度必须是 1–5 的整数"), field="satisfaction")
    return score


@transaction.atomic
def ticket_confirm(
    *, ticket_id: int, version: int | None, satisfaction: Any = None, note: str = "", by: User
) -> Ticket:
    """The customer confirmed the problem is solved (客户确认): the ticket closes, with their satisfaction
    when they gave one."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    score = _satisfaction(satisfaction, required=False)
    if note.strip():
        _message(ticket, kind=MessageKind.CUSTOMER, body=note, by=by, files=())
    now = timezone.now()
    return _transition(ticket, "confirm", by, customer_confirmed_at=now, closed_at=now, satisfaction=score)


@transaction.atomic
def ticket_close(*, ticket_id: int, version: int | None, note: str = "", by: User) -> Ticket:
    """Close a resolved ticket without the customer's confirmation (they did not answer)."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    if note.strip():
        _message(ticket, kind=MessageKind.NOTE, body=note, by=by, files=())
    return _transition(ticket, "close", by, closed_at=timezone.now())


@transaction.atomic
def ticket_revisit(*, ticket_id: int, version: int | None, satisfaction: Any, note: str, by: User) -> Ticket:
    """Record the revisit of a resolved complaint — what the customer said and how satisfied they are —
    and close it (SVC-2). The handler's revisit task is marked done."""
    require(by, Perm.TICKET_EDIT)
    from kehu.engagement.choices import TaskStatus
    from kehu.engagement.services import task_complete

    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    score = _satisfaction(satisfaction, required=True)
    if not note.strip():
        raise ValidationError(_("请填写回访记录"), field="note")
    now = timezone.now()
    ticket = _transition(
        ticket, "revisit", by, revisit_note=note.strip()[:5000], satisfaction=score, customer_confirmed_at=now,
        closed_at=now,
    )  # fmt: skip
    task = ticket.revisit_task
    # The handler's own revisit task is done by this; someone else's stays for its owner to close.
    if (
        task is not None
        and task.status == TaskStatus.OPEN
        and (task.owner_id == by.pk or can(by, Perm.INTERACTION_MANAGE))
    ):
        task_complete(task_id=task.pk, version=None, result=note.strip()[:2000], by=by)
    return ticket


@transaction.atomic
def ticket_reopen(*, ticket_id: int, version: int | None, reason: str, by: User) -> Ticket:
    """Reopen a resolved or closed ticket within the configured window after it was resolved
    (``ServiceSettings.reopen_days``): the resolution clock starts again."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    if not reason.strip():
        raise ValidationError(_("请填写重新打开的原因"), field="reason")
    service_settings = clocks.settings_get()
    resolved = ticket.resolved_at or ticket.closed_at
    if resolved is not None and timezone.now() - resolved > timedelta(days=service_settings.reopen_days):
        raise Conflict(
            _("工单解决已超过 %(n)s 天，不能重新打开，请新建工单"), field="status", code="reopen_window",
            params={"n": service_settings.reopen_days},
        )  # fmt: skip
    _message(
        ticket, kind=MessageKind.NOTE, body=str(_("重新打开：%(r)s") % {"r": reason.strip()}), by=by, files=()
    )
    now = timezone.now()
    clocks.restart_resolution_clock(ticket, at=now, calendar=clocks.work_calendar(service_settings))
    return _transition(
        ticket, "reopen", by, resolved_at=None, closed_at=None, customer_confirmed_at=None,
        reopened_count=ticket.reopened_count + 1, resolution_due_at=ticket.resolution_due_at,
    )  # fmt: skip


@transaction.atomic
def ticket_cancel(*, ticket_id: int, version: int | None, reason: str, by: User) -> Ticket:
    """Cancel a ticket opened by mistake or twice (the reason is kept as a note)."""
    require(by, Perm.TICKET_EDIT)
    ticket = _workable(ticket_id=ticket_id, by=by, version=version)
    if not reason.strip():
        raise ValidationError(_("请填写取消原因"), field="reason")
    _message(
        ticket, kind=MessageKind.NOTE, body=str(_("取消：%(r)s") % {"r": reason.strip()}), by=by, files=()
    )
    return _transition(ticket, "cancel", by, closed_at=timezone.now())


def tell_assignee(ticket: Ticket, *, by: User | None, title: Any) -> None:
    if ticket.assignee is not None:
        notify_handover(
            recipient=ticket.assignee, by=by, kind="ticket", key=f"ticket:{ticket.pk}:{ticket.version}",
            title=title, url=f"/service/tickets/{ticket.pk}/",
        )  # fmt: skip


def customer_records_move(drop: Any, keep: Any, by: User) -> dict[str, int]:
    """Merging ``drop`` into ``keep`` (CUS-5, registered in apps.py): ``drop``'s tickets are ``keep``'s
    from now on. The merge service checked the permission."""
    moved = reassign(Ticket, "customer", drop, keep)
    return {"tickets": moved} if moved else {}
