"""The public lead capture (SAL-1): a website's form posts inquiries without signing in; the token,
the honeypot, the minimum fill time and the rate limits keep robots out, and a visitor's mistakes
come back in Chinese naming the field."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from kehu.core.errors import NotFound, RateLimited, ValidationError
from kehu.notifications.models import Notification
from kehu.sales.leads import capture, services
from kehu.sales.leads.choices import LeadChannel
from kehu.sales.leads.models import CaptureAttempt, Lead

pytestmark = pytest.mark.django_db

VISITOR = {"company_name": "无锡新材料科技有限公司", "contact_name": "钱工", "mobile": "13812345678",
           "email": "qian@wxxcl.com", "content": "想了解贵司产品"}  # fmt: skip


@pytest.fixture
def web_form(manager_east: Any, rep_east: Any) -> Any:
    return services.lead_form_create(
        data={"name": "官网询价", "source": "website", "owner": rep_east.pk, "min_seconds": 3},
        by=manager_east,
    )


def _stamp(form: Any, seconds_ago: float = 10) -> str:
    return capture.capture_stamp(form, now=time.time() - seconds_ago)


def test_a_visitor_leaves_an_inquiry_that_goes_to_the_forms_owner(web_form: Any, rep_east: Any) -> None:
    result = capture.lead_capture(
        token=web_form.token, data=VISITOR, ip="203.0.113.5", stamp=_stamp(web_form)
    )
    lead = result.lead
    assert lead is not None and lead.owner == rep_east and lead.channel == LeadChannel.WEB_FORM
    assert lead.source.code == "website" and lead.form == web_form and lead.created_by is None
    assert CaptureAttempt.objects.get().accepted
    assert Notification.objects.get(recipient=rep_east).title == "新线索：无锡新材料科技有限公司"


def test_a_form_without_owner_fills_the_lead_pool(manager_east: Any) -> None:
    form = services.lead_form_create(data={"name": "展会扫码", "min_seconds": 0}, by=manager_east)
    lead = capture.lead_capture(token=form.token, data=VISITOR, ip="203.0.113.5", stamp=_stamp(form)).lead
    assert lead is not None and lead.owner is None


def test_unknown_or_deactivated_token_is_not_found(web_form: Any, manager_east: Any) -> None:
    with pytest.raises(NotFound):
        capture.lead_capture(token="nope", data=VISITOR, ip="203.0.113.5", stamp="")
    services.lead_form_update(form_id=web_form.pk, version=web_form.version, data={"is_active": False},
                              by=manager_east)  # fmt: skip
    with pytest.raises(NotFound):
        capture.lead_capture(token=web_form.token, data=VISITOR, ip="203.0.113.5", stamp=_stamp(web_form))
    assert not Lead.objects.exists()


def test_honeypot_and_too_fast_posts_are_dropped_silently(web_form: Any) -> None:
    dropped = capture.lead_capture(token=web_form.token, data=VISITOR, ip="203.0.113.5", stamp=_stamp(web_form),
                                   honeypot="http://spam.example")  # fmt: skip
    assert dropped.lead is None
    fast = capture.lead_capture(
        token=web_form.token, data=VISITOR, ip="203.0.113.6", stamp=_stamp(web_form, 0.5)
    )
    assert fast.lead is None
    assert not Lead.objects.exists()
    assert CaptureAttempt.objects.filter(accepted=False).count() == 2


def test_a_forged_or_missing_stamp_is_refused(web_form: Any, manager_east: Any) -> None:
    other = services.lead_form_create(data={"name": "另一个"}, by=manager_east)
    for stamp in ("", "forged", _stamp(other)):
        with pytest.raises(ValidationError) as exc:
            capture.lead_capture(token=web_form.token, data=VISITOR, ip="203.0.113.5", stamp=stamp)
        assert exc.value.field == "stamp"
    assert not Lead.objects.exists()


@override_settings(KEHU_LEAD_CAPTURE_PER_IP=2)
def test_rate_limit_per_ip(web_form: Any) -> None:
    for n in range(2):
        capture.lead_capture(token=web_form.token, data={**VISITOR, "email": f"a{n}@wxxcl.com"}, ip="198.51.100.1",
                             stamp=_stamp(web_form))  # fmt: skip
    with pytest.raises(RateLimited):
        capture.lead_capture(token=web_form.token, data=VISITOR, ip="198.51.100.1", stamp=_stamp(web_form))
    assert Lead.objects.count() == 2
    # Another visitor is not held up by the first one's flood.
    assert capture.lead_capture(
        token=web_form.token, data=VISITOR, ip="198.51.100.2", stamp=_stamp(web_form)
    ).lead


@override_settings(KEHU_LEAD_CAPTURE_PER_FORM=1)
def test_rate_limit_per_form(web_form: Any) -> None:
    capture.lead_capture(token=web_form.token, data=VISITOR, ip="198.51.100.1", stamp=_stamp(web_form))
    with pytest.raises(RateLimited):
        capture.lead_capture(token=web_form.token, data=VISITOR, ip="198.51.100.9", stamp=_stamp(web_form))
    assert Lead.objects.count() == 1


def test_field_errors_name_the_field_in_chinese(web_form: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        capture.lead_capture(token=web_form.token, data={**VISITOR, "contact_name": ""}, ip="203.0.113.5",
                             stamp=_stamp(web_form))  # fmt: skip
    assert exc.value.field == "contact_name" and exc.value.text("zh-hans") == "请填写联系人姓名"
    with pytest.raises(ValidationError) as exc:
        capture.lead_capture(token=web_form.token, data={**VISITOR, "email": "qian@"}, ip="203.0.113.5",
                             stamp=_stamp(web_form))  # fmt: skip
    assert exc.value.field == "email" and "邮箱" in exc.value.text("zh-hans")
    assert not Lead.objects.exists()


def test_capture_api_end_to_end(web_form: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    stamp = client.get("/api/v1/leads/capture/stamp", {"token": web_form.token}).json()
    assert stamp["min_seconds"] == 3
    body = {"token": web_form.token, "stamp": _stamp(web_form), "url": "", **VISITOR}
    response = client.post("/api/v1/leads/capture", body, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Lead.objects.get().email == "qian@wxxcl.com"

    bad = client.post("/api/v1/leads/capture", {**body, "mobile": "", "email": "", "wechat": ""},
                      content_type="application/json")  # fmt: skip
    assert bad.status_code == 422 and bad.json()["field"] == "mobile"
    assert "手机" in bad.json()["message"]
    unknown = client.post("/api/v1/leads/capture", {**body, "owner": 1}, content_type="application/json")
    assert unknown.status_code == 422 and unknown.json()["field"] == "owner"
    missing = client.post("/api/v1/leads/capture", {**body, "token": "nope"}, content_type="application/json")
    assert missing.status_code == 404
    assert Lead.objects.count() == 1


@override_settings(KEHU_LEAD_CAPTURE_PER_IP=1)
def test_capture_api_rate_limit_answers_429(web_form: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.11")
    body = {"token": web_form.token, "stamp": _stamp(web_form), **VISITOR}
    assert client.post("/api/v1/leads/capture", body, content_type="application/json").status_code == 201
    again = client.post("/api/v1/leads/capture", body, content_type="application/json")
    assert again.status_code == 429 and again.json()["code"] == "rate_limited"
    assert Lead.objects.count() == 1


def test_the_hosted_form_page(web_form: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    url = reverse("sales:lead_capture_page", kwargs={"token": web_form.token})
    page = client.get(url)
    assert page.status_code == 200 and "X-Frame-Options" not in page  # embeddable in an iframe
    assert b'name="url"' in page.content and b'name="stamp"' in page.content
    response = client.post(url, {**VISITOR, "contact_name": "", "stamp": _stamp(web_form), "url": ""})
    assert response.status_code == 422
    assert "请填写联系人姓名" in response.content.decode()
    response = client.post(url, {**VISITOR, "stamp": _stamp(web_form), "url": ""})
    assert response.status_code == 200 and b"capture-done" in response.content
    assert Lead.objects.count() == 1
    assert client.get(reverse("sales:lead_capture_page", kwargs={"token": "nope"})).status_code == 404
