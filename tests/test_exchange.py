"""Import/export of the exchange folder: good set, bad set, accept-valid, re-import, round trip, tampering."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pytest
from django.apps import apps

from gongwei.cli.main import main
from gongwei.exchange import exporter, layout
from gongwei.exchange.importer import import_dir
from gongwei.records import models as m
from gongwei.records.schema import tables
from gongwei.spec.vocab import IdStatus
from tests.regions import ORG_UNITS, t

pytestmark = pytest.mark.django_db

LIN = "360426200000"  # 林泉乡卫生院
PU = "360426100000"  # 蒲亭镇卫生院


# --- a small, complete set ------------------------------------------------------------------------------
def good_set() -> dict[str, pa.Table]:
    return {
        "org_units": ORG_UNITS.append_column("is_active", pa.array(["1"] * 7 + ["0"])),
        "staff": t(code=["S001", "S002", "S003"], org_unit=["360426100201", PU, "360426200201"],
                   role=["village_doctor", "township_staff", "village_doctor"], name=["刘医生", "陈医生", "周医生"],
                   phone=["13800000001", "", ""]),
        "teams": t(code=["T01", "T02"], name=["城东家庭医生团队", "林泉家庭医生团队"], org_unit=[PU, LIN],
                   lead=["S002", ""]),
        "team_members": t(team=["T01", "T01", "T02"], staff=["S001", "S002", "S003"], duty=["乡村医生", "团队长", ""],
                          start_date=["2024-01-01", "2023-06-01", ""]),
        "households": t(household_no=["H001", "H002"], org_unit=["360426100201", "360426200201"],
                        address=["蒲亭镇城东村1组", "林泉乡林泉村3组，12号"]),
        "residents": t(
            record_no=["R001", "R002", "R003", "R004", "R005", "R006"],
            name=["张三", "李四", "王芳", "赵敏", "赵小宝", "张叁"],
            sex=["1", "1", "2", "2", "1", "1"],
            birth_date=["1991-01-01", "1958-07-15", "1985-06-12", "1995-03-08", "2024-05-20", "1991-01-01"],
            id_number=["360426199101010071", "360426580715003", "36042619850612008x", "", "", "360426199101010071"],
            managing_unit=["360426100201", "360426100201", "360426100202", "360426200201", "360426200201",
                           "360426100201"],
            household=["H001", "H001", "", "H002", "H002", ""],
            residence_type=["1", "1", "2", "1", "1", "1"],
            usual_resident=["1", "1", "0", "1", "1", "1"],
            responsible_doctor=["S001", "S001", "S001", "S003", "S001", ""],
            status=["active", "active", "active", "active", "active", "merged"],
            status_date=["", "", "", "", "", "2025-02-01"],
            merged_into=["", "", "", "", "", "R001"],
        ),
        "health_records": t(resident=["R001", "R002", "R004"], created_on=["2020-03-01", "2019-05-06", "2024-08-01"],
                            created_by_unit=["360426100201", "360426100201", "360426200201"],
                            is_electronic=["1", "1", "1"], blood_abo=["1", "", "2"]),
        "enrollments": t(enrollment_no=["E001", "E002", "E003", "E004"], resident=["R001", "R002", "R004", "R005"],
                         program=["hypertension", "diabetes", "pregnancy", "child"],
                         org_unit=[PU, PU, LIN, LIN],
                         start_date=["2023-01-10", "2022-04-01", "2024-08-01", "2024-05-27"],
                         lmp_date=["", "", "2024-06-10", ""]),
        "health_examinations": t(encounter_no=["HE001"], resident=["R002"], org_unit=[PU], provider=["S002"],
                                 service_date=["2025-04-02"], trigger=["elderly"], temperature=["36.5"],
                                 sbp_left=["150"], dbp_left=["90"], height=["168.0"], weight=["70.2"],
                                 fasting_glucose=["6.8"], entered_at=["2025-04-02T09:15:00+08:00"]),
        "chronic_follow_ups": t(encounter_no=["CF001", "CF002"], resident=["R001", "R002"], org_unit=[PU, PU],
                                provider=["S001", "S001"], service_date=["2025-01-15", "2025-02-20"],
                                enrollment=["E001", "E002"], program=["hypertension", "diabetes"], mode=["1", "2"],
                                sbp=["142", ""], dbp=["88", ""], fasting_glucose=["", "7.9"],
                                classification=["2", "1"], medication_adjusted=["0", "1"],
                                entered_at=["2025-01-15T10:00:00+08:00", "2025-02-20 16:30:00+08:00"]),
        "newborn_visits": t(encounter_no=["NB001"], resident=["R005"], org_unit=[LIN], service_date=["2024-05-27"],
                            enrollment=["E004"], weight=["3.4"], jaundice=["0"]),
        "child_checks": t(encounter_no=["CC001"], resident=["R005"], org_unit=[LIN], service_date=["2024-11-20"],
                          enrollment=["E004"], age_months=["6"], weight=["8.1"], height=["67.5"]),
        "prenatal_visits": t(encounter_no=["PV001"], resident=["R004"], org_unit=[LIN], service_date=["2024-08-01"],
                             enrollment=["E003"], gestational_weeks=["8"], is_registration=["1"], sbp=["110"],
                             dbp=["70"]),
        "vaccinations": t(encounter_no=["V001", "V002"], resident=["R005", "R005"], org_unit=[LIN, LIN],
                          service_date=["2024-05-20", "2024-06-20"], vaccine=["HepB", "HepB"], dose_no=["1", "2"],
                          lot_no=["B2024-01", "B2024-07"]),
        "vaccination_certificates": t(encounter_no=["VC001"], resident=["R005"], org_unit=[LIN],
                                      service_date=["2024-06-10"], certificate_no=["JZZ36042600001"]),
        "consultations": t(encounter_no=["MZ001", "MZ002"], resident=["R002", "R003"], org_unit=[PU, PU],
                           provider=["S002", ""], service_date=["2025-03-03", "2025-03-04"], bp_measured=["1", "0"],
                           sbp=["138", ""], dbp=["86", ""], glucose_measured=["1", "0"], blood_glucose=["6.2", ""],
                           complaint=["头晕", "咳嗽"]),
        "emergency_event_reports": t(report_no=["EV001"], org_unit=[PU], event_type=["food"],
                                     description=["学校食堂聚集性腹泻"], found_at=["2025-05-06T11:00:00+08:00"],
                                     reported_at=["2025-05-06T12:10:00+08:00"]),
        "infectious_disease_reports": t(report_no=["IDR001"], resident=["R003"], org_unit=[PU], disease=["肺结核"],
                                        disease_class=["B"], diagnosed_at=["2025-03-01T14:20:00+08:00"]),
        "contracts": t(contract_no=["C001", "C002"], resident=["R001", "R005"], team=["T01", "T02"],
                       start_date=["2025-01-01", "2025-01-01"], end_date=["2025-12-31", "2025-12-31"],
                       key_groups=["hypertension", "child,disabled"]),
        "population_bases": t(org_unit=[PU, PU, LIN], year=["2025", "2025", "2025"],
                              group=["resident_population", "task_hypertension", "resident_population"],
                              value=["12000", "900", "8000"], source=["statistics", "assigned", "statistics"]),
    }


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_app_config("records").get_models()}


def write_good(folder: Path, **kw) -> Path:
    return layout.write_dir(good_set(), folder, **kw)


def read_report(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM, so Excel detects UTF-8
    return list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))


def wipe_database() -> None:
    """Empty every exchange table (as a fresh database would be)."""
    m.LoadTally.objects.all().delete()
    m.OrgUnit.objects.update(parent=None)
    m.Resident.objects.update(merged_into=None)
    for table in reversed(list(tables().values())):
        table.model.objects.all().delete()
    m.ChangeLog.objects.all().delete()
    m.LoadBatch.objects.all().delete()


# --- tests ----------------------------------------------------------------------------------------------
def test_import_good_set_writes_expected_rows(tmp_path):
    folder = write_good(tmp_path / "in")
    (folder / layout.MANIFEST).unlink()  # a hand-made set has no manifest; that is accepted
    outcome = import_dir(folder, actor="test")
    assert outcome.status == "written" and outcome.issues == []
    for name, tbl in good_set().items():
        assert outcome.result.tables[name].inserted == tbl.num_rows, name
        assert tables()[name].model.objects.count() == tbl.num_rows, name
    flags = dict(m.Resident.objects.values_list("record_no", "id_status"))
    assert flags["R001"] == IdStatus.VALID and flags["R002"] == IdStatus.UPGRADED
    assert flags["R003"] == IdStatus.VALID and flags["R004"] == IdStatus.MISSING
    r3 = m.Resident.objects.get(record_no="R003")
    assert (r3.id_number, r3.id_number_raw) == ("36042619850612008X", "36042619850612008x")
    assert m.Resident.objects.get(record_no="R006").merged_into.record_no == "R001"
    assert m.OrgUnit.objects.get(code="360426200201").is_active is False
    assert m.OrgUnit.objects.get(code="360426200201").path.startswith(m.OrgUnit.objects.get(code=LIN).path)
    assert m.TeamMembership.objects.filter(team__code="T01").count() == 2
    assert m.Household.objects.get(household_no="H002").address == "林泉乡林泉村3组，12号"
    assert m.Contract.objects.get(contract_no="C002").key_groups == "child,disabled"
    exam = m.HealthExamination.objects.get(encounter_no="HE001")
    assert (exam.sbp_left, exam.dbp_left, str(exam.temperature)) == (150, 90, "36.5")
    cf = m.ChronicFollowUp.objects.get(encounter_no="CF002")
    assert cf.entered_at.isoformat() == "2025-02-20T08:30:00+00:00"
    assert m.PopulationBase.objects.get(org_unit__code=PU, group="task_hypertension").value == 900
    report = read_report(folder / layout.REPORT_NAME)
    assert {r["file"] for r in report if r["rule"] == "summary"} >= {"residents.csv", "population_bases.csv"}


def _bad_set() -> dict[str, pa.Table]:
    s = good_set()
    res = s["residents"].to_pydict()
    res["birth_date"][1] = "1958-02-30"  # row 2: bad date
    res["sex"][2] = "5"  # row 3: unknown code
    res["name"][3] = ""  # row 4: missing required
    s["residents"] = t(**res)
    enr = s["enrollments"].to_pydict()
    enr["resident"][0] = "R999"  # row 1: dangling reference
    s["enrollments"] = t(**enr)
    cf = s["chronic_follow_ups"].to_pydict()
    cf["dbp"][0] = "150"  # row 1: DBP ≥ SBP (142)
    s["chronic_follow_ups"] = t(**cf)
    vac = s["vaccinations"].to_pydict()
    vac["encounter_no"][1] = "V001"  # row 2: duplicate natural key
    s["vaccinations"] = t(**vac)
    return s


BAD_EXPECTED = {
    ("residents.csv", "2", "birth_date", "format_date"),
    ("residents.csv", "3", "sex", "vocab"),
    ("residents.csv", "4", "name", "required"),
    ("enrollments.csv", "1", "resident", "ref_missing"),
    ("chronic_follow_ups.csv", "1", "dbp", "ordered"),
    ("vaccinations.csv", "2", "encounter_no", "duplicate_key"),
}


def test_bad_set_is_rejected_whole_with_report_and_nothing_written(tmp_path):
    folder = layout.write_dir(_bad_set(), tmp_path / "bad")
    before = row_counts()
    outcome = import_dir(folder, actor="test")
    assert outcome.status == "rejected" and outcome.exit_code == 1
    assert row_counts() == before  # every table, including LoadBatch and ChangeLog
    report = read_report(folder / layout.REPORT_NAME)
    found = {(r["file"], r["row"], r["field"], r["rule"]) for r in report}
    assert found >= BAD_EXPECTED
    date_row = next(r for r in report if r["rule"] == "format_date")
    assert date_row["value"] == "1958-02-30" and "出生日期" in date_row["message"]
    assert any("整批未写入" in r["message"] for r in report)


def test_accept_valid_writes_only_valid_rows(tmp_path):
    folder = layout.write_dir(_bad_set(), tmp_path / "bad")
    outcome = import_dir(folder, actor="test", accept_valid=True, report=tmp_path / "r.csv")
    assert outcome.status == "written"
    assert set(m.Resident.objects.values_list("record_no", flat=True)) == {"R001", "R005", "R006"}
    # R002 is invalid, so its health record, enrollment and examination are skipped as well
    assert set(m.HealthRecord.objects.values_list("resident__record_no", flat=True)) == {"R001"}
    assert not m.HealthExamination.objects.exists()
    assert set(m.Enrollment.objects.values_list("enrollment_no", flat=True)) == {"E004"}
    assert set(m.Vaccination.objects.values_list("encounter_no", flat=True)) == {"V001"}
    assert m.ChronicFollowUp.objects.count() == 0  # CF001 bad, CF002 references R002 and E002
    assert outcome.result.tables["residents"].rejected == 3
    report = read_report(tmp_path / "r.csv")
    assert {(r["file"], r["row"], r["field"], r["rule"]) for r in report} >= BAD_EXPECTED
    assert ("health_records.csv", "2", "resident", "ref_missing") in {
        (r["file"], r["row"], r["field"], r["rule"]) for r in report}


def test_reimport_changes_nothing_and_modified_reimport_is_logged(tmp_path):
    folder = write_good(tmp_path / "in")
    assert import_dir(folder, actor="test").status == "written"
    before, logs = row_counts(), m.ChangeLog.objects.count()
    again = import_dir(folder, actor="test")
    assert again.result.written == 0
    assert all(tr.unchanged == tr.received for tr in again.result.tables.values())
    counts = row_counts()
    assert counts.pop("records.LoadBatch") == before.pop("records.LoadBatch") + 1
    # the new batch's tallies: one row per table and unit, all received, none rejected
    assert counts.pop("records.LoadTally") > before.pop("records.LoadTally")
    assert counts == before and m.ChangeLog.objects.count() == logs
    summary = {r["file"]: r["message"] for r in read_report(folder / layout.REPORT_NAME) if r["rule"] == "summary"}
    assert "未变 6" in summary["residents.csv"] and "新增 0" in summary["residents.csv"]

    s = good_set()
    res = s["residents"].to_pydict()
    res["name"][0] = "张三丰"
    res["id_number"][1] = "360426195807150036"[:17] + "X"  # now an 18-digit number with a wrong check digit
    s["residents"] = t(**res)
    cf = s["chronic_follow_ups"].to_pydict()
    cf["sbp"][0] = "146"
    s["chronic_follow_ups"] = t(**cf)
    layout.write_dir({k: s[k] for k in ("residents", "chronic_follow_ups")}, tmp_path / "mod")
    outcome = import_dir(tmp_path / "mod", actor="clerk")
    assert outcome.result.tables["residents"].updated == 2
    assert outcome.result.tables["chronic_follow_ups"].updated == 1
    r1 = m.Resident.objects.get(record_no="R001")
    log = m.ChangeLog.objects.get(model="records.Resident", object_pk=str(r1.pk))
    assert (log.before, log.after, log.actor_label) == ({"name": "张三"}, {"name": "张三丰"}, "clerk")
    cf_log = m.ChangeLog.objects.get(model="records.ChronicFollowUp")
    assert (cf_log.before, cf_log.after) == ({"sbp": 142}, {"sbp": 146})
    assert m.Resident.objects.get(record_no="R002").id_status == IdStatus.BAD_CHECKSUM


def _csv_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*.csv")) if p.name != layout.REPORT_NAME}


def test_export_import_export_round_trip_is_identical(tmp_path):
    assert import_dir(write_good(tmp_path / "in"), actor="test").status == "written"
    first = tmp_path / "first"
    exporter.export_dir(first)
    files = _csv_files(first)
    assert set(files) == {f"{name}.csv" for name in tables()}  # every table, even empty ones
    header = files["residents.csv"].decode().splitlines()[0]
    assert header == ",".join(tables()["residents"].column_names)
    residents = files["residents.csv"].decode()
    assert "36042619850612008x" in residents and "360426580715003" in residents  # raw numbers
    assert '"林泉乡林泉村3组，12号"' not in files["households.csv"].decode()  # minimal quoting
    assert '"child,disabled"' in files["contracts.csv"].decode()
    assert "2025-02-20T16:30:00+08:00" in files["chronic_follow_ups.csv"].decode()

    wipe_database()
    assert import_dir(first, actor="test").status == "written"
    second = tmp_path / "second"
    exporter.export_dir(second)
    assert _csv_files(second) == files
    m1, m2 = (json.loads((d / layout.MANIFEST).read_text()) for d in (first, second))
    assert m1["files"] == m2["files"] and m1["format"] == "gongwei-exchange"
    # and re-importing the export into the database it came from changes nothing
    again = import_dir(second, actor="test")
    assert again.result.written == 0


@pytest.mark.parametrize("max_in", [2_000, 1])  # 1: the flagged full-scan path for long key lists
def test_export_org_subtree_is_closed_and_reimports_cleanly(tmp_path, monkeypatch, max_in):
    monkeypatch.setattr(exporter, "_MAX_IN", max_in)
    assert import_dir(write_good(tmp_path / "in"), actor="test").status == "written"
    out = tmp_path / "lin"
    exporter.export_dir(out, org=LIN)
    batch, manifest = layout.read_dir(out)
    codes = set(batch["org_units"].column("code").to_pylist())
    # the subtree, its ancestors, and the unit of a doctor from elsewhere (S001 looks after R005)
    assert {"360000000000", "360400000000", "360426000000", LIN, "360426200201"} <= codes
    assert "360426100201" in codes and "360426100202" not in codes
    assert set(batch["residents"].column("record_no").to_pylist()) == {"R004", "R005"}
    assert set(batch["staff"].column("code").to_pylist()) == {"S001", "S003"}
    assert set(batch["vaccinations"].column("encounter_no").to_pylist()) == {"V001", "V002"}
    assert batch["chronic_follow_ups"].num_rows == 0
    assert set(batch["population_bases"].column("org_unit").to_pylist()) == {LIN}
    wipe_database()
    outcome = import_dir(out, actor="test")
    assert outcome.status == "written", outcome.issues
    assert m.Resident.objects.count() == 2


def test_manifest_checksum_tampering_is_detected(tmp_path):
    folder = write_good(tmp_path / "in")
    path = folder / "residents.csv"
    path.write_bytes(path.read_bytes().replace("张三".encode(), "张四".encode()))
    with pytest.raises(layout.LayoutError, match="residents.csv.*SHA-256"):
        layout.read_dir(folder)
    before = row_counts()
    assert main(["import", str(folder)]) == 2
    assert row_counts() == before
    report = read_report(folder / layout.REPORT_NAME)
    assert report[0]["rule"] == "layout" and "residents.csv" in report[0]["message"]


def test_layout_errors_name_file_and_column(tmp_path):
    folder = write_good(tmp_path / "in")
    (folder / layout.MANIFEST).unlink()
    (folder / "patients.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(layout.LayoutError, match="patients.csv"):
        layout.read_dir(folder)
    (folder / "patients.csv").unlink()
    text = (folder / "staff.csv").read_text(encoding="utf-8")
    (folder / "staff.csv").write_text(text.replace("phone", "mobile", 1), encoding="utf-8")
    with pytest.raises(layout.LayoutError, match="staff.csv.*mobile"):
        layout.read_dir(folder)
    (folder / "staff.csv").write_text(text.replace(",phone", "", 1), encoding="utf-8")
    with pytest.raises(layout.LayoutError, match="staff.csv.*缺少列.*phone"):
        layout.read_dir(folder)
    # row count in the manifest must match, and unlisted files are refused when a manifest exists
    folder2 = write_good(tmp_path / "in2")
    manifest = json.loads((folder2 / layout.MANIFEST).read_text())
    manifest["files"] = [f for f in manifest["files"] if f["file"] != "teams.csv"]
    (folder2 / layout.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(layout.LayoutError, match="teams.csv.*未列入"):
        layout.read_dir(folder2)


def test_bom_and_gbk_files_are_read(tmp_path):
    folder = write_good(tmp_path / "in")
    (folder / layout.MANIFEST).unlink()
    for p in folder.glob("*.csv"):
        p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())  # as Excel saves "CSV UTF-8"
    batch, manifest = layout.read_dir(folder)
    assert manifest["manifest"] is False
    assert batch["residents"].column_names[0] == "record_no"
    gbk = tmp_path / "gbk"
    gbk.mkdir()
    shutil.copy(folder / "org_units.csv", gbk / "org_units.csv")
    text = (gbk / "org_units.csv").read_bytes().decode("utf-8-sig")
    (gbk / "org_units.csv").write_bytes(text.encode("gbk"))
    with pytest.raises(layout.LayoutError, match="org_units.csv.*(UTF-8|utf-8)"):
        layout.read_dir(gbk)
    batch, _ = layout.read_dir(gbk, encoding="gbk")
    assert "江西省" in batch["org_units"].column("name").to_pylist()


def test_cli_import_export(tmp_path, capsys):
    folder = write_good(tmp_path / "in")
    assert main(["import", str(folder)]) == 0
    assert "导入完成" in capsys.readouterr().out
    bad = layout.write_dir(_bad_set(), tmp_path / "bad")
    report = tmp_path / "report.csv"
    assert main(["import", str(bad), "--report", str(report)]) == 1
    err = capsys.readouterr().err
    assert "整批未写入" in err and "format_date" in err and "ref_missing" in err
    assert {(r["file"], r["row"], r["field"], r["rule"]) for r in read_report(report)} >= BAD_EXPECTED
    assert main(["export", str(tmp_path / "out"), "--org", PU]) == 0
    assert "已导出" in capsys.readouterr().out
    assert main(["export", str(tmp_path / "none"), "--org", "999"]) == 2


@pytest.mark.parametrize("command", ["import", "export"])
def test_help_is_chinese(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    assert "导" in capsys.readouterr().out
