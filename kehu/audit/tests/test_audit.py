"""The audit log (SEC-3): every write leaves a row; nobody — not even the database owner — edits or deletes one."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from kehu.access.services import role_create, token_create
from kehu.audit.models import AuditEvent
from kehu.audit.selectors import audit_list
from kehu.core.errors import PermissionDenied, ValidationError
from kehu.customers import services
from kehu.customers.tests.factories import make_contact, make_customer

pytestmark = pytest.mark.django_db


def last_event() -> AuditEvent:
    return AuditEvent.objects.order_by("-id")[0]


def test_every_customer_service_write_leaves_an_audit_event_with_actor_verb_subject_and_changes(
    cast: SimpleNamespace,
) -> None:
    steps: list[tuple[str, Any]] = []

    customer = make_customer(cast.rep_east, name="审计测试贸易", mobile="13812345678")
    steps.append(("create", cast.rep_east))
    services.customer_update(customer_id=customer.pk, version=1, data={"city": "南京"}, by=cast.rep_east)
    steps.append(("update", cast.rep_east))
    services.customer_classify(
        customer_id=customer.pk,
        version=2,
        dimension="value_tier",
        value="vip",
        reason="战略客户",
        by=cast.manager_east,
    )
    steps.append(("classify", cast.manager_east))
    services.collaborator_set(customer_id=customer.pk, user=cast.rep_west, can_edit=False, by=cast.rep_east)
    steps.append(("collaborator_add", cast.rep_east))
    contact = make_contact(customer, cast.rep_east, name="张三")
    steps.append(("create", cast.rep_east))
    services.contact_update(contact_id=contact.pk, version=1, data={"position": "采购经理"}, by=cast.rep_east)
    steps.append(("update", cast.rep_east))
    services.customer_transfer(
        customer_id=customer.pk, to_user=cast.rep_east2, reason="调岗", by=cast.manager_east
    )
    steps.append(("transfer", cast.manager_east))
    services.customer_reveal(customer_id=customer.pk, by=cast.agent)
    steps.append(("reveal", cast.agent))
    services.customer_delete(customer_id=customer.pk, by=cast.manager_east)
    steps.append(("delete", cast.manager_east))
    services.customer_restore(customer_id=customer.pk, by=cast.manager_east)
    steps.append(("restore", cast.manager_east))

    events = list(AuditEvent.objects.filter(customer_id=customer.pk).order_by("id"))
    assert [(e.verb, e.actor) for e in events] == steps
    for event in events:
        assert event.at is not None
        assert event.actor is not None and event.actor_name == event.actor.label
        assert event.subject_type in ("customer", "contact")
        assert event.subject_id in (customer.pk, contact.pk)
        assert event.subject_label
    created, updated, classified = events[0], events[1], events[2]
    assert created.changes["name"] == [None, "审计测试贸易"]
    assert updated.changes == {"city": ["", "南京"]}
    assert classified.changes["value_tier"] == ["small", "vip"]
    assert classified.changes["reason"] == [None, "战略客户"]
    contact_update = events[5]
    assert (contact_update.subject_type, contact_update.subject_id) == ("contact", contact.pk)
    assert contact_update.changes == {"position": ["", "采购经理"]}


def test_a_merge_is_recorded_on_both_customers(cast: SimpleNamespace) -> None:
    keep = make_customer(cast.rep_east, name="保留的公司")
    drop = make_customer(cast.rep_east2, name="并入的工厂")

    services.customer_merge(keep_id=keep.pk, drop_id=drop.pk, by=cast.manager_east)

    assert AuditEvent.objects.get(customer_id=keep.pk, verb="merge").actor == cast.manager_east
    assert AuditEvent.objects.get(customer_id=drop.pk, verb="merged_into").actor == cast.manager_east


def test_access_writes_are_audited_too(cast: SimpleNamespace) -> None:
    role = role_create(
        code="viewer", name="只读", permissions=["customer.view"], data_scope="all", by=cast.admin
    )
    event = last_event()
    assert (event.verb, event.subject_type, event.subject_id, event.actor) == (
        "create",
        "role",
        role.pk,
        cast.admin,
    )

    token, _secret = token_create(user=cast.rep_east, name="脚本", by=cast.rep_east)
    event = last_event()
    assert (event.verb, event.subject_type, event.subject_id) == ("create", "apitoken", token.pk)


def test_mobile_and_id_number_changes_are_recorded_masked(cast: SimpleNamespace) -> None:
    company = make_customer(cast.rep_east, mobile="13812345678")
    services.customer_update(
        customer_id=company.pk, version=1, data={"mobile": "13987654321"}, by=cast.rep_east
    )
    person = make_customer(cast.rep_east, kind="individual", name="钱先生", id_number="11010519491231002X")

    update = AuditEvent.objects.get(customer_id=company.pk, verb="update")
    assert update.changes["mobile"] == ["138****5678", "139****4321"]
    create = AuditEvent.objects.get(customer_id=company.pk, verb="create")
    assert create.changes["mobile"] == [None, "138****5678"]
    person_create = AuditEvent.objects.get(customer_id=person.pk, verb="create")
    assert person_create.changes["id_number"] == [None, "110105********002X"]
    everything = str(list(AuditEvent.objects.values_list("changes", flat=True)))
    for secret in ("13812345678", "13987654321", "11010519491231002X"):
        assert secret not in everything


def test_a_refused_write_leaves_no_audit_event(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    before = AuditEvent.objects.count()

    with pytest.raises(ValidationError):
        services.customer_update(customer_id=customer.pk, version=1, data={"mobile": "1"}, by=cast.rep_east)
    with pytest.raises(PermissionDenied):
        services.customer_delete(customer_id=customer.pk, by=cast.rep_east)

    assert AuditEvent.objects.count() == before


def test_purging_a_customer_keeps_its_audit_history(cast: SimpleNamespace) -> None:
    customer = make_customer(cast.rep_east)
    services.customer_delete(customer_id=customer.pk, by=cast.admin)
    services.customer_purge(customer_id=customer.pk, by=cast.admin)

    assert list(
        AuditEvent.objects.filter(customer_id=customer.pk).order_by("id").values_list("verb", flat=True)
    ) == ["create", "delete", "purge"]


# --- append-only in the database itself -----------------------------------------------------------------


@pytest.fixture
def event(cast: SimpleNamespace) -> AuditEvent:
    make_customer(cast.rep_east)
    return last_event()


def _table() -> str:
    return connection.ops.quote_name(AuditEvent._meta.db_table)


def test_the_database_refuses_an_sql_update_of_the_audit_log(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {_table()} SET verb = %s WHERE id = %s", ["forged", event.pk])
    event.refresh_from_db()
    assert event.verb == "create"


def test_the_database_refuses_an_sql_delete_from_the_audit_log(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {_table()} WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_database_refuses_an_orm_update_or_delete_of_the_audit_log(event: AuditEvent) -> None:
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(actor_name="someone else")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        event.verb = "forged"
        event.save()

    event = AuditEvent.objects.get(pk=event.pk)
    assert (event.verb, event.actor_name) == ("create", "张华东")


def test_the_audit_log_still_takes_new_rows(event: AuditEvent) -> None:
    AuditEvent.objects.create(at=timezone.now(), verb="note", subject_type="test", actor_name="system")
    assert AuditEvent.objects.filter(verb="note").count() == 1


# --- reading the log --------------------------------------------------------------------------------------


@pytest.fixture
def history(cast: SimpleNamespace) -> SimpleNamespace:
    a = make_customer(cast.rep_east, name="甲公司")
    b = make_customer(cast.rep_west, name="乙工厂")
    services.customer_update(customer_id=a.pk, version=1, data={"city": "上海"}, by=cast.rep_east)
    services.customer_reveal(customer_id=b.pk, by=cast.agent)
    return SimpleNamespace(a=a, b=b)


def test_an_auditor_reads_the_log_through_the_api_with_filters(
    cast: SimpleNamespace, history: SimpleNamespace, api_as: Any
) -> None:
    api = api_as(cast.auditor)

    everything = api.get("/api/v1/audit")
    assert everything.status_code == 200
    body = everything.json()
    assert set(body) == {"items", "count"}
    assert body["count"] == AuditEvent.objects.count()

    def verbs(**params: Any) -> list[str]:
        response = api.get("/api/v1/audit", params)
        assert response.status_code == 200, response.content
        return [e["verb"] for e in response.json()["items"]]

    assert verbs(customer_id=history.a.pk) == ["update", "create"]  # newest first
    assert verbs(verb="reveal") == ["reveal"]
    assert verbs(actor=cast.agent.pk) == ["reveal"]
    assert verbs(subject_type="customer", subject_id=history.b.pk) == ["reveal", "create"]
    today = timezone.localdate()
    assert len(verbs(date_from=today.isoformat(), date_to=today.isoformat(), limit=200)) == body["count"]
    assert verbs(date_to=(today - timedelta(days=1)).isoformat()) == []
    assert len(verbs(limit=2)) == 2

    item = api.get("/api/v1/audit", {"verb": "update"}).json()["items"][0]
    assert item["actor_id"] == cast.rep_east.pk
    assert item["customer_id"] == history.a.pk
    assert item["changes"] == {"city": ["", "上海"]}


def test_a_bad_audit_filter_names_the_field(cast: SimpleNamespace, api_as: Any) -> None:
    response = api_as(cast.auditor).get("/api/v1/audit", {"date_from": "last tuesday"})
    assert response.status_code == 422
    assert response.json()["field"] == "date_from"


@pytest.mark.parametrize("who", ["rep_east", "manager_east", "agent", "marketing"])
def test_people_without_the_audit_permission_get_403(
    cast: SimpleNamespace, history: SimpleNamespace, api_as: Any, who: str
) -> None:
    response = api_as(getattr(cast, who)).get("/api/v1/audit")
    assert response.status_code == 403
    assert "items" not in response.json()
    with pytest.raises(PermissionDenied):
        audit_list(actor=getattr(cast, who))
