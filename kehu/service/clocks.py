"""The SLA clocks of tickets (SVC-5) read from the database: the service settings, the working calendar
(the administrators' days over ``chinesecalendar`` over the statutory rule, ``sla.WorkCalendar``) and the
policy that applies to a new ticket."""

from __future__ import annotations

from datetime import datetime, time

from kehu.customers.models import Customer

from .choices import TimeBasis
from .models import CalendarDay, ServiceSettings, SlaPolicy, Ticket
from .rules import match_policy
from .sla import WorkCalendar, deadline, minutes_between

DEFAULT_WINDOWS = [["09:00", "12:00"], ["13:00", "18:00"]]


def settings_get() -> ServiceSettings:
    """The service settings row (created with the defaults on first use)."""
    row, _created = ServiceSettings.objects.get_or_create(pk=1, defaults={"work_windows": DEFAULT_WINDOWS})
    return row


def work_calendar(service_settings: ServiceSettings | None = None) -> WorkCalendar:
    """The working calendar as configured now: the administrators' calendar days and working hours."""
    service_settings = service_settings or settings_get()
    overrides = {day.day: (day.is_workday, day.name) for day in CalendarDay.objects.all()}
    windows = [
        (time.fromisoformat(start), time.fromisoformat(end))
        for start, end in (service_settings.work_windows or DEFAULT_WINDOWS)
    ]
    return WorkCalendar(overrides=overrides, windows=windows)


def policy_for(*, kind: str, category: str, priority: str, customer: Customer | None) -> SlaPolicy | None:
    """The SLA policy a new ticket gets (``rules.match_policy`` over the active policies)."""
    policies = list(SlaPolicy.objects.filter(is_active=True))
    tier = customer.value_tier if customer is not None else ""
    return match_policy(policies, kind=kind, category=category, value_tier=tier, priority=priority)


def start_clocks(ticket: Ticket, *, policy: SlaPolicy | None, at: datetime, calendar: WorkCalendar) -> None:
    """Set both deadlines from ``at`` (creation, or a reopen for the resolution clock)."""
    ticket.sla_policy = policy
    if policy is None:
        ticket.first_response_due_at = ticket.resolution_due_at = None
        return
    business = policy.basis == TimeBasis.BUSINESS
    ticket.basis = policy.basis
    ticket.first_response_due_at = deadline(
        at, policy.first_response_minutes, business_hours=business, calendar=calendar
    )
    ticket.resolution_due_at = deadline(
        at, policy.resolution_minutes, business_hours=business, calendar=calendar
    )


def restart_resolution_clock(ticket: Ticket, *, at: datetime, calendar: WorkCalendar) -> None:
    """A reopened ticket gets the full resolution time again from ``at`` (its policy's, if it still has one)."""
    policy = ticket.sla_policy
    if policy is None:
        ticket.resolution_due_at = None
        return
    business = ticket.basis == TimeBasis.BUSINESS
    ticket.resolution_due_at = deadline(
        at, policy.resolution_minutes, business_hours=business, calendar=calendar
    )


def push_back_paused(ticket: Ticket, *, until: datetime, calendar: WorkCalendar) -> int:
    """Waiting for the customer stops the clocks (SVC-5): move every deadline not yet met back by the
    paused time, counted as the ticket's basis counts (working minutes for a business-hours policy).
    Returns the paused minutes."""
    assert ticket.paused_at is not None
    business = ticket.basis == TimeBasis.BUSINESS
    paused = max(0, minutes_between(ticket.paused_at, until, business_hours=business, calendar=calendar))
    if ticket.first_responded_at is None and ticket.first_response_due_at is not None:
        ticket.first_response_due_at = deadline(
            ticket.first_response_due_at, paused, business_hours=business, calendar=calendar
        )
    if ticket.resolved_at is None and ticket.resolution_due_at is not None:
        ticket.resolution_due_at = deadline(
            ticket.resolution_due_at, paused, business_hours=business, calendar=calendar
        )
    return paused


def push_back_first_response(ticket: Ticket, *, until: datetime, calendar: WorkCalendar) -> None:
    """A first reply while the ticket waits for the customer: only the first-response deadline moves back
    by the time paused so far (the resolution clock stays paused; resuming moves it by the whole pause)."""
    assert ticket.paused_at is not None and ticket.first_response_due_at is not None
    business = ticket.basis == TimeBasis.BUSINESS
    paused = max(0, minutes_between(ticket.paused_at, until, business_hours=business, calendar=calendar))
    ticket.first_response_due_at = deadline(
        ticket.first_response_due_at, paused, business_hours=business, calendar=calendar
    )
