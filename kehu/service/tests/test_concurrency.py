"""Fair distribution when two tickets arrive at once (SVC-4: "test two tickets arriving at once on SQLite
and PostgreSQL").

Two threads, each with its own database connection, wait on one barrier and then call ``ticket_create``
for the same team of two available agents. ``distribution.distribute`` writes the team's row before it
reads who is next, so the two distributions take turns (PostgreSQL: the row lock until commit; SQLite:
the IMMEDIATE transaction's write lock) and the second sees the first one's assignment: the tickets go
to different agents, by round robin and by least open work alike.

SQLite needs a database file for this (``KEHU_TEST_SQLITE_NAME``): the default in-memory test database
is one shared cache, where a second writer is refused at once ("database table is locked") instead of
waiting its turn as it does on a file, so the test is skipped there and says so.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection

from kehu.service import configuration
from kehu.service.models import TeamMember, Ticket

ROUNDS = 3


def _in_memory_sqlite() -> bool:
    """The test database is SQLite in memory (no ``KEHU_TEST_SQLITE_NAME``) — decided before it exists."""
    test_name = (connection.settings_dict.get("TEST") or {}).get("NAME")
    return connection.vendor == "sqlite" and (not test_name or ":memory:" in str(test_name))


pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        _in_memory_sqlite(),
        reason="in-memory SQLite (shared cache) refuses a second writer instead of queueing it: "
        "run with KEHU_TEST_SQLITE_NAME=/tmp/<name>.sqlite3",
    ),
]


@pytest.fixture(autouse=True)
def _audit_emptied_on_sqlite(transactional_db: None) -> Iterator[None]:
    """A transactional test's clean-up deletes every row, which SQLite's append-only trigger on the audit
    log refuses (PostgreSQL truncates, firing no row trigger): empty the audit log behind the trigger's
    back and put the trigger back (as kehu/approvals/tests/test_browser.py does)."""
    yield
    if connection.vendor == "sqlite":
        append_only = importlib.import_module("kehu.audit.migrations.0002_append_only")
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            cursor.execute("DELETE FROM audit_auditevent")
            cursor.execute(append_only.SQLITE[1])


def _at_once(calls: list[Callable[[], int]]) -> list[int]:
    """Run the calls in threads of their own, released together by one barrier; their results."""
    barrier = threading.Barrier(len(calls))
    results: list[int] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], int]) -> None:
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            results.append(call())
        except BaseException as exc:  # reported by the main thread below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert len(results) == len(calls)
    return results


def _race(service: SimpleNamespace, creators: tuple[Any, Any]) -> list[Ticket]:
    """Both creators register a ticket at the same moment; returns both tickets as stored."""
    from kehu.service.services import ticket_create

    def create(by: Any, title: str) -> Callable[[], int]:
        data = {"kind": "aftersale", "category": "repair", "title": title, "customer_id": service.customer.pk}
        return lambda: ticket_create(data=data, by=by).pk

    created = _at_once([create(by, f"同时来电 {i}") for i, by in enumerate(creators)])
    return list(Ticket.objects.filter(pk__in=created))


def test_two_tickets_at_once_go_round_robin_to_different_agents(service: SimpleNamespace) -> None:
    for _ in range(ROUNDS):
        tickets = _race(service, (service.agent, service.agent2))
        assert sorted(t.assignee_id for t in tickets) == sorted([service.agent.pk, service.agent2.pk])
    # Three rounds of two: each agent got three, and both were last given one in the last round.
    counts = {
        uid: Ticket.objects.filter(assignee_id=uid).count() for uid in (service.agent.pk, service.agent2.pk)
    }
    assert counts == {service.agent.pk: ROUNDS, service.agent2.pk: ROUNDS}
    assert TeamMember.objects.filter(team=service.team, last_assigned_at__isnull=True).count() == 0


def test_two_tickets_at_once_go_by_least_open_work_to_different_agents(service: SimpleNamespace) -> None:
    configuration.team_update(
        team_id=service.team.pk, version=None, data={"distribution": "least_open"}, by=service.lead
    )
    for round_no in range(1, ROUNDS + 1):
        tickets = _race(service, (service.agent, service.lead))
        assert sorted(t.assignee_id for t in tickets) == sorted([service.agent.pk, service.agent2.pk])
        # equal load again after every round
        for uid in (service.agent.pk, service.agent2.pk):
            assert Ticket.objects.open().filter(assignee_id=uid).count() == round_no


def test_two_waiting_tickets_redistributed_at_once_go_to_different_agents(service: SimpleNamespace) -> None:
    """The team-row write is what makes this fair: ``ticket_create`` also serialises on the ticket number's
    sequence row, but a supervisor's redistribution (and an escalation's reassignment) does not."""
    from kehu.service.distribution import ticket_redistribute
    from kehu.service.services import ticket_create

    configuration.team_update(
        team_id=service.team.pk, version=None, data={"distribution": "manual"}, by=service.lead
    )
    waiting = [
        ticket_create(
            data={
                "kind": "aftersale",
                "category": "repair",
                "title": f"排队 {i}",
                "customer_id": service.customer.pk,
            },
            by=service.lead,
        ).pk
        for i in range(2 * ROUNDS)
    ]
    assert not Ticket.objects.filter(assignee__isnull=False).exists()
    configuration.team_update(
        team_id=service.team.pk, version=None, data={"distribution": "round_robin"}, by=service.lead
    )
    for first, second in zip(waiting[::2], waiting[1::2], strict=True):
        _at_once(
            [
                lambda pk=first: ticket_redistribute(ticket_id=pk, by=service.lead).pk,
                lambda pk=second: ticket_redistribute(ticket_id=pk, by=service.lead).pk,
            ]
        )
        pair = Ticket.objects.filter(pk__in=(first, second))
        assert sorted(t.assignee_id for t in pair) == sorted([service.agent.pk, service.agent2.pk])
