"""The lead pages (SAL-1, SAL-2) over the same services as the API: list with filters, pool, entry with
products, the discard dialog, the risk review, conversion with 查重, and the settings pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from kehu.customers.models import Customer
from kehu.customers.tests.factories import make_customer
from kehu.sales.leads.choices import LeadStatus
from kehu.sales.leads.models import Lead, LeadForm, RiskRule

from .lead_factories import make_lead, make_product

pytestmark = pytest.mark.django_db


def test_list_filters_search_sort_and_empty_state(signed_in: Any, rep_east: Any) -> None:
    client = signed_in(rep_east)
    empty = client.get(reverse("sales:lead_list"))
    assert empty.status_code == 200 and 'data-testid="empty"' in empty.content.decode()
    make_lead(rep_east, company_name="华为技术有限公司")
    make_lead(rep_east, company_name="中兴通讯股份有限公司", email="x@qq.com")
    page = client.get(reverse("sales:lead_list"), {"q": "hwjs"}).content.decode()
    assert "华为技术有限公司" in page and "中兴通讯" not in page
    flagged = client.get(reverse("sales:lead_list"), {"sort": "-risk_score"}).content.decode()
    assert flagged.index("中兴通讯") < flagged.index("华为技术")
    bad = client.get(reverse("sales:lead_list"), {"status": "nonsense"})
    assert bad.status_code == 200 and 'data-testid="list-error"' in bad.content.decode()


def test_pool_page_and_claim(signed_in: Any, rep_east: Any, rep_east2: Any) -> None:
    lead = make_lead(rep_east, owner=None, company_name="池中线索有限公司")
    client = signed_in(rep_east2)
    assert "池中线索有限公司" in client.get(reverse("sales:lead_pool")).content.decode()
    response = client.post(reverse("sales:lead_claim", args=[lead.pk]))
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.owner == rep_east2


def test_create_a_lead_with_products_and_see_the_field_error(signed_in: Any, rep_east: Any) -> None:
    product = make_product(name="工业空压机")
    client = signed_in(rep_east)
    data = {"company_name": "常州机电有限公司", "contact_name": "", "mobile": "13912340000", "source": "inbound",
            "line-1-product": str(product.pk), "line-1-quantity": "2", "line-1-unit": "台"}  # fmt: skip
    refused = client.post(reverse("sales:lead_create"), data)
    assert refused.status_code == 200 and 'data-error-for="contact_name"' in refused.content.decode()
    assert not Lead.objects.exists()
    response = client.post(reverse("sales:lead_create"), {**data, "contact_name": "孙工"})
    lead = Lead.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "sales:lead_detail", args=[lead.pk]
    )
    assert lead.lines.get().product == product and lead.owner == rep_east
    detail = client.get(response["Location"]).content.decode()
    assert "工业空压机" in detail and "常州机电有限公司" in detail


def test_edit_rescores_and_shows_the_reasons(signed_in: Any, rep_east: Any) -> None:
    lead = make_lead(rep_east)
    client = signed_in(rep_east)
    form = client.get(reverse("sales:lead_edit", args=[lead.pk]))
    assert form.status_code == 200
    data = {"company_name": lead.company_name, "contact_name": lead.contact_name, "mobile": lead.mobile,
            "email": "boss@qq.com", "source": "inbound", "version": lead.version}  # fmt: skip
    assert client.post(reverse("sales:lead_edit", args=[lead.pk]), data).status_code == 302
    detail = client.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    assert "免费邮箱" in detail and 'data-testid="risk-reasons"' in detail


def test_discard_dialog_needs_a_reason(signed_in: Any, rep_east: Any) -> None:
    lead = make_lead(rep_east)
    client = signed_in(rep_east)
    refused = client.post(reverse("sales:lead_discard", args=[lead.pk]), {"reason": "other", "note": ""})
    assert refused.status_code == 422 and 'data-error-for="note"' in refused.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    client.post(reverse("sales:lead_discard", args=[lead.pk]), {"reason": "no_need", "note": ""})
    lead.refresh_from_db()
    assert lead.status == LeadStatus.DISCARDED


def test_flagged_lead_is_shown_held_and_a_manager_clears_it(
    signed_in: Any, rep_east: Any, manager_east: Any, client: Any
) -> None:
    product = make_product(price=Decimal("900"), electronic_delivery=True)
    lead = make_lead(rep_east, email="a@126.com", delivery="courier", content="western union",
                     lines=[{"product": product.pk, "quantity": "1000", "unit": "kg"}])  # fmt: skip
    assert lead.flagged_for_review
    rep = signed_in(rep_east)
    assert (
        'data-testid="risk-alert"' in rep.get(reverse("sales:lead_detail", args=[lead.pk])).content.decode()
    )
    refused = rep.post(reverse("sales:lead_convert", args=[lead.pk]), {"customer": "new"})
    assert refused.status_code == 409 and not Customer.objects.exists()
    client.force_login(manager_east)
    assert client.post(reverse("sales:lead_review", args=[lead.pk]), {"comment": ""}).status_code == 422
    client.post(reverse("sales:lead_review", args=[lead.pk]), {"comment": "已电话核实"})
    lead.refresh_from_db()
    assert not lead.flagged_for_review


def test_convert_page_shows_matches_and_attaches(signed_in: Any, rep_east: Any) -> None:
    existing = make_customer(rep_east, name="宁波海天塑机有限公司")
    lead = make_lead(rep_east, company_name="宁波海天塑机有限公司")
    client = signed_in(rep_east)
    page = client.get(reverse("sales:lead_convert", args=[lead.pk])).content.decode()
    assert 'data-testid="duplicates"' in page and f'value="{existing.pk}"' in page
    refused = client.post(reverse("sales:lead_convert", args=[lead.pk]), {"customer": ""})
    assert refused.status_code == 409
    done = client.post(reverse("sales:lead_convert", args=[lead.pk]), {"customer": str(existing.pk)})
    assert done.status_code == 302
    lead.refresh_from_db()
    assert lead.converted_customer == existing and lead.status == LeadStatus.CONVERTED


def test_settings_pages_for_lead_managers_only(signed_in: Any, rep_east: Any, manager_east: Any) -> None:
    assert signed_in(rep_east).get(reverse("sales:lead_risk_rules")).status_code == 403
    client = signed_in(manager_east)
    rule = RiskRule.objects.get(kind="samples")
    response = client.post(reverse("sales:lead_risk_rules"), {
        "action": "rule", "rule": rule.pk, "version": rule.version, "points": "33", "params": '{"max_total": 3}',
        "is_active": "1",
    })  # fmt: skip
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.points == 33 and rule.params == {"max_total": 3}
    rescored = client.post(reverse("sales:lead_risk_rules"), {"action": "rescore"}, follow=True)
    assert "重新评分（后台任务 #" in rescored.content.decode()
    bad = client.post(reverse("sales:lead_risk_rules"), {
        "action": "rule", "rule": rule.pk, "version": rule.version, "points": "1", "params": "{oops",
    })  # fmt: skip
    assert bad.status_code == 422 and "JSON" in bad.content.decode()
    rule.refresh_from_db()
    assert rule.points == 33
    created = client.post(
        reverse("sales:lead_forms"), {"name": "官网询价", "min_seconds": "3", "is_active": "on"}
    )
    assert created.status_code == 302
    form = LeadForm.objects.get()
    page = client.get(reverse("sales:lead_forms")).content.decode()
    assert f"/f/leads/{form.token}/" in page and "&lt;iframe" in page
