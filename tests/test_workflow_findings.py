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


def _findings(rows):
    r1 = m.Resident.objects.get(record_no="R001")
    unit = r1.managing_unit_id
    return pa.table({
        "rule": [x[0] for x in rows], "table": ["residents"] * len(rows),
        "record_id": [x[1] for x in rows], "record_no": [x[2] for x in rows], "resident_id": [x[1] for x in rows],
        "org_unit_id": [unit] * len(rows), "service_date": pa.nulls(len(rows), pa.date32()),
        "values": [json.dumps({"id_number": ""})] * len(rows), "message": ["身份证号为空"] * len(rows),
    })


def test_findings_follow_the_data_across_evaluations():
    load_tiny_region()
    r1, r2 = (m.Resident.objects.get(record_no=x) for x in ("R001", "R002"))
    first = services.sync_findings(_findings([("ID-01", r1.pk, "R001"), ("ID-01", r2.pk, "R002")]),
                                   snapshot_id="s1", period="2025", rulebook="spec-x", rules=["ID-01"])
    assert (first.new, first.recurring, first.rectified) == (2, 0, 0)
    f1 = Finding.objects.get(record_no="R001")
    assert f1.status == FindingStatus.OPEN and f1.assigned_to_id == r1.managing_unit_id
    services.transition(Finding.objects.get(record_no="R002"), FindingStatus.RECTIFIED, reason="已补录身份证号")
    services.transition(Finding.objects.get(record_no="R002"), FindingStatus.VERIFIED, reason="电话核实")
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
