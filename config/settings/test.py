"""Test settings: SQLite in memory by default; KEHU_TEST_DATABASE_URL runs the suite on PostgreSQL."""

from __future__ import annotations

import os

from .base import *  # noqa: F403
from .base import _database

_url = os.environ.get("KEHU_TEST_DATABASE_URL") or "sqlite:///:memory:"
DATABASES = {"default": _database(_url)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("KEHU_TEST_SQLITE_NAME") or None}

# Fast hashing in tests; the production list stays in base.py and has its own test.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
KEHU_TESTING = True

# Attachments of a test run go to a fresh temporary folder, never into var/.
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402

KEHU_ATTACHMENT_ROOT = Path(tempfile.mkdtemp(prefix="kehu-test-attachments-"))
KEHU_JOB_FILES_ROOT = Path(tempfile.mkdtemp(prefix="kehu-test-job-files-"))
# Product pictures and the letterhead logo (default storage) of a test run, likewise.
MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="kehu-test-media-"))

# Jobs run inside the test process as soon as they are queued; the worker tests start real `kehu worker`
# processes with the database queue or RQ instead (kehu/jobs/tests/test_worker_processes.py).
if not os.environ.get("KEHU_TEST_REAL_QUEUE"):
    TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
