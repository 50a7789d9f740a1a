"""The service API (SVC-1 … SVC-5) over HTTP with bearer tokens: the same services as the pages."""

from __future__ import annotations

from kehu.service.models import Ticket

from .conftest import new_ticket


def test_register_work_and_close_a_ticket_over_the_api(service, api_as):
    api = api_as(service.agent)
    created = api.post(
        "/api/v1/tickets",
        {"kind": "aftersale", "category": "repair", "title": "空调漏水", "customer_id": service.customer.pk,
         "assignee_id": service.agent.pk, "channel": "phone"},
    )  # fmt: skip
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["number"].startswith("GD") and body["assignee_id"] == service.agent.pk
    assert body["first_response"]["state"] in ("running", "soon") and body["sla_policy"] == "标准服务"
    assert "start" in body["verbs"] and "resolve" in body["verbs"]
    tid = body["id"]
    assert api.post(f"/api/v1/tickets/{tid}/replies", {"body": "明天上午上门"}).status_code == 201
    assert api.post(f"/api/v1/tickets/{tid}/notes", {"body": "内部：备件已出库"}).status_code == 201
    detail = api.get(f"/api/v1/tickets/{tid}").json()
    assert [m["kind"] for m in detail["messages"]] == ["reply", "note"]
    assert detail["status"] == "open" and detail["first_response"]["state"] == "met"
    resolved = api.post(
        f"/api/v1/tickets/{tid}/resolve", {"version": detail["version"], "resolution": "更换排水管"}
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    confirmed = api.post(f"/api/v1/tickets/{tid}/confirm", {"satisfaction": 5})
    assert confirmed.json()["status"] == "closed" and confirmed.json()["satisfaction"] == 5
    mine = api.get("/api/v1/tickets", {"queue": "all"}).json()
    assert mine["count"] == 1 and mine["items"][0]["id"] == tid


def test_errors_name_the_field_in_both_languages(service, api_as):
    api = api_as(service.agent, language="en")
    bad = api.post("/api/v1/tickets", {"kind": "complaint", "category": "delivery", "title": "慢"})
    assert bad.status_code == 422 and bad.json()["field"] == "customer_id"
    assert bad.json()["messages"]["zh-hans"] != bad.json()["messages"]["en"]
    assert api.post("/api/v1/tickets", {"kind": "aftersale", "title": "x", "colour": 1}).status_code == 422
    assert not Ticket.objects.exists()


def test_a_stale_version_gets_409(service, api_as):
    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    api = api_as(service.agent)
    assert api.post(f"/api/v1/tickets/{ticket.pk}/start", {"version": ticket.version}).status_code == 200
    stale = api.post(f"/api/v1/tickets/{ticket.pk}/wait", {"version": ticket.version})
    assert stale.status_code == 409 and stale.json()["field"] == "version"


def test_another_reps_ticket_is_not_found(service, api_as):
    ticket = new_ticket(service.agent, service.customer)
    assert api_as(service.cast.rep_west).get(f"/api/v1/tickets/{ticket.pk}").status_code == 404
    assert api_as(service.cast.rep_east).get(f"/api/v1/tickets/{ticket.pk}").status_code == 200


def test_bulk_assign_reports_each_ticket(service, api_as):
    a = new_ticket(service.agent, service.customer)
    b = new_ticket(service.agent, service.customer)
    done = api_as(service.lead).post(
        "/api/v1/tickets/bulk",
        {"ids": [a.pk, b.pk, 999999], "action": "assign", "assignee_id": service.agent2.pk},
    )
    assert done.status_code == 200
    assert [(r["id"], r["ok"]) for r in done.json()] == [(a.pk, True), (b.pk, True), (999999, False)]
    assert set(Ticket.objects.values_list("assignee_id", flat=True)) == {service.agent2.pk}
    refused = api_as(service.agent).post(
        "/api/v1/tickets/bulk", {"ids": [a.pk], "action": "assign", "assignee_id": service.agent.pk}
    )
    assert refused.json()[0]["ok"] is False  # taking someone else's ticket is a supervisor's


def test_presence_and_queue_counts(service, api_as):
    api = api_as(service.agent2)
    assert api.put("/api/v1/service/presence", {"away": True}).json()["away"] is True
    for _ in range(2):
        new_ticket(service.agent, service.customer)
    counts = api_as(service.agent).get("/api/v1/service/queue-counts").json()
    assert counts["mine"] == 2 and counts["away"] is False and counts["cap"] == 999


def test_settings_and_calendar_for_the_service_manager_only(service, api_as):
    lead, agent = api_as(service.lead), api_as(service.agent)
    s = lead.get("/api/v1/service/settings").json()
    bad = lead.patch(
        "/api/v1/service/settings", {"version": s["version"], "work_windows": [["18:00", "09:00"]]}
    )
    assert bad.status_code == 422 and bad.json()["field"] == "work_windows"
    ok = lead.patch("/api/v1/service/settings", {"version": s["version"], "local_area_code": "021"})
    assert ok.status_code == 200 and ok.json()["local_area_code"] == "021"
    assert (
        agent.patch(
            "/api/v1/service/settings", {"version": ok.json()["version"], "soon_minutes": 5}
        ).status_code
        == 403
    )
    assert (
        lead.put(
            "/api/v1/service/calendar/2027-02-13", {"is_workday": True, "name": "春节调休上班"}
        ).status_code
        == 200
    )
    days = {d["day"]: d for d in lead.get("/api/v1/service/calendar", {"year": 2027}).json()}
    assert days["2027-02-13"]["source"] == "override" and days["2027-02-13"]["is_workday"] is True
    assert days["2027-02-08"]["is_workday"] is False  # the estimated Spring Festival (not yet published)
    policies = lead.get("/api/v1/service/sla-policies").json()
    assert {p["name"] for p in policies} >= {"投诉：24 小时内响应", "标准服务"}
    created = lead.post("/api/v1/service/sla-policies",
                        {"name": "上门维修 24 小时", "kind": "aftersale", "category": "repair",
                         "first_response_minutes": 60, "resolution_minutes": 1440})  # fmt: skip
    assert created.status_code == 201
    t = new_ticket(service.agent, service.customer)
    assert api_as(service.agent).get(f"/api/v1/tickets/{t.pk}").json()["sla_policy"] == "上门维修 24 小时"
