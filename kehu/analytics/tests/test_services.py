"""The analytics actions: the settings (validated field by field, versioned, audited) and the on-demand
refresh (a job; one at a time; analytics.manage only)."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest

from kehu.analytics.models import AnalyticsRun, AnalyticsSettings
from kehu.analytics.services import analytics_refresh_start, analytics_settings_update
from kehu.audit.models import AuditEvent
from kehu.core.errors import Conflict, PermissionDenied, ValidationError
from kehu.jobs.models import Job

pytestmark = pytest.mark.django_db


def test_settings_are_created_then_versioned_and_audited(cast: SimpleNamespace) -> None:
    s = analytics_settings_update(
        data={"rfm_bins": 4, "p_alive_threshold": "0.35"}, version=None, by=cast.admin
    )
    assert (s.pk, s.rfm_bins, s.p_alive_threshold, s.version) == (1, 4, Decimal("0.35"), 1)
    event = AuditEvent.objects.get(subject_type="analytics_settings")
    assert event.actor_id == cast.admin.pk and event.verb == "settings"
    # The first save creates the row: every field is new.
    assert event.changes["rfm_bins"] == [None, 4] and event.changes["p_alive_threshold"] == [None, "0.35"]

    s = analytics_settings_update(
        data={"rfm_threshold": "median", "winback_tasks": "off", "rhythm_factor": "3"},
        version=1,
        by=cast.admin,
    )
    s.refresh_from_db()
    assert (s.rfm_threshold, s.winback_tasks, s.rhythm_factor, s.rfm_bins, s.version) == (
        "median", False, Decimal("3.0"), 4, 2,
    )  # fmt: skip
    assert AuditEvent.objects.filter(subject_type="analytics_settings").count() == 2
    # Saving the same values again changes nothing worth an audit line.
    analytics_settings_update(data={"rfm_bins": 4}, version=2, by=cast.admin)
    assert AuditEvent.objects.filter(subject_type="analytics_settings").count() == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rfm_bins", 1),
        ("rfm_bins", 11),
        ("rfm_bins", "x"),
        ("p_alive_threshold", "1.5"),
        ("p_alive_threshold", "NaN"),
        ("p_alive_threshold", "abc"),
        ("rfm_threshold", "x"),
        ("rhythm_factor", "0.5"),
        ("engagement_drop", "0.05"),
        ("horizon_months", 0),
        ("annual_discount_rate", "-0.1"),
        ("default_margin", "2"),
        ("winback_tasks", "maybe"),
        ("winback_per_owner", 0),
        ("lifecycle_window_days", ""),
        ("engagement_window_days", None),
        ("colour", "red"),
    ],
)
def test_a_bad_setting_is_refused_naming_it_and_nothing_is_written(
    cast: SimpleNamespace, field: str, value: Any
) -> None:
    with pytest.raises(ValidationError) as err:
        analytics_settings_update(data={"rfm_bins": 6, field: value}, version=None, by=cast.admin)
    assert err.value.field == field
    assert not AnalyticsSettings.objects.exists()
    assert not AuditEvent.objects.filter(subject_type="analytics_settings").exists()


def test_a_stale_version_is_a_conflict(cast: SimpleNamespace) -> None:
    analytics_settings_update(data={"rfm_bins": 4}, version=None, by=cast.admin)
    analytics_settings_update(data={"rfm_bins": 3}, version=1, by=cast.admin)
    with pytest.raises(Conflict):
        analytics_settings_update(data={"rfm_bins": 7}, version=1, by=cast.admin)
    assert AnalyticsSettings.objects.get().rfm_bins == 3
    # Before the first save only "no version" or the first version are accepted.
    AnalyticsSettings.objects.all().delete()
    with pytest.raises(Conflict):
        analytics_settings_update(data={"rfm_bins": 7}, version=5, by=cast.admin)
    assert not AnalyticsSettings.objects.exists()


@pytest.mark.parametrize("who", ["rep_east", "manager_east", "auditor", "marketing"])
def test_only_analytics_managers_change_settings_or_refresh(cast: SimpleNamespace, who: str) -> None:
    user = getattr(cast, who)
    with pytest.raises(PermissionDenied):
        analytics_settings_update(data={"rfm_bins": 4}, version=None, by=user)
    with pytest.raises(PermissionDenied):
        analytics_refresh_start(by=user)
    assert not AnalyticsSettings.objects.exists() and not Job.objects.exists()


def test_refresh_start_runs_a_job_and_refuses_a_second_while_one_waits(cast: SimpleNamespace) -> None:
    from kehu.customers.tests.factories import make_customer

    make_customer(cast.rep_east)
    job = analytics_refresh_start(by=cast.admin)  # the tests' immediate backend runs it at once
    job.refresh_from_db()
    assert (job.kind, job.status, job.created_by_id) == ("analytics.refresh", "succeeded", cast.admin.pk)
    run = AnalyticsRun.objects.get()
    assert job.result["run"] == run.pk and run.started_by_id == cast.admin.pk and run.customers == 1
    assert job.progress_done == 100
    # The same job stores the relationship report's periods (ANA-6): last year's 12 months and 4
    # quarters, and this year's begun so far — for the company's ledger, 王经理's and 吴理财's.
    from django.utils import timezone

    from kehu.analytics.models import RelationshipPeriod

    month = timezone.localdate().month
    assert job.result["relationship"]["ledgers"] == 3
    assert job.result["relationship"]["periods"] == 3 * (16 + month + (month - 1) // 3 + 1)
    assert RelationshipPeriod.objects.count() == job.result["relationship"]["periods"]
    event = AuditEvent.objects.get(subject_type="analytics_run")
    assert (event.verb, event.subject_id, event.actor_id) == ("refresh", job.pk, cast.admin.pk)

    for status in ("queued", "running"):
        busy = Job.objects.create(
            kind="analytics.refresh", title="刷新", status=status, created_by=cast.admin
        )
        with pytest.raises(Conflict) as err:
            analytics_refresh_start(by=cast.admin)
        assert err.value.code == "refresh_running"
        busy.delete()
    assert Job.objects.count() == 1 and AuditEvent.objects.filter(subject_type="analytics_run").count() == 1
