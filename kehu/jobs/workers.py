"""The ``kehu worker`` process: one queue consumer plus a heartbeat thread.

The heartbeat thread writes this worker's ``WorkerProcess.seen_at`` every few seconds and, every third
beat, runs ``jobs_recover`` — so any live worker notices a dead one's job and queues it again. With
``exit_with_parent`` (how ``kehu serve`` embeds a worker), the thread also stops the worker when the
process that started it is gone.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import uuid

from django.conf import settings
from django.db import close_old_connections, connection

from . import services

logger = logging.getLogger("kehu.jobs")


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def backend_name() -> str:
    return "rq" if getattr(settings, "KEHU_REDIS_URL", "") else "database"


class Heartbeat(threading.Thread):
    def __init__(self, worker_id: str, *, exit_with_parent: bool) -> None:
        super().__init__(name="kehu-heartbeat", daemon=True)
        self.worker_id = worker_id
        self.parent = os.getppid() if exit_with_parent else None
        self.stopped = threading.Event()

    def beat_once(self, count: int) -> None:
        close_old_connections()
        services.worker_beat(
            worker_id=self.worker_id, hostname=socket.gethostname(), pid=os.getpid(), backend=backend_name()
        )
        if count % 3 == 0:
            services.jobs_recover()

    def run(self) -> None:
        count = 0
        try:
            while not self.stopped.wait(0 if count == 0 else services.heartbeat_seconds()):
                if self.parent is not None and os.getppid() != self.parent:
                    logger.warning("parent process gone; worker %s stops", self.worker_id)
                    os.kill(os.getpid(), signal.SIGTERM)
                    return
                try:
                    self.beat_once(count)
                except Exception:  # a database hiccup must not kill the heartbeat for good
                    logger.exception("heartbeat of worker %s failed", self.worker_id)
                count += 1
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()


def run_database_worker(*, worker_id: str, interval: float, burst: bool, max_tasks: int | None) -> None:
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"], interval=interval, batch=burst, backend_name="default", startup_delay=False,
        max_tasks=max_tasks, worker_id=worker_id, excluded_queue_names=[],
    )  # fmt: skip
    worker.configure_signals()
    worker.run()


def run_rq_worker(*, worker_id: str, burst: bool, max_tasks: int | None) -> None:
    import django_rq
    from django_tasks_rq.backend import Job as TaskJob
    from rq import SimpleWorker

    # SimpleWorker runs jobs in this process (no fork): our heartbeat thread then speaks for the job too,
    # and a killed worker takes its job down with it — which jobs_recover() notices.
    queue = django_rq.get_queue("default", job_class=TaskJob)
    worker = SimpleWorker([queue], connection=queue.connection, job_class=TaskJob, name=worker_id)
    worker.work(burst=burst, max_jobs=max_tasks, with_scheduler=False, logging_level="WARNING")
