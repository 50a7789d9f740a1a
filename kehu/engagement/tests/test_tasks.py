"""P&A tasks (计划与行动, ENG-3): what was promised, by whom, by when, and whether it was done — and
the supervisor sees what is overdue. Every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_customer
from kehu.engagement import selectors, services
from kehu.engagement.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def acme(cast: SimpleNamespace) -> Customer:
    return make_customer(cast.rep_east, name="东方精工机械有限公司")


@pytest.fixture
def watched(nothing_changes: Any) -> Any:
    return lambda: nothing_changes(Task, AuditEvent)


def in_days(n: int) -> str:
    return (timezone.localdate() + timedelta(days=n)).isoformat()


def make_task(by: Any, **data: Any) -> Task:
    return services.task_create(data={"title": "寄送样品", "due_on": in_days(3), **data}, by=by)


def overdue(task: Task, days: int = 2) -> Task:
    """Move the due date into the past, as time passing would (creation refuses past dates)."""
    Task.objects.filter(pk=task.pk).update(due_on=timezone.localdate() - timedelta(days=days))
    return Task.objects.get(pk=task.pk)


def titles(page: Any) -> list[str]:
    return [t.title for t in page.items]


def test_rep_east_promises_a_sample_and_marks_it_done_with_the_result(
    cast: SimpleNamespace, acme: Customer
) -> None:
    task = make_task(cast.rep_east, customer=acme.pk, description="两台样机")
    assert (task.owner, task.created_by, task.status, task.customer) == (
        cast.rep_east,
        cast.rep_east,
        "open",
        acme,
    )
    done = services.task_complete(
        task_id=task.pk, version=task.version, result="顺丰寄出，单号 SF123", by=cast.rep_east
    )
    assert (done.status, done.result) == ("done", "顺丰寄出，单号 SF123") and done.done_at is not None
    verbs = list(AuditEvent.objects.filter(subject_type="task").order_by("id").values_list("verb", flat=True))
    assert verbs == ["create", "complete"]
    assert AuditEvent.objects.filter(subject_type="task", customer_id=acme.pk).count() == 2


def test_done_needs_a_result_and_a_closed_task_cannot_be_closed_again(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    task = make_task(cast.rep_east)
    with watched(), pytest.raises(ValidationError) as refused:
        services.task_complete(task_id=task.pk, version=task.version, result="  ", by=cast.rep_east)
    assert refused.value.field == "result"
    cancelled = services.task_cancel(
        task_id=task.pk, version=task.version, reason="客户取消订单", by=cast.rep_east
    )
    with watched(), pytest.raises(Conflict) as again:
        services.task_complete(task_id=task.pk, version=cancelled.version, result="x", by=cast.rep_east)
    assert again.value.code == "invalid_transition"
    reopened = services.task_reopen(task_id=task.pk, version=cancelled.version, by=cast.rep_east)
    assert reopened.status == "open" and reopened.done_at is None


def test_a_stale_version_is_refused(cast: SimpleNamespace, watched: Any) -> None:
    task = make_task(cast.rep_east)
    services.task_update(task_id=task.pk, version=task.version, data={"due_on": in_days(5)}, by=cast.rep_east)
    with watched(), pytest.raises(Conflict):
        services.task_complete(task_id=task.pk, version=task.version, result="基于旧版本", by=cast.rep_east)


def test_the_manager_assigns_to_the_team_but_a_rep_only_to_himself(
    cast: SimpleNamespace, watched: Any
) -> None:
    given = make_task(cast.manager_east, title="拜访华东大客户", owner=cast.rep_east.pk)
    assert (given.owner, given.created_by) == (cast.rep_east, cast.manager_east)
    with watched(), pytest.raises(ValidationError) as refused:
        make_task(cast.rep_east, owner=cast.rep_east2.pk)
    assert refused.value.field == "owner"
    with watched(), pytest.raises(ValidationError):
        make_task(cast.manager_east, owner=cast.rep_west.pk)  # another department


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "长" * 201}, "title"),
        ({"due_on": ""}, "due_on"),
        ({"due_on": "明天"}, "due_on"),
        ({"due_on": "2020-01-01"}, "due_on"),  # a new promise cannot be due in the past
        ({"customer": 999999}, "customer"),
        ({"priority": "high"}, "priority"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(
    cast: SimpleNamespace, watched: Any, data: dict[str, Any], field: str
) -> None:
    with watched(), pytest.raises(ValidationError) as refused:
        make_task(cast.rep_east, **data)
    assert refused.value.field == field


def test_a_customer_out_of_scope_cannot_be_named(cast: SimpleNamespace, acme: Customer, watched: Any) -> None:
    with watched(), pytest.raises(ValidationError) as refused:
        make_task(cast.rep_west, customer=acme.pk)
    assert refused.value.field == "customer"


def test_the_supervisor_sees_the_teams_overdue_tasks_and_others_do_not(cast: SimpleNamespace) -> None:
    late = overdue(make_task(cast.rep_east, title="回复报价"))
    make_task(cast.rep_east, title="准时的任务")
    make_task(cast.rep_west, title="华南的任务")

    team_overdue = selectors.task_list(actor=cast.manager_east, scene="team", filters={"overdue": "1"})
    assert titles(team_overdue) == ["回复报价"] and team_overdue.items[0].is_overdue
    assert titles(selectors.task_list(actor=cast.manager_east, scene="all")) == ["回复报价", "准时的任务"]
    assert titles(selectors.task_list(actor=cast.rep_west, scene="all")) == ["华南的任务"]
    with pytest.raises(NotFound):
        selectors.task_get(actor=cast.rep_west, task_id=late.pk)
    # The manager may close it (interaction.manage); a colleague may not even see it.
    services.task_complete(task_id=late.pk, version=late.version, result="经理代为回复", by=cast.manager_east)


def test_a_colleague_who_sees_a_task_but_neither_owns_nor_set_it_may_not_change_it(
    cast: SimpleNamespace, watched: Any
) -> None:
    task = make_task(cast.rm_junior, title="理财回访")  # rm sees it: rm_junior reports to rm
    rm_has_manage = "interaction.manage" in {p for r in cast.rm.roles.all() for p in r.permissions}
    assert not rm_has_manage
    assert selectors.task_get(actor=cast.rm, task_id=task.pk) == task
    with watched(), pytest.raises(PermissionDenied):
        services.task_update(task_id=task.pk, version=task.version, data={"title": "改"}, by=cast.rm)


def test_marketing_cannot_create_tasks(cast: SimpleNamespace, watched: Any) -> None:
    with watched(), pytest.raises(PermissionDenied):
        make_task(cast.marketing)


# --- API ---------------------------------------------------------------------------------------------


def test_the_task_api_creates_lists_completes_and_refuses_bad_input(
    cast: SimpleNamespace, acme: Customer, api_as: Any
) -> None:
    api = api_as(cast.rep_east)
    created = api.post("/api/v1/tasks", {"title": "发送合同", "due_on": in_days(2), "customer": acme.pk})
    assert created.status_code == 201, created.content
    task = created.json()
    assert (task["status"], task["owner"]["id"], task["customer"]["name"], task["overdue"]) == (
        "open",
        cast.rep_east.pk,
        "东方精工机械有限公司",
        False,
    )
    assert api.get("/api/v1/tasks").json()["count"] == 1
    done = api.post(f"/api/v1/tasks/{task['id']}/complete", {"version": task["version"], "result": "已签回"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    stale = api.post(f"/api/v1/tasks/{task['id']}/reopen", {"version": task["version"]})
    assert stale.status_code == 409
    assert api.get("/api/v1/tasks", {"status": "done"}).json()["count"] == 1
    bad = api.post("/api/v1/tasks", {"title": "x", "due_on": "2020-01-01"})
    assert bad.status_code == 422 and bad.json()["field"] == "due_on"
    assert api.get("/api/v1/tasks", {"scene": "everyone"}).json()["field"] == "scene"
    assert api_as(cast.rep_west).get(f"/api/v1/tasks/{task['id']}").status_code == 404
    assert api.delete(f"/api/v1/tasks/{task['id']}").status_code == 204


# --- pages ------------------------------------------------------------------------------------------


def test_the_customer_page_has_a_task_tab_and_the_task_is_done_from_there(
    cast: SimpleNamespace, acme: Customer, signed_in: Any
) -> None:
    client = signed_in(cast.rep_east)
    created = client.post(
        reverse("engagement:task_create") + f"?customer={acme.pk}",
        {"title": "准备技术方案", "due_on": in_days(4), "owner": str(cast.rep_east.pk), "customer": str(acme.pk),
         "description": "", "next": "customer"},
    )  # fmt: skip
    assert created.status_code == 302 and created["Location"].endswith(f"/customers/{acme.pk}/?tab=tasks")
    task = Task.objects.get()
    page = client.get(reverse("customers:detail", args=[acme.pk]), {"tab": "tasks"}).content.decode()
    assert "任务 (1)" in page and "准备技术方案" in page and 'data-testid="complete-task"' in page
    done = client.post(
        reverse("engagement:task_transition", args=[task.pk, "complete"]),
        {"version": task.version, "result": "方案已发", "next": "customer"},
    )
    assert done.status_code == 302 and Task.objects.get().status == "done"
    assert client.post(reverse("engagement:task_transition", args=[task.pk, "explode"])).status_code == 404


def test_the_task_list_shows_scenes_overdue_badges_and_empty_states(
    cast: SimpleNamespace, signed_in: Any
) -> None:
    overdue(make_task(cast.rep_east, title="迟到的报价"))
    client = signed_in(cast.manager_east)
    team = client.get(reverse("engagement:tasks"), {"scene": "team", "overdue": "1"}).content.decode()
    assert "迟到的报价" in team and 'data-testid="overdue"' in team
    mine = client.get(reverse("engagement:tasks")).content.decode()
    assert 'data-testid="empty"' in mine and "这里还没有任务" in mine
    form = client.post(reverse("engagement:task_create"), {"title": "", "due_on": in_days(1), "owner": ""})
    assert 'data-error-for="title"' in form.content.decode()
    assert Task.objects.count() == 1
