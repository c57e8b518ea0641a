"""Accounts and sessions: strong passwords, Argon2, login throttling, idle timeout, production settings, logs."""

from __future__ import annotations

import logging
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.utils import timezone

from gongwei.cli.main import main
from gongwei.records import models as m
from gongwei.records.demo import is_demo_database

ROOT = Path(__file__).resolve().parents[1]
STRONG = "Gongwei-2026-strong"


def messages_for(password: str, **user) -> list[str]:
    try:
        validate_password(password, get_user_model()(**user))
    except ValidationError as exc:
        return list(exc.messages)
    return []


@pytest.mark.django_db
def test_weak_passwords_are_refused_with_the_rule_named_in_chinese():
    assert messages_for(STRONG, username="lihua") == []
    assert "密码太短：至少需要 10 个字符。" in messages_for("Ab1-x")
    assert any("太常见" in msg for msg in messages_for("password123"))
    assert "密码只包含数字。" in messages_for("20260101123456")
    # long enough but one character class short of three: lower-case letters and digits only
    assert messages_for("gongweiclinic2026") == ["密码须至少包含大写字母、小写字母、数字、其他符号中的 3 类。"]
    assert any("相似" in msg for msg in messages_for("Zhangweidong-1", username="zhangweidong"))


@pytest.mark.django_db
def test_passwords_are_hashed_with_argon2():
    user = get_user_model().objects.create_user("hasher", password=STRONG)
    assert user.password.startswith("argon2$")
    assert user.check_password(STRONG) and not user.check_password(STRONG + "x")


def login(client: Client, username: str, password: str):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password})


@pytest.fixture
def two_users(db):
    User = get_user_model()
    return [User.objects.create_user(name, password=STRONG, is_staff=True) for name in ("lockme", "colleague")]


def test_repeated_failures_lock_the_user_name_from_that_address(two_users, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for _ in range(4):
        assert login(client, "lockme", "wrong-password").status_code == 200  # the form again, with an error
    # a success before the limit resets the count
    assert login(client, "lockme", STRONG).status_code == 302
    client = Client()
    for _ in range(5):
        login(client, "lockme", "wrong-password")
    locked = login(client, "lockme", STRONG)  # even the right password is refused now
    assert locked.status_code == 429
    page = locked.content.decode()
    assert "登录已暂时锁定" in page and "请在 30 分钟后再试" in page and "公卫 gongwei 管理" in page
    assert "_auth_user_id" not in client.session
    # a colleague at the same clinic (same address) is not locked out
    assert login(Client(), "colleague", STRONG).status_code == 302


def test_an_idle_session_ends_and_each_request_renews_it(two_users, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60 and settings.SESSION_EXPIRE_AT_BROWSER_CLOSE
    client = Client()
    assert login(client, "colleague", STRONG).status_code == 302
    key = client.session.session_key
    first_expiry = Session.objects.get(session_key=key).expire_date
    assert client.get("/admin/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date >= first_expiry  # renewed by the request
    # thirty-one minutes without a request
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - timezone.timedelta(minutes=1))
    response = client.get("/admin/")
    assert response.status_code == 302 and response.url.startswith("/admin/login/")


def test_a_session_is_written_at_most_once_per_renewal_interval(two_users, settings):
    from django.contrib.sessions.backends.db import SessionStore

    from gongwei.web.middleware import SessionRenewalMiddleware

    assert settings.SESSION_RENEW_SECONDS == 60 and not settings.SESSION_SAVE_EVERY_REQUEST
    client = Client()
    assert login(client, "colleague", STRONG).status_code == 302
    key = client.session.session_key
    expiry = Session.objects.get(session_key=key).expire_date

    def session_writes() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/").status_code == 200
        return sum(1 for q in queries if q["sql"].startswith("UPDATE") and "django_session" in q["sql"])

    assert session_writes() == 0  # the login saved it a moment ago
    assert Session.objects.get(session_key=key).expire_date == expiry
    stored = SessionStore(session_key=key)
    stored[SessionRenewalMiddleware.MARK] -= 61  # the last renewal a minute and a second ago
    stored.save()
    expiry = Session.objects.get(session_key=key).expire_date
    assert session_writes() == 1
    assert Session.objects.get(session_key=key).expire_date > expiry  # renewed: the idle timeout starts again
    assert session_writes() == 0


def test_csp_header_is_sent_when_configured(db, settings):
    settings.CONTENT_SECURITY_POLICY = "default-src 'self'"
    response = Client().get("/admin/login/")
    assert response.headers["Content-Security-Policy"] == "default-src 'self'"
    settings.CONTENT_SECURITY_POLICY = ""
    assert "Content-Security-Policy" not in Client().get("/admin/login/").headers


def run_gongwei(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GONGWEI_", "DATABASE_URL", "DJANGO_"))}
    return subprocess.run([sys.executable, "-m", "gongwei.cli.main", *args], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={**base, "GONGWEI_DATA_DIR": str(tmp_path / "data"), **env})


def test_production_settings_pass_check_deploy(tmp_path):
    env = {"GONGWEI_DEPLOYMENT": "production", "GONGWEI_SECRET_KEY": secrets.token_urlsafe(64),
           "GONGWEI_ALLOWED_HOSTS": "gongwei.example.cn"}
    proc = run_gongwei(tmp_path, env, "manage", "check", "--deploy", "--fail-level", "WARNING")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "System check identified no issues" in proc.stdout


@pytest.mark.parametrize("key", ["", "dev-only-insecure-key-change-me-in-production", "short-key"])
def test_production_refuses_to_start_without_a_real_secret_key(tmp_path, key):
    env = {"GONGWEI_DEPLOYMENT": "production", "GONGWEI_SECRET_KEY": key}
    proc = run_gongwei(tmp_path, env, "manage", "check")
    assert proc.returncode != 0
    assert "GONGWEI_SECRET_KEY" in proc.stderr and "至少 50 个随机字符" in proc.stderr


def failing_view(request) -> HttpResponse:
    raise RuntimeError("测试用的故障：病历页崩溃")


urlpatterns = [path("boom/", failing_view)]


def test_a_500_is_logged_with_its_traceback_to_a_private_file(db, settings):
    settings.ROOT_URLCONF = __name__
    response = Client(raise_request_exception=False).get("/boom/")
    assert response.status_code == 500
    handler = next(h for h in logging.getLogger("django.request").handlers if hasattr(h, "baseFilename"))
    handler.flush()
    log = Path(handler.baseFilename)
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: 测试用的故障：病历页崩溃" in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
    assert stat.S_IMODE(log.parent.stat().st_mode) == 0o700


@pytest.mark.django_db(transaction=True)
def test_demo_refuses_to_create_logins_in_a_database_it_did_not_build(capsys):
    # a real database: one unit, no demo marker
    m.OrgUnit.objects.create(code="620000000000", name="甘肃省", level="province", kind="health_bureau", path="/")
    users = get_user_model().objects.count()
    assert main(["demo", "--no-serve"]) == 2
    err = capsys.readouterr().err
    assert "不是由 gongwei demo 建立的" in err and "不重置任何密码" in err
    assert get_user_model().objects.count() == users
    assert not is_demo_database()


@pytest.mark.django_db
def test_snapshots_refuse_the_development_key_outside_a_demo_database(settings, tmp_path, capsys):
    from django.core.exceptions import ImproperlyConfigured

    from gongwei.records.demo import mark_demo_database
    from gongwei.records.snapshot import take_snapshot

    settings.SECRET_KEY = settings.DEV_SECRET_KEY
    with pytest.raises(ImproperlyConfigured, match="GONGWEI_SECRET_KEY"):
        take_snapshot(tmp_path / "snapshots")
    assert not (tmp_path / "snapshots").exists() or not any((tmp_path / "snapshots").iterdir())  # nothing written
    assert main(["snapshot", "--out", str(tmp_path / "cli")]) == 2
    assert "请设置环境变量 GONGWEI_SECRET_KEY" in capsys.readouterr().err
    mark_demo_database()  # the demo may use the development key
    assert (take_snapshot(tmp_path / "snapshots") / "manifest.json").exists()
