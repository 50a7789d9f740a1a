"""Kehu settings. Everything a deployer changes comes from KEHU_* variables (interfaces.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dj_database_url

from .env import BASE_DIR, VAR_DIR, env_bool, env_int, env_str, secret_key

SECRET_KEY = secret_key()
DEBUG = env_bool("KEHU_DEBUG", False)
ALLOWED_HOSTS = [
    h for h in env_str("KEHU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in env_str("KEHU_CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "ninja",
    "kehu.core",
    "kehu.access",
    "kehu.audit",
    "kehu.customers",
    "kehu.catalog",
    "kehu.integrations",
    "kehu.engagement",
    "kehu.approvals",
    "kehu.sales",
    "kehu.targets",
    "kehu.orders",
    "kehu.service",
    "django_tasks",
    "django_tasks_db",
    "kehu.jobs",
    "kehu.notifications",
    "kehu.imports",
    "kehu.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.access.middleware.IdleTimeoutMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.access.context_processors.access",
                "kehu.notifications.context_processors.bell",
            ],
        },
    }
]


def _database(url: str) -> dict[str, Any]:
    config: dict[str, Any] = dict(
        dj_database_url.parse(url, conn_max_age=env_int("KEHU_DB_CONN_MAX_AGE", 60))
    )
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["OPTIONS"] = {
            # WAL lets readers run while one writer writes; IMMEDIATE takes the write
            # lock at BEGIN so concurrent writers queue instead of failing mid-transaction.
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                # 16 MB page cache per connection and no mmap: with several threads per worker these add up,
                # and the OS page cache serves the file anyway.
                "PRAGMA busy_timeout=10000;PRAGMA cache_size=-16000;"
                "PRAGMA temp_store=MEMORY;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
        config["CONN_MAX_AGE"] = 0 if config["NAME"] == ":memory:" else config.get("CONN_MAX_AGE", 60)
    elif config["ENGINE"] == "django.db.backends.postgresql":
        config.setdefault("OPTIONS", {})
        # No JIT: it compiles the plan of every larger list query (~30 ms seen at a million customers)
        # and an OLTP page never runs long enough to win that back.
        config["OPTIONS"].setdefault("options", "-c jit=off")
        # template0 keeps the cluster's UTF-8 ctype for the test database (pg_trgm needs it for CJK).
        config["TEST"] = {"TEMPLATE": "template0", "CHARSET": "UTF8"}
        config["CONN_HEALTH_CHECKS"] = True
    return config


DATABASE_URL = env_str("KEHU_DATABASE_URL", f"sqlite:///{VAR_DIR / 'kehu.sqlite3'}")
DATABASES = {"default": _database(DATABASE_URL)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "access.User"
LOGIN_URL = "access:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "access:login"
# The strongest hasher Django ships comes first; the others only verify old hashes.
PASSWORD_HASHERS = [
    "kehu.access.hashers.KehuArgon2PasswordHasher",  # Argon2id, RFC 9106 parameters (ADR 0005)
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "kehu.access.hashers.KehuMinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root on every start
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# Product pictures and the letterhead logo (the default storage). Outside the web root and without a
# MEDIA_URL route: they are served only through views that check the reader may see products or quotes.
MEDIA_ROOT = Path(env_str("KEHU_MEDIA_ROOT", str(VAR_DIR / "media")))

CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache"
        if not env_str("KEHU_CACHE_DB")
        else "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "kehu",
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("KEHU_LOG_LEVEL", "WARNING")},
}

# Kehu's own knobs ---------------------------------------------------------
KEHU_PORT = env_int("KEHU_PORT", 8000)
# Sign a session out after this many seconds without a request (SEC-1 / issue 2).
KEHU_IDLE_TIMEOUT_SECONDS = env_int("KEHU_IDLE_TIMEOUT_SECONDS", 30 * 60)
# Log-in throttling: at most N failures per window per username and per IP.
KEHU_LOGIN_MAX_FAILURES = env_int("KEHU_LOGIN_MAX_FAILURES", 5)
KEHU_LOGIN_WINDOW_SECONDS = env_int("KEHU_LOGIN_WINDOW_SECONDS", 15 * 60)
# Soft-deleted records stay in the recycle bin this many days before `kehu purge` removes them.
KEHU_RECYCLE_BIN_DAYS = env_int("KEHU_RECYCLE_BIN_DAYS", 30)
# Interaction attachments (ENG-1): stored here, outside the web root, served only through a view that
# checks the customer is visible; larger uploads are refused naming the field.
KEHU_ATTACHMENT_ROOT = Path(env_str("KEHU_ATTACHMENT_ROOT", str(VAR_DIR / "attachments")))
KEHU_ATTACHMENT_MAX_MB = env_int("KEHU_ATTACHMENT_MAX_MB", 20)
# Public lead-capture forms (SAL-1): posts allowed per IP and per form within the window.
KEHU_LEAD_CAPTURE_PER_IP = env_int("KEHU_LEAD_CAPTURE_PER_IP", 5)
KEHU_LEAD_CAPTURE_PER_FORM = env_int("KEHU_LEAD_CAPTURE_PER_FORM", 300)
KEHU_LEAD_CAPTURE_WINDOW_SECONDS = env_int("KEHU_LEAD_CAPTURE_WINDOW_SECONDS", 600)

# Background jobs (issue 3): Django's Tasks API (django-tasks backport). The database queue by default
# (`kehu worker`); with KEHU_REDIS_URL, RQ on Redis for many workers on many machines.
KEHU_REDIS_URL = env_str("KEHU_REDIS_URL")
if KEHU_REDIS_URL:
    INSTALLED_APPS.append("django_rq")
    RQ_QUEUES = {"default": {"URL": KEHU_REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600}}
    TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
else:
    TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# A worker writes a heartbeat this often; one silent for three beats counts as gone and its job is queued
# again by another worker.
KEHU_WORKER_HEARTBEAT_SECONDS = float(env_int("KEHU_WORKER_HEARTBEAT_SECONDS", 5))
# Links in notification e-mails start with this (e.g. https://crm.example.com); empty: paths only.
KEHU_BASE_URL = env_str("KEHU_BASE_URL")
# Files that background jobs produce (exports) live here, outside the web root, one folder per job.
KEHU_JOB_FILES_ROOT = Path(env_str("KEHU_JOB_FILES_ROOT", str(VAR_DIR / "job-files")))
# Finished background jobs (and their files) are kept this many days, then the daily clean-up removes them.
KEHU_JOB_KEEP_DAYS = env_int("KEHU_JOB_KEEP_DAYS", 30)
# E-mail (ENG-5). Replies leave through Django's e-mail backend, SMTP by default, configured here.
KEHU_MAIL_BACKEND = env_str("KEHU_MAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("KEHU_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("KEHU_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("KEHU_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("KEHU_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("KEHU_SMTP_USE_TLS", False)
EMAIL_USE_SSL = env_bool("KEHU_SMTP_USE_SSL", False)
EMAIL_TIMEOUT = env_int("KEHU_SMTP_TIMEOUT", 30)
DEFAULT_FROM_EMAIL = env_str("KEHU_MAIL_FROM", "kehu@localhost")
# An inbound message with no reply from us after this many hours is "at risk"; after
# KEHU_MAIL_RESPONSE_HOURS it missed the rule (ENG-5: answered within 24 hours).
KEHU_MAIL_AT_RISK_HOURS = env_int("KEHU_MAIL_AT_RISK_HOURS", 20)
KEHU_MAIL_RESPONSE_HOURS = env_int("KEHU_MAIL_RESPONSE_HOURS", 24)
# Mail that had arrived this many days before Kehu stored it (the history of a newly connected mailbox)
# is kept as 无需回复 instead of counting against the 24-hour rule.
KEHU_MAIL_HISTORY_DAYS = env_int("KEHU_MAIL_HISTORY_DAYS", 7)
# Largest raw message the HTTP inbound endpoint accepts (bytes).
KEHU_MAIL_MAX_BYTES = env_int("KEHU_MAIL_MAX_BYTES", 30 * 1024 * 1024)
# Django's own mail (notification e-mails) goes the same way as Kehu's replies.
EMAIL_BACKEND = KEHU_MAIL_BACKEND
