"""The approval pages: the boxes, a request with its forms (htmx), the document panel, flow settings."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from kehu.approvals import services
from kehu.approvals.models import ApprovalFlow, ApprovalRequest

from .conftest import TEST_TYPE, doc_status, make_deal, make_flow, supervisor

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}


def submit(deal: Any, by: Any) -> ApprovalRequest:
    return services.approval_submit(document_type=TEST_TYPE, object_id=deal.pk, by=by)


def test_the_list_shows_my_pending_box_with_the_nav_badge_and_empty_states(
    org: SimpleNamespace, signed_in: Any
) -> None:
    client = signed_in(org.manager_east)
    empty = client.get(reverse("approvals:list")).content.decode()
    assert 'data-testid="empty"' in empty and "没有等待您审批的单据" in empty
    assert 'data-testid="nav-approvals-count"' not in empty

    make_flow(org.admin, supervisor())
    req = submit(make_deal(org.rep_east, name="华东设备单", amount="7000"), org.rep_east)
    html = client.get(reverse("approvals:list")).content.decode()
    assert "测试单据 华东设备单" in html and "7000.00 CNY" in html and "测试单据" in html
    assert 'data-testid="nav-approvals-count">1<' in html
    assert f'href="/approvals/{req.pk}/"' in html
    # A manager gets the 全部 tab; sorting keeps the box.
    assert 'data-testid="box-all"' in html
    sorted_page = client.get(reverse("approvals:list"), {"box": "all", "sort": "amount"}).content.decode()
    assert "box=all" in sorted_page and "测试单据 华东设备单" in sorted_page
    # A rep has no 全部 tab, and a bad filter shows its error over the default list.
    rep_page = signed_in(org.rep_east).get(reverse("approvals:list"), {"box": "submitted", "status": "lost"})
    assert 'data-testid="box-all"' not in rep_page.content.decode()
    assert 'data-testid="list-error"' in rep_page.content.decode()


def test_approving_from_the_request_page_with_htmx(org: SimpleNamespace, signed_in: Any) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east, name="审批页面单")
    req = submit(deal, org.rep_east)
    client = signed_in(org.manager_east)
    page = client.get(reverse("approvals:detail", args=[req.pk])).content.decode()
    assert (
        'data-testid="approve"' in page
        and 'data-testid="reject"' in page
        and 'data-testid="withdraw"' not in page
    )

    url = reverse("approvals:decide", args=[req.pk, "reject"])
    refused = client.post(url, {"comment": "", "version": req.version}, headers=HX).content.decode()
    assert 'data-error-for="comment"' in refused and "驳回时请填写审批意见" in refused
    assert doc_status(deal) == "pending"

    done = client.post(
        reverse("approvals:decide", args=[req.pk, "approve"]),
        {"comment": "同意签约", "version": req.version},
        headers=HX,
    ).content.decode()
    assert 'data-testid="done"' in done and "同意签约" in done and 'data-status="approved"' in done
    assert 'data-testid="approve"' not in done
    assert doc_status(deal) == "approved"


def test_an_outsider_gets_404_and_a_non_approver_no_forms(org: SimpleNamespace, signed_in: Any) -> None:
    make_flow(org.admin, supervisor())
    req = submit(make_deal(org.rep_east), org.rep_east)
    assert signed_in(org.rep_west).get(reverse("approvals:detail", args=[req.pk])).status_code == 404
    refused = signed_in(org.rep_west).post(reverse("approvals:decide", args=[req.pk, "approve"]), {})
    assert refused.status_code == 404
    admin_page = signed_in(org.admin).get(reverse("approvals:detail", args=[req.pk])).content.decode()
    assert 'data-testid="approve"' not in admin_page
    # Without htmx a refused decision comes back as a message on the page.
    response = signed_in(org.admin).post(
        reverse("approvals:decide", args=[req.pk, "approve"]), {}, follow=True
    )
    assert "您不是当前步骤的审批人" in response.content.decode()
    req.refresh_from_db()
    assert req.status == "pending"


def test_the_document_panel_submits_and_withdraws(org: SimpleNamespace, signed_in: Any) -> None:
    make_flow(org.admin, supervisor())
    deal = make_deal(org.rep_east, name="面板单")
    client = signed_in(org.rep_east)
    request = RequestFactory().get("/deals/1/")
    request.user = org.rep_east
    panel = Template("{% load approvals %}{% approval_panel kind pk %}").render(
        Context({"request": request, "kind": TEST_TYPE, "pk": deal.pk})
    )
    assert 'data-testid="submit-approval"' in panel and 'data-status="draft"' in panel

    submitted = client.post(
        reverse("approvals:submit"), {"document_type": TEST_TYPE, "object_id": deal.pk}, headers=HX
    ).content.decode()
    assert 'data-status="pending"' in submitted and 'data-testid="withdraw-approval"' in submitted
    assert doc_status(deal) == "pending"
    req = ApprovalRequest.objects.get(object_id=deal.pk)
    withdrawn = client.post(
        reverse("approvals:panel_withdraw", args=[req.pk]), {"version": req.version}, headers=HX
    ).content.decode()
    assert 'data-status="withdrawn"' in withdrawn and "重新提交审批" in withdrawn
    assert doc_status(deal) == "withdrawn"
    # Without htmx: back to where the panel was.
    response = client.post(
        reverse("approvals:submit"), {"document_type": TEST_TYPE, "object_id": deal.pk, "next": "/customers/"}
    )
    assert response.status_code == 302 and response["Location"] == "/customers/"


def test_the_home_work_list_links_to_pending_approvals(org: SimpleNamespace, signed_in: Any) -> None:
    make_flow(org.admin, supervisor())
    req = submit(make_deal(org.rep_east, name="待办里的单"), org.rep_east)
    html = signed_in(org.manager_east).get(reverse("home")).content.decode()
    assert 'data-testid="worklist-approval_pending"' in html
    assert f'href="/approvals/{req.pk}/"' in html and "测试单据 待办里的单" in html


def test_configuring_a_flow_with_steps_on_the_page(org: SimpleNamespace, signed_in: Any) -> None:
    client = signed_in(org.admin)
    form = client.get(reverse("approvals:flow_create")).content.decode()
    assert 'data-testid="flow-form"' in form and "测试单据" in form
    missing = client.post(
        reverse("approvals:flow_create"),
        {"document_type": TEST_TYPE, "name": "缺审批人", "is_active": "on", "steps-0-kind": "any_of"},
    )
    assert "第 1 步请选择审批人" in missing.content.decode() and not ApprovalFlow.objects.exists()
    saved = client.post(
        reverse("approvals:flow_create"),
        {
            "document_type": TEST_TYPE,
            "name": "华东合同",
            "department": str(org.east.pk),
            "min_amount": "20000",
            "is_active": "on",
            "steps-0-kind": "supervisor",
            "steps-2-kind": "all_of",  # a removed row left a gap
            "steps-2-users": [str(org.rm.pk), str(org.admin.pk)],
        },
    )
    assert saved.status_code == 302 and saved["Location"] == reverse("approvals:flows")
    flow = ApprovalFlow.objects.get()
    assert [(s.kind, sorted(u.pk for u in s.users.all())) for s in flow.steps.all()] == [
        ("supervisor", []),
        ("all_of", sorted([org.rm.pk, org.admin.pk])),
    ]
    listing = client.get(reverse("approvals:flows")).content.decode()
    assert "华东合同" in listing and "华东销售部" in listing
    edit = client.get(reverse("approvals:flow_edit", args=[flow.pk])).content.decode()
    assert "华东合同" in edit and '"kind": "all_of"' in edit
    client.post(reverse("approvals:flow_deactivate", args=[flow.pk]), {"version": flow.version})
    flow.refresh_from_db()
    assert not flow.is_active
    assert signed_in(org.manager_east).get(reverse("approvals:flows")).status_code == 403


def test_the_pages_speak_english_too(org: SimpleNamespace, signed_in: Any) -> None:
    make_flow(org.admin, supervisor())
    req = submit(make_deal(org.rep_east, name="英文单"), org.rep_east)
    client = signed_in(org.manager_east)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    listing = client.get(reverse("approvals:list")).content.decode()
    assert "Awaiting my approval" in listing and "Under review" in listing and "step 1/1" in listing
    detail = client.get(reverse("approvals:detail", args=[req.pk])).content.decode()
    assert "Owner&#x27;s supervisor" in detail and "Approve" in detail and "Document summary" in detail
