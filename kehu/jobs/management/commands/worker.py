"""``kehu worker``: run background jobs (imports, exports, the nightly pool return, reminders …).

The database queue by default; RQ on Redis when KEHU_REDIS_URL is set. Run as many as you like, on as
many machines as share the database (and Redis).
"""

from __future__ import annotations

from typing import Any

from kehu.core.management import KehuCommand, fail
from kehu.jobs import services
from kehu.jobs.workers import Heartbeat, backend_name, new_worker_id, run_database_worker, run_rq_worker


class Command(KehuCommand):
    help = (
        "运行后台任务进程（默认数据库队列，设置 KEHU_REDIS_URL 时用 Redis/RQ）/ run a background job worker "
        "(database queue by default, Redis/RQ when KEHU_REDIS_URL is set)"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--interval", type=float, default=1.0,
            help="队列为空时的轮询间隔（秒）/ seconds between polls of an empty database queue (default 1)",
        )  # fmt: skip
        parser.add_argument(
            "--burst", action="store_true", help="处理完队列中的任务后退出 / exit once the queue is empty"
        )
        parser.add_argument(
            "--max-tasks", type=int, default=None, help="处理这么多任务后退出 / exit after this many tasks"
        )
        parser.add_argument(
            "--exit-with-parent", action="store_true",
            help="启动它的进程结束时一起退出（kehu serve 内嵌时使用）/ stop when the parent process ends",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        if options["interval"] < 0:
            raise fail("interval", "轮询间隔不能为负数", "the interval cannot be negative")
        if options["max_tasks"] is not None and options["max_tasks"] < 1:
            raise fail("max-tasks", "任务数至少为 1", "at least 1 task")
        worker_id = new_worker_id()
        services.set_worker_id(worker_id)
        heartbeat = Heartbeat(worker_id, exit_with_parent=options["exit_with_parent"])
        heartbeat.beat_once(0)  # registered (and stale jobs recovered) before the first task is taken
        heartbeat.start()
        self.stdout.write(
            f"后台任务进程 {worker_id} 已启动（{backend_name()}）/ worker started ({backend_name()})"
        )
        self.stdout.flush()
        try:
            if backend_name() == "rq":
                run_rq_worker(worker_id=worker_id, burst=options["burst"], max_tasks=options["max_tasks"])
            else:
                run_database_worker(
                    worker_id=worker_id, interval=options["interval"], burst=options["burst"],
                    max_tasks=options["max_tasks"],
                )  # fmt: skip
        finally:
            heartbeat.stop()
            services.worker_stop(worker_id=worker_id)
