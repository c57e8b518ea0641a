"""The entry layer: validation messages, reject-whole, accept-valid, idempotent re-submit, history."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from django.apps import apps

from gongwei.records import bulk, entry
from gongwei.records import models as m
from gongwei.spec.vocab import IdStatus
from tests.regions import ORG_UNITS, RESIDENTS, load_tiny_region, t

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in apps.get_app_config("records").get_models()}


def test_good_batch_is_written_with_paths_and_identity_flags():
    result = load_tiny_region()
    assert result.tables["org_units"].inserted == 8 and result.tables["residents"].inserted == 4
    county = m.OrgUnit.objects.get(code="360426000000")
    assert set(county.subtree().values_list("code", flat=True)) == set(ORG_UNITS.column("code").to_pylist()[2:])
    flags = dict(m.Resident.objects.values_list("record_no", "id_status"))
    assert flags == {"R001": IdStatus.VALID, "R002": IdStatus.MISSING, "R003": IdStatus.UPGRADED,
                     "R004": IdStatus.BAD_CHECKSUM}
    r3 = m.Resident.objects.get(record_no="R003")
    assert r3.id_number == "360426195807150036"[:17] + r3.id_number[17] and r3.id_number_raw == "360426580715003"
    assert m.Resident.objects.get(record_no="R004").id_number.endswith("X")  # lowercase x normalised
    assert m.LoadBatch.objects.get(pk=result.batch_id).counts["residents"]["inserted"] == 4


def test_bad_batch_is_rejected_whole_with_messages_naming_field_value_rule():
    bad = t(record_no=["R1", "R2", "R2"], name=["甲", "", "丙"], sex=["1", "5", "1"],
            birth_date=["1990-02-30", "1990-01-01", "1990-01-01"], id_number=["", "", ""],
            managing_unit=["360426100201", "999999999999", "360426100201"], residence_type=["1", "1", "1"])
    before = _row_counts()
    with pytest.raises(entry.Rejected) as exc:
        entry.submit({"org_units": ORG_UNITS, "residents": bad}, actor="test", kind="test")
    found = {(i.row, i.field, i.rule) for i in exc.value.issues}
    assert (1, "birth_date", "format_date") in found
    assert (2, "name", "required") in found
    assert (2, "sex", "vocab") in found
    assert (2, "managing_unit", "ref_missing") in found
    assert (3, "record_no", "duplicate_key") in found
    message = next(i.message for i in exc.value.issues if i.rule == "format_date")
    assert "出生日期" in message and "1990-02-30" in message
    assert _row_counts() == before  # nothing written, not even the valid org units


def test_accept_valid_skips_bad_rows_and_rows_that_reference_them():
    households = t(household_no=["H1", "H2"], org_unit=["360426100201", "NOPE"])
    residents = t(record_no=["R1", "R2"], name=["甲", "乙"], sex=["1", "2"], birth_date=["1990-01-01", "1990-01-01"],
                  managing_unit=["360426100201", "360426100201"], residence_type=["1", "1"], household=["H1", "H2"])
    result = entry.submit({"org_units": ORG_UNITS, "households": households, "residents": residents},
                          actor="test", kind="test", accept_valid=True)
    assert result.tables["households"].inserted == 1 and result.tables["residents"].inserted == 1
    assert {(i.table, i.field) for i in result.issues} == {("households", "org_unit"), ("residents", "household")}


def test_resubmitting_identical_rows_changes_nothing_and_changes_are_logged():
    load_tiny_region()
    before, logs = _row_counts(), m.ChangeLog.objects.count()
    again = load_tiny_region()
    assert again.tables["residents"].unchanged == 4 and again.written == 0
    assert _row_counts()["records.Resident"] == before["records.Resident"]
    assert m.ChangeLog.objects.count() == logs
    changed = RESIDENTS.set_column(1, "name", pa.array(["张三丰", "李四", "王五", "赵六"]))
    result = entry.submit({"residents": changed}, actor="clerk", kind="test")
    assert result.tables["residents"].updated == 1
    log = m.ChangeLog.objects.get(model="records.Resident")
    assert (log.before, log.after, log.actor_label) == ({"name": "张三"}, {"name": "张三丰"}, "clerk")


def test_blood_pressure_order_and_hard_bounds():
    load_tiny_region()
    enrol = t(enrollment_no=["E1"], resident=["R001"], program=["hypertension"], org_unit=["360426100201"],
              start_date=["2025-01-01"])
    fu = t(encounter_no=["F1", "F2", "F3"], resident=["R001"] * 3, org_unit=["360426100201"] * 3,
           service_date=["2025-03-01"] * 3, enrollment=["E1"] * 3, program=["hypertension"] * 3, mode=["1"] * 3,
           sbp=["140", "80", "400"], dbp=["90", "95", "90"])
    with pytest.raises(entry.Rejected) as exc:
        entry.submit({"enrollments": enrol, "chronic_follow_ups": fu}, actor="t", kind="test")
    rules = {(i.row, i.field, i.rule) for i in exc.value.issues}
    assert rules == {(2, "dbp", "ordered"), (3, "sbp", "bounds")}


def test_period_that_ends_before_it_starts_is_rejected():
    load_tiny_region()
    enrol = t(enrollment_no=["E1"], resident=["R001"], program=["hypertension"], org_unit=["360426100201"],
              start_date=["2025-05-01"], end_date=["2025-01-01"])
    with pytest.raises(entry.Rejected) as exc:
        entry.submit({"enrollments": enrol}, actor="t", kind="test")
    assert [(i.field, i.rule) for i in exc.value.issues] == [("end_date", "date_order")]


def test_failure_while_writing_leaves_nothing_half_written(monkeypatch):
    before = _row_counts()
    real_insert = bulk.insert

    def failing_insert(table, *args, **kwargs):
        if table.name == "residents":
            raise RuntimeError("disk full")
        return real_insert(table, *args, **kwargs)

    monkeypatch.setattr(bulk, "insert", failing_insert)
    with pytest.raises(RuntimeError):
        load_tiny_region()
    assert _row_counts() == before  # the org units written first were rolled back too


def test_submit_instance_creates_and_updates_through_the_same_rules():
    load_tiny_region()
    r = m.Resident.objects.get(record_no="R001")
    r.phone = "13800001111"
    assert entry.submit_instance(r).tables["residents"].updated == 1
    r.sex = "7"
    with pytest.raises(entry.Rejected) as exc:
        entry.submit_instance(r)
    assert exc.value.issues[0].field == "sex" and "性别" in exc.value.issues[0].message
    assert m.Resident.objects.get(record_no="R001").sex == "1"


def test_blank_columns_take_model_defaults_and_timestamps_are_stored():
    load_tiny_region()
    unit = m.OrgUnit.objects.get(code="360426100201")
    assert unit.is_active is True  # default true, column absent from the batch
    r = m.Resident.objects.get(record_no="R001")
    assert r.usual_resident is True and r.status == "active" and r.id_type == "01"
    assert r.created_at is not None and r.updated_at is not None
    enrol = t(enrollment_no=["E1"], resident=["R001"], program=["hypertension"], org_unit=["360426100201"],
              start_date=["2025-01-01"])
    fu = t(encounter_no=["F1"], resident=["R001"], org_unit=["360426100201"], service_date=["2025-03-01"],
           enrollment=["E1"], program=["hypertension"], mode=["1"], entered_at=["2025-03-01T09:30:00+08:00"],
           referral=[""])
    entry.submit({"enrollments": enrol, "chronic_follow_ups": fu}, actor="t", kind="test")
    visit = m.ChronicFollowUp.objects.get(encounter_no="F1")
    assert visit.entered_at == dt.datetime(2025, 3, 1, 1, 30, tzinfo=dt.UTC)
    assert visit.referral is False and visit.is_void is False


def test_a_single_save_never_reads_whole_tables():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    load_tiny_region()
    r = m.Resident.objects.get(record_no="R001")
    r.phone = "13900001111"
    with CaptureQueriesContext(connection) as ctx:
        entry.submit_instance(r)
    reads = [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")
             and '"records_' in q["sql"] and "MAX(" not in q["sql"].upper()]
    assert reads and all("WHERE" in sql.upper() for sql in reads), reads


def test_new_record_tables_follow_the_entry_rules():
    """Certificates, consultations and emergency reports go through the same checks: references, order of blood
    pressures, vocabularies, formats, required fields — with Chinese messages naming the field; nothing written."""
    load_tiny_region()
    before = _row_counts()
    batch = {
        "vaccination_certificates": t(encounter_no=["VC1"], resident=["R999"], org_unit=["360426100000"],
                                      service_date=["2025-01-01"]),
        "consultations": t(encounter_no=["MZ1", "MZ2"], resident=["R001", "R002"], org_unit=["360426100201"] * 2,
                           service_date=["2025-03-01", "2025-03-02"], bp_measured=["1", "是"], sbp=["120", "130"],
                           dbp=["125", "80"]),
        "emergency_event_reports": t(report_no=["EV1", "EV2"], org_unit=["360426100000"] * 2,
                                     event_type=["earthquake", "food"], found_at=["2025-05-06T11:00:00+08:00", ""]),
    }
    with pytest.raises(entry.Rejected) as exc:
        entry.submit(batch, actor="test", kind="test")
    found = {(i.table, i.row, i.field, i.rule) for i in exc.value.issues}
    assert found == {
        ("vaccination_certificates", 1, "resident", "ref_missing"),
        ("consultations", 1, "dbp", "ordered"),
        ("emergency_event_reports", 1, "event_type", "vocab"),
        ("emergency_event_reports", 2, "found_at", "required"),
    }
    messages = {i.rule: i.message for i in exc.value.issues}
    assert "事件类别" in messages["vocab"] and "earthquake" in messages["vocab"]
    assert "舒张压" in messages["ordered"] and "收缩压" in messages["ordered"]
    assert _row_counts() == before


def test_batches_tally_received_and_rejected_rows_per_unit():
    """LoadTally (上传数据有效率): per table and the unit a row names. R1 and R3 at 城东, R2 (no name) rejected at
    城东, R4 names an unknown unit → rejected, no unit; the org units count at themselves."""
    residents = t(record_no=["R1", "R2", "R3", "R4"], name=["甲", "", "丙", "丁"], sex=["1", "2", "1", "2"],
                  birth_date=["1990-01-01"] * 4, managing_unit=["360426100201", "360426100201", "360426100201", "X"],
                  residence_type=["1"] * 4)
    result = entry.submit({"org_units": ORG_UNITS, "residents": residents}, actor="test", kind="import",
                          accept_valid=True)
    east = m.OrgUnit.objects.get(code="360426100201").pk
    rows = {(x.table, x.org_unit_id): (x.received, x.rejected)
            for x in m.LoadTally.objects.filter(batch_id=result.batch_id)}
    assert rows[("residents", east)] == (3, 1)
    assert rows[("residents", None)] == (1, 1)
    assert rows[("org_units", east)] == (1, 0)
    assert sum(r for (name, _), (r, _) in rows.items() if name == "org_units") == ORG_UNITS.num_rows


def test_recorded_constitutions_are_checked_code_by_code():
    """体质辨识结果 holds several constitution codes, comma-separated: each is checked against the vocabulary."""
    residents = t(record_no=["R1"], name=["甲"], sex=["1"], birth_date=["1950-01-01"], managing_unit=["360426100201"],
                  residence_type=["1"])
    forms = t(encounter_no=["Z1", "Z2", "Z3"], resident=["R1"] * 3, service_date=["2025-05-01"] * 3,
              org_unit=["360426100201"] * 3, answers=["3" * 33] * 3,
              recorded_result=["qi_deficiency,balanced", "qi_deficiency,earth", ""])
    before = _row_counts()
    with pytest.raises(entry.Rejected) as exc:
        entry.submit({"org_units": ORG_UNITS, "residents": residents, "tcm_constitutions": forms},
                     actor="test", kind="test")
    assert [(i.table, i.row, i.field, i.rule) for i in exc.value.issues] == [
        ("tcm_constitutions", 2, "recorded_result", "vocab")]
    message = exc.value.issues[0].message
    assert "体质辨识结果" in message and "qi_deficiency,earth" in message and "多个用逗号分隔" in message
    assert _row_counts() == before
    forms = forms.slice(0, 1)
    assert not entry.submit({"org_units": ORG_UNITS, "residents": residents, "tcm_constitutions": forms},
                            actor="test", kind="test").issues
