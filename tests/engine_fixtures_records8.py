"""A hand-built region for the records added by issue 8: vaccination certificates (V1), first outpatient visits
(H5, D5), public-health emergency reports (ID3, ID4) and upload tallies (DV1). Expected counts are worked out in
tests/test_engine_records8.py.

Units (tests/regions.py): county 德安县 360426000000; township centres 蒲亭镇卫生院 360426100000 and 林泉乡卫生院
360426200000; villages 城东村 360426100201, 城西村 360426100202 (蒲亭), 林泉村 360426200201 (林泉).

Children (certificates; period 2025):
  K1 城东  born 2025-03-10                         certificate 2025-03-20
  K2 城东  born 2025-12-15                         none (due 2026-01-15)
  K3 城西  born 2021-05-01, living here since 2025-10-20   none (due 2026-01-20)
  K4 城西  born 2020-02-01, living here since 2025-03-01   none (due 2025-06-01)
  K5 林泉村 born 2018-06-01 (7 on 2025-06-01)       certificate 2018-06-20
  K6 林泉村 born 2017-12-01 (7 before 2025)          none
  K7 林泉村 born 2024-01-05, died 2024-01-20         none
  K8 城东  born 2024-11-01                         only a void certificate (2024-11-20)
  K9 城东  born 2025-01-01                         certificate 2026-01-03 (after 2025)
Adults (consultations; unit = where seen):
  A1 城东  born 1980-06-15  CN011 2025-03-01 城东 BP ticked 130/80, no glucose; CN012 2025-05-01 glucose 5.6
  A2 城东  born 1990-07-01  CN021 2025-06-30 城东 (aged 34) BP; CN022 2025-08-01 BP
  A3 城西  born 1960-01-01  CN031 2024-12-20 城西 BP; CN032 2025-02-02 蒲亭镇卫生院, BP box blank but 150/95
                            recorded, glucose box blank but 6.1 recorded
  A4 林泉村 born 1970-03-03  CN041 2025-04-04 林泉村 nothing measured; CN042 2025-04-04 林泉村 BP
  A5 林泉村 born 1950-01-01  CN051 2025-01-05 林泉村 BP, void; CN052 2025-07-07 林泉村 glucose only
Report cards (diagnosed, reported; +08:00): RC1 蒲亭 B 2025-03-01 08:00 → 12:00; RC2 林泉 C 2025-05-01 08:00, none.
Emergency events (found → reported; +08:00):
  EV1 蒲亭 food        2025-04-01 10:00 → 11:30      EV2 蒲亭 unexplained 2025-06-01 10:00 → 13:00
  EV3 林泉 vaccine     2025-12-31 23:00 → none       EV4 林泉 occupational 2025-08-08 09:00 → none
  EV5 蒲亭 food        2025-01-01 07:00 → 08:00 (31 Dec 2024 in UTC)
"""

from __future__ import annotations

from pathlib import Path

from gongwei.engine.backends import Engine
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry
from gongwei.records.snapshot import take_snapshot
from tests.regions import ORG_UNITS, t

EAST, WEST, LIN = "360426100201", "360426100202", "360426200201"
PUTING, LINQUAN, COUNTY = "360426100000", "360426200000", "360426000000"

# record_no, unit, birth, residence_since, status, status_date
_PEOPLE = [
    ("K1", EAST, "2025-03-10", "", "active", ""),
    ("K2", EAST, "2025-12-15", "", "active", ""),
    ("K3", WEST, "2021-05-01", "2025-10-20", "active", ""),
    ("K4", WEST, "2020-02-01", "2025-03-01", "active", ""),
    ("K5", LIN, "2018-06-01", "", "active", ""),
    ("K6", LIN, "2017-12-01", "", "active", ""),
    ("K7", LIN, "2024-01-05", "", "dead", "2024-01-20"),
    ("K8", EAST, "2024-11-01", "", "active", ""),
    ("K9", EAST, "2025-01-01", "", "active", ""),
    ("A1", EAST, "1980-06-15", "", "active", ""),
    ("A2", EAST, "1990-07-01", "", "active", ""),
    ("A3", WEST, "1960-01-01", "", "active", ""),
    ("A4", LIN, "1970-03-03", "", "active", ""),
    ("A5", LIN, "1950-01-01", "", "active", ""),
]
RESIDENTS = t(
    record_no=[p[0] for p in _PEOPLE], name=[f"居民{p[0]}" for p in _PEOPLE], sex=["1"] * len(_PEOPLE),
    birth_date=[p[2] for p in _PEOPLE], managing_unit=[p[1] for p in _PEOPLE],
    residence_since=[p[3] for p in _PEOPLE], status=[p[4] for p in _PEOPLE], status_date=[p[5] for p in _PEOPLE],
    residence_type=["1"] * len(_PEOPLE), id_type=["03"] * len(_PEOPLE),
    id_number=[f"E{100 + i}" for i in range(len(_PEOPLE))],
)

# encounter_no, resident, issued on, issuing unit, void
_CERTS = [
    ("VC1", "K1", "2025-03-20", PUTING, "0"),
    ("VC5", "K5", "2018-06-20", LINQUAN, "0"),
    ("VC8", "K8", "2024-11-20", PUTING, "1"),
    ("VC9", "K9", "2026-01-03", PUTING, "0"),
]
CERTIFICATES = t(encounter_no=[c[0] for c in _CERTS], resident=[c[1] for c in _CERTS],
                 service_date=[c[2] for c in _CERTS], org_unit=[c[3] for c in _CERTS], is_void=[c[4] for c in _CERTS],
                 certificate_no=[f"JZZ{c[0]}" for c in _CERTS])

# encounter_no, resident, date, unit, bp ticked, sbp, dbp, glucose ticked, glucose, void
_VISITS = [
    ("CN011", "A1", "2025-03-01", EAST, "1", "130", "80", "0", "", "0"),
    ("CN012", "A1", "2025-05-01", EAST, "0", "", "", "1", "5.6", "0"),
    ("CN021", "A2", "2025-06-30", EAST, "1", "120", "75", "0", "", "0"),
    ("CN022", "A2", "2025-08-01", EAST, "1", "122", "76", "0", "", "0"),
    ("CN031", "A3", "2024-12-20", WEST, "1", "140", "90", "0", "", "0"),
    ("CN032", "A3", "2025-02-02", PUTING, "", "150", "95", "", "6.1", "0"),
    ("CN041", "A4", "2025-04-04", LIN, "0", "", "", "0", "", "0"),
    ("CN042", "A4", "2025-04-04", LIN, "1", "128", "82", "0", "", "0"),
    ("CN051", "A5", "2025-01-05", LIN, "1", "135", "85", "0", "", "1"),
    ("CN052", "A5", "2025-07-07", LIN, "0", "", "", "1", "7.2", "0"),
]
CONSULTATIONS = t(encounter_no=[c[0] for c in _VISITS], resident=[c[1] for c in _VISITS],
                  service_date=[c[2] for c in _VISITS], org_unit=[c[3] for c in _VISITS],
                  bp_measured=[c[4] for c in _VISITS], sbp=[c[5] for c in _VISITS], dbp=[c[6] for c in _VISITS],
                  glucose_measured=[c[7] for c in _VISITS], blood_glucose=[c[8] for c in _VISITS],
                  is_void=[c[9] for c in _VISITS])

REPORTS = t(report_no=["RC1", "RC2"], org_unit=[PUTING, LINQUAN], disease=["细菌性痢疾", "流行性腮腺炎"],
            disease_class=["B", "C"], diagnosed_at=["2025-03-01T08:00:00+08:00", "2025-05-01T08:00:00+08:00"],
            reported_at=["2025-03-01T12:00:00+08:00", ""])

_EVENTS = [
    ("EV1", PUTING, "food", "2025-04-01T10:00:00+08:00", "2025-04-01T11:30:00+08:00"),
    ("EV2", PUTING, "unexplained", "2025-06-01T10:00:00+08:00", "2025-06-01T13:00:00+08:00"),
    ("EV3", LINQUAN, "vaccine", "2025-12-31T23:00:00+08:00", ""),
    ("EV4", LINQUAN, "occupational", "2025-08-08T09:00:00+08:00", ""),
    ("EV5", PUTING, "food", "2025-01-01T07:00:00+08:00", "2025-01-01T08:00:00+08:00"),
]
EVENTS = t(report_no=[e[0] for e in _EVENTS], org_unit=[e[1] for e in _EVENTS], event_type=[e[2] for e in _EVENTS],
           description=["学校聚集性病例"] * len(_EVENTS), found_at=[e[3] for e in _EVENTS],
           reported_at=[e[4] for e in _EVENTS])

# Two uploads (kind "import"): U1 with accept_valid — U02 has no name (rejected, counted at 城东), U04 names an
# unknown unit (rejected, attributed to no unit); U2 clean, two population bases of 城西.
UPLOAD_1 = t(record_no=["U01", "U02", "U03", "U04"], name=["甲", "", "丙", "丁"], sex=["1", "2", "2", "1"],
             birth_date=["1980-01-01"] * 4, managing_unit=[EAST, EAST, LIN, "999999999999"],
             residence_type=["1"] * 4)
UPLOAD_2 = t(org_unit=[WEST, WEST], year=["2025", "2025"], group=["resident_population", "aged_65_plus"],
             value=["900", "120"], source=["statistics"] * 2)


def build_snapshot(root: Path) -> Snapshot:
    result = entry.submit({"org_units": ORG_UNITS, "residents": RESIDENTS, "vaccination_certificates": CERTIFICATES,
                           "consultations": CONSULTATIONS, "infectious_disease_reports": REPORTS,
                           "emergency_event_reports": EVENTS}, actor="test", kind="test")
    assert not result.issues, result.issues[:5]
    entry.submit({"residents": UPLOAD_1}, actor="县疾控", kind="import", accept_valid=True)
    entry.submit({"population_bases": UPLOAD_2}, actor="县疾控", kind="import")
    return Snapshot.open(take_snapshot(root))


def engine(root: Path, backend: str = "duckdb") -> Engine:
    return Engine(build_snapshot(root), backend)
