"""Identity rules ID-01…ID-09 and the resident phone rules C-02 and F-06, on a hand-built region.

The entry layer stores each number's first failure as ``id_status``; these tests enter real numbers (made
valid or broken on purpose) so the statuses come from the same validation the system uses.
"""

from __future__ import annotations

import pytest

from tests.qc_fixtures import V_WEST, build, findings, flagged, idn, message, people, rows

pytestmark = pytest.mark.django_db

IDENTITY = ["ID-01", "ID-02", "ID-03", "ID-04", "ID-06", "ID-07", "ID-08", "ID-09"]
GOOD = idn("19800101", "011")
DUP = idn("19700505", "013")
PLACEHOLDER = "11010519491231002X"


def _bad_checksum(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


PEOPLE = [
    {"record_no": "I01", "id_number": GOOD},                                                # clean
    {"record_no": "I02", "birth_date": "1985-03-03"},                                       # ID-01
    {"record_no": "I03", "birth_date": "2025-11-30", "created_on": "2025-12-02"},           # ID-01: 31 days old
    {"record_no": "I04", "birth_date": "2025-12-01", "created_on": "2025-12-02"},           # 30 days: not yet
    {"record_no": "I05", "id_number": GOOD[:17]},                                           # ID-02: 17 characters
    {"record_no": "I06", "birth_date": "1975-06-06", "id_number": _bad_checksum(idn("19750606", "015"))},  # ID-03
    {"record_no": "I07", "id_number": idn("19900230", "017")},                              # ID-04: 30 February
    {"record_no": "I08", "birth_date": "1960-01-01", "id_number": idn("19600101", "019", region="369999")},  # ID-06
    {"record_no": "I09", "birth_date": "1981-01-01", "id_number": idn("19800101", "021")},  # ID-07 birth date
    {"record_no": "I10", "sex": "2", "id_number": idn("19800101", "023")},                  # ID-07 sex (odd = male)
    {"record_no": "I11", "birth_date": "1949-12-31", "id_number": PLACEHOLDER, "sex": "2"},  # ID-08
    {"record_no": "I12", "id_type": "03", "id_number": "E12345678"},                         # passport: not checked
    {"record_no": "I13", "status": "dead", "status_date": "2025-06-01"},                    # closed: not evaluated
    {"record_no": "I14", "id_number": "123", "created_on": "2026-01-05"},                   # recorded after the period
    {"record_no": "I15", "record": False, "birth_date": "1990-01-01"},                      # no basic-info form: ID-01
    # ID-09: one number on five records; D4 merged, D5 moved out — three remain
    {"record_no": "D1", "birth_date": "1970-05-05", "id_number": DUP, "created_on": "2019-01-01"},
    {"record_no": "D2", "birth_date": "1970-05-05", "id_number": DUP, "created_on": "2021-01-01"},
    {"record_no": "D3", "birth_date": "1970-05-05", "id_number": DUP, "created_on": "2018-06-01",
     "managing_unit": V_WEST},
    {"record_no": "D4", "birth_date": "1970-05-05", "id_number": DUP, "created_on": "2017-01-01",
     "status": "merged", "status_date": "2024-01-01", "merged_into": "D1"},
    {"record_no": "D5", "birth_date": "1970-05-05", "id_number": DUP, "created_on": "2016-01-01",
     "status": "moved_out", "status_date": "2025-03-01"},
    # the same creation date: the lower id (entered first) is the original
    {"record_no": "E1", "birth_date": "1988-08-08", "id_number": idn("19880808", "031"), "created_on": "2022-02-02"},
    {"record_no": "E2", "birth_date": "1988-08-08", "id_number": idn("19880808", "031"), "created_on": "2022-02-02"},
    # one placeholder number on two people identifies nobody: ID-08 twice, no duplicate
    {"record_no": "P1", "birth_date": "1949-12-31", "id_number": PLACEHOLDER, "sex": "2"},
]


def test_identity_rules(tmp_path):
    eng = build(tmp_path, people(PEOPLE))
    found = findings(eng, IDENTITY)
    assert flagged(found, "ID-01") == ["I02", "I03", "I15"]
    assert flagged(found, "ID-02") == ["I05"]
    assert flagged(found, "ID-03") == ["I06"]
    assert flagged(found, "ID-04") == ["I07"]
    assert flagged(found, "ID-06") == ["I08"]
    assert flagged(found, "ID-07") == ["I09", "I10"]
    assert flagged(found, "ID-08") == ["I11", "P1"]
    assert flagged(found, "ID-09") == ["D1", "D2", "E2"]

    assert message(found, "ID-01", "I02") == "身份证号为空"
    assert message(found, "ID-02", "I05") == f"身份证号“{GOOD[:6]}*******{GOOD[13:17]}”长度或字符不合规"
    bad = _bad_checksum(idn("19750606", "015"))
    assert message(found, "ID-03", "I06") == f"身份证号“{bad[:6]}********{bad[14:]}”校验位错误"
    assert message(found, "ID-04", "I07") == "身份证号中的出生日期无效或超过 120 岁"
    assert message(found, "ID-06", "I08") == "身份证号地址码“369999”不在行政区划代码表中"
    assert message(found, "ID-07", "I09") == "身份证号所含出生日期与档案不符"
    assert message(found, "ID-07", "I10") == "身份证号所含性别与档案不符"
    assert message(found, "ID-08", "P1") == "身份证号“110105********002X”为占位或虚假号码"
    # D3 (created 2018) is the original; D4 is merged and D5 closed, so neither is named
    assert message(found, "ID-09", "D1") == "身份证号与档案 D2、D3 相同（重复档案）"
    assert message(found, "ID-09", "D2") == "身份证号与档案 D1、D3 相同（重复档案）"
    assert message(found, "ID-09", "E2") == "身份证号与档案 E1 相同（重复档案）"
    by_no = {f["number"]: f for f in found if f["rule"] == "ID-09"}
    assert by_no["D1"]["table"] == "residents" and by_no["D1"]["level"] == "E"


def test_age_limit_at_the_period_end(tmp_path):
    """ID-04 beyond entry: valid numbers whose holders pass the age limit later. At 31 Dec 2040 someone born
    1919-12-31 is 121 (over 120), someone born 1920-01-01 is 120 (not over)."""
    eng = build(tmp_path, people([
        {"record_no": "O1", "birth_date": "1919-12-31", "id_number": idn("19191231", "011")},
        {"record_no": "O2", "birth_date": "1920-01-01", "id_number": idn("19200101", "011")},
        {"record_no": "O3", "birth_date": "1919-12-31", "id_number": idn("19191231", "012"), "sex": "1"},  # sex mismatch
        {"record_no": "O4", "birth_date": "1919-12-30", "id_number": idn("19191231", "013")},  # birth mismatch
    ]))
    assert flagged(findings(eng, ["ID-04"], "2040"), "ID-04") == ["O1", "O3"]
    assert flagged(findings(eng, ["ID-04"], "2025"), "ID-04") == []


def test_phone_format(tmp_path):
    eng = build(tmp_path, people([
        {"record_no": "Q1", "phone": "12812345678"},     # mobile prefix 12: invalid
        {"record_no": "Q2", "phone": "0792-4567890"},    # landline, 4-digit area code, 7 digits
        {"record_no": "Q3", "phone": "000-00000000"},    # all zeros
        {"record_no": "Q4", "phone": "1381234567"},      # 10 digits
        {"record_no": "Q5", "phone": ""},                # blank: completeness, not format
        {"record_no": "Q6", "phone": "01012345678"},     # landline, 3-digit area code, no hyphen
        {"record_no": "Q7", "phone": "19912345678"},     # mobile prefix 19
        {"record_no": "Q8", "phone": "11111111111"},     # all the same digit
        {"record_no": "Q9", "phone": "8123456"},         # no area code
    ]))
    found = findings(eng, ["C-02"])
    assert flagged(found, "C-02") == ["Q1", "Q3", "Q4", "Q8", "Q9"]
    assert message(found, "C-02", "Q1") == "电话“128********”不是有效的手机或固定电话号码"
    assert message(found, "C-02", "Q3") == "电话“000-********”不是有效的手机或固定电话号码"


def test_shared_phone(tmp_path):
    """One number on 4 households (two members of H1, one resident without a household) is flagged on every
    record; one on 3 households is not (more than 3 are needed). A merged record does not count."""
    shared, three = "13911112222", "13933334444"
    households = rows({"org_unit": "360426100201"}, [{"household_no": f"H{i}"} for i in range(1, 8)])
    eng = build(tmp_path, {"households": households, **people([
        {"record_no": "S1", "phone": shared, "household": "H1"},
        {"record_no": "S2", "phone": shared, "household": "H1"},
        {"record_no": "S3", "phone": shared, "household": "H2"},
        {"record_no": "S4", "phone": shared, "household": "H3"},
        {"record_no": "S5", "phone": shared},
        {"record_no": "T1", "phone": three, "household": "H4"},
        {"record_no": "T2", "phone": three, "household": "H5"},
        {"record_no": "T3", "phone": three, "household": "H6"},
        {"record_no": "T4", "phone": three, "household": "H7", "status": "merged", "status_date": "2024-01-01",
         "merged_into": "T3"},
    ])})
    found = findings(eng, ["F-06"])
    assert flagged(found, "F-06") == ["S1", "S2", "S3", "S4", "S5"]
    assert message(found, "F-06", "S5") == "电话 139******** 用于 4 个家庭"
