"""``kehu demo`` with leads plugged in (ADR 0009): leads in every state, one in the lead pool, and one
the fraudulent-inquiry check flags for review (SAL-2); a second run adds none."""

from __future__ import annotations

import pytest

from kehu.customers import demo
from kehu.sales.leads.choices import LeadStatus
from kehu.sales.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_demo_leads() -> None:
    loaded = demo.load_demo(customers=20, seed=3, password="kehu-Demo-Pass-2026")
    assert loaded.extra["leads"] == Lead.objects.count() == 7
    statuses = set(Lead.objects.values_list("status", flat=True))
    assert {LeadStatus.NEW, LeadStatus.SCREENING, LeadStatus.QUALIFIED, LeadStatus.DISCARDED} <= statuses
    assert Lead.objects.filter(owner__isnull=True).count() == 2
    risky = Lead.objects.get(flagged_for_review=True)
    assert risky.risk_score >= 50 and {r["kind"] for r in risky.risk_reasons} >= {
        "free_mail",
        "urgent_payment",
    }
    again = demo.load_demo(customers=5, seed=4, password="kehu-Demo-Pass-2026")
    assert again.extra.get("leads", 0) == 0 and Lead.objects.count() == 7
