"""``kehu scheduler``: start the periodic jobs when they are due (the nightly return to the public pool,
revisit tasks, reminders, mail polling …). Run one (two are harmless: each slot starts once)."""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from django.db import close_old_connections
from django.utils import timezone

from kehu.core.management import KehuCommand, fail
from kehu.jobs import services
from kehu.jobs.registry import periodic_jobs


class Command(KehuCommand):
    help = "按计划启动周期任务 / start the periodic background jobs when they are due"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--interval", type=float, default=30.0, help="检查间隔（秒）/ seconds between checks (default 30)"
        )
        parser.add_argument("--once", action="store_true", help="只检查一次 / check once and exit")
        parser.add_argument(
            "--list", action="store_true", help="列出周期任务后退出 / list the periodic jobs and exit"
        )
        parser.add_argument(
            "--exit-with-parent", action="store_true",
            help="启动它的进程结束时一起退出 / stop when the parent process ends",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] <= 0:
            raise fail("interval", "检查间隔必须大于 0", "the interval must be positive")
        if options["list"]:
            for entry in periodic_jobs():
                when = f"daily {entry.at:%H:%M}" if entry.at else f"every {entry.every}"
                self.stdout.write(f"{entry.kind}\t{when}")
            return
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        parent = os.getppid() if options["exit_with_parent"] else None
        while not stopping:
            close_old_connections()
            for job in services.scheduler_tick():
                self.stdout.write(
                    f"{timezone.localtime():%Y-%m-%d %H:%M:%S} started {job.kind} (job {job.pk})"
                )
                self.stdout.flush()
            if options["once"] or (parent is not None and os.getppid() != parent):
                break
            deadline = time.monotonic() + options["interval"]
            while not stopping and time.monotonic() < deadline:
                time.sleep(min(0.5, deadline - time.monotonic()))
