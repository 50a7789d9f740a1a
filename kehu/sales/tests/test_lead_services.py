"""Leads as the cast works them (SAL-1, SAL-2, CUS-4): rep_east enters and converts his inquiries,
the lead pool is claimed first come first served, manager_east assigns and clears risky leads, and
every refused action writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.customers.errors import DuplicateFound
from kehu.customers.models import Contact, Customer
from kehu.customers.tests.factories import make_customer
from kehu.notifications.models import Notification
from kehu.sales.leads import selectors, services
from kehu.sales.leads.choices import LeadStatus
from kehu.sales.leads.models import Lead, LeadLine, RiskRule
from kehu.sales.models import Opportunity

from .lead_factories import lead_data, make_lead, make_product

pytestmark = pytest.mark.django_db


def _state() -> tuple[Any, ...]:
    return (
        list(Lead.objects.order_by("pk").values_list("status", "owner_id", "version", "flagged_for_review")),
        LeadLine.objects.count(),
        Customer.objects.count(),
        Contact.objects.count(),
        Opportunity.objects.count(),
        AuditEvent.objects.count(),
    )


def test_rep_enters_a_lead_which_is_his_scored_and_searchable(rep_east: Any) -> None:
    lead = make_lead(rep_east, company_name="华为技术有限公司", contact_name="单田芳")
    assert lead.owner == rep_east and lead.status == LeadStatus.NEW and lead.code.startswith("XS")
    for q in ("华为", "huawei", "hwjs", "shantianfang", lead.mobile[-6:]):
        assert selectors.lead_list(actor=rep_east, filters={"q": q}).count == 1, q
    assert AuditEvent.objects.filter(subject_type="lead", verb="create", subject_id=lead.pk).exists()


def test_a_lead_needs_a_contact_name_and_a_way_to_reach_them(rep_east: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        services.lead_create(data=lead_data(contact_name=" "), by=rep_east)
    assert exc.value.field == "contact_name"
    with pytest.raises(ValidationError) as exc:
        services.lead_create(data=lead_data(mobile="", email="", phone="", wechat=""), by=rep_east)
    assert exc.value.field == "mobile"
    with pytest.raises(ValidationError) as exc:
        services.lead_create(data=lead_data(email="not-an-address"), by=rep_east)
    assert exc.value.field == "email" and "邮箱" in exc.value.text("zh-hans")
    assert not Lead.objects.exists()


def test_visibility_follows_the_owner_scope_and_everyone_sees_the_pool(
    rep_east: Any, rep_west: Any, manager_east: Any, auditor: Any, agent: Any
) -> None:
    mine = make_lead(rep_east)
    pooled = make_lead(rep_east, owner=None)
    theirs = make_lead(rep_west)
    assert {lead.pk for lead in selectors.lead_list(actor=rep_east).items} == {mine.pk, pooled.pk}
    assert {lead.pk for lead in selectors.lead_list(actor=manager_east).items} == {mine.pk, pooled.pk}
    assert {lead.pk for lead in selectors.lead_list(actor=auditor).items} == {mine.pk, pooled.pk, theirs.pk}
    assert selectors.lead_list(actor=agent).count == 0  # no lead.view
    with pytest.raises(NotFound):
        selectors.lead_get(actor=rep_east, lead_id=theirs.pk)
    assert [x.pk for x in selectors.lead_list(actor=rep_east, filters={"pool": "1"}).items] == [pooled.pk]


def test_pool_claim_is_first_come_first_served(rep_east: Any, rep_east2: Any, nothing_changes: Any) -> None:
    lead = make_lead(rep_east, owner=None)
    services.lead_claim(lead_id=lead.pk, by=rep_east2)
    lead.refresh_from_db()
    assert lead.owner == rep_east2
    before = _state()
    with pytest.raises((Conflict, NotFound)):
        services.lead_claim(lead_id=lead.pk, by=rep_east)
    assert _state() == before


def test_a_pool_lead_must_be_claimed_before_working_it(rep_east: Any) -> None:
    lead = make_lead(rep_east, owner=None)
    before = _state()
    with pytest.raises(PermissionDenied) as exc:
        services.lead_qualify(lead_id=lead.pk, by=rep_east)
    assert exc.value.code == "lead_in_pool"
    assert _state() == before


def test_only_lead_managers_assign_and_a_rep_cannot_hand_a_lead_to_someone(
    rep_east: Any, rep_east2: Any, manager_east: Any
) -> None:
    lead = make_lead(rep_east, owner=None)
    before = _state()
    with pytest.raises(PermissionDenied):
        services.lead_assign(lead_id=lead.pk, to_user=rep_east2.pk, by=rep_east)
    with pytest.raises(PermissionDenied):
        services.lead_create(data=lead_data(owner=rep_east2.pk), by=rep_east)
    assert _state() == before
    services.lead_assign(lead_id=lead.pk, to_user=rep_east2.pk, by=manager_east)
    lead.refresh_from_db()
    assert lead.owner == rep_east2
    assert AuditEvent.objects.filter(subject_type="lead", verb="assign").exists()
    note = Notification.objects.get(recipient=rep_east2)
    assert note.kind == "lead" and note.url.endswith(f"/leads/{lead.pk}/")


def test_return_to_pool(rep_east: Any, rep_east2: Any) -> None:
    lead = make_lead(rep_east)
    services.lead_release(lead_id=lead.pk, reason="不是我负责的区域", by=rep_east)
    lead.refresh_from_db()
    assert lead.owner is None
    services.lead_claim(lead_id=lead.pk, by=rep_east2)


def test_screening_qualify_and_discard_with_a_reason(rep_east: Any) -> None:
    lead = make_lead(rep_east)
    services.lead_screen(lead_id=lead.pk, by=rep_east)
    lead = services.lead_qualify(lead_id=lead.pk, by=rep_east)
    assert lead.status == LeadStatus.QUALIFIED
    other = make_lead(rep_east)
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.lead_discard(lead_id=other.pk, reason="", by=rep_east)
    assert exc.value.field == "reason"
    with pytest.raises(ValidationError) as exc:
        services.lead_discard(lead_id=other.pk, reason="other", note="", by=rep_east)
    assert exc.value.field == "note"
    assert _state() == before
    other = services.lead_discard(lead_id=other.pk, reason="spam", note="广告", by=rep_east)
    assert other.status == LeadStatus.DISCARDED and other.discard_reason == "spam"
    with pytest.raises(Conflict):
        services.lead_qualify(lead_id=other.pk, by=rep_east)


def test_edit_rescores_and_a_stale_version_is_refused(rep_east: Any) -> None:
    lead = make_lead(rep_east)
    assert lead.risk_score == 0
    lead = services.lead_update(
        lead_id=lead.pk, version=lead.version, data={"email": "boss@qq.com"}, by=rep_east
    )
    kinds = {r["kind"] for r in lead.risk_reasons}
    assert "free_mail" in kinds and lead.risk_score == RiskRule.objects.get(kind="free_mail").points
    before = _state()
    with pytest.raises(Conflict) as exc:
        services.lead_update(lead_id=lead.pk, version=lead.version - 1, data={"city": "苏州"}, by=rep_east)
    assert exc.value.code == "stale_version"
    assert _state() == before


def _risky(by: Any, product: Any) -> Lead:
    return make_lead(
        by,
        email="boss@163.com",
        delivery="courier",
        content="先发货，西联付款",
        lines=[{"product": product.pk, "quantity": "5000", "unit": "公斤", "samples": 30}],
    )


def test_risky_lead_is_flagged_and_blocked_until_a_manager_clears_it(
    rep_east: Any, manager_east: Any
) -> None:
    product = make_product(electronic_delivery=True, sample_limit=2, price=Decimal("500"))
    lead = _risky(rep_east, product)
    assert lead.flagged_for_review and lead.risk_score >= 50
    assert {"big_first_order", "unit_mismatch", "courier_for_electronic", "samples", "free_mail",
            "urgent_payment"} <= {r["kind"] for r in lead.risk_reasons}  # fmt: skip
    assert all(r["zh"] and r["en"] for r in lead.risk_reasons)
    before = _state()
    with pytest.raises(Conflict) as exc:
        services.lead_convert(lead_id=lead.pk, confirm_new=True, by=rep_east)
    assert exc.value.code == "risk_review_required"
    with pytest.raises(Conflict):
        services.lead_samples_send(lead_id=lead.pk, by=rep_east)
    with pytest.raises(PermissionDenied):
        services.lead_review_clear(lead_id=lead.pk, comment="我看过了", by=rep_east)
    with pytest.raises(ValidationError) as exc2:
        services.lead_review_clear(lead_id=lead.pk, comment=" ", by=manager_east)
    assert exc2.value.field == "comment"
    assert _state() == before

    services.lead_review_clear(lead_id=lead.pk, comment="电话核实过，是真实客户", by=manager_east)
    lead.refresh_from_db()
    assert not lead.flagged_for_review and lead.reviewed_by == manager_east
    services.lead_samples_send(lead_id=lead.pk, by=rep_east)
    # An edit that does not raise the score keeps the clearance; one that raises it asks again.
    lead = services.lead_update(lead_id=lead.pk, version=None, data={"city": "无锡"}, by=rep_east)
    assert not lead.flagged_for_review
    lead = services.lead_update(lead_id=lead.pk, version=None, data={"mobile": "12345"}, by=rep_east)
    assert lead.flagged_for_review


def test_convert_creates_customer_contact_and_opportunity_in_one_step(rep_east: Any) -> None:
    product = make_product(price=Decimal("1200"))
    lead = make_lead(rep_east, company_name="宁波海天塑机有限公司", contact_name="王海",
                     lines=[{"product": product.pk, "quantity": "3", "unit": "台"}])  # fmt: skip
    lead = services.lead_convert(lead_id=lead.pk, by=rep_east)
    customer = lead.converted_customer
    assert customer.name == "宁波海天塑机有限公司" and customer.owner == rep_east and customer.screened
    assert customer.source.code == "inbound"
    assert lead.converted_contact.customer == customer and lead.converted_contact.name == "王海"
    assert lead.converted_contact.mobile == lead.mobile
    opp = lead.converted_opportunity
    assert opp.customer == customer and opp.amount == Decimal("3600.00") and opp.owner == rep_east
    assert lead.status == LeadStatus.CONVERTED
    assert AuditEvent.objects.filter(subject_type="lead", verb="convert").exists()
    with pytest.raises(Conflict):
        services.lead_convert(lead_id=lead.pk, by=rep_east)


def test_a_converted_leads_landline_finds_its_new_contact_by_the_callers_number(rep_east: Any) -> None:
    from kehu.customers.selectors import phone_matches

    lead = make_lead(
        rep_east, company_name="宁波来电塑机有限公司", contact_name="周工", phone="0574-8765 4321 转 6"
    )
    lead = services.lead_convert(lead_id=lead.pk, by=rep_east)

    assert lead.converted_contact.phone_key == "057487654321"  # SVC-3: kept by contact_create
    found = phone_matches(number="+86 574 8765 4321", actor=rep_east)
    assert [(m.customer, m.contact) for m in found.matches] == [
        (lead.converted_customer, lead.converted_contact)
    ]


def test_convert_with_duplicates_asks_first_then_attaches_or_creates(rep_east: Any, rep_west: Any) -> None:
    existing = make_customer(rep_east, name="宁波海天塑机有限公司")
    lead = make_lead(rep_east, company_name="宁波海天塑机股份有限公司")
    before = _state()
    with pytest.raises(DuplicateFound) as exc:
        services.lead_convert(lead_id=lead.pk, by=rep_east)
    assert [m.customer_id for m in exc.value.matches] == [existing.pk]
    assert _state() == before
    assert [m.customer_id for m in selectors.lead_duplicates(actor=rep_east, lead_id=lead.pk)] == [
        existing.pk
    ]

    lead = services.lead_convert(lead_id=lead.pk, customer_id=existing.pk, by=rep_east)
    assert lead.converted_customer == existing
    assert Customer.objects.count() == 1 and existing.contacts.count() == 1

    second = make_lead(rep_east, company_name="宁波海天塑机股份有限公司")
    second = services.lead_convert(lead_id=second.pk, confirm_new=True, by=rep_east)
    assert second.converted_customer != existing and Customer.objects.count() == 2


def test_refused_conversion_writes_nothing(marketing: Any, rep_east: Any, rep_west: Any) -> None:
    # marketing may enter and screen leads but not create customers: the whole conversion is refused.
    lead = make_lead(marketing)
    before = _state()
    with pytest.raises(PermissionDenied):
        services.lead_convert(lead_id=lead.pk, confirm_new=True, by=marketing)
    assert _state() == before
    # Attaching to a customer the actor cannot see is refused as well, before anything is written.
    hidden = make_customer(rep_west, name="别人的客户有限公司")
    lead = make_lead(rep_east)
    before = _state()
    with pytest.raises(NotFound):
        services.lead_convert(lead_id=lead.pk, customer_id=hidden.pk, by=rep_east)
    assert _state() == before


def test_opportunity_failure_rolls_the_customer_back(rep_east: Any) -> None:
    lead = make_lead(rep_east)
    before = _state()
    with pytest.raises(ValidationError) as exc:
        services.lead_convert(lead_id=lead.pk, confirm_new=True, amount="-5", by=rep_east)
    assert exc.value.field == "amount"
    assert _state() == before


def test_risk_rules_and_threshold_are_configurable(rep_east: Any, manager_east: Any) -> None:
    rule = RiskRule.objects.get(kind="free_mail")
    with pytest.raises(PermissionDenied):
        services.risk_rule_update(rule_id=rule.pk, version=rule.version, data={"points": 80}, by=rep_east)
    services.risk_rule_update(rule_id=rule.pk, version=rule.version, data={"points": 80}, by=manager_east)
    lead = make_lead(rep_east, email="x@qq.com")
    assert lead.risk_score == 80 and lead.flagged_for_review
    services.risk_threshold_update(threshold=100, by=manager_east)
    told: list[tuple[int, int]] = []
    assert (
        services.leads_rescore(by=manager_east, progress=lambda done, total: told.append((done, total))) == 1
    )
    assert told == [(1, 1)]
    lead.refresh_from_db()
    assert not lead.flagged_for_review
    with pytest.raises(ValidationError) as exc:
        services.risk_threshold_update(threshold="abc", by=manager_east)
    assert exc.value.field == "threshold"


def test_rescoring_runs_as_a_job_one_at_a_time(manager_east: Any, rep_east: Any) -> None:
    from kehu.jobs.models import Job

    lead = make_lead(rep_east, email="x@qq.com")
    services.risk_threshold_update(threshold=1000, by=manager_east)
    Lead.objects.filter(pk=lead.pk).update(flagged_for_review=True)
    with pytest.raises(PermissionDenied):
        services.leads_rescore_start(by=rep_east)
    job = services.leads_rescore_start(by=manager_east)  # the tests' backend runs it at once
    job.refresh_from_db()
    assert (job.status, job.result, job.progress_done, job.progress_total) == (
        "succeeded",
        {"scored": 1},
        1,
        1,
    )
    lead.refresh_from_db()
    assert not lead.flagged_for_review
    Job.objects.filter(pk=job.pk).update(status="running")  # one still running: a second is refused
    with pytest.raises(Conflict) as err:
        services.leads_rescore_start(by=manager_east)
    assert err.value.code == "rescore_running"
