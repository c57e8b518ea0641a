"""Django settings, configured from the environment.

With nothing set, gongwei uses an embedded SQLite file ``gongwei.sqlite3`` in its data folder: ``$GONGWEI_DATA_DIR``
if set, else the nearest ``data`` folder holding that file in the current folder or one of its parents (as git
finds its repository, so a command run from a subfolder of the project uses the project's database), else
``./data``. ``DATABASE_URL`` (e.g. ``postgres://user@127.0.0.1:5432/gongwei``) selects another database; the data
folder still holds snapshots, stored results and logs. Reading the settings creates nothing: only the commands
that build a database (``gongwei migrate``, ``demo``, ``synth``) create the folder (see ``gongwei.cli.db``).

``GONGWEI_DEPLOYMENT=production`` is a real deployment: it refuses to start without ``GONGWEI_SECRET_KEY``,
serves over HTTPS only (secure cookies, HSTS, Content-Security-Policy) and passes ``check --deploy``.
Anything else is development or the demo (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
SQLITE_NAME = "gongwei.sqlite3"


def find_data_dir() -> Path:
    explicit = os.environ.get("GONGWEI_DATA_DIR", "").strip()
    if explicit:
        return Path(explicit).resolve()
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if (folder / "data" / SQLITE_NAME).is_file():
            return folder / "data"
    return here / "data"


DATA_DIR = find_data_dir()

PRODUCTION = os.environ.get("GONGWEI_DEPLOYMENT", "development") == "production"
DEV_SECRET_KEY = "dev-only-insecure-key-change-me-in-production"
SECRET_KEY = os.environ.get("GONGWEI_SECRET_KEY", "" if PRODUCTION else DEV_SECRET_KEY)
if PRODUCTION and (not SECRET_KEY or SECRET_KEY == DEV_SECRET_KEY or len(SECRET_KEY) < 50):
    # the key signs sessions and keys the pseudonyms in snapshots: a known key would undo both
    raise ImproperlyConfigured(
        "生产部署（GONGWEI_DEPLOYMENT=production）必须设置环境变量 GONGWEI_SECRET_KEY：至少 50 个随机字符，"
        "不得使用开发默认值。可用 python -c \"import secrets; print(secrets.token_urlsafe(64))\" 生成。")
DEBUG = os.environ.get("GONGWEI_DEBUG", "0") == "1" and not PRODUCTION
ALLOWED_HOSTS = [h for h in os.environ.get("GONGWEI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "gongwei.records",
    "gongwei.synth",
    "gongwei.quality",
    "gongwei.verification",
    "gongwei.web",
    "gongwei.jobs",
    "gongwei.evaluation",  # evaluation rounds and scores (issue 12, ADR 025)
    "gongwei.bulletins",
    "huey.contrib.djhuey",  # the background job queue (gongwei.jobs, docs/adr/018-background-jobs.md)
    "axes",  # login throttling and lockout
    "gongwei.supervision",  # supervision rounds, rectification, base data (issue 13 §4–5, ADR 034)
    "gongwei.funds",  # funds ledger (issue 12, ADR 032)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gongwei.web.middleware.SessionRenewalMiddleware",  # inside SessionMiddleware: its mark is saved on the way out
    "gongwei.web.middleware.ChineseByDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # request.htmx: a page answers an htmx request with its fragment
    "gongwei.web.middleware.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",  # turns a locked-out login into the lockout page; must come last
]

ROOT_URLCONF = "gongwei.urls"
WSGI_APPLICATION = "gongwei.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database_config() -> dict:
    url = os.environ.get("DATABASE_URL", "").strip()
    if url:
        config = dj_database_url.parse(url, conn_max_age=60)
    else:
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / SQLITE_NAME),
        }
    if config["ENGINE"].endswith("sqlite3"):
        # WAL lets the demo server read while a bulk load writes; NORMAL sync is safe with WAL.
        config.setdefault("OPTIONS", {})["init_command"] = (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        )
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
        # a page that meets an import's write lock waits for it instead of failing with "database is locked"
        config["OPTIONS"]["timeout"] = int(os.environ.get("GONGWEI_SQLITE_BUSY_SECONDS", "30"))
        config.setdefault("TEST", {})["NAME"] = os.environ.get("GONGWEI_TEST_SQLITE", "")
    elif config["ENGINE"].endswith("postgresql"):
        # no JIT compilation: the pages' queries are short, and PostgreSQL compiles any query whose *estimated*
        # cost passes jit_above_cost, adding tens of milliseconds to a query that runs in one (the heavy analysis
        # runs in DuckDB, not here)
        options = config.setdefault("OPTIONS", {})
        options["options"] = f"{options.get('options', '')} -c jit=off".strip()
    if os.environ.get("GONGWEI_TEST_DB_NAME") and not config["ENGINE"].endswith("sqlite3"):
        # parallel test runs on one PostgreSQL server each get their own test database
        config.setdefault("TEST", {})["NAME"] = os.environ["GONGWEI_TEST_DB_NAME"]
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- accounts and sessions (docs/security.md) -----------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "gongwei.records.passwords.ChineseMinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "gongwei.records.passwords.CharacterClassesValidator", "OPTIONS": {"min_classes": 3}},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # older hashes still verify and are upgraded to Argon2 at the next login
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked-out login before the password is checked
    "django.contrib.auth.backends.ModelBackend",
]
# Lock a user name from one address after repeated failures: a clinic's staff share one address behind the
# health network's NAT, so locking the address alone would lock out the whole clinic.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = int(os.environ.get("GONGWEI_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = dt.timedelta(minutes=int(os.environ.get("GONGWEI_LOCKOUT_MINUTES", "30")))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "gongwei/lockout.html"
AXES_VERBOSE = False

# Idle timeout: a session ends after this many minutes without a request (requests renew it) and when the
# browser closes — shared front-desk PCs are common in clinics. A request renews it when the last renewal is
# older than GONGWEI_SESSION_RENEW_SECONDS (gongwei.web.middleware.SessionRenewalMiddleware), not on every
# request: writing the session was a signed encoding, an UPDATE and a commit on every page (issue 11). So the
# session ends between AGE − RENEW and AGE after the last request.
SESSION_COOKIE_AGE = 60 * int(os.environ.get("GONGWEI_IDLE_MINUTES", "30"))
SESSION_RENEW_SECONDS = int(os.environ.get("GONGWEI_SESSION_RENEW_SECONDS", "60"))
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Over HTTPS (always in production): cookies only over TLS, HSTS, redirect plain HTTP, a strict CSP.
HTTPS = os.environ.get("GONGWEI_HTTPS", "1" if PRODUCTION else "0") == "1"
if HTTPS:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 365 * 24 * 3600
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if os.environ.get("GONGWEI_BEHIND_PROXY", "0") == "1":  # a TLS-terminating reverse proxy in front
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every asset is served from this host (no CDN on the health private network), so 'self' is all a page needs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
) if HTTPS else ""

# --- logging: every 500 with its traceback, on stderr and in DATA_DIR/logs -------------------------------
LOG_DIR = DATA_DIR / "logs"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
        "file": {"class": "gongwei.web.logs.PrivateRotatingFileHandler", "formatter": "plain",
                 "filename": str(LOG_DIR / "gongwei.log"), "maxBytes": 10 * 1024 * 1024, "backupCount": 10,
                 "delay": True, "encoding": "utf-8"},
    },
    "loggers": {
        "django.request": {"handlers": ["console", "file"], "level": "ERROR", "propagate": False},
        "django.security": {"handlers": ["console", "file"], "level": "WARNING", "propagate": False},
        "axes": {"handlers": ["file"], "level": "WARNING", "propagate": False},
        "gongwei": {"handlers": ["console", "file"], "level": "WARNING", "propagate": False},
    },
}

# --- background jobs (docs/adr/018-background-jobs.md) ---------------------------------------------------
# Huey keeps its queue in a SQLite file beside the database by default (nothing to install, survives a
# restart); with GONGWEI_REDIS_URL set (e.g. redis://127.0.0.1:6379/0) it uses Redis. Never ``immediate``:
# a job run inside the request would hold the page for minutes.
REDIS_URL = os.environ.get("GONGWEI_REDIS_URL", "").strip()
HUEY = {
    "name": os.environ.get("GONGWEI_QUEUE_NAME", "gongwei"),
    "huey_class": "huey.RedisHuey" if REDIS_URL else "gongwei.jobs.queue.SqliteHuey",
    "immediate": False,
    "results": False,  # a job's outcome lives in its Job row, not in the queue
    "utc": False,  # the nightly refresh runs at local time (TIME_ZONE)
    "connection": {"url": REDIS_URL} if REDIS_URL else {"filename": str(DATA_DIR / "queue.sqlite3")},
    "consumer": {"workers": int(os.environ.get("GONGWEI_WORKERS", "2")), "worker_type": "thread"},
}
# When the nightly refresh (snapshot, indicators, QC findings) starts, local time HH:MM.
NIGHTLY_REFRESH_AT = os.environ.get("GONGWEI_NIGHTLY_AT", "02:00")
# A job "running" longer than this (hours) is taken as interrupted and marked failed when a worker starts or
# the nightly refresh runs (a job whose worker process on this host is gone is marked at once).
JOB_STUCK_AFTER_HOURS = float(os.environ.get("GONGWEI_JOB_STUCK_HOURS", "12"))
JOB_DIR = DATA_DIR / "jobs"  # output files of jobs (workbooks, import reports), one folder per job

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"

# --- rendered page fragments (issue 10, docs/adr/029-cached-page-fragments.md) -----------------------------
# The dashboard's bulletin table is rendered once per key (unit, snapshot, stored result files, period, masking,
# language) and kept here: in each worker's memory by default, in Redis (shared by the workers) when
# GONGWEI_REDIS_URL is set. A new snapshot or result is a new key; the timeout only bounds memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "pages": ({"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL,
               "KEY_PREFIX": "gongwei-pages", "TIMEOUT": 24 * 3600}
              if REDIS_URL else
              {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "gongwei-pages",
               "TIMEOUT": 24 * 3600, "OPTIONS": {"MAX_ENTRIES": 200}}),
}
