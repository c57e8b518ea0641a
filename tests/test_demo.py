"""``gongwei demo --no-serve``: migrates, builds a region when the database is empty, creates one login per role."""

from __future__ import annotations

import pyarrow as pa
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gongwei.cli import demo
from gongwei.cli.main import build_parser, main
from gongwei.records import entry, scoping
from gongwei.records import models as m


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_demo_help_is_chinese():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    text = sub.choices["demo"].format_help()
    assert "--residents" in text and "--no-serve" in text and "居民人数" in text and "监听地址" in text


@pytest.mark.django_db(transaction=True)
def test_demo_no_serve_creates_region_and_one_login_per_role(capsys):
    assert main(["demo", "--no-serve", "--residents", "300", "--seed", "7"]) == 0
    out = capsys.readouterr().out
    assert "用户名" in out and "密码" in out and "角色" in out and "所属机构" in out
    assert m.OrgUnit.objects.exists() and m.Resident.objects.exists()
    User = get_user_model()
    for login in demo.DEMO_LOGINS:
        assert login.username in out
        user = User.objects.get(username=login.username)
        staff = m.Staff.objects.get(user=user)
        assert staff.role == login.role
        expected_level = {"top": None}.get(login.level, login.level)
        if expected_level:
            assert staff.org_unit.level == expected_level
        else:
            assert staff.org_unit.parent_id is None
        assert user.groups.count() == 1
    # the village doctor sees only its village's residents
    vd = User.objects.get(username="village_doctor")
    scope = scoping.scope_for(vd)
    visible = set(scoping.scope_queryset(m.Resident.objects.all(), vd).values_list("pk", flat=True))
    village = m.Staff.objects.get(user=vd).org_unit
    assert village.level == "village"
    # a resident registered at the township above the village: in the region, outside the doctor's subtree
    township = village.parent
    entry.submit({"residents": pa.table({
        "record_no": [f"{township.code}99999"], "name": ["乡级居民"], "sex": ["1"], "birth_date": ["1960-01-01"],
        "managing_unit": [township.code], "residence_type": ["1"]})}, actor="test", kind="import")
    visible = set(scoping.scope_queryset(m.Resident.objects.all(), vd).values_list("pk", flat=True))
    # worked out without the scoping module: residents managed by the doctor's own village clinic
    own = {r.pk for r in m.Resident.objects.select_related("managing_unit") if r.managing_unit.code == village.code}
    assert own and visible == own and len(own) < m.Resident.objects.count()
    assert scope.path == village.path and not scope.everything
    c = Client()
    assert c.post("/admin/login/?next=/admin/",
                  {"username": "village_doctor", "password": demo.DEMO_PASSWORD}).status_code == 302
    assert c.get("/admin/records/resident/").status_code == 200

    # idempotent: a second run builds nothing and creates no second set of logins
    users, units, residents = User.objects.count(), m.OrgUnit.objects.count(), m.Resident.objects.count()
    assert main(["demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "不再生成演示地区" in out
    assert (User.objects.count(), m.OrgUnit.objects.count(), m.Resident.objects.count()) == (users, units, residents)
    assert m.Staff.objects.filter(code__startswith="DEMO-").count() == len(demo.DEMO_LOGINS)


def test_format_table_aligns_chinese():
    text = demo.format_table(["用户名", "角色"], [["vd", "乡村医生"], ["sysadmin", "系统管理员"]])
    lines = text.splitlines()
    assert lines[0].startswith("用户名") and len(lines) == 4
    # the second column starts at the same display column on every line
    starts = {demo._width(line[:line.index(second)]) for line, second in zip(
        [lines[0], lines[2], lines[3]], ["角色", "乡村医生", "系统管理员"], strict=True)}
    assert starts == {10}
