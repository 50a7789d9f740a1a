"""The service cast: the agent of the root cast plus a second agent and 钱主管, the 客服主管 of the
service centre, in one team (客服一组) that distributes round robin; a customer of rep_east's with a
contact. Everything through the real services."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest


@pytest.fixture
def service(cast: SimpleNamespace) -> SimpleNamespace:
    from kehu.access.services import user_create
    from kehu.customers.tests.factories import make_customer
    from kehu.service import configuration

    def user(username: str, name: str, role: str, supervisor: Any = None) -> Any:
        return user_create(
            username=username, password=cast.password, display_name=name, department=cast.service,
            supervisor=supervisor, role_codes=[role], by=None,
        )  # fmt: skip

    lead = user("service_lead", "钱主管", "service_manager")
    agent2 = user("agent2", "孙客服", "service_agent", lead)
    team = configuration.team_create(
        data={"name": "客服一组", "supervisor_id": lead.pk, "distribution": "round_robin"}, by=cast.admin
    )
    configuration.team_member_set(team_id=team.pk, user_id=cast.agent.pk, skills=["repair"], by=cast.admin)
    configuration.team_member_set(
        team_id=team.pk, user_id=agent2.pk, skills=["product_quality"], by=cast.admin
    )
    customer = make_customer(cast.rep_east, name="鲁氏家电维修服务部", mobile="13812345678")
    return SimpleNamespace(
        lead=lead, agent=cast.agent, agent2=agent2, team=team, customer=customer, cast=cast
    )


def new_ticket(by: Any, customer: Any, **data: Any) -> Any:
    from kehu.service.services import ticket_create

    payload = {"kind": "aftersale", "category": "repair", "title": "空调不制冷", "customer_id": customer.pk}
    payload.update(data)
    return ticket_create(data=payload, by=by)


@pytest.fixture(autouse=True)
def _urls_loaded() -> None:
    """Load the URLconf (and with it the API schemas) before any test freezes time: pydantic cannot build
    a schema for freezegun's fake datetime class."""
    import config.urls  # noqa: F401
