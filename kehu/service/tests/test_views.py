"""The service pages (SVC-1 … SVC-5) through the Django test client: each page calls the same service
as the API."""

from __future__ import annotations

from django.test import Client

from kehu.service.models import Ticket

from .conftest import new_ticket


def _client(user, password):
    client = Client()
    assert client.login(username=user.username, password=password)
    return client


def test_the_queue_shows_my_tickets_with_their_clocks(service):
    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    page = _client(service.agent, service.cast.password).get("/service/")
    assert page.status_code == 200
    html = page.content.decode()
    assert (
        ticket.number in html
        and 'data-testid="clock-response"' in html
        and 'data-testid="count-mine"' in html
    )
    empty = _client(service.agent2, service.cast.password).get("/service/?queue=mine").content.decode()
    assert 'data-testid="empty"' in empty
    bad = _client(service.agent, service.cast.password).get("/service/?queue=nonsense").content.decode()
    assert 'data-testid="list-error"' in bad


def test_register_a_ticket_from_the_customer_page(service):
    client = _client(service.agent, service.cast.password)
    form = client.get(f"/service/tickets/new/?customer={service.customer.pk}")
    assert form.status_code == 200 and service.customer.name in form.content.decode()
    done = client.post(
        f"/service/tickets/new/?customer={service.customer.pk}",
        {"customer": service.customer.pk, "kind": "complaint", "category": "service_attitude", "title": "师傅态度差",
         "priority": "high", "channel": "phone"},
    )  # fmt: skip
    assert done.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.kind == "complaint" and ticket.customer_id == service.customer.pk
    detail = client.get(done["Location"]).content.decode()
    assert ticket.number in detail and 'data-testid="verb-acknowledge"' in detail


def test_a_bad_form_names_the_field_and_writes_nothing(service):
    client = _client(service.agent, service.cast.password)
    page = client.post(
        "/service/tickets/new/?unknown=1",
        {"unknown": "1", "kind": "complaint", "category": "delivery", "title": "送货慢", "priority": "normal",
         "channel": "phone", "caller_phone": "13900000000"},
    )  # fmt: skip
    assert page.status_code == 200 and "投诉必须关联客户" in page.content.decode()
    assert not Ticket.objects.exists()


def test_work_a_ticket_through_the_page(service):
    ticket = new_ticket(service.agent, service.customer, assignee_id=service.agent.pk)
    client = _client(service.agent, service.cast.password)
    client.post(f"/service/tickets/{ticket.pk}/messages/", {"kind": "reply", "body": "明天上门"})
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None and ticket.status == "open"
    client.post(f"/service/tickets/{ticket.pk}/resolve/", {"version": ticket.version, "resolution": "已修复"})
    ticket.refresh_from_db()
    assert ticket.status == "resolved"
    stale = client.post(
        f"/service/tickets/{ticket.pk}/confirm/", {"version": ticket.version - 1}, follow=True
    )
    assert "已被他人修改" in stale.content.decode()
    ticket.refresh_from_db()
    assert ticket.status == "resolved"


def test_reports_settings_and_the_customer_tab(service):
    new_ticket(service.agent, service.customer)
    lead = _client(service.lead, service.cast.password)
    assert 'data-testid="sla-report"' in lead.get("/service/reports/").content.decode()
    settings = lead.get("/service/settings/?year=2027").content.decode()
    assert 'data-testid="calendar-2027-02-08"' in settings and "客服一组" in settings
    assert _client(service.agent, service.cast.password).get("/service/settings/").status_code == 403
    tab = _client(service.cast.rep_east, service.cast.password).get(
        f"/customers/{service.customer.pk}/?tab=tickets"
    )
    assert 'data-testid="tickets-tab"' in tab.content.decode()
    home = _client(service.agent, service.cast.password).get("/").content.decode()
    assert 'data-testid="service-panel"' in home
