"""Every view of personal data is audited — from the command line and the web — and one query answers
"who looked at this resident". Masked roles see ages, never a birth date beside a masked identity number."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import re

import pytest
from django.utils import timezone

from gongwei.cli.main import main
from gongwei.records import models as m
from gongwei.service import access, analysis, audit
from gongwei.spec.vocab import AccessKind
from tests.web_fixtures import COUNTY, TOWNSHIP, client_for

OWN = "36042610020100001"  # 北门村, 蒲亭镇


@pytest.fixture
def region(web_region):
    return web_region


def _resident(no: str) -> m.Resident:
    return m.Resident.objects.get(record_no=no)


def test_command_line_views_are_audited_with_the_os_user_and_the_people(region, capsys):
    snap = str(region["snapshot"].folder)
    assert main(["roster", "--org", TOWNSHIP, "--as-of", "2024-12-31", "--snapshot", snap]) == 0
    assert main(["worklist", "--org", TOWNSHIP, "--as-of", "2024-12-31", "--upcoming", "--snapshot", snap]) == 0
    assert main(["gaps", "--indicator", "H2", "--org", COUNTY, "--period", "2024", "--snapshot", snap]) == 0
    capsys.readouterr()
    logs = {log.kind: log for log in m.AccessLog.objects.all()}
    assert {AccessKind.ROSTER, AccessKind.WORKLIST, AccessKind.GAPS} <= set(logs)
    for log in logs.values():
        assert log.address == access.COMMAND_LINE and log.os_user == getpass.getuser() and log.user is None
        assert log.path.startswith("gongwei ") and log.count == log.people.count() > 0
    roster = logs[AccessKind.ROSTER]
    assert roster.scope == TOWNSHIP and roster.count == 6  # 蒲亭镇: two villages × three hypertensive residents


def test_who_viewed_this_resident_is_one_query(region, django_assert_max_num_queries):
    own = _resident(OWN)
    snap = str(region["snapshot"].folder)
    ts = access.for_user(region["users"]["ts"], address="10.1.2.3", path="/x")
    analysis.roster(ts, TOWNSHIP, dt.date(2024, 12, 31), snapshot=snap)
    client_for("vd").get(f"/admin/records/resident/{own.pk}/change/")
    with django_assert_max_num_queries(1):
        seen = [(log.user.username if log.user else log.os_user, log.kind, log.address)
                for log in audit.who_viewed(own.pk, since=timezone.now() - dt.timedelta(days=30))]
    assert ("ts", AccessKind.ROSTER, "10.1.2.3") in seen
    assert ("vd", AccessKind.RECORD, "127.0.0.1") in seen


def test_admin_list_and_search_pages_are_audited_with_the_people_shown(region):
    c = client_for("ts")
    c.get("/admin/records/resident/")
    listed = m.AccessLog.objects.get(kind=AccessKind.LIST, user=region["users"]["ts"])
    assert listed.count == 6 and listed.address == "127.0.0.1"
    c.get("/admin/records/resident/", {"q": "居民00"})
    searched = m.AccessLog.objects.get(kind=AccessKind.SEARCH)
    assert "居民00" in searched.purpose
    assert list(searched.people.values_list("resident__record_no", flat=True)) == [OWN]


def test_a_masked_role_sees_ages_and_masked_numbers_never_a_birth_date(region, capsys):
    snap = str(region["snapshot"].folder)
    assert main(["--as", "sup", "roster", "--org", COUNTY, "--as-of", "2024-12-31", "--snapshot", snap,
                 "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and all(re.fullmatch(r"\d+岁", r["birth_date"]) for r in rows)
    assert main(["--as", "ts", "roster", "--org", TOWNSHIP, "--as-of", "2024-12-31", "--snapshot", snap,
                 "--format", "json"]) == 0
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", r["birth_date"]) for r in json.loads(capsys.readouterr().out))
    sup_log = m.AccessLog.objects.get(user=region["users"]["sup"])
    assert sup_log.os_user == getpass.getuser() and sup_log.scope == COUNTY


def test_a_login_asking_outside_its_unit_is_refused_in_one_sentence(region, capsys):
    snap = str(region["snapshot"].folder)
    assert main(["--as", "vd", "gaps", "--indicator", "H2", "--org", COUNTY, "--period", "2024",
                 "--snapshot", snap]) == 2
    err = capsys.readouterr().err.strip()
    assert "不在您的权限范围内" in err and "德安县" in err and "Traceback" not in err
    assert not m.AccessLog.objects.exists()  # refused before anything was shown
    assert main(["--as", "nobody", "roster", "--org", COUNTY, "--snapshot", snap]) == 2
    assert "登录名“nobody”不存在" in capsys.readouterr().err
