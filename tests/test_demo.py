"""``gongwei demo --no-serve``: migrates, builds a region of 崆峒区 (平凉市, 甘肃省) when the database is empty, runs
the first quality evaluation, creates one login per role and prints the page each opens first."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gongwei.cli import demo
from gongwei.cli.main import build_parser, main
from gongwei.quality.models import Finding, FindingStatus
from gongwei.records import entry, scoping
from gongwei.records import models as m
from gongwei.spec import vocab as v
from gongwei.synth import org, pingliang
from gongwei.synth.config import SynthConfig

GENERIC = re.compile(r"^第[一二三四五六七八九十百零]+(村|社区|镇)$")


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
    assert main(["demo", "--no-serve", "--residents", "5000", "--seed", "7", "--port", "8123"]) == 0
    out = capsys.readouterr().out
    check_pingliang_findings_and_start_pages(out)
    assert "用户名" in out and "密码" in out and "角色" in out and "所属机构" in out
    assert "首次计算" in out and "发现" in out and "指标" in out
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
    # the village doctor works in a village clinic of 崆峒镇 (the smallest demo region's one township)
    vd = User.objects.get(username="village_doctor")
    assert m.Staff.objects.get(user=vd).org_unit.name.endswith("村卫生室")
    # the village doctor sees only its village's residents
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


def check_pingliang_findings_and_start_pages(out: str) -> None:
    # places: 甘肃省 › 平凉市 › 崆峒区 › its real townships › their villages (real or plainly numbered)
    units = {u.code: u for u in m.OrgUnit.objects.all()}
    assert units["620000000000"].name == "甘肃省卫生健康委员会"
    assert units["620800000000"].name == "平凉市卫生健康委员会"
    assert units["620802000000"].name == "崆峒区卫生健康局"
    assert all(code.startswith("6208") for code in units if code != "620000000000")
    # codes published for 崆峒区's townships (统计用区划代码)
    assert units["620802101000"].name == "崆峒镇卫生院"
    assert units["620802101200"].name == "祁河村卫生室"
    listed = {f"620802{t3}000": (tname, set(villages.split()))
              for t3, tname, villages in pingliang.TOWNSHIPS["620802"]}
    townships = [u for u in units.values() if u.level == v.OrgLevel.TOWNSHIP]
    villages = [u for u in units.values() if u.level == v.OrgLevel.VILLAGE]
    assert len(townships) == 1 and len(villages) >= 2  # a small region: one town and its villages
    for t in townships:
        tname, _ = listed[t.code]
        assert t.name in (f"{tname}卫生院", f"{tname}社区卫生服务中心")
    generic = 0
    for village in villages:
        _, real = listed[village.parent.code]
        place = re.sub("(卫生室|卫生服务站)$", "", village.name)
        assert place in real or GENERIC.match(place), village.name
        generic += place not in real
        assert village.code[:9] == village.parent.code[:9]
        assert (int(village.code[9:]) < 200) == place.endswith("社区"), village.code
    assert generic < len(villages)
    addresses = m.Resident.objects.values_list("address", flat=True)[:50]
    assert all(re.match(r"^崆峒镇", a) for a in addresses)

    # the first evaluation left open findings, and township staff see theirs in the ledger
    assert Finding.objects.filter(status=FindingStatus.OPEN).exists()
    staff = m.Staff.objects.get(code="DEMO-TS")
    assert Finding.objects.filter(org_unit__path__startswith=staff.org_unit.path).exists()

    # one start page per login, printed as a URL on the demo server, and each opens for that login
    for login in demo.DEMO_LOGINS:
        path, _what = demo.START_PAGES[login.username]
        assert f"{login.username}：http://127.0.0.1:8123{path}" in out
        c = Client()
        c.force_login(get_user_model().objects.get(username=login.username))
        response = c.get(path, follow=True)  # "/" lands on the unit's dashboard, which must have figures
        assert response.status_code == 200, (login.username, path)
    c = Client()
    c.force_login(get_user_model().objects.get(username="township_staff"))
    listed_open = c.get("/admin/quality/finding/?status__exact=open").context["cl"].result_count
    assert listed_open == Finding.objects.filter(org_unit__path__startswith=staff.org_unit.path,
                                                 status=FindingStatus.OPEN).count() > 0
    # the first computation stored the duplicate review queue: the supervisor's review page has it (no 409)
    c.force_login(get_user_model().objects.get(username="supervisor"))
    county = m.Staff.objects.get(code="DEMO-SV").org_unit.code
    assert c.get(f"/unit/{county}/duplicates/").status_code == 200


def test_listed_places_are_deterministic_and_numbered_past_the_list():
    def tree(seed: int, residents: int):
        region, _ = org.build_region(np.random.Generator(np.random.PCG64(seed)), SynthConfig(), residents, 1930, 2026)
        return region

    demo_sized = tree(5, demo.DEFAULT_RESIDENTS)  # three townships: a town, a sub-district, a Hui township
    units = dict(zip(demo_sized.org_units.column("code").to_pylist(), demo_sized.org_units.column("name").to_pylist(),
                     strict=True))
    # codes published for 崆峒区's townships and two communities (统计用区划代码)
    assert units["620802002000"] == "中街街道社区卫生服务中心" and units["620802101000"] == "崆峒镇卫生院"
    assert units["620802205000"] == "西阳回族乡卫生院"
    assert units["620802002001"] == "东大街社区卫生服务站" and units["620802002002"] == "南河道社区卫生服务站"
    assert units["620802205200"] == "中营村卫生室"
    assert len(demo_sized.township_code) == 3 and demo_sized.village_urban.any() and not demo_sized.village_urban.all()

    a, b = tree(5, 2_000_000), tree(5, 2_000_000)
    assert a.org_units.equals(b.org_units)
    names = a.org_units.column("name").to_pylist()
    codes = a.org_units.column("code").to_pylist()
    assert len(set(codes)) == len(codes) and all(c.startswith("6208") for c in codes[1:])
    assert set(a.county_name) == {"崆峒区", "泾川县", "灵台县", "崇信县", "华亭市", "庄浪县", "静宁县"}
    # 崇信县 has seven townships; a city of two million needs more, and they are plainly numbered
    chongxin = [str(n) for n, c in zip(a.township_name, a.township_code, strict=True) if c.startswith("620823")]
    assert "锦屏镇" in chongxin and any(GENERIC.match(n) for n in chongxin)
    for n in a.village_name:
        assert not str(n).endswith(("街道", "镇")) and (str(n).endswith(("村", "社区")))
    assert "甘肃省卫生健康委员会" in names
    assert org.chinese_ordinal(15) == "第十五" and org.chinese_ordinal(105) == "第一百零五"


@pytest.mark.django_db(transaction=True)
def test_demo_evaluates_a_demo_database_that_has_no_findings_yet(capsys):
    # a demo database built before the demo ran its first evaluation: region and marker, no findings
    from django.core.management import call_command

    from gongwei.records import demo as demo_marker

    call_command("migrate", interactive=False, verbosity=0)
    demo_marker.mark_demo_database()
    demo.build_region(300, 3)
    assert not Finding.objects.exists()
    assert main(["demo", "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "不再生成演示地区" in out and "尚无质控问题" in out
    assert Finding.objects.exists()
