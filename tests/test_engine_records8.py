"""V1 (certificates), H5/D5 (first visits of residents 35+), ID3/ID4 (emergency reports) and DV1 (upload validity)
on tests/engine_fixtures_records8.py; every count is worked out here from the fixture's table.

V1 2025 (rules: spec.programs.vaccination — due = birth + 1 month, or arrival + 3 months for a child who moved in;
0–6 at some time in the period; record open at the due date; a certificate not void, dated by the period end):
  K1 due 04-10, certificate 03-20 ✓ · K2 due 2026-01-15 ✗ not due · K3 arrived 10-20 → due 2026-01-20, not due ·
  K4 arrived 03-01 → due 06-01, none → gap · K5 7 on 2025-06-01 so still 0–6 in 2025, certificate 2018 ✓ ·
  K6 7 before 2025, out · K7 closed 2024, out · K8 due 2024-12-01, only a void certificate → gap ·
  K9 due 02-01, certificate only in 2026 → gap.
  → 蒲亭 (K1 K4 K8 K9) 1/4, 林泉 (K5) 1/1, county 2/5.
H5 / D5 2025 (spec.programs.consultation — first consultation of the year, earliest date then lowest number, void
ignored; aged 35+ that day; measured = box ticked or a value recorded; counted where the visit took place):
  A1 CN011 03-01 (44) BP ✓ glucose ✗ @城东 · A2 CN021 06-30 aged 34 (birthday 07-01) → not in cohort, CN022 is
  not a first visit · A3 CN032 02-02 (CN031 is 2024) BP and glucose values recorded ✓ ✓ @蒲亭镇卫生院 ·
  A4 CN041 and CN042 both 04-04 → CN041 first: nothing measured ✗ ✗ @林泉村 · A5 CN051 void → CN052 07-07
  BP ✗ glucose ✓ @林泉村.
  H5: 城东 1/1, 蒲亭 township (城东 + centre) 2/2, 林泉 0/2, county 2/4. D5: 蒲亭 1/2, 林泉 1/2, county 2/4.
ID3 2025 (reported within 2 h of being found / reported; found date in local time):
  EV1 1.5 h ✓ · EV2 3 h late · EV5 found 1 Jan 07:00 local (still 2024 in UTC) → 2025, 1 h ✓ · EV3, EV4 not
  reported → 蒲亭 2/3, 林泉 0/0, county 2/3.
ID4 2025 (reported cards + reported events) / (registered cards + found events): 蒲亭 RC1 + EV1 EV2 EV5 → 4/4;
  林泉 RC2 ✗ EV3 ✗ EV4 ✗ → 0/3; county 4/7.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from gongwei.engine import catalogue, gaps, registry, worklist
from gongwei.engine.orgs import OrgTree
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import parse
from tests.engine_fixtures_records8 import COUNTY, EAST, LIN, LINQUAN, PUTING, WEST, engine
from tests.engine_results import by_code

pytestmark = pytest.mark.django_db


@pytest.fixture
def eng(tmp_path):
    return engine(tmp_path)


def test_indicators_are_in_the_catalogue():
    inds = spec_catalogue.indicators()
    for code in ("V1", "H5", "D5", "ID3", "ID4", "DV1"):
        assert code in inds, code
    assert inds["H5"].denominator == inds["D5"].denominator == "consultation.first_visit"


def test_certificates_2025(eng):
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["V1"]))
    assert got[("V1", PUTING)] == (1, 4)
    assert got[("V1", LINQUAN)] == (1, 1)
    assert got[("V1", COUNTY)] == (2, 5)
    page = gaps.people(eng, "V1", COUNTY, parse("2025"))
    assert {p.record_no: p.reasons for p in page.people} == {
        "K4": [("VAC-CERT", "未办理预防接种证（应于 2025-06-01 前办理）")],
        "K8": [("VAC-CERT", "未办理预防接种证（应于 2024-12-01 前办理）")],
        "K9": [("VAC-CERT", "未办理预防接种证（应于 2025-02-01 前办理）")],
    }


@pytest.mark.parametrize("as_of", ["2025-01-31", "2025-06-30", "2025-12-31"])
def test_certificate_worklist_agrees_with_gap(eng, as_of):
    """As of 31 Jan only K8 is overdue (K9 due 1 Feb: due soon); by 30 Jun K4 (due 1 Jun) and K9 too. K2 (born
    15 Dec) is not born yet on 30 Jun; on 31 Dec its due date (15 Jan 2026) is past the year's look-ahead."""
    day = dt.date.fromisoformat(as_of)
    work = worklist.items(eng, COUNTY, day, programs=["vaccination"], include_upcoming=True).to_pylist()
    overdue = {w["record_no"] for w in work if w["service"] == "certificate" and w["status"] == "overdue"}
    gap = {p.record_no for p in gaps.people(eng, "V1", COUNTY, parse(as_of), size=100).people}
    assert overdue == gap
    assert overdue == {"2025-01-31": {"K8"}, "2025-06-30": {"K4", "K8", "K9"},
                       "2025-12-31": {"K4", "K8", "K9"}}[as_of]


def test_first_visits_2025(eng):
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["H5", "D5"]))
    assert got[("H5", EAST)] == (1, 1)
    assert got[("H5", PUTING)] == (2, 2)
    assert got[("H5", LINQUAN)] == (0, 2)
    assert got[("H5", COUNTY)] == (2, 4)
    assert got[("D5", PUTING)] == (1, 2)
    assert got[("D5", LINQUAN)] == (1, 2)
    assert got[("D5", COUNTY)] == (2, 4)
    assert {p.record_no: p.reasons for p in gaps.people(eng, "H5", COUNTY, parse("2025")).people} == {
        "A4": [("FV-BP", "2025-04-04 首诊未测血压")], "A5": [("FV-BP", "2025-07-07 首诊未测血压")]}


def test_first_visits_second_quarter(eng):
    """至第二季度 (1 Jan – 30 Jun): A5's first visit (7 Jul) is later → H5 2/3 (A1, A3 of A1, A3, A4), D5 1/3
    (A3). To 7 July A5 enters: H5 2/4, D5 2/4; A2 never does (34 at the first visit)."""
    got = by_code(eng, catalogue.evaluate(eng, parse("2025Q2"), ["H5", "D5"]))
    assert got[("H5", COUNTY)] == (2, 3)
    assert got[("D5", COUNTY)] == (1, 3)
    july = by_code(eng, catalogue.evaluate(eng, parse("2025-07-07"), ["H5", "D5"]))
    assert july[("H5", COUNTY)] == (2, 4)
    assert july[("D5", COUNTY)] == (2, 4)


def test_emergency_reports_2025(eng):
    got = by_code(eng, catalogue.evaluate(eng, parse("2025"), ["ID1", "ID3", "ID4"]))
    assert got[("ID3", PUTING)] == (2, 3)
    assert got[("ID3", LINQUAN)] == (0, 0)
    assert got[("ID3", COUNTY)] == (2, 3)
    assert got[("ID4", PUTING)] == (4, 4)
    assert got[("ID4", LINQUAN)] == (0, 3)
    assert got[("ID4", COUNTY)] == (4, 7)
    assert got[("ID1", COUNTY)] == (1, 2)  # events do not enter the card indicators
    tree = OrgTree.load(eng.snapshot)
    state = eng.to_arrow(registry.state(eng, "reporting", parse("2025"))).to_pylist()
    events = {r["event_type"]: r for r in state if r["event_found"] and tree.code[r["managing_unit_id"]] == LINQUAN}
    from gongwei.spec.programs import reporting

    def reasons(flag, row):
        return [(reporting.GAP_REASONS[k].code, reporting.GAP_REASONS[k].render(row))
                for k in reporting.FLAG_REASONS[flag] if row.get(f"gap_{k}")]

    assert reasons("event_reported", events["occupational"]) == \
        [("ID-EVENT-MISSING", "突发公共卫生事件相关信息未报告，已超过 2 小时时限")]
    assert reasons("event_reported", events["vaccine"]) == \
        [("ID-EVENT-PENDING", "突发公共卫生事件相关信息尚未报告（2 小时时限未到）")]
    late = next(r for r in state if r["event_type"] == "unexplained")
    assert reasons("event_on_time", late) == \
        [("ID-EVENT-LATE", "突发公共卫生事件相关信息超时报告：发现后 3 小时报告，时限 2 小时")]


def test_event_worklist_agrees_with_gap(eng):
    """EV4 (found 8 Aug 09:00) is due 8 Aug: overdue at the year end; EV3 (31 Dec 23:00) is due 1 Jan 2026:
    due soon, and its gap is "pending", not "not reported"."""
    for as_of in (dt.date(2025, 8, 7), dt.date(2025, 8, 8), dt.date(2025, 12, 31)):
        work = worklist.items(eng, COUNTY, as_of, programs=["reporting"], include_upcoming=True).to_pylist()
        overdue = [w for w in work if w["service"] == "event_report" and w["status"] == "overdue"]
        state = eng.to_arrow(registry.state(eng, "reporting", parse(as_of.isoformat()))).to_pylist()
        assert len(overdue) == sum(r["gap_event_not_reported"] for r in state), as_of
    dec31 = worklist.items(eng, COUNTY, dt.date(2025, 12, 31), programs=["reporting"], include_upcoming=True)
    assert sorted((w["due_date"], w["status"]) for w in dec31.to_pylist() if w["service"] == "event_report") == \
        [(dt.date(2025, 8, 8), "overdue"), (dt.date(2026, 1, 1), "due_soon")]


def test_upload_validity(eng):
    """Uploads this year (kind import): U1 residents — 城东 U01 ✓ U02 ✗ (no name); 林泉村 U03 ✓; U04 names an
    unknown unit, so it is counted nowhere; U2 — 城西 two population bases ✓. The fixture's own load (kind
    "test") is not an upload.
    DV1 valid / submitted: 城东 1/2, 城西 2/2, 林泉村 1/1, 蒲亭 3/4, 林泉 1/1, county 4/5. Last year: none."""
    this_year = timezone.localdate().year
    got = by_code(eng, catalogue.evaluate(eng, parse(str(this_year)), ["DV1"]))
    assert got[("DV1", EAST)] == (1, 2)
    assert got[("DV1", WEST)] == (2, 2)
    assert got[("DV1", LIN)] == (1, 1)
    assert got[("DV1", PUTING)] == (3, 4)
    assert got[("DV1", COUNTY)] == (4, 5)
    before = by_code(eng, catalogue.evaluate(eng, parse(str(this_year - 1)), ["DV1"]))
    assert before[("DV1", COUNTY)] == (0, 0)
    rows = [r for r in eng.to_arrow(registry.state(eng, "uploads", parse(str(this_year)))).to_pylist()
            if r["gap_rows_rejected"]]
    from gongwei.spec.programs import uploads

    assert [uploads.GAP_REASONS["rows_rejected"].render(r) for r in rows] == \
        [f"批次 {rows[0]['batch_id']} 的 residents 有 1 行未通过校验"]
