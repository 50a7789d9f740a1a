"""Recording interactions (ENG-1): who may, what it changes on the customer (ENG-2, CUS-7), what is
refused and why — every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers import selectors as customer_selectors
from kehu.customers import services as customer_services
from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_contact, make_customer
from kehu.engagement import selectors, services
from kehu.engagement.models import Interaction, InteractionAttachment

from .factories import make_interaction

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a quotation\n"


@pytest.fixture
def acme(cast: SimpleNamespace) -> Customer:
    return make_customer(cast.rep_east, name="东方精工机械有限公司")


@pytest.fixture
def watched(nothing_changes: Any) -> Any:
    return lambda: nothing_changes(Interaction, InteractionAttachment, Customer, AuditEvent)


def fresh(customer: Customer) -> Customer:
    return Customer.objects.get(pk=customer.pk)


def test_rep_east_records_a_call_and_the_customer_shows_last_contact_and_next_follow_up(
    cast: SimpleNamespace, acme: Customer
) -> None:
    wang = make_contact(acme, cast.rep_east, name="王建国")
    next_week = timezone.localdate() + timedelta(days=5)
    call = make_interaction(
        acme,
        cast.rep_east,
        contact=wang.pk,
        summary="王总确认下月扩产，需要报价",
        outcome="同意下周面谈",
        next_step="带报价单上门拜访",
        next_follow_up_on=next_week,
    )

    customer = fresh(acme)
    assert customer.last_contact_at == call.occurred_at
    assert (customer.next_follow_up_on, customer.next_follow_up_action) == (next_week, "带报价单上门拜访")
    assert customer.urgency == "urgent"
    assert customer.version == acme.version  # derived columns: an open edit form stays valid
    event = AuditEvent.objects.get(subject_type="interaction", verb="create")
    assert (event.actor, event.customer_id) == (cast.rep_east, acme.pk)
    assert event.changes["summary"] == [None, "王总确认下月扩产，需要报价"]


def test_the_timeline_shows_the_interaction_once_among_the_audit_events(
    cast: SimpleNamespace, acme: Customer
) -> None:
    make_interaction(acme, cast.rep_east, summary="首次电话")
    entries = customer_selectors.customer_timeline(actor=cast.rep_east, customer=acme)
    kinds = [(e.kind, e.item.summary if e.kind == "interaction" else e.item.verb) for e in entries]
    assert ("interaction", "首次电话") in kinds
    assert not [e for e in entries if e.kind == "audit" and e.item.subject_type == "interaction"]
    assert ("audit", "create") in kinds  # the customer's own creation stays


def test_a_backdated_interaction_does_not_move_the_last_contact_or_the_plan(
    cast: SimpleNamespace, acme: Customer
) -> None:
    soon = timezone.localdate() + timedelta(days=3)
    latest = make_interaction(acme, cast.rep_east, next_follow_up_on=soon, next_step="发合同")
    make_interaction(acme, cast.rep_east, days_ago=20, summary="补记上月的拜访", channel="visit")
    customer = fresh(acme)
    assert customer.last_contact_at == latest.occurred_at
    assert customer.next_follow_up_on == soon


def test_deleting_the_latest_interaction_brings_back_the_plan_of_the_one_before(
    cast: SimpleNamespace, acme: Customer
) -> None:
    later = timezone.localdate() + timedelta(days=40)
    first = make_interaction(acme, cast.rep_east, days_ago=2, next_follow_up_on=later, next_step="季度回访")
    second = make_interaction(
        acme, cast.rep_east, next_follow_up_on=timezone.localdate(), next_step="今天回电"
    )
    services.interaction_delete(interaction_id=second.pk, by=cast.rep_east)
    customer = fresh(acme)
    assert (customer.last_contact_at, customer.next_follow_up_on) == (first.occurred_at, later)
    assert customer.urgency == "not_urgent"
    assert selectors.interaction_list(actor=cast.rep_east, customer=acme).count == 1


def test_rep_west_cannot_record_on_a_customer_he_cannot_see(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    with watched(), pytest.raises(NotFound):
        make_interaction(acme, cast.rep_west)


def test_marketing_without_the_permission_is_refused_naming_it(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    with watched(), pytest.raises(PermissionDenied) as refused:
        make_interaction(acme, cast.marketing)
    assert "记录跟进" in refused.value.text()


def test_a_service_agent_records_an_inbound_call_on_any_customer(
    cast: SimpleNamespace, acme: Customer
) -> None:
    call = make_interaction(acme, cast.agent, direction="inbound", summary="客户来电咨询售后")
    assert call.direction == "inbound" and call.created_by == cast.agent


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"summary": ""}, "summary"),
        ({"summary": "长" * 5001}, "summary"),
        ({"channel": "telegram"}, "channel"),
        ({"channel": ""}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"occurred_at": "昨天下午"}, "occurred_at"),
        ({"occurred_at": ""}, "occurred_at"),
        ({"next_follow_up_on": "2026-13-01"}, "next_follow_up_on"),
        ({"next_step": "步" * 201}, "next_step"),
        ({"mood": "happy"}, "mood"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    cast: SimpleNamespace, acme: Customer, watched: Any, data: dict[str, Any], field: str
) -> None:
    with watched(), pytest.raises(ValidationError) as refused:
        make_interaction(acme, cast.rep_east, **data)
    assert refused.value.field == field
    assert refused.value.text("en") != refused.value.text("zh-hans")  # both languages


def test_an_interaction_cannot_happen_in_the_future_or_plan_before_it_happened(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    with watched():
        with pytest.raises(ValidationError) as future:
            make_interaction(acme, cast.rep_east, occurred_at=timezone.now() + timedelta(hours=2))
        assert future.value.field == "occurred_at"
        with pytest.raises(ValidationError) as backwards:
            make_interaction(
                acme, cast.rep_east, days_ago=3, next_follow_up_on=timezone.localdate() - timedelta(days=5)
            )
        assert backwards.value.field == "next_follow_up_on"


def test_the_contact_must_belong_to_the_customer(cast: SimpleNamespace, acme: Customer, watched: Any) -> None:
    other = make_customer(cast.rep_east, name="西部矿业有限公司")
    stranger = make_contact(other, cast.rep_east, name="李四")
    with watched(), pytest.raises(ValidationError) as refused:
        make_interaction(acme, cast.rep_east, contact=stranger.pk)
    assert refused.value.field == "contact"


def test_the_author_corrects_an_interaction_and_a_stale_version_is_refused(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    call = make_interaction(acme, cast.rep_east, summary="初次沟通")
    updated = services.interaction_update(
        interaction_id=call.pk,
        version=call.version,
        data={"summary": "初次沟通：对价格敏感"},
        by=cast.rep_east,
    )
    assert updated.version == call.version + 1
    event = AuditEvent.objects.get(subject_type="interaction", verb="update")
    assert event.changes == {"summary": ["初次沟通", "初次沟通：对价格敏感"]}

    with watched(), pytest.raises(Conflict):
        services.interaction_update(
            interaction_id=call.pk,
            version=call.version,
            data={"summary": "基于旧版本的修改"},
            by=cast.rep_east,
        )


def test_only_the_author_or_a_manager_may_change_an_interaction(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    customer_services.collaborator_set(
        customer_id=acme.pk, user=cast.rep_east2, can_edit=True, by=cast.rep_east
    )
    call = make_interaction(acme, cast.rep_east)
    with watched():
        with pytest.raises(PermissionDenied) as refused:
            services.interaction_update(
                interaction_id=call.pk, version=call.version, data={"summary": "改别人的"}, by=cast.rep_east2
            )
        assert refused.value.code == "not_author"
        with pytest.raises(PermissionDenied):
            services.interaction_delete(interaction_id=call.pk, by=cast.rep_east2)
    # The east manager holds interaction.manage and sees the east department.
    services.interaction_update(
        interaction_id=call.pk,
        version=call.version,
        data={"outcome": "经理补充：已报价"},
        by=cast.manager_east,
    )
    assert Interaction.objects.get(pk=call.pk).outcome == "经理补充：已报价"


# --- attachments ---------------------------------------------------------------------------------


def test_a_file_is_kept_outside_the_web_root_and_only_those_who_see_the_customer_get_it(
    cast: SimpleNamespace, acme: Customer
) -> None:
    call = services.interaction_create(
        customer_id=acme.pk,
        data={"channel": "fax", "occurred_at": timezone.now(), "summary": "收到盖章的订单传真"},
        by=cast.rep_east,
        files=[("订单传真.pdf", PDF)],
    )
    attachment = call.attachments.get()
    stored = Path(attachment.file.path)
    assert stored.read_bytes() == PDF
    assert Path(settings.KEHU_ATTACHMENT_ROOT) in stored.parents
    assert not str(stored).startswith(str(settings.STATIC_ROOT))
    assert "订单传真" not in stored.name  # the user's name never becomes a server path
    assert (attachment.name, attachment.content_type, attachment.size) == (
        "订单传真.pdf",
        "application/pdf",
        len(PDF),
    )

    assert selectors.attachment_get(actor=cast.manager_east, attachment_id=attachment.pk) == attachment
    with pytest.raises(NotFound):
        selectors.attachment_get(actor=cast.rep_west, attachment_id=attachment.pk)


def test_a_refused_file_leaves_no_interaction_behind(
    cast: SimpleNamespace, acme: Customer, watched: Any
) -> None:
    with watched(), pytest.raises(ValidationError) as refused:
        services.interaction_create(
            customer_id=acme.pk,
            data={"channel": "email", "occurred_at": timezone.now(), "summary": "发来的附件"},
            by=cast.rep_east,
            files=[("正常.pdf", PDF), ("报价单.pdf", b"MZ\x90\x00 program")],
        )
    assert refused.value.field == "file" and "报价单.pdf" in refused.value.text()


def test_a_file_over_the_size_limit_is_refused(
    cast: SimpleNamespace, acme: Customer, watched: Any, settings: Any
) -> None:
    settings.KEHU_ATTACHMENT_MAX_MB = 1
    call = make_interaction(acme, cast.rep_east)
    with watched(), pytest.raises(ValidationError) as refused:
        services.attachment_add(
            interaction_id=call.pk, name="扫描件.pdf", data=PDF + b"0" * (1024 * 1024), by=cast.rep_east
        )
    assert refused.value.field == "file" and "1 MB" in refused.value.text()


def test_removing_an_attachment_deletes_the_file_after_commit(
    cast: SimpleNamespace, acme: Customer, django_capture_on_commit_callbacks: Any
) -> None:
    call = make_interaction(acme, cast.rep_east)
    attachment = services.attachment_add(interaction_id=call.pk, name="a.pdf", data=PDF, by=cast.rep_east)
    path = Path(attachment.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_remove(attachment_id=attachment.pk, by=cast.rep_east)
    assert not path.exists()
    assert AuditEvent.objects.filter(subject_type="interaction", verb="attachment_remove").count() == 1
