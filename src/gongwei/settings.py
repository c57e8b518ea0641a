"""Django settings, configured from the environment.

With nothing set, gongwei uses an embedded SQLite file under ``$GONGWEI_DATA_DIR`` (default ``./data``).
``DATABASE_URL`` (e.g. ``postgres://user@127.0.0.1:5432/gongwei``) selects another database.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("GONGWEI_DATA_DIR", Path.cwd() / "data")).resolve()

SECRET_KEY = os.environ.get("GONGWEI_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
DEBUG = os.environ.get("GONGWEI_DEBUG", "0") == "1"
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gongwei.web.middleware.ChineseByDefaultLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
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
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        config = {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "gongwei.sqlite3"),
        }
    if config["ENGINE"].endswith("sqlite3"):
        # WAL lets the demo server read while a bulk load writes; NORMAL sync is safe with WAL.
        config.setdefault("OPTIONS", {})["init_command"] = (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        )
        config["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
        config.setdefault("TEST", {})["NAME"] = os.environ.get("GONGWEI_TEST_SQLITE", "")
    elif os.environ.get("GONGWEI_TEST_DB_NAME"):
        # parallel test runs on one PostgreSQL server each get their own test database
        config.setdefault("TEST", {})["NAME"] = os.environ["GONGWEI_TEST_DB_NAME"]
    return config


DATABASES = {"default": _database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

LOGIN_URL = "admin:login"
