"""Duplicate records (重复档案): exact and probabilistic, on a hand-built region, a synthetic region and the CLI.

Hand-built region (德安县 360426 with two townships, 都昌县 360428 with one), created_on decides the survivor:

  true duplicates                                                       expected
  D1 A01/A02 王建国 1950-03-01, same ID number, different villages       exact pair, A01 survives (created 2015)
  D2 A03/A04 李秀英 1962-07-15 城东村, A04 has no ID number nor phone      probable pair
  D3 A05/A06 赵丽娟/赵丽娇 1980-04-18 城东村, one character (juan/jiao),    probable pair, A06 survives (created 2012)
             A06 has no ID number; same phone
  D4 A07/A08 刘德华/刘德桦 1958-09-09, homophone (hua), 城东村/城西村 of     probable pair
             one township; A08 no ID number
  D5 A09 merged into A01 earlier (same ID number)                      never paired: merged records are done
  near misses
  N1 B01/B02 周子涵/周子轩 2015-06-01, twin boys in one household, one    not paired: two valid, different numbers
             phone, names one character apart
  N2 C01/C02 王伟 1988-08-08, 德安县 and 都昌县, valid numbers of each    not paired
  filler F01…F40: distinct names and birth dates (so u-probabilities are not estimated from duplicates alone)
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gongwei.engine.dedup import find_duplicates
from gongwei.engine.snapshot import Snapshot
from gongwei.records import entry, identity
from gongwei.records.snapshot import take_snapshot
from tests.regions import t

pytestmark = pytest.mark.django_db

PROVINCE, CITY, COUNTY, COUNTY_B = "360000000000", "360400000000", "360426000000", "360428000000"
T_PUTING, T_LINQUAN, T_DUCHANG = "360426100000", "360426200000", "360428100000"
V_EAST, V_WEST, V_LIN, V_DU = "360426100201", "360426100202", "360426200201", "360428100201"

ORG_UNITS = t(
    code=[PROVINCE, CITY, COUNTY, T_PUTING, V_EAST, V_WEST, T_LINQUAN, V_LIN, COUNTY_B, T_DUCHANG, V_DU],
    name=["江西省", "九江市", "德安县", "蒲亭镇卫生院", "城东村卫生室", "城西村卫生室", "林泉乡卫生院", "林泉村卫生室",
          "都昌县", "都昌镇卫生院", "东湖村卫生室"],
    level=["province", "city", "county", "township", "village", "village", "township", "village", "county",
           "township", "village"],
    kind=["health_bureau", "health_bureau", "health_bureau", "township_hc", "village_clinic", "village_clinic",
          "township_hc", "village_clinic", "health_bureau", "township_hc", "village_clinic"],
    parent=["", PROVINCE, CITY, COUNTY, T_PUTING, T_PUTING, COUNTY, T_LINQUAN, CITY, COUNTY_B, T_DUCHANG],
)


def _id(region: str, birth: str, seq: int) -> str:
    return str(identity.make_number(np.array([region]), np.array([birth], dtype="datetime64[D]"), np.array([seq]))[0])


# record_no, name, sex, birth, unit, id_number, phone, household, created_on, status, merged_into
_P = [
    ("A01", "王建国", "1", "1950-03-01", V_EAST, _id("360426", "1950-03-01", 11), "13900001001", "", "2015-01-01"),
    ("A02", "王建国", "1", "1950-03-01", V_WEST, _id("360426", "1950-03-01", 11), "13900001002", "", "2019-05-05"),
    ("A03", "李秀英", "2", "1962-07-15", V_EAST, _id("360426", "1962-07-15", 22), "13900001003", "", "2016-02-02"),
    ("A04", "李秀英", "2", "1962-07-15", V_EAST, "", "", "", "2020-03-03"),
    ("A05", "赵丽娟", "2", "1980-04-18", V_EAST, _id("360426", "1980-04-18", 42), "13900001005", "", "2018-04-04"),
    ("A06", "赵丽娇", "2", "1980-04-18", V_EAST, "", "13900001005", "", "2012-06-06"),
    ("A07", "刘德华", "1", "1958-09-09", V_EAST, _id("360426", "1958-09-09", 51), "13900001007", "", "2014-07-07"),
    ("A08", "刘德桦", "1", "1958-09-09", V_WEST, "", "", "", "2021-08-08"),
    ("B01", "周子涵", "1", "2015-06-01", V_WEST, _id("360426", "2015-06-01", 71), "13900002001", "H-ZHOU", "2015-07-01"),
    ("B02", "周子轩", "1", "2015-06-01", V_WEST, _id("360426", "2015-06-01", 73), "13900002001", "H-ZHOU", "2015-07-01"),
    ("C01", "王伟", "1", "1988-08-08", V_LIN, _id("360426", "1988-08-08", 91), "13900003001", "", "2017-01-01"),
    ("C02", "王伟", "1", "1988-08-08", V_DU, _id("360428", "1988-08-08", 93), "13900003002", "", "2017-01-01"),
]
_MERGED = ("A09", "王建国", "1", "1950-03-01", V_EAST, _id("360426", "1950-03-01", 11), "", "", "2010-01-01")
# filler: 40 different people, each with a distinct birth date, name and phone
_SURNAMES, _GIVEN = "陈杨黄吴徐孙胡朱高林", "春夏秋冬"
_FILLER = [(f"F{i:02d}", _SURNAMES[i % 10] + _GIVEN[i // 10] + "生", "12"[i % 2],
            (dt.date(1940, 1, 10) + dt.timedelta(days=397 * i)).isoformat(), (V_EAST, V_WEST, V_LIN, V_DU)[i % 4],
            _id(("360426", "360426", "360426", "360428")[i % 4], (dt.date(1940, 1, 10) + dt.timedelta(days=397 * i)).isoformat(),
                101 + 2 * i + i % 2) if i % 3 else "",
            f"1370000{1000 + i}", "", "2016-01-01") for i in range(40)]
PEOPLE = _P + [_MERGED] + _FILLER


def _residents() -> pa.Table:
    merged = {_MERGED[0]}
    return t(
        record_no=[p[0] for p in PEOPLE], name=[p[1] for p in PEOPLE], sex=[p[2] for p in PEOPLE],
        birth_date=[p[3] for p in PEOPLE], managing_unit=[p[4] for p in PEOPLE], id_number=[p[5] for p in PEOPLE],
        phone=[p[6] for p in PEOPLE], household=[p[7] for p in PEOPLE], residence_type=["1"] * len(PEOPLE),
        status=["merged" if p[0] in merged else "active" for p in PEOPLE],
        status_date=["2024-01-01" if p[0] in merged else "" for p in PEOPLE],
        merged_into=["A01" if p[0] in merged else "" for p in PEOPLE],
    )


def build_snapshot(root) -> Snapshot:
    result = entry.submit({
        "org_units": ORG_UNITS,
        "households": t(household_no=["H-ZHOU"], org_unit=[V_WEST], address=["城西村1组"]),
        "residents": _residents(),
        "health_records": t(resident=[p[0] for p in PEOPLE], created_on=[p[8] for p in PEOPLE],
                            created_by_unit=[T_DUCHANG if p[4] == V_DU else T_LINQUAN if p[4] == V_LIN else T_PUTING
                                             for p in PEOPLE]),
    }, actor="test", kind="test")
    assert not result.issues, result.issues[:5]
    return Snapshot.open(take_snapshot(root))


def _pairs(result) -> dict[tuple[str, str], dict]:
    return {(r["survivor"], r["duplicate"]): r for r in result.queue.to_pylist()}


def test_hand_built_region_exact_and_probable(tmp_path):
    snap = build_snapshot(tmp_path)
    result = find_duplicates(snap, "360400000000")
    pairs = _pairs(result)
    assert set(pairs) == {("A01", "A02"), ("A03", "A04"), ("A06", "A05"), ("A07", "A08")}
    assert [(r["survivor"], r["kind"]) for r in result.queue.to_pylist()][0] == ("A01", "精确")  # exact first
    assert [r["kind"] for r in result.queue.to_pylist()] == ["精确", "概率", "概率", "概率"]
    probs = result.queue.column("match_probability").to_pylist()
    assert probs[1:] == sorted(probs[1:], reverse=True) and min(probs[1:]) >= 0.9
    assert pairs[("A06", "A05")]["agree"] == "出生日期、性别、村、电话"
    assert pairs[("A07", "A08")]["agree"] == "姓名同音、出生日期、性别、乡镇"
    assert pairs[("A03", "A04")]["agree"] == "姓名、出生日期、性别、村"
    assert pairs[("A01", "A02")]["merge_command"] == "gongwei merge A01 A02 --reason 重复档案"
    assert pairs[("A01", "A02")]["survivor_unit"] == "城东村卫生室"
    s = result.summary
    assert (s["records"], s["exact_pairs"], s["probable_pairs"], s["clusters"], s["records_in_clusters"]) == (
        len(PEOPLE) - 1, 1, 3, 4, 8)
    assert result.summary["training"] == "priors"  # a few dozen records: EM would only fit noise
    clusters = result.clusters.to_pylist()
    assert {(c["record_no"], c["cluster_id"], c["survivor"]) for c in clusters if c["record_no"] in ("A05", "A06")} == {
        ("A05", 3, "A06"), ("A06", 3, "A06")}
    assert "A09" not in {c["record_no"] for c in clusters}  # merged records are done


def test_near_misses_and_scope(tmp_path):
    snap = build_snapshot(tmp_path)
    everything = find_duplicates(snap)
    found = set(_pairs(everything))
    for a, b in (("B01", "B02"), ("C01", "C02")):
        assert (a, b) not in found and (b, a) not in found
    # a township: only its own records; the pair A07/A08 spans 城东村/城西村, both in 蒲亭镇
    puting = find_duplicates(snap, T_PUTING)
    assert set(_pairs(puting)) == {("A01", "A02"), ("A03", "A04"), ("A06", "A05"), ("A07", "A08")}
    village = find_duplicates(snap, V_EAST)
    assert set(_pairs(village)) == {("A03", "A04"), ("A06", "A05")}
    # a scope this small borrows the model of the smallest enclosing unit with enough records (here: all), so a
    # pair scores the same whichever unit looks at it
    assert village.summary["records"] == 16 and village.summary["training_records"] == len(PEOPLE) - 1
    assert _pairs(village)[("A03", "A04")]["match_probability"] == _pairs(puting)[("A03", "A04")]["match_probability"]
    assert find_duplicates(snap, COUNTY_B).queue.num_rows == 0
    # a stricter threshold keeps exact pairs whatever their probability
    strict = find_duplicates(snap, COUNTY, threshold=1.0)
    assert ("A01", "A02") in _pairs(strict)
    with pytest.raises(ValueError, match="阈值"):
        find_duplicates(snap, COUNTY, threshold=0)


def test_deterministic(tmp_path):
    snap = build_snapshot(tmp_path)
    a, b = find_duplicates(snap, em=True), find_duplicates(snap, em=True)
    for x, y in ((a.pairs, b.pairs), (a.clusters, b.clusters), (a.queue, b.queue)):
        assert x.equals(y)
    assert a.parameters == b.parameters


def test_synthetic_region_recall_and_precision(tmp_path):
    from gongwei.benchmarks.dedup import label_pairs, score
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    region = generate_region(20_000, seed=7, as_of=dt.date(2026, 6, 30), months=3)
    load_region(region, progress=False)
    snap = Snapshot.open(take_snapshot(tmp_path))
    units = region.tables["org_units"]
    city = units.filter(pc.equal(units.column("level"), "city")).column("code")[0].as_py()
    result = find_duplicates(snap, city)
    truth = label_pairs(region)
    s = score(result, truth)
    print(f"\nsynthetic 20,000 (seed 7): {s}; {result.summary}")
    assert len(truth) == 60  # 0.3 % of 20,000
    assert s["recall"] >= 0.95 and s["precision"] >= 0.9
    # every exact pair is a labelled same-id duplicate
    exact = result.queue.filter(pc.equal(result.queue.column("kind"), "精确"))
    assert exact.num_rows == sum(1 for lab in region.labels.to_pylist() if lab["problem"] == "dup_same_id")


def test_cli(tmp_path, capsys, settings):
    from gongwei.cli.main import main

    settings.DATA_DIR = tmp_path
    snap = build_snapshot(tmp_path / "snapshots")
    assert main(["dedup", "--org", COUNTY, "--snapshot", str(snap.folder)]) == 0
    out = capsys.readouterr()
    assert "身份证号相同 1 对，疑似重复（匹配概率 ≥ 0.5）3 对；聚类 4 个，涉及档案 8 份" in out.out
    assert "gongwei merge A01 A02 --reason 重复档案" in out.out and "gongwei merge A06 A05" in out.out
    assert "分块比较与打分" in out.err  # progress goes to stderr
    assert main(["dedup", "--org", COUNTY, "--snapshot", str(snap.folder), "--format", "json", "--limit", "2"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["summary"]["exact_pairs"] == 1 and len(payload["queue"]) == 2
    assert payload["queue"][0]["survivor_birth_date"] == "1950-03-01"
    out_file = tmp_path / "queue.csv"
    assert main(["dedup", "--org", COUNTY, "--snapshot", str(snap.folder), "--format", "csv", "--out", str(out_file)]) == 0
    lines = out_file.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("rank,kind,match_probability,survivor,duplicate") and len(lines) == 5
    assert main(["dedup", "--org", "999", "--snapshot", str(snap.folder)]) == 2
    assert "机构代码 999 不存在" in capsys.readouterr().err
    assert main(["dedup", "--org", COUNTY, "--snapshot", str(snap.folder), "--threshold", "1.5"]) == 2
    assert "阈值" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["dedup", "--help"])
    assert "不合并任何档案" in capsys.readouterr().out
