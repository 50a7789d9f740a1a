"""Background jobs (issue 3, "Background jobs"): what a user or the scheduler asked for and how far it got.

The task queue (django-tasks: the database backend, or RQ on Redis) only carries ``execute_job(job_id)``;
everything a user sees — progress, result, error, who started it — lives in :class:`Job`, in our own
database, whichever queue ran it. That also lets a job survive its worker: :class:`WorkerProcess` rows are
the workers' heartbeats, and a job whose worker stopped beating is queued again (``jobs_recover``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import JobStatus


class JobQuerySet(models.QuerySet["Job"]):
    def visible_to(self, actor: Any) -> JobQuerySet:
        """A user sees the jobs they started; who may change settings sees every job (also the scheduler's)."""
        from kehu.access.perms import Perm
        from kehu.access.scope import can

        if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
            return self.none()
        if can(actor, Perm.SETTINGS_EDIT):
            return self.all()
        return self.filter(created_by=actor)


class Job(models.Model):
    """One background job: an import, an export, the nightly return to the pool … and its progress."""

    kind = models.CharField(_("类型"), max_length=64)
    title = models.CharField(_("名称"), max_length=200)
    status = models.CharField(_("状态"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("发起人"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    worker_id = models.CharField(_("执行进程"), max_length=64, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    progress_done = models.PositiveIntegerField(_("已处理"), default=0)
    progress_total = models.PositiveIntegerField(_("总数"), null=True, blank=True)
    message = models.CharField(_("进度说明"), max_length=300, blank=True)
    result = models.JSONField(_("结果"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="job_creator_idx"),
            models.Index(
                fields=["status"], name="job_open_idx", condition=Q(status__in=["queued", "running"])
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.get_status_display()})"

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return 100 if self.status == JobStatus.SUCCEEDED else None
        return min(100, int(self.progress_done * 100 / self.progress_total))

    @property
    def status_color(self) -> str:
        return {"queued": "grey", "running": "blue", "succeeded": "green", "failed": "red"}[self.status]

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class WorkerProcess(models.Model):
    """A running ``kehu worker``: it writes ``seen_at`` every few seconds while it lives."""

    worker_id = models.CharField(_("进程标识"), max_length=64, primary_key=True)
    hostname = models.CharField(_("主机"), max_length=200)
    pid = models.PositiveIntegerField(_("进程号"))
    backend = models.CharField(_("队列"), max_length=32)
    started_at = models.DateTimeField(_("启动时间"), default=timezone.now)
    seen_at = models.DateTimeField(_("最近心跳"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("后台进程")
        verbose_name_plural = _("后台进程")

    def __str__(self) -> str:
        return self.worker_id


class ScheduledRun(models.Model):
    """One run of a periodic job for one slot (a day, or an interval): unique, so two schedulers never
    both start it."""

    name = models.CharField(_("周期任务"), max_length=64)
    slot = models.CharField(_("时段"), max_length=32)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("周期任务运行")
        verbose_name_plural = _("周期任务运行")
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="scheduled_run_once")]

    def __str__(self) -> str:
        return f"{self.name} {self.slot}"
