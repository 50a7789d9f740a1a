"""``kehu demo`` ends with an analytics refresh: every demo customer is scored, and the win-back tasks it
gives owners are counted with the demo's tasks."""

from __future__ import annotations

from typing import Any

from kehu.analytics.models import AnalyticsRun, CustomerScore
from kehu.customers import demo
from kehu.customers.models import Customer
from kehu.engagement.models import Task


def test_the_demo_is_scored(db: Any) -> None:
    loaded = demo.load_demo(customers=120, seed=5, password="kehu-Demo-Pass-2026")
    run = AnalyticsRun.objects.get()
    assert run.status == "done" and run.buyers > 0
    assert CustomerScore.objects.count() == Customer.objects.count() == loaded.extra["scored"]
    assert CustomerScore.objects.exclude(rfm_class="").count() == run.buyers
    assert loaded.extra["tasks"] == Task.objects.count()
    assert Task.objects.filter(source="winback").count() == run.summary["churn"]["tasks"]
