"""Findings across evaluations: new → open; recurring keeps its status; fixed in the data → rectified;
verified but found again → reopened; transitions are checked and kept."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest

from gongwei.quality import services
from gongwei.quality.models import Finding, FindingStatus, FindingTransition
from gongwei.records import models as m
from tests.regions import load_tiny_region

pytestmark = pytest.mark.django_db
R1_VILLAGE, R1_TOWNSHIP, COUNTY = "360426100201", "360426100000", "360426000000"


def _findings(rows):
    r1 = m.Resident.objects.get(record_no="R001")
    unit = r1.managing_unit_id
    return pa.table({
        "rule": [x[0] for x in rows], "table": ["residents"] * len(rows),
        "record_id": [x[1] for x in rows], "record_no": [x[2] for x in rows], "resident_id": [x[1] for x in rows],
        "org_unit_id": [unit] * len(rows), "service_date": pa.nulls(len(rows), pa.date32()),
        "values": [json.dumps({"id_number": ""})] * len(rows), "message": ["身份证号为空"] * len(rows),
    })


def login(username: str, unit_code: str, role: str = "township_staff"):
    """A login with a staff profile at ``unit_code``."""
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username, password="x", is_staff=True)
    m.Staff.objects.create(code=f"S-{username}", user=user, org_unit=m.OrgUnit.objects.get(code=unit_code), role=role,
                           name=username)
    return user


def test_findings_follow_the_data_across_evaluations():
    load_tiny_region()
    r1, r2 = (m.Resident.objects.get(record_no=x) for x in ("R001", "R002"))
    first = services.sync_findings(_findings([("ID-01", r1.pk, "R001"), ("ID-01", r2.pk, "R002")]),
                                   snapshot_id="s1", period="2025", rulebook="spec-x", rules=["ID-01"])
    assert (first.new, first.recurring, first.rectified) == (2, 0, 0)
    f1 = Finding.objects.get(record_no="R001")
    assert f1.status == FindingStatus.OPEN and f1.assigned_to_id == r1.managing_unit_id
    village, township = login("vd", R1_VILLAGE, "village_doctor"), login("ts", R1_TOWNSHIP)
    services.transition(Finding.objects.get(record_no="R002"), FindingStatus.RECTIFIED, actor=village,
                        reason="已补录身份证号")
    services.transition(Finding.objects.get(record_no="R002"), FindingStatus.VERIFIED, actor=township,
                        reason="电话核实")
    # second evaluation: R001 fixed in the data, R002 found again although verified
    second = services.sync_findings(_findings([("ID-01", r2.pk, "R002")]), snapshot_id="s2", period="2025",
                                    rulebook="spec-x", rules=["ID-01"])
    assert (second.new, second.reopened, second.rectified) == (0, 1, 1)
    f1.refresh_from_db()
    assert f1.status == FindingStatus.RECTIFIED and f1.last_seen == "s1"
    f2 = Finding.objects.get(record_no="R002")
    assert f2.status == FindingStatus.OPEN and f2.last_seen == "s2"
    history = list(FindingTransition.objects.filter(finding=f2).values_list("from_status", "to_status", "reason"))
    assert history == [("open", "rectified", "已补录身份证号"), ("rectified", "verified", "电话核实"),
                       ("verified", "open", "再次发现")]
    # a rule not evaluated this time leaves its findings alone
    third = services.sync_findings(_findings([]), snapshot_id="s3", period="2025", rulebook="spec-x", rules=["ID-03"])
    assert third.rectified == 0 and Finding.objects.get(record_no="R002").status == FindingStatus.OPEN


def test_transition_rules():
    load_tiny_region()
    r1 = m.Resident.objects.get(record_no="R001")
    services.sync_findings(_findings([("ID-01", r1.pk, "R001")]), snapshot_id="s1", period="2025", rulebook="x",
                           rules=["ID-01"])
    f = Finding.objects.get()
    with pytest.raises(services.WorkflowError, match="不能从“待整改”改为“已核实”"):
        services.transition(f, FindingStatus.VERIFIED)
    with pytest.raises(services.WorkflowError, match="必须填写原因"):
        services.transition(f, FindingStatus.DISMISSED, reason=" ")
    services.transition(f, FindingStatus.DISMISSED, reason="外籍人员，无居民身份证")
    assert Finding.objects.get().status == FindingStatus.DISMISSED
    assert m.Resident.objects.filter(record_no="R001").exists()  # dismissal never touches the record


def test_who_rectifies_cannot_verify_and_only_a_unit_above_verifies():
    """Separation of duties: the village doctor marks R001's finding rectified; neither they, a colleague at the
    same village, nor a township that is not above the village may verify it; its own township may, and so may
    the county. Whoever marked it rectified never verifies it, even from above."""
    load_tiny_region()
    r1 = m.Resident.objects.get(record_no="R001")
    assert r1.managing_unit.code == R1_VILLAGE
    services.sync_findings(_findings([("ID-01", r1.pk, "R001")]), snapshot_id="s1", period="2025", rulebook="x",
                           rules=["ID-01"])
    f = Finding.objects.get()
    doctor, colleague = login("vd", R1_VILLAGE, "village_doctor"), login("vd2", R1_VILLAGE, "village_doctor")
    other_township, township = login("lq", "360426200000"), login("ts", R1_TOWNSHIP)
    county = login("sv", COUNTY, "supervisor")
    services.transition(f, FindingStatus.RECTIFIED, actor=doctor, reason="已补录")
    with pytest.raises(services.WorkflowError, match="不能核实自己的整改"):
        services.transition(f, FindingStatus.VERIFIED, actor=doctor)
    for who in (colleague, other_township):
        with pytest.raises(services.WorkflowError, match="只有城东村卫生室的上级单位人员可以核实"):
            services.transition(f, FindingStatus.VERIFIED, actor=who)
    with pytest.raises(services.WorkflowError, match="登录人员"):
        services.transition(f, FindingStatus.VERIFIED, actor=None)
    assert Finding.objects.get().status == FindingStatus.RECTIFIED
    services.transition(f, FindingStatus.VERIFIED, actor=township, reason="电话核实")
    assert Finding.objects.get().status == FindingStatus.VERIFIED
    # reopened and rectified by the township itself: now the county verifies, the township cannot
    services.transition(f, FindingStatus.OPEN, actor=county, reason="抽查未通过")
    services.transition(f, FindingStatus.RECTIFIED, actor=township, reason="重新补录")
    with pytest.raises(services.WorkflowError, match="不能核实自己的整改"):
        services.transition(f, FindingStatus.VERIFIED, actor=township)
    services.transition(f, FindingStatus.VERIFIED, actor=county)
    steps = list(FindingTransition.objects.filter(finding=f).values_list("to_status", "actor__username"))
    assert steps[-1] == (FindingStatus.VERIFIED, "sv")


def _analysed_rows(table: str) -> int | None:
    """What the database's planner statistics say the table holds: PostgreSQL's pg_class.reltuples (updated by
    ANALYZE, visible in the same transaction; -1 before the first), SQLite's sqlite_stat1 (written by ANALYZE)."""
    from django.db import connection

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
            n = cur.fetchone()[0]
            return None if n < 0 else int(n)
        cur.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if not cur.fetchone():
            return None
        cur.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [table])
        row = cur.fetchone()
        return int(row[0].split()[0]) if row else None


def test_a_large_evaluation_takes_fresh_planner_statistics_of_the_ledger(monkeypatch):
    """An evaluation adding ANALYZE_AFTER_ROWS findings or more analyses the ledger (records.bulk.analyze), so the
    pages' queries are not planned on an empty table's statistics; a smaller one leaves it to autovacuum."""
    load_tiny_region()
    r1, r2 = (m.Resident.objects.get(record_no=x) for x in ("R001", "R002"))
    monkeypatch.setattr(services, "ANALYZE_AFTER_ROWS", 3)
    services.sync_findings(_findings([("ID-01", r1.pk, "R001"), ("ID-01", r2.pk, "R002")]),
                           snapshot_id="s1", period="2025", rulebook="spec-x", rules=["ID-01"])
    assert _analysed_rows(Finding._meta.db_table) in (None, 0)  # two new findings: below the threshold
    # four new (ID-02 and ID-03 on both residents), the two ID-01 found again: 4 ≥ 3, the six rows analysed
    services.sync_findings(_findings([("ID-01", r1.pk, "R001"), ("ID-01", r2.pk, "R002"), ("ID-02", r1.pk, "R001"),
                                      ("ID-02", r2.pk, "R002"), ("ID-03", r1.pk, "R001"), ("ID-03", r2.pk, "R002")]),
                           snapshot_id="s2", period="2025", rulebook="spec-x", rules=["ID-01", "ID-02", "ID-03"])
    assert _analysed_rows(Finding._meta.db_table) == 6
