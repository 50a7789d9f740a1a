"""``kehu demo`` with the pipeline plugged in (ADR 0009): opportunities across the stages of each owner's
stage group, closed ones with their reason, stage histories, buying centres that set off warnings."""

from __future__ import annotations

import pytest
from django.db.models import F

from kehu.access.models import User
from kehu.customers import demo
from kehu.sales import selectors
from kehu.sales.models import Competitor, Opportunity, OpportunityContact, StageChange

pytestmark = pytest.mark.django_db


def test_the_demo_fills_the_pipeline() -> None:
    loaded = demo.load_demo(customers=300, seed=5, password="kehu-Demo-Pass-2026")
    n = Opportunity.objects.count()
    assert loaded.extra["opportunities"] == n > 20
    assert loaded.extra["stage_changes"] == StageChange.objects.count() >= n
    assert loaded.extra["buying_centre"] == OpportunityContact.objects.count() > 0
    assert loaded.extra["competitors"] == Competitor.objects.count() > 0
    statuses = set(Opportunity.objects.values_list("status", flat=True))
    assert {"open", "won", "lost"} <= statuses
    for opp in Opportunity.objects.select_related("stage", "customer"):
        assert opp.stage.group_id == opp.stage_group_id
        assert (opp.stage.kind == "open") == (opp.status == "open")
        assert opp.owner_id == opp.customer.owner_id
        assert opp.status != "lost" or (opp.close_reason and opp.lost_to)
    # Each buying-centre member is a contact of the opportunity's customer.
    assert not OpportunityContact.objects.exclude(contact__customer=F("opportunity__customer")).exists()
    admin = User.objects.get(username="admin")
    rows = selectors.forecast(actor=admin, scope="all")
    assert sum(r.count for r in rows) == Opportunity.objects.filter(status="open").count()
    assert any(
        selectors.opportunity_warnings(opportunity=o) for o in Opportunity.objects.filter(status="open")[:50]
    )
