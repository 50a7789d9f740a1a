"""The pipeline's writes (SAL-3, SAL-4) as sentences about the cast."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.engagement.models import RevisitPlan, Task
from kehu.engagement.revisits import revisit_plan_create
from kehu.sales import services
from kehu.sales.models import (
    Competitor,
    Opportunity,
    OpportunityContact,
    OpportunityProduct,
    Stage,
    StageChange,
    StageGroup,
)

from .factories import make_contact, make_customer, make_opportunity, make_product, move, stage

pytestmark = pytest.mark.django_db

WATCHED = [Opportunity, StageChange, OpportunityProduct, OpportunityContact, Competitor, AuditEvent]


def test_a_new_opportunity_starts_in_the_first_stage_with_a_stage_change(rep_east: Any) -> None:
    opp = make_opportunity(rep_east)
    assert opp.stage.name == "初步接触"
    assert opp.department == rep_east.department
    assert list(opp.stage_changes.values_list("from_stage", "to_stage__name")) == [(None, "初步接触")]


def test_moving_a_stage_records_who_moved_it_from_where_to_where(rep_east: Any) -> None:
    opp = make_opportunity(rep_east)
    move(opp, "方案/报价", rep_east)
    change = opp.stage_changes.order_by("-id").first()
    assert (change.from_stage.name, change.to_stage.name, change.by) == ("初步接触", "方案/报价", rep_east)
    opp.refresh_from_db()
    assert opp.version == 2
    assert AuditEvent.objects.filter(subject_type="opportunity", subject_id=opp.pk, verb="stage").exists()


def test_any_open_stage_may_be_chosen_even_backwards(rep_east: Any) -> None:
    opp = make_opportunity(rep_east)
    move(opp, "谈判", rep_east)
    move(opp, "需求确认", rep_east)
    opp.refresh_from_db()
    assert opp.stage.name == "需求确认"


def test_moving_into_an_end_state_is_refused_and_changes_nothing(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as exc:
        move(opp, "赢单", rep_east)
    assert exc.value.field == "stage"


def test_a_stale_version_is_a_conflict_and_changes_nothing(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    move(opp, "需求确认", rep_east)
    with nothing_changes(*WATCHED), pytest.raises(Conflict) as exc:
        services.opportunity_move_stage(
            opportunity_id=opp.pk, version=1, stage_id=stage("谈判").pk, by=rep_east
        )
    assert exc.value.status == 409


def test_reordering_within_a_column_puts_the_card_between_its_neighbours(rep_east: Any) -> None:
    a, b, c = (make_opportunity(rep_east, name=n) for n in "ABC")
    # New cards go on top: C, B, A.
    order = lambda: list(Opportunity.objects.order_by("rank", "id").values_list("name", flat=True))  # noqa: E731
    assert order() == ["C", "B", "A"]
    a.refresh_from_db()
    services.opportunity_move_stage(
        opportunity_id=a.pk,
        version=a.version,
        stage_id=a.stage_id,
        after_id=c.pk,
        before_id=b.pk,
        by=rep_east,
    )
    assert order() == ["C", "A", "B"]


def test_a_card_dropped_between_adjacent_ranks_makes_room(rep_east: Any) -> None:
    a, b, c = (make_opportunity(rep_east, name=n) for n in "ABC")
    Opportunity.objects.filter(pk=a.pk).update(rank=0)
    Opportunity.objects.filter(pk=b.pk).update(rank=1)
    Opportunity.objects.filter(pk=c.pk).update(rank=5000)
    c.refresh_from_db()
    services.opportunity_move_stage(
        opportunity_id=c.pk,
        version=c.version,
        stage_id=c.stage_id,
        after_id=a.pk,
        before_id=b.pk,
        by=rep_east,
    )
    names = list(Opportunity.objects.order_by("rank", "id").values_list("name", flat=True))
    assert names == ["A", "C", "B"]


def test_winning_closes_and_plans_the_after_sale_revisit(rep_east: Any, admin: Any) -> None:
    revisit_plan_create(
        data={"name": "成交后回访", "trigger": "after_order", "due_in_days": 7, "task_title": "成交回访"},
        by=admin,
    )
    customer = make_customer(rep_east)
    opp = make_opportunity(rep_east, customer=customer)
    services.opportunity_win(
        opportunity_id=opp.pk, version=opp.version, reason="价格与交期都满足", by=rep_east
    )
    opp.refresh_from_db()
    assert (opp.status, opp.stage.name, opp.close_reason) == ("won", "赢单", "价格与交期都满足")
    assert opp.closed_at is not None
    task = Task.objects.get(customer=customer, revisit_plan__in=RevisitPlan.objects.all())
    assert task.owner == rep_east and task.title == "成交回访"


def test_losing_requires_the_reason_and_the_competitor(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    with nothing_changes(*WATCHED):
        with pytest.raises(ValidationError) as exc:
            services.opportunity_lose(
                opportunity_id=opp.pk, version=1, reason="", competitor="西门子", by=rep_east
            )
        assert exc.value.field == "reason"
        with pytest.raises(ValidationError) as exc:
            services.opportunity_lose(
                opportunity_id=opp.pk, version=1, reason="价格高", competitor=" ", by=rep_east
            )
        assert exc.value.field == "competitor"
    services.opportunity_lose(
        opportunity_id=opp.pk, version=1, reason="价格高", competitor="西门子", by=rep_east
    )
    opp.refresh_from_db()
    assert (opp.status, opp.lost_to, opp.close_reason, opp.stage.kind) == ("lost", "西门子", "价格高", "lost")


def test_invalidating_requires_a_reason(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError):
        services.opportunity_invalidate(opportunity_id=opp.pk, version=1, reason="  ", by=rep_east)
    services.opportunity_invalidate(opportunity_id=opp.pk, version=1, reason="重复录入", by=rep_east)
    assert Opportunity.objects.get(pk=opp.pk).status == "invalid"


def test_a_closed_opportunity_can_no_longer_move(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    services.opportunity_win(opportunity_id=opp.pk, version=1, by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        move(opp, "谈判", rep_east)


def test_only_a_manager_reopens_a_lost_opportunity(
    rep_east: Any, manager_east: Any, nothing_changes: Any
) -> None:
    opp = make_opportunity(rep_east)
    services.opportunity_lose(
        opportunity_id=opp.pk, version=1, reason="预算取消", competitor="无", by=rep_east
    )
    with nothing_changes(*WATCHED), pytest.raises(PermissionDenied):
        services.opportunity_reopen(opportunity_id=opp.pk, version=2, by=rep_east)
    services.opportunity_reopen(opportunity_id=opp.pk, version=2, stage_id=stage("谈判").pk, by=manager_east)
    opp.refresh_from_db()
    assert (opp.status, opp.stage.name, opp.lost_to, opp.closed_at) == ("open", "谈判", "", None)


def test_a_won_opportunity_is_never_reopened(rep_east: Any, manager_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    services.opportunity_win(opportunity_id=opp.pk, version=1, by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        services.opportunity_reopen(opportunity_id=opp.pk, version=2, by=manager_east)


def test_update_is_versioned(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    services.opportunity_update(
        opportunity_id=opp.pk,
        version=1,
        data={"amount": "250000", "expected_close": date(2027, 3, 31)},
        by=rep_east,
    )
    opp.refresh_from_db()
    assert (opp.amount, opp.expected_close, opp.version) == (Decimal("250000.00"), date(2027, 3, 31), 2)
    with nothing_changes(*WATCHED), pytest.raises(Conflict):
        services.opportunity_update(opportunity_id=opp.pk, version=1, data={"name": "旧版本"}, by=rep_east)
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as exc:
        services.opportunity_update(opportunity_id=opp.pk, version=2, data={"amount": "-5"}, by=rep_east)
    assert exc.value.field == "amount"


def test_transfer_moves_the_department_with_the_owner(rep_east: Any, rep_west: Any) -> None:
    opp = make_opportunity(rep_east)
    services.opportunity_transfer(opportunity_id=opp.pk, version=1, to_user_id=rep_west.pk, by=rep_east)
    opp.refresh_from_db()
    assert (opp.owner, opp.department) == (rep_west, rep_west.department)


def test_soft_delete_hides_it(rep_east: Any) -> None:
    opp = make_opportunity(rep_east)
    services.opportunity_delete(opportunity_id=opp.pk, by=rep_east)
    assert not Opportunity.objects.visible_to(rep_east).filter(pk=opp.pk).exists()
    assert Opportunity.objects.filter(pk=opp.pk, deleted_at__isnull=False).exists()


def test_someone_elses_opportunity_is_not_found_and_unchanged(
    rep_east: Any, rep_west: Any, nothing_changes: Any
) -> None:
    opp = make_opportunity(rep_east)
    with nothing_changes(*WATCHED):
        with pytest.raises(NotFound):
            move(opp, "谈判", rep_west)
        with pytest.raises(NotFound):
            services.opportunity_win(opportunity_id=opp.pk, version=1, by=rep_west)
        with pytest.raises(NotFound):
            services.opportunity_delete(opportunity_id=opp.pk, by=rep_west)


def test_the_manager_works_the_departments_opportunities(rep_east: Any, manager_east: Any) -> None:
    opp = make_opportunity(rep_east)
    move(opp, "谈判", manager_east)
    assert Opportunity.objects.get(pk=opp.pk).stage.name == "谈判"


def test_an_auditor_sees_but_may_not_move(rep_east: Any, auditor: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    with nothing_changes(*WATCHED), pytest.raises(PermissionDenied):
        move(opp, "谈判", auditor)


def test_product_lines_compute_their_amount_and_the_opportunity_can_follow(rep_east: Any) -> None:
    opp = make_opportunity(rep_east, amount="1")
    product = make_product(price="1200.00")
    line = services.opportunity_line_add(
        opportunity_id=opp.pk, data={"product": product.pk, "quantity": "3", "discount": "10"}, by=rep_east
    )
    assert (line.unit_price, line.amount) == (Decimal("1200.00"), Decimal("3240.00"))
    opp.refresh_from_db()
    assert opp.amount == Decimal("1.00")  # not following the lines yet
    services.opportunity_update(
        opportunity_id=opp.pk, version=opp.version, data={"amount_from_lines": True}, by=rep_east
    )
    opp.refresh_from_db()
    assert opp.amount == Decimal("3240.00")
    services.opportunity_line_update(
        opportunity_id=opp.pk, line_id=line.pk, data={"unit_price": "1000"}, by=rep_east
    )
    opp.refresh_from_db()
    assert opp.amount == Decimal("2700.00")
    services.opportunity_line_remove(opportunity_id=opp.pk, line_id=line.pk, by=rep_east)
    opp.refresh_from_db()
    assert opp.amount == Decimal("0.00")


def test_a_bad_line_names_its_field(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    product = make_product()
    with nothing_changes(*WATCHED):
        for data, field in (
            ({"product": product.pk, "quantity": "0"}, "quantity"),
            ({"product": product.pk, "discount": "120"}, "discount"),
            ({"product": 999999}, "product"),
            ({"product": product.pk, "unit_price": "abc"}, "unit_price"),
        ):
            with pytest.raises(ValidationError) as exc:
                services.opportunity_line_add(opportunity_id=opp.pk, data=data, by=rep_east)
            assert exc.value.field == field


def test_buying_centre_members_come_from_the_customers_contacts(rep_east: Any, nothing_changes: Any) -> None:
    customer = make_customer(rep_east)
    contact = make_contact(customer, rep_east, "李总")
    other = make_contact(make_customer(rep_east, "别家公司"), rep_east, "外人")
    opp = make_opportunity(rep_east, customer=customer)
    member = services.opportunity_contact_add(
        opportunity_id=opp.pk,
        data={"contact": contact.pk, "roles": ["buyer", "decider"], "stance": "supporter", "influence": 5},
        by=rep_east,
    )
    assert member.roles == ["decider", "buyer"]
    with nothing_changes(*WATCHED):
        for data, field in (
            ({"contact": other.pk, "roles": ["user"]}, "contact"),
            ({"contact": contact.pk, "roles": ["user"]}, "contact"),  # already in
        ):
            with pytest.raises(ValidationError) as exc:
                services.opportunity_contact_add(opportunity_id=opp.pk, data=data, by=rep_east)
            assert exc.value.field == field
        with pytest.raises(ValidationError) as exc:
            services.opportunity_contact_update(
                opportunity_id=opp.pk, member_id=member.pk, data={"influence": 9}, by=rep_east
            )
        assert exc.value.field == "influence"
    services.opportunity_contact_update(
        opportunity_id=opp.pk, member_id=member.pk, data={"stance": "opponent"}, by=rep_east
    )
    assert OpportunityContact.objects.get(pk=member.pk).stance == "opponent"
    services.opportunity_contact_remove(opportunity_id=opp.pk, member_id=member.pk, by=rep_east)
    assert not OpportunityContact.objects.exists()


def test_competitors_are_recorded(rep_east: Any, nothing_changes: Any) -> None:
    opp = make_opportunity(rep_east)
    c = services.competitor_add(
        opportunity_id=opp.pk,
        data={"name": "某德国品牌", "strengths": "品牌", "weaknesses": "交期长", "price_position": "higher"},
        by=rep_east,
    )
    with nothing_changes(*WATCHED), pytest.raises(ValidationError) as exc:
        services.competitor_update(
            opportunity_id=opp.pk, competitor_id=c.pk, data={"price_position": "x"}, by=rep_east
        )
    assert exc.value.field == "price_position"
    services.competitor_update(
        opportunity_id=opp.pk, competitor_id=c.pk, data={"notes": "上次输给他们"}, by=rep_east
    )
    assert Competitor.objects.get(pk=c.pk).notes == "上次输给他们"
    services.competitor_remove(opportunity_id=opp.pk, competitor_id=c.pk, by=rep_east)
    assert not Competitor.objects.exists()


STAGES = [
    {"name": "线索确认", "probability": 5},
    {"name": "技术交流", "probability": 30},
    {"name": "投标", "probability": 60, "past_proposal": True},
]


def test_a_stage_group_gets_its_stages_the_end_states_and_its_departments(
    cast: Any, manager_east: Any
) -> None:
    group = services.stage_group_create(
        data={"name": "项目型销售", "stages": STAGES, "departments": [cast.east.pk]}, by=manager_east
    )
    rows = list(group.stages.order_by("order").values_list("name", "kind", "probability", "past_proposal"))
    assert rows == [
        ("线索确认", "open", 5, False), ("技术交流", "open", 30, False), ("投标", "open", 60, True),
        ("赢单", "won", 100, True), ("输单", "lost", 0, False), ("无效", "invalid", 0, False),
    ]  # fmt: skip
    # A rep of the department now opens opportunities in it.
    from kehu.access.models import User

    opp = make_opportunity(User.objects.get(username="rep_east"))
    assert (opp.stage_group, opp.stage.name) == (group, "线索确认")


def test_stage_group_rules_are_enforced_and_nothing_is_written(
    cast: Any, manager_east: Any, rep_east: Any, nothing_changes: Any
) -> None:
    with nothing_changes(StageGroup, Stage, AuditEvent):
        with pytest.raises(PermissionDenied):
            services.stage_group_create(data={"name": "x", "stages": STAGES}, by=rep_east)
        bad = [{"name": "a", "probability": 40}, {"name": "b", "probability": 30}]
        with pytest.raises(ValidationError) as exc:
            services.stage_group_create(data={"name": "x", "stages": bad}, by=manager_east)
        assert exc.value.field == "probability"
        with pytest.raises(ValidationError):
            services.stage_group_create(
                data={"name": "x", "stages": [{"name": "a", "probability": 101}]}, by=manager_east
            )
        with pytest.raises(ValidationError) as exc:
            services.stage_group_create(data={"name": "x", "stages": [], "departments": []}, by=manager_east)
        assert exc.value.field == "stages"


def test_a_department_uses_one_group_only(cast: Any, manager_east: Any) -> None:
    services.stage_group_create(
        data={"name": "甲", "stages": STAGES, "departments": [cast.east.pk]}, by=manager_east
    )
    with pytest.raises(ValidationError) as exc:
        services.stage_group_create(
            data={"name": "乙", "stages": STAGES, "departments": [cast.east.pk]}, by=manager_east
        )
    assert exc.value.field == "departments"


def test_editing_a_group_reorders_rerates_and_protects_used_stages(manager_east: Any, rep_east: Any) -> None:
    group = services.stage_group_create(data={"name": "甲", "stages": STAGES}, by=manager_east)
    ids = {s.name: s.pk for s in group.stages.all()}
    services.stage_group_update(
        group_id=group.pk,
        version=group.version,
        data={"stages": [
            {"id": ids["技术交流"], "name": "技术交流", "probability": 20},
            {"id": ids["线索确认"], "name": "线索确认", "probability": 25},
            {"name": "商务谈判", "probability": 80, "past_proposal": True},
        ]},
        by=manager_east,
    )  # fmt: skip
    names = list(group.stages.filter(kind="open").order_by("order").values_list("name", "probability"))
    assert names == [("技术交流", 20), ("线索确认", 25), ("商务谈判", 80)]
    group.refresh_from_db()
    with pytest.raises(Conflict):
        services.stage_group_update(group_id=group.pk, version=1, data={"name": "旧"}, by=manager_east)
    # A stage an opportunity stands in cannot be removed.
    group.departments.set([rep_east.department])
    opp = make_opportunity(rep_east)
    assert opp.stage.name == "技术交流"
    with pytest.raises(ValidationError) as exc:
        services.stage_group_update(
            group_id=group.pk, version=group.version,
            data={"stages": [{"id": ids["线索确认"], "name": "线索确认", "probability": 25}]}, by=manager_east,
        )  # fmt: skip
    assert exc.value.field == "stages"
