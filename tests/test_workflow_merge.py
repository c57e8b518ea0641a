"""Merging duplicates keeps every encounter and every version; unmerging restores the database exactly."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps

from gongwei.quality import services
from gongwei.records import entry
from gongwei.records import models as m
from tests.regions import ORG_UNITS, t

pytestmark = pytest.mark.django_db

RESIDENTS = t(record_no=["A", "B", "C"], name=["张三", "张叁", "李四"], sex=["1", "1", "2"],
              birth_date=["1950-03-04"] * 2 + ["1960-01-01"], managing_unit=["360426100201"] * 3,
              residence_type=["1"] * 3, id_number=["", "", ""])


def _region():
    entry.submit({
        "org_units": ORG_UNITS, "residents": RESIDENTS,
        "health_records": t(resident=["A", "B"], created_on=["2020-01-01", "2021-01-01"],
                            created_by_unit=["360426100201"] * 2),
        "staff": t(code=["S1"], org_unit=["360426100201"], role=["village_doctor"], name=["王医生"]),
        "teams": t(code=["T1"], name=["一队"], org_unit=["360426100201"], lead=["S1"]),
        "enrollments": t(enrollment_no=["EA", "EB"], resident=["A", "B"], program=["hypertension"] * 2,
                         org_unit=["360426100201"] * 2, start_date=["2024-01-01", "2024-06-01"]),
        "chronic_follow_ups": t(encounter_no=["FA1", "FB1", "FB2"], resident=["A", "B", "B"],
                                org_unit=["360426100201"] * 3, service_date=["2025-01-05", "2025-02-05", "2025-05-05"],
                                enrollment=["EA", "EB", "EB"], program=["hypertension"] * 3, mode=["1"] * 3),
        "health_examinations": t(encounter_no=["XB"], resident=["B"], org_unit=["360426100201"],
                                 service_date=["2025-03-03"], trigger=["hypertension"]),
        "contracts": t(contract_no=["CB"], resident=["B"], team=["T1"], start_date=["2025-01-01"],
                       end_date=["2025-12-31"]),
    }, actor="test", kind="test")


HISTORY = {"records.ChangeLog", "records.LoadBatch", "records.AccessLog", "quality.Merge",
           "quality.Finding", "quality.FindingTransition"}


def _every_row(*, versions: bool = False) -> dict[str, list[dict]]:
    """Every row of the records app; without ``versions``, the version column left out (a merge and its undoing
    each move every row they change to its next version, so a form opened in between is refused as stale)."""
    out = {}
    for model in apps.get_app_config("records").get_models():
        if model._meta.label in HISTORY:
            continue
        rows = [r if versions else {k: x for k, x in r.items() if k != "version"} for r in model.objects.values()]
        out[model._meta.label] = sorted(rows, key=lambda r: str(r.get("id", r)))
    return out


def test_merge_moves_everything_and_unmerge_restores_every_row():
    _region()
    a, b = m.Resident.objects.get(record_no="A"), m.Resident.objects.get(record_no="B")
    before = _every_row()
    record = services.merge(a, b, reason="同一人重复建档")
    b.refresh_from_db()
    assert (b.status, b.merged_into_id) == ("merged", a.pk)
    assert set(m.ChronicFollowUp.objects.filter(resident=a).values_list("encounter_no", flat=True)) == {"FA1", "FB1", "FB2"}
    assert m.HealthExamination.objects.get(encounter_no="XB").resident_id == a.pk
    assert m.Contract.objects.get(contract_no="CB").resident_id == a.pk
    assert m.Enrollment.objects.get(enrollment_no="EB").resident_id == a.pk
    # nothing lost: the duplicate and its 个人基本信息表 are still there
    assert m.HealthRecord.objects.filter(resident=b).exists()
    assert sum(len(v) for v in before.values()) == sum(len(v) for v in _every_row().values())
    assert m.ChangeLog.objects.filter(action="merge", model="records.Resident").count() == 2
    services.unmerge(record, reason="误合并")
    assert _every_row() == before
    assert m.ChangeLog.objects.filter(action="unmerge", model="records.Resident").count() == 1


def test_merge_and_unmerge_move_every_changed_row_to_its_next_version_with_a_change_log():
    _region()
    a, b = m.Resident.objects.get(record_no="A"), m.Resident.objects.get(record_no="B")
    moved = {"records.ChronicFollowUp": ["FB1", "FB2"], "records.HealthExamination": ["XB"],
             "records.Contract": ["CB"], "records.Enrollment": ["EB"]}
    untouched = _every_row(versions=True)
    record = services.merge(a, b, reason="同一人重复建档")
    after = _every_row(versions=True)
    changed = {label: sorted(r["id"] for r in rows if r not in untouched[label]) for label, rows in after.items()}
    changed = {k: v for k, v in changed.items() if v}
    # exactly the duplicate and the rows re-pointed at the survivor changed, each by one version; A did not
    assert set(changed) == {"records.Resident", *moved}
    assert changed["records.Resident"] == [b.pk]
    b.refresh_from_db()
    a.refresh_from_db()
    assert (b.version, a.version) == (2, 1)
    for label, numbers in moved.items():
        model = apps.get_model(label)
        rows = model.objects.filter(pk__in=changed[label])
        assert len(changed[label]) == len(numbers) and {r.version for r in rows} == {2}, label
        for r in rows:  # each with its ChangeLog row: who, the merge, resident B → A, the version it produced
            log = m.ChangeLog.objects.get(model=label, object_pk=str(r.pk))
            assert (log.action, log.version, log.before, log.after) == ("merge", 2, {"resident_id": b.pk},
                                                                        {"resident_id": a.pk})
            assert "档案 B 合并至 A" in log.reason and "同一人重复建档" in log.reason
    assert m.ChangeLog.objects.get(model="records.Resident", object_pk=str(b.pk), action="merge").version == 2
    services.unmerge(record, reason="误合并")
    b.refresh_from_db()
    assert b.version == 3 and m.ChronicFollowUp.objects.get(encounter_no="FB1").version == 3
    assert m.ChangeLog.objects.filter(action="unmerge", version=3).count() == 1 + sum(map(len, moved.values()))


@pytest.mark.parametrize("opened_on", ["duplicate", "follow_up"])
def test_a_form_opened_before_a_merge_is_refused_as_stale_and_names_the_merge(opened_on):
    _region()
    a, b = m.Resident.objects.get(record_no="A"), m.Resident.objects.get(record_no="B")
    obj = b if opened_on == "duplicate" else m.ChronicFollowUp.objects.get(encounter_no="FB1")
    opened_at = obj.version  # the form is opened: it carries this version
    services.merge(a, b, reason="同一人重复建档")
    with pytest.raises(entry.StaleVersion) as refused:
        entry.check_version(type(obj), obj.pk, opened_at)
    message = refused.value.describe()
    assert "合并（档案 B 合并至 A：同一人重复建档）" in message and "第 2 版" in message
    # the save itself (compare-and-set in the entry layer) refuses the stale form too, and writes nothing
    if opened_on == "duplicate":
        obj.address = "表单上改的地址"
    else:
        obj.sbp = 133
    with pytest.raises(entry.StaleVersion, match="合并"):
        entry.submit_instance(obj, expected_version=opened_at)
    fresh = type(obj).objects.get(pk=obj.pk)
    assert fresh.version == 2
    if opened_on == "follow_up":
        assert fresh.resident_id == a.pk and fresh.sbp != 133  # the stale form did not undo the merge


def test_merge_rules():
    _region()
    a, b, c = (m.Resident.objects.get(record_no=x) for x in "ABC")
    with pytest.raises(services.WorkflowError):
        services.merge(a, a)
    record = services.merge(a, b)
    with pytest.raises(services.WorkflowError, match="已合并"):
        services.merge(c, b)
    later = services.merge(a, c)
    with pytest.raises(services.WorkflowError, match="较晚的合并"):
        services.unmerge(record)
    services.unmerge(later)
    services.unmerge(record)
    with pytest.raises(services.WorkflowError, match="已撤销"):
        services.unmerge(record)


def test_close_from_list_checks_everything_first():
    _region()
    rows = [{"record_no": "A", "status": "dead", "date": "2025-06-01", "reason": "脑卒中"},
            {"record_no": "ZZ", "status": "dead", "date": "2025-06-01", "reason": ""},
            {"record_no": "C", "status": "gone", "date": "2025-06-01", "reason": ""}]
    result = services.close_from_list(rows)
    assert result.closed == 0 and len(result.issues) == 2
    assert "档案编号“ZZ”不存在" in result.issues[0] and "结案状态“gone”无效" in result.issues[1]
    assert m.Resident.objects.get(record_no="A").status == "active"
    ok = services.close_from_list([rows[0], {"record_no": "C", "status": "moved_out", "date": "2025-07-01",
                                             "reason": "迁往外省"}])
    assert ok.closed == 2
    assert m.Resident.objects.get(record_no="C").status_date == dt.date(2025, 7, 1)
    assert m.ChangeLog.objects.filter(action="close").count() == 2
    assert m.Resident.objects.get(record_no="C").version == 2  # a form opened before the closing is stale
    assert m.ChangeLog.objects.get(action="close", object_pk=str(m.Resident.objects.get(record_no="C").pk)).version == 2
    assert m.ChronicFollowUp.objects.filter(resident__record_no="A").count() == 1  # nothing deleted


def test_merge_unmerge_and_close_from_the_command_line(tmp_path, capsys):
    from gongwei.cli.main import main

    _region()
    assert main(["merge", "A", "B", "--reason", "重复建档"]) == 0
    assert "已将 B 合并至 A" in capsys.readouterr().out
    assert main(["merge", "A", "B"]) == 2
    assert "已合并" in capsys.readouterr().err
    assert main(["unmerge", "B"]) == 0
    assert m.Resident.objects.get(record_no="B").status == "active"
    listing = tmp_path / "deaths.csv"
    listing.write_text("record_no,status,date,reason\nC,dead,2025-05-01,心梗\n", encoding="utf-8")
    assert main(["close", str(listing)]) == 0
    assert m.Resident.objects.get(record_no="C").status == "dead"


def _finding_rows(rows: list[tuple[str, str, int, m.Resident]]):
    """Engine-shaped findings: (rule, table, record id, the person the snapshot saw the record on)."""
    import json

    import pyarrow as pa

    return pa.table({
        "rule": [r[0] for r in rows], "table": [r[1] for r in rows], "record_id": [r[2] for r in rows],
        "record_no": [r[3].record_no for r in rows], "resident_id": [r[3].pk for r in rows],
        "org_unit_id": [r[3].managing_unit_id for r in rows], "values": [json.dumps({})] * len(rows),
        "message": ["问题"] * len(rows),
    })


def test_findings_follow_their_records_through_merge_and_unmerge():
    from gongwei.quality.models import Finding, FindingTransition

    _region()
    a, b = m.Resident.objects.get(record_no="A"), m.Resident.objects.get(record_no="B")
    exam = m.HealthExamination.objects.get(encounter_no="XB").pk
    fa1, fb1, fb2 = (m.ChronicFollowUp.objects.get(encounter_no=x).pk for x in ("FA1", "FB1", "FB2"))
    # before the merge: a finding on B's exam, one on B's follow-up FB1, one on B's record itself, one on A's FA1
    services.sync_findings(_finding_rows([("F-03", "health_examinations", exam, b), ("C-04", "chronic_follow_ups", fb1, b),
                                          ("ID-01", "residents", b.pk, b), ("C-04", "chronic_follow_ups", fa1, a)]),
                           snapshot_id="s1", period="2025", rulebook="x", rules=["F-03", "C-04", "ID-01"])

    def owner(rule: str, table: str, record_id: int) -> tuple[int, str]:
        f = Finding.objects.get(rule=rule, table=table, record_id=record_id)
        return f.resident_id, f.record_no

    record = services.merge(a, b, reason="重复建档")
    # the exam and FB1 now belong to A, and so do their findings; B's own record finding stays on B
    assert owner("F-03", "health_examinations", exam) == (a.pk, "A")
    assert owner("C-04", "chronic_follow_ups", fb1) == (a.pk, "A")
    assert owner("ID-01", "residents", b.pk) == (b.pk, "B")
    assert owner("C-04", "chronic_follow_ups", fa1) == (a.pk, "A")
    # an evaluation while merged finds FB2 on A (a finding first raised on the survivor)
    services.sync_findings(_finding_rows([("T-04", "chronic_follow_ups", fb2, a)]), snapshot_id="s2", period="2025",
                           rulebook="x", rules=["T-04"])
    services.unmerge(record, reason="误合并")
    # every moved row is back on B, so its findings point at B again: the two moved by the merge and FB2's,
    # which was never on B in the ledger; A's own FA1 finding stays on A
    assert owner("F-03", "health_examinations", exam) == (b.pk, "B")
    assert owner("C-04", "chronic_follow_ups", fb1) == (b.pk, "B")
    assert owner("T-04", "chronic_follow_ups", fb2) == (b.pk, "B")
    assert owner("ID-01", "residents", b.pk) == (b.pk, "B")
    assert owner("C-04", "chronic_follow_ups", fa1) == (a.pk, "A")
    # each move is on the finding's trail, status unchanged: 2 at the merge, 3 at the unmerge
    moves = FindingTransition.objects.filter(from_status="open", to_status="open")
    assert moves.filter(reason__contains="合并至 A").count() == 2
    assert moves.filter(reason__contains="转回 B").count() == 3
