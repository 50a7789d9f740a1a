"""The call centre's screen pop (来电弹屏, SVC-3): who is calling, what they bought, their open tickets and
last contacts — before the agent says a word ("您是鲁先生家吗？您买了我们三台空调是吧") — and handling the
call in one step: the call logged as an interaction, a ticket opened if needed, and a follow-up call the
next working day when the call resolved a problem.

The caller is found by ``customers.selectors.phone_matches`` (normalised number, indexed equality
lookups, ``visible_to`` — an agent who may not see the customer learns only that the number is known)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kehu.access.models import User
from kehu.access.perms import Perm
from kehu.access.scope import can, require
from kehu.core.errors import ValidationError
from kehu.customers.choices import CustomerKind
from kehu.customers.models import Contact, Customer
from kehu.customers.rules import needs_area_code, phone_key
from kehu.customers.selectors import PhoneMatch, phone_matches

from . import clocks
from .models import Ticket
from .rules import honorific
from .selectors import open_tickets_of


@dataclass(frozen=True)
class Purchase:
    """What the caller bought, per product: how many in all and when last."""

    product: str
    quantity: Decimal
    unit: str
    last_on: date | None


@dataclass(frozen=True)
class ScreenPop:
    """Everything the agent sees when the phone rings. ``known`` without ``customer``: the number is on
    file but the agent may not see whose it is."""

    number: str
    key: str
    known: bool
    customer: Customer | None = None
    contact: Contact | None = None
    matches: tuple[PhoneMatch, ...] = ()
    purchases: list[Purchase] = field(default_factory=list)
    open_tickets: list[Ticket] = field(default_factory=list)
    interactions: list[Any] = field(default_factory=list)
    greeting: str = ""


def greeting_for(customer: Customer, contact: Contact | None, purchases: list[Purchase]) -> str:
    """The line the agent can open with: who they are talking to and what the customer bought."""
    if contact is not None:
        who = honorific(contact.name, contact.gender)
        opening = str(_("您好，请问是%(who)s吗？") % {"who": who}) if who else ""
        if customer.kind != CustomerKind.INDIVIDUAL:
            opening = str(_("您好，请问是%(c)s的%(who)s吗？") % {"c": customer.name, "who": who})
    elif customer.kind == CustomerKind.INDIVIDUAL:
        opening = str(_("您好，请问是%(who)s家吗？") % {"who": honorific(customer.name, customer.gender)})
    else:
        opening = str(_("您好，请问是%(c)s吗？") % {"c": customer.name})
    if purchases:
        top = purchases[0]
        qty = top.quantity.normalize()
        bought = str(
            _("您在 %(d)s 买了我们的%(p)s %(q)s%(u)s，对吗？")
            % {"d": top.last_on or "", "p": top.product, "q": f"{qty:f}", "u": top.unit}
        )
        return f"{opening}{bought}"
    return opening


def purchases_of(*, actor: User, customer: Customer, limit: int = 5) -> list[Purchase]:
    """The customer's purchases per product, latest first — only for those who may see orders."""
    from kehu.orders.models import Order, OrderLine

    if not can(actor, Perm.ORDER_VIEW):
        return []
    orders = Order.objects.visible_to(actor).filter(customer=customer).exclude(status="cancelled")
    rows = (
        OrderLine.objects.filter(order__in=orders.values("pk"))
        .values("product_name", "unit")
        .annotate(quantity=Sum("quantity"), last_on=Max("order__order_date"))
        .order_by("-last_on", "product_name")[:limit]
    )
    return [
        Purchase(
            product=r["product_name"],
            quantity=r["quantity"] or Decimal(0),
            unit=r["unit"] or "",
            last_on=r["last_on"],
        )
        for r in rows
    ]


# What the screen pop shows of an interaction (``.only``: not every column of it and of its author).
POP_INTERACTION_FIELDS = (
    "id", "customer", "occurred_at", "summary", "channel__label", "channel__label_en", "created_by",
    "created_by__username", "created_by__display_name",
)  # fmt: skip


def last_interactions(*, customer: Customer, limit: int = 5) -> list[Any]:
    """The caller's latest interactions (SVC-3). ``customer`` is one the agent may see — ``phone_matches``
    kept only those — and an interaction is visible exactly when its customer is
    (``Interaction.objects.visible_to``), so this reads that customer's rows alone. Not
    ``interaction_list``: its test ``customer_id IN (every customer the actor may see)`` makes SQLite
    build a list of a million ids for an agent (全部), twice with the page's count — 3.5 s of a
    5 s screen pop at 1,000,000 customers."""
    from kehu.engagement.models import Interaction

    return list(
        Interaction.objects.filter(customer=customer, deleted_at__isnull=True)
        .select_related("channel", "created_by")
        .only(*POP_INTERACTION_FIELDS)
        .order_by("-occurred_at", "-id")[:limit]
    )


def screen_pop(*, number: str, actor: User, customer_id: int | None = None) -> ScreenPop:
    """Who is calling on ``number`` (SVC-3). With several customers on one number the first is shown and
    the others listed (``customer_id`` picks another of them)."""
    require(actor, Perm.TICKET_VIEW)
    number = (number or "").strip()
    if not number:
        raise ValidationError(_("请提供来电号码"), field="number")
    if len(number) > 40:
        raise ValidationError(_("来电号码过长"), field="number")
    # The settings' area code completes a local number only: a mobile or a full landline needs no read.
    local = needs_area_code(phone_key(number))
    area = clocks.settings_get().local_area_code if local else ""
    found = phone_matches(number=number, actor=actor, local_area_code=area)
    visible = found.visible
    if not visible:
        return ScreenPop(number=number, key=found.key, known=found.known, matches=found.matches)
    chosen = next((m for m in visible if m.customer is not None and m.customer.pk == customer_id), visible[0])
    customer = chosen.customer
    assert customer is not None
    purchases = purchases_of(actor=actor, customer=customer)
    return ScreenPop(
        number=number, key=found.key, known=True, customer=customer, contact=chosen.contact, matches=found.matches,
        purchases=purchases, open_tickets=list(open_tickets_of(actor=actor, customer_ids=[customer.pk])),
        interactions=last_interactions(customer=customer),
        greeting=greeting_for(customer, chosen.contact, purchases),
    )  # fmt: skip


@dataclass(frozen=True)
class CallResult:
    interaction: Any
    ticket: Ticket | None
    follow_up: Any


CALL_FIELDS = {"number", "customer_id", "contact_id", "summary", "resolved", "ticket"}


def next_workday(calendar: Any, after: date) -> date:
    day = after + timedelta(days=1)
    for _step in range(30):
        if calendar.is_workday(day):
            return day
        day += timedelta(days=1)
    return after + timedelta(days=1)


@transaction.atomic
def call_handle(*, data: dict[str, Any], by: User) -> CallResult:
    """Handle an inbound call in one step (SVC-3): log it as an interaction with the customer (their last
    contact, the public-pool clock), open a ticket when ``ticket`` is given (kind, category, title …),
    and — when the call ``resolved`` the problem and the settings ask for it — put a follow-up call on
    the agent's P&A list for the next working day. A ticket opened for a call that resolved the problem
    is resolved at once with the call's summary. All or nothing."""
    from kehu.engagement.services import interaction_create, task_create

    from .services import ticket_create, ticket_resolve

    unknown = sorted(set(data) - CALL_FIELDS)
    if unknown:
        raise ValidationError(_("未知字段：%(f)s"), field=unknown[0], params={"f": ", ".join(unknown)})
    require(by, Perm.TICKET_VIEW)
    customer_id = data.get("customer_id")
    if customer_id in (None, ""):
        raise ValidationError(
            _("请选择来电的客户（未建档的来电人请登记工单或新建客户）"), field="customer_id"
        )
    summary = str(data.get("summary") or "").strip()
    if not summary:
        raise ValidationError(_("请填写通话内容"), field="summary")
    resolved = bool(data.get("resolved"))
    number = str(data.get("number") or "").strip()[:30]
    now = timezone.now()
    interaction = interaction_create(
        customer_id=int(customer_id),
        data={
            "channel": "phone", "direction": "inbound", "occurred_at": now.isoformat(), "summary": summary,
            "contact": data.get("contact_id") or None,
            "outcome": str(_("来电已解决") if resolved else _("来电待处理")),
            "next_step": "", "next_follow_up_on": None,
        },
        by=by,
    )  # fmt: skip
    ticket = None
    if data.get("ticket"):
        payload = dict(data["ticket"])
        payload.update(customer_id=int(customer_id), channel="phone", caller_phone=number)
        if data.get("contact_id"):
            payload["contact_id"] = data["contact_id"]
        ticket = ticket_create(data=payload, by=by)
        if resolved and ticket.kind != "complaint":
            ticket.refresh_from_db()
            ticket = ticket_resolve(ticket_id=ticket.pk, version=None, data={"resolution": summary}, by=by)
    follow_up = None
    service_settings = clocks.settings_get()
    if resolved and service_settings.follow_up_resolved_calls:
        due = next_workday(clocks.work_calendar(service_settings), timezone.localdate())
        follow_up = task_create(
            data={
                "title": str(_("回访来电：问题是否已彻底解决")), "customer": int(customer_id), "owner": by.pk,
                "due_on": due.isoformat(),
                "description": str(_("%(d)s 来电：%(s)s") % {"d": timezone.localdate(), "s": summary[:200]}),
            },
            by=by,
        )  # fmt: skip
    return CallResult(interaction=interaction, ticket=ticket, follow_up=follow_up)


RING_FRESH = timedelta(minutes=2)


@transaction.atomic
def call_ring(*, number: str, agent_id: int | None, by: User) -> Any:
    """The telephony system reports a call ringing at an agent (SVC-3): their open service pages pop the caller's
    screen within seconds. An agent may report their own calls (a softphone); reporting for someone
    else is an integration's, with ``ticket.manage``."""
    from .models import IncomingCall

    require(by, Perm.TICKET_VIEW)
    number = (number or "").strip()
    if not number or len(number) > 40:
        raise ValidationError(_("请提供来电号码"), field="number")
    agent = by if agent_id in (None, by.pk) else User.objects.filter(pk=agent_id, is_active=True).first()
    if agent is None or not can(agent, Perm.TICKET_VIEW):
        raise ValidationError(_("坐席不存在、已停用或不能接听来电"), field="agent_id")
    if agent.pk != by.pk:
        require(by, Perm.TICKET_MANAGE)
    return IncomingCall.objects.create(agent=agent, number=number)


@transaction.atomic
def incoming_take(*, actor: User) -> Any:
    """The newest call ringing at ``actor`` in the last two minutes that no page has shown yet, marked
    shown (one page pops it, not every open tab); ``None`` when there is none."""
    from .models import IncomingCall

    require(actor, Perm.TICKET_VIEW)
    call = (
        IncomingCall.objects.select_for_update()
        .filter(agent=actor, seen_at__isnull=True, rang_at__gte=timezone.now() - RING_FRESH)
        .order_by("-rang_at", "-id")
        .first()
    )
    if call is not None:
        call.seen_at = timezone.now()
        call.save(update_fields=["seen_at"])
    return call
