"""No lost updates (issue 9 point 5, ADR 015): every editable row carries a version; a stale save is refused.

A row starts at version 1 and every update through the entry layer (import, admin form, close, move) moves it
on by one with a compare-and-set (``UPDATE ... WHERE version = expected``). The admin change form posts back
the version it was loaded at; if the row moved on meanwhile the save is refused with the changes made since
(field: old → new, who, when), and nothing is written.
"""

from __future__ import annotations

import datetime as dt
import html as htmllib
import threading

import pyarrow as pa
import pytest

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.records.schema import tables
from gongwei.testing import TEST_DB
from tests.test_unit_locks import _client, _form_of, _in_thread, _region, run_in_sqlite_file

OWN = "36042610020100001"  # 北门村, the village doctor vd's own resident
OLD_ADDRESS = "360426100201号"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def region(db):
    _region()


def _row(resident: m.Resident, **changes) -> dict[str, pa.Table]:
    row = {**entry.instance_row(resident), **changes}
    return {"residents": pa.table({k: pa.array([val], pa.string()) for k, val in row.items()})}


def own() -> m.Resident:
    return m.Resident.objects.get(record_no=OWN)


def test_rows_start_at_version_one_and_every_update_moves_it_on(region):
    for table in tables().values():  # every table of the exchange schema: all written rows at 1
        versions = set(table.model.objects.values_list("version", flat=True).distinct())
        assert versions <= {1}, table.name
    assert m.Resident.objects.count() and m.ChronicFollowUp.objects.count() and m.OrgUnit.objects.count()
    r = own()
    entry.submit(_row(r, address="新地址"), actor="importer", kind="import")
    r.refresh_from_db()
    assert (r.address, r.version) == ("新地址", 2)
    log = m.ChangeLog.objects.get(model="records.Resident", object_pk=str(r.pk), action="update")
    assert log.version == 2 and log.after == {"address": "新地址"}
    # the same data again changes nothing, so the version stays
    entry.submit(_row(r), actor="importer", kind="import")
    r.refresh_from_db()
    assert r.version == 2
    entry.close_resident(r, "dead", dt.date(2024, 5, 1), "死亡", actor_user=None)
    r.refresh_from_db()
    assert (r.status, r.version) == ("dead", 3)
    assert m.ChangeLog.objects.get(model="records.Resident", object_pk=str(r.pk), action="close").version == 3


def test_the_change_form_carries_the_version_it_was_loaded_at(region):
    c = _client("vd")
    _url, data = _form_of(c, OWN)
    assert data["loaded_version"] == "1"
    # a read-only role has nothing to save: no version field on its page
    r = own()
    page = _client("sup").get(f"/admin/records/resident/{r.pk}/change/").content.decode()
    assert page.count("<h1>") == 1 and "loaded_version" not in page and "版本" not in page


def test_a_stale_admin_save_is_refused_with_what_changed_and_nothing_is_written(region):
    vd, ts = _client("vd"), _client("ts")
    url, stale = _form_of(vd, OWN, name="改名甲")  # vd opens the page at version 1 ...
    _url, other = _form_of(ts, OWN, address="新地址乙")  # ... and so does the township's staff member
    assert stale["loaded_version"] == other["loaded_version"] == "1"
    assert ts.post(url, other).status_code == 302  # who saves first wins: version 2
    logs, batches = m.ChangeLog.objects.count(), m.LoadBatch.objects.count()

    response = vd.post(url, stale)
    assert response.status_code == 200
    page = htmllib.unescape(response.content.decode())
    assert "保存被拒绝" in page and "第 1 版" in page and "第 2 版" in page
    assert f"现住址：{OLD_ADDRESS} → 新地址乙" in page  # what changed meanwhile: field, old → new
    assert "ts 于 " in page  # ... who and when
    r = own()
    assert (r.name, r.address, r.version) == ("居民00", "新地址乙", 2)
    assert (m.ChangeLog.objects.count(), m.LoadBatch.objects.count()) == (logs, batches)

    # reopened, the page carries version 2 and the same edit saves, keeping the other change
    url, fresh = _form_of(vd, OWN, name="改名甲")
    assert fresh["loaded_version"] == "2"
    assert vd.post(url, fresh).status_code == 302
    r = own()
    assert (r.name, r.address, r.version) == ("改名甲", "新地址乙", 3)
    log = m.ChangeLog.objects.filter(model="records.Resident", object_pk=str(r.pk)).order_by("-id").first()
    assert log.version == 3 and log.after == {"name": "改名甲"} and log.actor.username == "vd"


def test_check_version_names_the_changes_and_masks_identifiers(region):
    from django.contrib.auth import get_user_model

    r = own()
    entry.check_version(m.Resident, r.pk, 1)  # fresh: no refusal
    entry.submit(_row(r, phone="13999998888"), actor="ts", kind="entry")
    with pytest.raises(entry.StaleVersion) as caught:
        entry.check_version(m.Resident, r.pk, 1)
    exc = caught.value
    assert (exc.expected, exc.current, len(exc.changes)) == (1, 2, 1)
    assert exc.issues[0].field == "version" and exc.issues[0].rule == "stale_version"
    # without a user (an import report) identifiers are masked; a role that sees them gets them in full
    assert "13999998888" not in exc.describe() and "本人电话：" in exc.describe()
    vd = get_user_model().objects.get(username="vd")
    assert "本人电话：13800000034 → 13999998888" in exc.describe(vd)


def test_a_submit_from_a_stale_version_writes_nothing(region):
    r = own()
    entry.submit(_row(r, address="先到"), actor="a", kind="entry")
    logs, batches = m.ChangeLog.objects.count(), m.LoadBatch.objects.count()
    with pytest.raises(entry.StaleVersion):
        entry.submit(_row(r, address="后到", name="也改了"), actor="b", kind="entry",
                     expected_versions={"residents": {r.pk: 1}})
    r.refresh_from_db()
    assert (r.address, r.name, r.version) == ("先到", "居民00", 2)
    assert (m.ChangeLog.objects.count(), m.LoadBatch.objects.count()) == (logs, batches)


def test_a_stale_move_of_a_unit_is_refused(region):
    village = m.OrgUnit.objects.get(code="360426100202")
    stale = m.OrgUnit.objects.get(pk=village.pk)
    entry.submit({"org_units": pa.table({k: pa.array([val], pa.string()) for k, val in
                                         {**entry.instance_row(village), "name": "南门村卫生室（新）"}.items()})},
                 actor="a", kind="entry")
    with pytest.raises(entry.StaleVersion):
        entry.move_org_unit(stale, m.OrgUnit.objects.get(code="360426200000"))
    village.refresh_from_db()
    assert village.parent.code == "360426100000" and village.version == 2


# --- two saves from the same version at the same moment ------------------------------------------
def scenario_race() -> dict:
    """Two submits, then two closes, each pair starting from the same version at once (a barrier)."""
    _region()
    r = own()
    rows = {name: _row(r, name=name) for name in ("甲", "乙")}
    barrier = threading.Barrier(2)
    saves: dict = {}

    def save(name):
        def run():
            barrier.wait(30)
            try:
                entry.submit(rows[name], actor=name, kind="entry", expected_versions={"residents": {r.pk: 1}})
                return "saved"
            except entry.StaleVersion:
                return "stale"
        return run

    threads = [_in_thread(save(name), saves, name) for name in rows]
    for t in threads:
        t.join(60)
    after_saves = own()
    loaded = [own(), own()]  # two pages opened at the same version
    closes: dict = {}
    barrier = threading.Barrier(2)

    def close(i):
        def run():
            barrier.wait(30)
            try:
                entry.close_resident(loaded[i], "moved_out", dt.date(2024, 6, 1), f"第{i}次")
                return "closed"
            except entry.StaleVersion:
                return "stale"
        return run

    threads = [_in_thread(close(i), closes, str(i)) for i in range(2)]
    for t in threads:
        t.join(60)
    final = own()
    return {
        "saves": sorted(saves.values()), "name": after_saves.name, "saved_version": after_saves.version,
        "winner": next(k for k, val in saves.items() if val == "saved") if "saved" in saves.values() else None,
        "closes": sorted(closes.values()), "final_version": final.version, "status": final.status,
        "close_logs": m.ChangeLog.objects.filter(model="records.Resident", object_pk=str(r.pk), action="close").count(),
        "update_logs": m.ChangeLog.objects.filter(model="records.Resident", object_pk=str(r.pk), action="update").count(),
    }


def test_two_racing_saves_from_one_version_exactly_one_wins(transactional_db, tmp_path):
    result = scenario_race() if TEST_DB == "postgres" else run_in_sqlite_file("test_versions", "scenario_race", tmp_path)
    assert result["saves"] == ["saved", "stale"], result
    assert result["name"] == result["winner"] and result["saved_version"] == 2 and result["update_logs"] == 1
    assert result["closes"] == ["closed", "stale"], result
    assert (result["final_version"], result["status"], result["close_logs"]) == (3, "moved_out", 1)


SCENARIOS = {"scenario_race": scenario_race}
