"""``kehu serve``: the production web server (gunicorn) for the web UI and API (interfaces.md)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings

from kehu.core.management import KehuCommand, fail


def kehu_argv() -> list[str]:
    """How to run another ``kehu`` command: the venv's script next to this Python, else ``python -m``."""
    beside = Path(sys.executable).with_name("kehu")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "kehu.cli"]


def gunicorn_argv(*, host: str, port: int, workers: int, threads: int, access_log: bool) -> list[str]:
    """The gunicorn command line: the venv's gunicorn next to this Python, else ``python -m gunicorn``."""
    beside = Path(sys.executable).with_name("gunicorn")
    if beside.exists():
        argv = [str(beside)]
    elif shutil.which("gunicorn"):
        argv = [str(shutil.which("gunicorn"))]
    else:
        argv = [sys.executable, "-m", "gunicorn"]
    argv += [
        "config.wsgi:application",
        "--bind", f"{'[' + host + ']' if ':' in host else host}:{port}",
        "--workers", str(workers),
        "--worker-class", "gthread",
        "--threads", str(threads),
        "--chdir", str(settings.BASE_DIR),
        "--timeout", "60",
        "--graceful-timeout", "20",
        "--error-logfile", "-",
    ]  # fmt: skip
    if access_log:
        argv += ["--access-logfile", "-"]
    return argv


class Command(KehuCommand):
    help = (
        "运行 Web 服务（gunicorn，生产级）/ serve the web UI and API with gunicorn. "
        "Port: --port, else KEHU_PORT, else 8000."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--port", type=int, default=None, help="端口 / port (default: KEHU_PORT or 8000)")
        parser.add_argument(
            "--host", default="127.0.0.1", help="监听地址 / address to bind (default 127.0.0.1)"
        )
        parser.add_argument(
            "--workers", type=int, default=2, help="工作进程数 / worker processes (default 2)"
        )
        parser.add_argument(
            "--threads", type=int, default=4, help="每个进程的线程数 / threads per worker (default 4)"
        )
        parser.add_argument(
            "--access-log",
            action="store_true",
            help="输出访问日志 / write access logs to stdout (off by default)",
        )
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="不在旁边启动后台任务进程（另行运行 kehu worker 时）/ do not start a background worker beside "
            "the web server (when you run kehu worker separately)",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="不在旁边启动调度器（另行运行 kehu scheduler 时）/ do not start the scheduler beside the web server",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="只打印 gunicorn 命令 / print the gunicorn command, do not run it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        port = options["port"] if options["port"] is not None else settings.KEHU_PORT
        if not 1 <= port <= 65535:
            raise fail("port", f"端口 {port} 无效（1–65535）", f"invalid port {port} (1-65535)")
        if options["workers"] < 1:
            raise fail("workers", "工作进程数至少为 1", "at least 1 worker")
        if options["threads"] < 1:
            raise fail("threads", "线程数至少为 1", "at least 1 thread")
        host = options["host"].strip() or "127.0.0.1"
        argv = gunicorn_argv(
            host=host, port=port, workers=options["workers"], threads=options["threads"],
            access_log=options["access_log"],
        )  # fmt: skip
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
        self.stdout.write(f"Kehu 正在运行 / serving at http://{shown}:{port}")
        if options["dry_run"]:
            self.stdout.write(" ".join(argv))
            return
        # gunicorn must find the same settings (cli.py sets the default only in this process's env).
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
        # A worker and the scheduler beside the web server, so that `make run` alone runs imports and the
        # nightly jobs. They watch their parent (gunicorn, once this process execs it) and stop with it.
        # Larger set-ups run `kehu worker` / `kehu scheduler` themselves and pass --no-worker/--no-scheduler.
        for command, skip in (("worker", options["no_worker"]), ("scheduler", options["no_scheduler"])):
            if not skip:
                subprocess.Popen([*kehu_argv(), command, "--exit-with-parent"])
                self.stdout.write(f"已启动 / started: kehu {command}")
        self.stdout.flush()
        sys.stderr.flush()
        # exec: gunicorn replaces this process, so Ctrl-C / SIGTERM from the supervisor reach it directly.
        os.execvp(argv[0], argv)
