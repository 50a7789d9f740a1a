"""The screen pop and call handling (SVC-3)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time

from kehu.core.errors import ValidationError
from kehu.engagement.models import Interaction, Task
from kehu.service import screenpop
from kehu.service.models import IncomingCall, Ticket

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def lu(service):
    """鲁先生, who bought three air conditioners, and rings from his landline."""
    from kehu.customers.tests.factories import make_contact, make_customer
    from kehu.orders.tests.factories import order

    customer = make_customer(service.cast.rep_east, kind="individual", name="鲁建国", gender="male",
                             mobile="13912340000", phone="021-6234 5678")  # fmt: skip
    order(service.cast.rep_east, customer, ("变频空调 KFR-35", "3299", "3"), order_date="2026-06-18")
    company = make_customer(service.cast.rep_east, name="鲁氏商贸有限公司")
    contact = make_contact(company, service.cast.rep_east, name="鲁卫东", gender="male", mobile="13955550000")
    return customer, company, contact


def test_the_caller_is_greeted_by_name_with_what_he_bought(service, lu):
    customer, _company, _contact = lu
    pop = screenpop.screen_pop(number="+86 21 6234 5678", actor=service.agent)
    assert pop.customer == customer and pop.contact is None
    assert pop.purchases[0].product == "变频空调 KFR-35" and pop.purchases[0].quantity == 3
    assert "鲁先生" in pop.greeting and "变频空调 KFR-35 3" in pop.greeting


def test_a_contacts_mobile_finds_the_company(service, lu):
    _customer, company, contact = lu
    pop = screenpop.screen_pop(number="008613955550000", actor=service.agent)
    assert pop.customer == company and pop.contact == contact
    assert "鲁先生" in pop.greeting and company.name in pop.greeting


def test_someone_who_may_not_see_the_customer_learns_only_that_the_number_is_known(service, lu):
    pop = screenpop.screen_pop(number="13912340000", actor=service.cast.rep_west)
    assert pop.known and pop.customer is None and pop.purchases == [] and pop.greeting == ""
    unknown = screenpop.screen_pop(number="13700000000", actor=service.cast.rep_west)
    assert not unknown.known


def test_a_local_number_uses_the_area_code_of_the_settings(service, lu):
    from kehu.service import configuration

    customer, _company, _contact = lu
    assert screenpop.screen_pop(number="62345678", actor=service.agent).customer is None
    configuration.service_settings_update(version=None, data={"local_area_code": "021"}, by=service.lead)
    assert screenpop.screen_pop(number="62345678", actor=service.agent).customer == customer


def test_a_resolved_call_is_logged_and_followed_up_the_next_working_day(service, lu):
    customer, _company, _contact = lu
    with freeze_time(datetime(2026, 12, 4, 16, 0, tzinfo=SH)):  # a Friday
        result = screenpop.call_handle(
            data={"number": "13912340000", "customer_id": customer.pk, "summary": "遥控器没电了，已指导更换",
                  "resolved": True},
            by=service.agent,
        )  # fmt: skip
    interaction = Interaction.objects.get(pk=result.interaction.pk)
    assert interaction.direction == "inbound" and interaction.channel.code == "phone"
    task = Task.objects.get(pk=result.follow_up.pk)
    assert task.owner == service.agent and task.due_on.isoformat() == "2026-12-07"  # Monday
    assert result.ticket is None


def test_a_call_opens_a_ticket_in_one_step(service, lu):
    customer, _company, _contact = lu
    result = screenpop.call_handle(
        data={"number": "13912340000", "customer_id": customer.pk, "summary": "空调不制冷，需要上门",
              "ticket": {"kind": "aftersale", "category": "repair", "title": "空调不制冷"}},
        by=service.agent,
    )  # fmt: skip
    ticket = Ticket.objects.get(pk=result.ticket.pk)
    assert ticket.channel == "phone" and ticket.caller_phone == "13912340000" and ticket.status == "new"
    assert result.follow_up is None  # not resolved: no follow-up call yet


def test_a_bad_call_names_the_field_and_writes_nothing(service, lu):
    customer, _company, _contact = lu
    with pytest.raises(ValidationError) as err:
        screenpop.call_handle(
            data={"customer_id": customer.pk, "summary": "x", "ticket": {"kind": "aftersale", "title": ""}},
            by=service.agent,
        )
    assert err.value.field == "title"
    assert not Interaction.objects.filter(customer=customer).exists() and not Ticket.objects.exists()


def test_the_cti_rings_an_agent_and_one_page_pops_it(service, api_as):
    rung = api_as(service.lead).post(
        "/api/v1/calls/ring", {"number": "13912340000", "agent_id": service.agent.pk}
    )
    assert rung.status_code == 201 and rung.json()["pop_url"].startswith("/service/calls/pop/?number=")
    refused = api_as(service.agent2).post("/api/v1/calls/ring", {"number": "1", "agent_id": service.agent.pk})
    assert refused.status_code == 403
    assert screenpop.incoming_take(actor=service.agent).number == "13912340000"
    assert screenpop.incoming_take(actor=service.agent) is None  # shown once
    assert IncomingCall.objects.filter(agent=service.agent, seen_at__isnull=False).count() == 1


def test_screen_pop_api_and_page(service, lu, api_as):
    from django.test import Client

    customer, _company, _contact = lu
    body = api_as(service.agent).get("/api/v1/calls/screen-pop", {"number": "+8613912340000"}).json()
    assert body["customer"]["id"] == customer.pk and body["purchases"][0]["quantity"] == "3"
    hidden = api_as(service.cast.rep_west).get("/api/v1/calls/screen-pop", {"number": "13912340000"}).json()
    assert hidden["known"] is True and hidden["customer"] is None and hidden["purchases"] == []
    client = Client()
    client.login(username="agent", password=service.cast.password)
    html = client.get("/service/calls/pop/?number=13912340000").content.decode()
    assert 'data-testid="pop-greeting"' in html and "鲁先生" in html


def test_the_screen_pop_reads_a_fixed_number_of_queries(service, lu, api_as, django_assert_num_queries):
    """The lookup, the purchases, the open tickets and the last interactions read only the columns they show
    (``.only``): a template or schema touching another column would add a query per row, caught here."""
    from django.test import Client

    from kehu.engagement.services import interaction_create

    from .conftest import new_ticket

    customer, _company, _contact = lu
    for n in range(3):
        new_ticket(service.agent, customer, title=f"第{n}台空调不制冷")
        interaction_create(
            customer_id=customer.pk, by=service.agent,
            data={"channel": "phone", "direction": "inbound", "occurred_at": f"2026-11-0{n + 1}T10:00:00+08:00",
                  "summary": f"来电 {n}", "outcome": "", "next_step": "", "next_follow_up_on": None},
        )  # fmt: skip
    api = api_as(service.agent)
    api.get("/api/v1/calls/screen-pop", {"number": "13912340000"})
    # token + roles, customers, contacts, purchases, tickets, interactions (a mobile needs no area code from
    # the settings; an agent sees every customer, so the matches need no visibility query)
    with django_assert_num_queries(7):
        body = api.get("/api/v1/calls/screen-pop", {"number": "13912340000"}).json()
    assert len(body["open_tickets"]) == 3 and all(t["assignee"] for t in body["open_tickets"])
    assert [i["summary"] for i in body["interactions"]][:3] == ["来电 2", "来电 1", "来电 0"]
    assert body["interactions"][0]["channel"] and body["interactions"][0]["by"]
    assert body["customer"]["owner"] and body["greeting"]
    client = Client()
    client.login(username="agent", password=service.cast.password)
    client.get("/service/calls/pop/?number=13912340000")
    with django_assert_num_queries(12, exact=False) as captured:
        html = client.get("/service/calls/pop/?number=13912340000").content.decode()
    assert "第2台空调不制冷" in html and "来电 2" in html
    first = len(captured.captured_queries)
    for n in range(3, 6):
        new_ticket(service.agent, customer, title=f"第{n}台空调不制冷")
    with django_assert_num_queries(first):  # more rows, not more queries
        client.get("/service/calls/pop/?number=13912340000")
