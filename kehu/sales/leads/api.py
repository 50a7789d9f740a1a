"""Thin REST endpoints over the lead services and selectors (SAL-1, SAL-2), and the public capture."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from kehu.access.requests import AuthedRequest
from kehu.access.services import client_ip
from kehu.core.schemas import ERRORS

from . import capture, selectors, services
from .schemas import (
    AssignIn,
    CaptureIn,
    CaptureOut,
    ConvertIn,
    DiscardIn,
    LeadCreateIn,
    LeadFormIn,
    LeadFormOut,
    LeadFormPatchIn,
    LeadListOut,
    LeadOut,
    LeadPatchIn,
    ReleaseIn,
    RescoreOut,
    ReviewIn,
    RiskRuleOut,
    RiskRulePatchIn,
    RiskSettingsIn,
    RiskSettingsOut,
    StampOut,
    VersionIn,
    lead_form_out,
    lead_out,
    risk_rule_out,
)

router = Router(tags=["leads"])
ERRORS_429 = {**ERRORS, 429: ERRORS[400]}


class LeadFilters(Schema):
    status: str | None = None
    source: str | None = None
    owner: int | None = None
    pool: bool | None = None
    flagged: bool | None = None
    channel: str | None = None
    mine: bool | None = None
    q: str | None = None
    sort: str = "-created_at"
    limit: int | None = None
    offset: int | None = None


def _out(request: AuthedRequest, lead_id: int) -> dict[str, Any]:
    return lead_out(selectors.lead_get(actor=request.user, lead_id=lead_id), actor=request.user)


# --- public capture (no sign-in: the form's token, honeypot, fill time and rate limits guard it) -------


@router.get(
    "/leads/capture/stamp", auth=None, response={200: StampOut, **ERRORS}, summary="Stamp for a web form"
)
def capture_stamp(request: HttpRequest, token: str) -> Any:
    form = capture.capture_form_for(token)
    return {"stamp": capture.capture_stamp(form), "min_seconds": form.min_seconds}


@router.post(
    "/leads/capture", auth=None, response={201: CaptureOut, **ERRORS_429}, summary="Post a web-form lead"
)
def capture_lead(request: HttpRequest, payload: CaptureIn) -> Any:
    data = payload.dict(exclude_unset=True)
    token, stamp, honeypot = data.pop("token"), data.pop("stamp", ""), data.pop("url", "")
    result = capture.lead_capture(
        token=token, data=data, ip=client_ip(request), stamp=stamp, honeypot=honeypot
    )
    return Status(201, {"ok": True, "message": result.form.thanks or _("提交成功，我们会尽快与您联系")})


# --- leads ------------------------------------------------------------------------------------------


@router.get("/leads", response={200: LeadListOut, **ERRORS}, summary="List leads")
def list_leads(request: AuthedRequest, filters: Query[LeadFilters]) -> Any:
    f = filters.dict()
    sort, limit, offset = f.pop("sort"), f.pop("limit"), f.pop("offset")
    f = {k: ("1" if v is True else "0" if v is False else v) for k, v in f.items()}
    page = selectors.lead_list(actor=request.user, filters=f, sort=sort, limit=limit, offset=offset)
    return {"items": [lead_out(lead, actor=request.user) for lead in page.items], "count": page.count}


@router.post("/leads", response={201: LeadOut, **ERRORS}, summary="Enter a lead")
def create_lead(request: AuthedRequest, payload: LeadCreateIn) -> Any:
    data = payload.dict(exclude_unset=True)
    lead = services.lead_create(data=data, by=request.user, channel="api")
    return Status(201, _out(request, lead.pk))


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS})
def get_lead(request: AuthedRequest, lead_id: int) -> Any:
    return _out(request, lead_id)


@router.patch("/leads/{lead_id}", response={200: LeadOut, **ERRORS})
def update_lead(request: AuthedRequest, lead_id: int, payload: LeadPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.lead_update(lead_id=lead_id, version=version, data=data, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/claim", response={200: LeadOut, **ERRORS}, summary="Claim from the lead pool")
def claim_lead(request: AuthedRequest, lead_id: int) -> Any:
    services.lead_claim(lead_id=lead_id, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/assign", response={200: LeadOut, **ERRORS})
def assign_lead(request: AuthedRequest, lead_id: int, payload: AssignIn) -> Any:
    services.lead_assign(lead_id=lead_id, to_user=payload.to_user, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/release", response={200: LeadOut, **ERRORS}, summary="Return to the lead pool")
def release_lead(request: AuthedRequest, lead_id: int, payload: ReleaseIn) -> Any:
    services.lead_release(lead_id=lead_id, reason=payload.reason, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/screen", response={200: LeadOut, **ERRORS}, summary="Start screening")
def screen_lead(request: AuthedRequest, lead_id: int, payload: VersionIn) -> Any:
    services.lead_screen(lead_id=lead_id, version=payload.version, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/qualify", response={200: LeadOut, **ERRORS}, summary="Passed screening")
def qualify_lead(request: AuthedRequest, lead_id: int, payload: VersionIn) -> Any:
    services.lead_qualify(lead_id=lead_id, version=payload.version, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/discard", response={200: LeadOut, **ERRORS})
def discard_lead(request: AuthedRequest, lead_id: int, payload: DiscardIn) -> Any:
    services.lead_discard(
        lead_id=lead_id, reason=payload.reason, note=payload.note, version=payload.version, by=request.user
    )
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/review", response={200: LeadOut, **ERRORS}, summary="Clear the risk review")
def review_lead(request: AuthedRequest, lead_id: int, payload: ReviewIn) -> Any:
    services.lead_review_clear(lead_id=lead_id, comment=payload.comment, by=request.user)
    return _out(request, lead_id)


@router.post("/leads/{lead_id}/samples-sent", response={200: LeadOut, **ERRORS}, summary="Samples sent")
def samples_sent(request: AuthedRequest, lead_id: int) -> Any:
    services.lead_samples_send(lead_id=lead_id, by=request.user)
    return _out(request, lead_id)


@router.get("/leads/{lead_id}/duplicates", response={200: list[dict[str, Any]], **ERRORS}, summary="查重")
def lead_duplicates(request: AuthedRequest, lead_id: int) -> Any:
    return [m.as_dict() for m in selectors.lead_duplicates(actor=request.user, lead_id=lead_id)]


@router.post(
    "/leads/{lead_id}/convert",
    response={200: LeadOut, **ERRORS},
    summary="Convert into customer + contact + opportunity (409 `duplicate` with `matches` first)",
)
def convert_lead(request: AuthedRequest, lead_id: int, payload: ConvertIn) -> Any:
    services.lead_convert(
        lead_id=lead_id, customer_id=payload.customer_id, confirm_new=payload.confirm_new,
        opportunity_name=payload.opportunity_name, amount=payload.amount, version=payload.version,
        by=request.user,
    )  # fmt: skip
    return _out(request, lead_id)


# --- settings -----------------------------------------------------------------------------------------


@router.get("/lead-risk-rules", response={200: list[RiskRuleOut], **ERRORS})
def list_risk_rules(request: AuthedRequest) -> Any:
    return [risk_rule_out(r) for r in selectors.risk_rules(actor=request.user)]


@router.patch("/lead-risk-rules/{rule_id}", response={200: RiskRuleOut, **ERRORS})
def update_risk_rule(request: AuthedRequest, rule_id: int, payload: RiskRulePatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    return risk_rule_out(
        services.risk_rule_update(rule_id=rule_id, version=version, data=data, by=request.user)
    )


@router.post(
    "/lead-risk-settings/rescore", response={202: RescoreOut, **ERRORS},
    summary="Score open leads again (a background job; follow it at the url)",
)  # fmt: skip
def rescore(request: AuthedRequest) -> Any:
    job = services.leads_rescore_start(by=request.user)
    return Status(202, {"job": job.pk, "url": f"/api/v1/jobs/{job.pk}"})


@router.get("/lead-risk-settings", response={200: RiskSettingsOut, **ERRORS})
def get_risk_settings(request: AuthedRequest) -> Any:
    row = selectors.risk_threshold(actor=request.user)
    return {"threshold": row.threshold, "version": row.version}


@router.put("/lead-risk-settings", response={200: RiskSettingsOut, **ERRORS})
def put_risk_settings(request: AuthedRequest, payload: RiskSettingsIn) -> Any:
    row = services.risk_threshold_update(
        threshold=payload.threshold, version=payload.version, by=request.user
    )
    return {"threshold": row.threshold, "version": row.version}


def _form_out(request: HttpRequest, form: Any) -> dict[str, Any]:
    url = request.build_absolute_uri(reverse("sales:lead_capture_page", kwargs={"token": form.token}))
    return lead_form_out(form, url=url)


@router.get("/lead-forms", response={200: list[LeadFormOut], **ERRORS})
def list_lead_forms(request: AuthedRequest) -> Any:
    return [_form_out(request, f) for f in selectors.lead_forms(actor=request.user)]


@router.post("/lead-forms", response={201: LeadFormOut, **ERRORS})
def create_lead_form(request: AuthedRequest, payload: LeadFormIn) -> Any:
    form = services.lead_form_create(data=payload.dict(exclude_unset=True), by=request.user)
    return Status(201, _form_out(request, selectors.lead_form_get(actor=request.user, form_id=form.pk)))


@router.patch("/lead-forms/{form_id}", response={200: LeadFormOut, **ERRORS})
def update_lead_form(request: AuthedRequest, form_id: int, payload: LeadFormPatchIn) -> Any:
    data = payload.dict(exclude_unset=True)
    version = data.pop("version")
    services.lead_form_update(form_id=form_id, version=version, data=data, by=request.user)
    return _form_out(request, selectors.lead_form_get(actor=request.user, form_id=form_id))
