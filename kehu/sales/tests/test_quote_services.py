"""Quote services (SAL-5): create, lines, revise, transitions, approval contract, letterhead; and the
quote history selector."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest

from kehu.approvals.choices import ApprovalStatus
from kehu.audit.models import AuditEvent
from kehu.catalog.services import product_deactivate
from kehu.catalog.tests.factories import make_product, png_bytes
from kehu.core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from kehu.sales.models import Quote, QuoteLine
from kehu.sales.quotes import approval, selectors, services
from kehu.sales.services import opportunity_create

from .factories import add_line, make_customer, make_quote

pytestmark = pytest.mark.django_db


@pytest.fixture
def motor(admin: Any) -> Any:
    return make_product(admin, name="伺服电机", model="SM-100", price="1000.00", cost="600.00", picture=png_bytes(),
                        packaging="纸箱", features="高精度")  # fmt: skip


def test_a_quote_copies_the_product_into_its_lines_and_keeps_totals(rep_east: Any, motor: Any) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    assert quote.number.startswith("BJ") and quote.revision == 1 and quote.exchange_rate == D("1")
    line = add_line(rep_east, quote, motor, quantity="12")
    assert (line.name, line.model, line.packaging, line.features) == ("伺服电机", "SM-100", "纸箱", "高精度")
    assert (
        line.picture == motor.picture.name
        and line.unit_price == D("1000.00")
        and line.unit_cost == D("600.00")
    )
    assert line.margin == D("0.4000")
    add_line(
        rep_east,
        quote,
        motor,
        quantity="1",
        cost_components={"material": "500", "freight": "20"},
        discount="5",
    )
    quote.refresh_from_db()
    assert (
        quote.total == D("12950.00") and quote.subtotal == D("13000.00") and quote.max_discount == D("5.00")
    )
    assert quote.cost_total == D("7720.00")
    # A later catalogue change never rewrites the quote.
    from kehu.catalog.services import product_update

    product_update(
        product_id=motor.pk,
        version=motor.version,
        data={"name": "新名字", "price": "2000"},
        by=motor_admin(motor),
    )
    assert QuoteLine.objects.filter(quote=quote, name="伺服电机").count() == 2


def motor_admin(motor: Any) -> Any:
    from kehu.access.models import User

    return User.objects.get(username="admin")


def test_bad_input_names_the_field_and_writes_nothing(rep_east: Any, motor: Any) -> None:
    customer = make_customer(rep_east)
    with pytest.raises(ValidationError) as caught:
        make_quote(rep_east, customer, title="报价单")
    assert caught.value.field == "title"
    with pytest.raises(ValidationError) as caught:
        make_quote(rep_east, customer, currency="USD")
    assert caught.value.field == "exchange_rate"
    with pytest.raises(ValidationError) as caught:
        make_quote(rep_east, customer, currency="CNY", exchange_rate="7.1")
    assert caught.value.field == "exchange_rate"
    assert Quote.objects.count() == 0
    quote = make_quote(rep_east, customer, currency="USD", exchange_rate="7.123456")
    for data, field in (({"quantity": "0"}, "quantity"), ({"quantity": "1", "discount": "101"}, "discount"),
                        ({"quantity": "x"}, "quantity"), ({"quantity": "1", "colour": "red"}, "colour")):  # fmt: skip
        with pytest.raises(ValidationError) as caught:
            services.quote_line_add(quote_id=quote.pk, data={"product": motor.pk, **data}, by=rep_east)
        assert caught.value.field == field
    product_deactivate(product_id=motor.pk, by=motor_admin(motor))
    with pytest.raises(ValidationError):
        add_line(rep_east, quote, motor)
    assert QuoteLine.objects.count() == 0


def test_others_cannot_see_or_change_a_quote(
    rep_east: Any, rep_west: Any, manager_east: Any, auditor: Any, motor: Any
) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    with pytest.raises(NotFound):
        services.quote_update(
            quote_id=quote.pk, version=quote.version, data={"title": "华南改的设备报价"}, by=rep_west
        )
    with pytest.raises(PermissionDenied):
        services.quote_update(
            quote_id=quote.pk, version=quote.version, data={"title": "审计改的设备报价"}, by=auditor
        )
    quote.refresh_from_db()
    assert quote.title == "二期产线伺服电机报价" and quote.version == 1
    assert selectors.quote_get(actor=manager_east, quote_id=quote.pk) == quote
    assert selectors.quote_get(actor=auditor, quote_id=quote.pk) == quote


def test_stale_version_is_refused(rep_east: Any) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    services.quote_update(quote_id=quote.pk, version=1, data={"notes": "先改"}, by=rep_east)
    with pytest.raises(Conflict):
        services.quote_update(quote_id=quote.pk, version=1, data={"notes": "后改"}, by=rep_east)
    quote.refresh_from_db()
    assert quote.notes == "先改"


def test_revise_copies_lines_and_leaves_the_old_revision_read_only(rep_east: Any, motor: Any) -> None:
    quote = make_quote(
        rep_east,
        make_customer(rep_east),
        competitor_notes="对手 A 报 950",
        annual_volume_notes="年用量 500 台",
    )
    add_line(rep_east, quote, motor, quantity="10", cost_components={"material": "550", "duty": "30"})
    services.quote_send(quote_id=quote.pk, by=rep_east)
    new = services.quote_revise(quote_id=quote.pk, by=rep_east)
    assert (new.number, new.revision, new.previous_id, new.status) == (quote.number, 2, quote.pk, "draft")
    assert new.competitor_notes == "对手 A 报 950" and new.lines.get().cost_components == {
        "material": "550.00",
        "duty": "30.00",
    }
    quote.refresh_from_db()
    assert not quote.is_current and quote.status == "sent"
    with pytest.raises(Conflict):
        add_line(rep_east, quote, motor)
    with pytest.raises(Conflict):
        services.quote_revise(quote_id=quote.pk, by=rep_east)
    assert quote.lines.count() == 1
    services.quote_line_update(line_id=new.lines.get().pk, data={"quantity": "20"}, by=rep_east)
    assert QuoteLine.objects.get(quote=quote).quantity == D("10.000")


def test_transitions_follow_the_state_table(rep_east: Any, motor: Any) -> None:
    quote = make_quote(rep_east, make_customer(rep_east))
    with pytest.raises(ValidationError):
        services.quote_send(quote_id=quote.pk, by=rep_east)  # no lines
    with pytest.raises(Conflict):
        services.quote_accept(quote_id=quote.pk, by=rep_east)
    add_line(rep_east, quote, motor, quantity="1")
    services.quote_send(quote_id=quote.pk, by=rep_east)
    with pytest.raises(Conflict):
        add_line(rep_east, quote, motor)
    services.quote_reject(quote_id=quote.pk, note="价格高于对手 8%", by=rep_east)
    quote.refresh_from_db()
    assert quote.status == "rejected" and quote.decision_note == "价格高于对手 8%"
    verbs = set(
        AuditEvent.objects.filter(subject_type="quote", subject_id=quote.pk).values_list("verb", flat=True)
    )
    assert {"create", "line_add", "send", "reject"} <= verbs
    assert AuditEvent.objects.filter(subject_type="quote", customer_id=quote.customer_id).exists()


def test_quotes_past_their_validity_expire_nightly_once_and_the_owner_hears(
    rep_east: Any, motor: Any
) -> None:
    from datetime import date

    from kehu.notifications.models import Notification

    customer = make_customer(rep_east)
    sent = make_quote(rep_east, customer, quoted_on="2026-11-01", valid_until="2026-11-30")
    add_line(rep_east, sent, motor, quantity="1")
    services.quote_send(quote_id=sent.pk, by=rep_east)
    draft = make_quote(rep_east, customer, quoted_on="2026-11-01", valid_until="2026-11-29")
    still_valid = make_quote(rep_east, customer, quoted_on="2026-11-01", valid_until="2026-12-01")
    no_validity = make_quote(rep_east, customer, quoted_on="2026-11-01")
    accepted = make_quote(rep_east, customer, quoted_on="2026-11-01", valid_until="2026-11-20")
    add_line(rep_east, accepted, motor, quantity="1")
    services.quote_send(quote_id=accepted.pk, by=rep_east)
    services.quote_accept(quote_id=accepted.pk, by=rep_east)

    assert services.quotes_expire_due(today=date(2026, 12, 1)) == 2
    status = dict(Quote.objects.values_list("pk", "status"))
    assert status[sent.pk] == status[draft.pk] == "expired"
    assert status[still_valid.pk] == status[no_validity.pk] == "draft" and status[accepted.pk] == "accepted"
    event = AuditEvent.objects.get(subject_type="quote", subject_id=sent.pk, verb="expire")
    assert event.actor_id is None and event.changes["status"] == ["sent", "expired"]
    notices = Notification.objects.filter(recipient=rep_east, kind="quote_expired")
    assert notices.count() == 2 and sent.number in notices.get(key=f"quote_expired:{sent.pk}").title
    assert services.quotes_expire_due(today=date(2026, 12, 1)) == 0  # idempotent


def test_a_discount_beyond_the_threshold_needs_approval_before_sending(
    admin: Any, rep_east: Any, motor: Any
) -> None:
    services.letterhead_update(data={"discount_threshold": "10"}, version=None, by=admin)
    quote = make_quote(rep_east, make_customer(rep_east))
    add_line(rep_east, quote, motor, quantity="1", unit_price="850")  # 15 % below list price
    quote.refresh_from_db()
    assert approval.needs_approval(quote)
    with pytest.raises(Conflict) as caught:
        services.quote_send(quote_id=quote.pk, by=rep_east)
    assert caught.value.code == "approval_required" and "审批" in caught.value.text("zh-hans")
    quote.refresh_from_db()
    assert quote.status == "draft"

    approval.on_quote_status(quote, ApprovalStatus.PENDING, admin)
    with pytest.raises(Conflict) as locked:
        add_line(rep_east, quote, motor)
    assert locked.value.code == "locked"
    approval.on_quote_status(quote, ApprovalStatus.APPROVED, admin)
    services.quote_send(quote_id=quote.pk, by=rep_east)
    quote.refresh_from_db()
    assert quote.status == "sent"
    described = approval.describe_quote(quote)
    assert described["amount"] == D("850.00") and described["owner"] == rep_east
    assert approval.load_quote(rep_east, quote.pk) == quote


def test_opportunity_and_contact_must_belong_to_the_customer(rep_east: Any) -> None:
    customer, other = make_customer(rep_east), make_customer(rep_east, name="杭州别家机械有限公司")
    opportunity = opportunity_create(customer_id=other.pk, name="别家项目", by=rep_east)
    with pytest.raises(ValidationError) as caught:
        make_quote(rep_east, customer, opportunity=opportunity.pk)
    assert caught.value.field == "opportunity"
    mine = opportunity_create(customer_id=customer.pk, name="二期项目", by=rep_east)
    quote = make_quote(rep_east, customer, opportunity=mine.pk)
    assert quote.opportunity == mine


def test_letterhead_requires_settings_permission(admin: Any, rep_east: Any) -> None:
    with pytest.raises(PermissionDenied):
        services.letterhead_update(data={"company_name": "x"}, version=None, by=rep_east)
    letterhead = services.letterhead_update(data={"company_name": "上海客户", "default_valid_days": 15}, version=None,
                                            logo=png_bytes(), by=admin)  # fmt: skip
    with pytest.raises(ValidationError) as caught:
        services.letterhead_update(data={"discount_threshold": "120"}, version=letterhead.version, by=admin)
    assert caught.value.field == "discount_threshold"
    quote = make_quote(rep_east, make_customer(rep_east))
    assert (quote.valid_until - quote.quoted_on).days == 15


def test_history_compares_this_customer_and_similar_customers(admin: Any, rep_east: Any, motor: Any) -> None:
    from kehu.customers.models import Option

    industry = Option.objects.filter(kind="industry").first()
    customer = make_customer(rep_east, industry=industry.code, size="medium")
    twin = make_customer(rep_east, name="无锡同行机械有限公司", industry=industry.code, size="medium")
    stranger = make_customer(rep_east, name="北京不同规模有限公司", industry=industry.code, size="large")
    opportunity = opportunity_create(customer_id=customer.pk, name="一期", by=rep_east)
    past = make_quote(
        rep_east, customer, title="一期伺服电机报价", opportunity=opportunity.pk, competitor_notes="对手低 5%"
    )
    add_line(rep_east, past, motor, quantity="5", discount="3")
    services.quote_send(quote_id=past.pk, by=rep_east)
    services.quote_accept(quote_id=past.pk, by=rep_east)
    for other in (twin, stranger):
        add_line(rep_east, make_quote(rep_east, other, title="同类伺服电机报价"), motor, quantity="8")
    current = make_quote(rep_east, customer)
    add_line(rep_east, current, motor, quantity="1")

    (history,) = selectors.history_of_quote(actor=rep_east, quote=current)
    assert [r.label for r in history.same_customer] == [past.label]
    row = history.same_customer[0]
    assert (row.status, row.opportunity_status, row.discount, row.margin) == (
        "accepted",
        "open",
        D("3.00"),
        D("0.3814"),
    )
    assert row.competitor_notes == "对手低 5%"
    assert [r.customer_name for r in history.similar_customers] == ["无锡同行机械有限公司"]
    # Another team sees none of it.
    from kehu.access.models import User

    west = User.objects.get(username="rep_west")
    (seen,) = selectors.quote_history(actor=west, customer=customer, product_ids=[motor.pk])
    assert seen.same_customer == [] and seen.similar_customers == []
