"""Synthetic regions: determinism, structure, calibration against spec.reference, and label truth."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from gongwei.records import identity
from gongwei.records.schema import tables as schema_tables
from gongwei.spec import reference as ref
from gongwei.spec.programs import child as child_spec
from gongwei.spec.programs import vaccination as nip
from gongwei.spec.vocab import IdStatus
from gongwei.synth.config import SynthConfig
from gongwei.synth.generate import LABEL_COLUMNS, default_start, generate_region

AS_OF = dt.date(2026, 6, 30)
PROBLEMS = {"dup_same_id", "dup_no_id", "id_empty", "id_bad_checksum", "id_malformed", "id_birth_mismatch",
            "exam_lookalike", "bp_arm_gap_10", "bp_arm_gap_20", "uncontrolled_no_guidance", "service_after_death",
            "service_after_moveout", "report_late", "report_missing"}
# Many small units, so a 20k region has several counties (two of them lagging, like [pingliang-2020q2]).
SMALL_UNITS = SynthConfig(township_size=4_000, village_size=(800, 1_200), townships_per_county=1)


@pytest.fixture(scope="module")
def region():
    return generate_region(20_000, 11, AS_OF, config=SMALL_UNITS)


def col(region, table, name):
    return np.asarray(region.tables[table].column(name).to_numpy(zero_copy_only=False))


def rows_by_key(region, table, key, keys):
    t = region.tables[table]
    idx = pc.index_in(pa.array(keys, pa.string()), value_set=t.column(key).combine_chunks())
    assert pc.all(pc.is_valid(idx)).as_py(), f"{table}: labelled key not found"
    return t.take(idx)


def labels_of(region, problem):
    lab = region.labels
    return lab.filter(pc.equal(lab.column("problem"), problem))


# --- determinism ------------------------------------------------------------------------------------
def test_same_seed_same_tables_and_labels():
    a = generate_region(3_000, 5, AS_OF, months=12)
    b = generate_region(3_000, 5, AS_OF, months=12)
    assert list(a.tables) == list(b.tables)
    for name in a.tables:
        assert a.tables[name].equals(b.tables[name]), name
    assert a.labels.equals(b.labels)


def test_different_seed_different_data():
    a = generate_region(3_000, 5, AS_OF, months=12)
    c = generate_region(3_000, 6, AS_OF, months=12)
    assert not a.tables["residents"].equals(c.tables["residents"])
    assert not a.tables["chronic_follow_ups"].equals(c.tables["chronic_follow_ups"])


def test_window_defaults():
    assert default_start(AS_OF, None) == dt.date(2025, 1, 1)
    assert default_start(AS_OF, 12) == dt.date(2025, 7, 1)
    assert default_start(dt.date(2026, 3, 31), 1) == dt.date(2026, 3, 1)


# --- structure ----------------------------------------------------------------------------------------
def test_tables_follow_the_exchange_layout(region):
    schema = schema_tables()
    assert list(region.tables) == [n for n in schema if n in region.tables]
    for name, t in region.tables.items():
        assert t.column_names == schema[name].column_names, name
        assert t.num_rows > 0, name
    assert region.labels.column_names == list(LABEL_COLUMNS)


def test_org_tree_codes_and_kinds(region):
    org = region.tables["org_units"]
    codes = col(region, "org_units", "code").astype(str)
    assert all(len(c) == 12 and c.isdigit() for c in codes)
    parents = dict(zip(codes, col(region, "org_units", "parent").astype(str), strict=True))
    levels = dict(zip(codes, col(region, "org_units", "level").astype(str), strict=True))
    for c in codes:  # every code starts with its parent's prefix (GB/T 2260 + township + village)
        p = parents[c]
        if p:
            prefix = {"city": 2, "county": 4, "township": 6, "village": 9}[levels[c]]
            assert c[:prefix] == p[:prefix]
    for c in codes:
        if levels[c] == "county":
            assert identity.region_code_known(c[:6])
    kinds = set(zip(col(region, "org_units", "level"), col(region, "org_units", "kind"), strict=True))
    assert ("village", "village_clinic") in kinds and ("township", "township_hc") in kinds
    assert org.num_rows > 20
    sizes = np.unique(col(region, "residents", "managing_unit"), return_counts=True)[1]
    assert sizes.min() >= 700 and sizes.max() <= 1_400  # SMALL_UNITS village size


def test_households_have_two_to_four_members(region):
    res = region.tables["residents"].slice(0, region.residents)  # true persons (duplicates are appended)
    _, counts = np.unique(np.asarray(res.column("household").to_numpy(zero_copy_only=False)), return_counts=True)
    assert np.isin(counts, [1, 2, 3, 4]).all()  # 1 only where a village boundary cuts a household
    assert (counts >= 2).mean() > 0.95
    assert abs(res.num_rows / len(counts) - ref.HOUSEHOLD_MEAN_SIZE.value) < 0.3


def test_teams_contracts_and_bases(region):
    members = region.tables["team_members"]
    assert set(col(region, "teams", "code")) == set(np.asarray(members.column("team").to_numpy(zero_copy_only=False)))
    signed = region.tables["contracts"].num_rows / region.residents
    assert 0.55 <= signed <= 0.95
    bases = region.tables["population_bases"]
    assert set(col(region, "population_bases", "source")) == {"synthetic"}
    groups = set(col(region, "population_bases", "group"))
    assert {"resident_population", "aged_65_plus", "children_0_6", "children_under_3", "children_0_36m",
            "live_births", "task_hypertension", "task_diabetes", "task_smi", "task_copd"} <= groups
    prov = bases.filter(pc.and_(pc.equal(bases.column("org_unit"), "620000000000"),
                                pc.equal(bases.column("group"), "resident_population")))
    assert 0.9 * region.residents <= prov.column("value")[0].as_py() <= region.residents


# --- calibration --------------------------------------------------------------------------------------
def test_age_structure_matches_the_census(region):
    age = region.truth["age"]
    share = {"0-14": (age <= 14).mean(), "15-59": ((age >= 15) & (age <= 59)).mean(), "60+": (age >= 60).mean(),
             "65+": (age >= 65).mean()}
    for group, fig in ref.CENSUS_2020_BROAD_GROUPS.items():
        assert abs(share[group] - fig.value) < 0.015, (group, share[group], fig.value)


def test_sex_ratio(region):
    sex = region.truth["sex"]
    ratio = 100 * (sex == "1").sum() / (sex == "2").sum()
    assert abs(ratio - ref.CENSUS_2020_SEX_RATIO.value) < 5


def test_prevalence_and_managed_shares(region):
    t, age = region.truth, region.truth["age"]
    adults = age >= ref.ADULT_MIN_AGE
    assert t["hypertension"][adults].mean() == pytest.approx(ref.PREVALENCE["hypertension_18plus"].value, rel=0.1)
    assert t["diabetes"][adults].mean() == pytest.approx(ref.PREVALENCE["diabetes_18plus"].value, rel=0.15)
    assert t["copd"][age >= 40].mean() == pytest.approx(ref.PREVALENCE["copd_40plus"].value, rel=0.15)
    assert t["smi"].mean() == pytest.approx(ref.PREVALENCE["smi_registered_all_ages"].value, rel=0.35)
    for key in ("hypertension", "diabetes"):
        eligible = t[key] & (age >= 35)
        share = t[f"{key}_managed"].sum() / eligible.sum()
        assert share == pytest.approx(ref.MANAGED_SHARE_OF_PREVALENT[key].value, rel=0.2), key
    # enrolled patients are exactly the managed ones
    enr = region.tables["enrollments"]
    htn = enr.filter(pc.equal(enr.column("program"), "hypertension")).num_rows
    assert htn == t["hypertension_managed"].sum()


def test_births_follow_the_crude_birth_rate(region):
    birth = region.truth["birth"]
    year = AS_OF.year - 1
    born = ((birth >= np.datetime64(f"{year}-01-01")) & (birth <= np.datetime64(f"{year}-12-31"))).sum()
    cbr = ref.CRUDE_BIRTH_RATE[min(year, max(ref.CRUDE_BIRTH_RATE))].value
    assert born / region.residents == pytest.approx(cbr, rel=0.25)


def test_units_lag_like_seed_002(region):
    """Elderly exam rate in the last full year differs by county: lagging counties near 40%, others 60%+."""
    ex = region.tables["health_examinations"]
    year = AS_OF.year - 1
    ex = ex.filter(pc.and_(pc.equal(ex.column("trigger"), "elderly"), pc.equal(pc.year(ex.column("service_date")), year)))
    examined = set(np.asarray(ex.column("resident").to_numpy(zero_copy_only=False)))
    res = region.tables["residents"].slice(0, region.residents)
    rec = np.asarray(res.column("record_no").to_numpy(zero_copy_only=False))
    t = region.truth
    old = (t["age"] >= 66) & (np.isnat(t["end"]))
    rates = []
    for c in np.unique(t["county"]):
        sel = old & (t["county"] == c)
        rates.append(np.isin(rec[sel], list(examined)).mean())
    rates = np.array(rates)
    assert rates.min() < 0.47 and rates.max() > 0.58, rates


# --- injected problems: present and true ------------------------------------------------------------------
def test_every_problem_type_is_labelled(region):
    found = set(np.asarray(region.labels.column("problem").to_numpy(zero_copy_only=False)))
    assert found >= PROBLEMS, PROBLEMS - found
    assert (np.asarray(region.labels.column("seed").to_numpy()) == 11).all()


def test_identity_labels_are_true(region):
    res = region.tables["residents"]
    expect = {"id_empty": IdStatus.MISSING, "id_bad_checksum": IdStatus.BAD_CHECKSUM,
              "id_malformed": IdStatus.MALFORMED, "id_birth_mismatch": IdStatus.BIRTH_MISMATCH}
    labelled = set()
    for problem, status in expect.items():
        keys = labels_of(region, problem).column("natural_key").to_pylist()
        rows = rows_by_key(region, "residents", "record_no", keys).to_pylist()
        for r in rows:
            got = identity.check_one(r["id_number"], r["birth_date"], r["sex"], today=AS_OF).status
            assert got == status, (problem, r["id_number"], got)
        labelled |= set(keys)
    labelled |= set(labels_of(region, "dup_no_id").column("natural_key").to_pylist())
    # and nothing else is wrong: every other number is valid
    numbers, status = identity.check_many(
        np.asarray(res.column("id_number").to_numpy(zero_copy_only=False), dtype=object),
        birth_dates=np.asarray(res.column("birth_date").to_numpy(zero_copy_only=False), dtype="datetime64[D]"),
        sexes=np.asarray(res.column("sex").to_numpy(zero_copy_only=False), dtype=object), today=AS_OF)
    rec = np.asarray(res.column("record_no").to_numpy(zero_copy_only=False))
    assert set(rec[status != IdStatus.VALID.value]) == labelled


def test_duplicate_labels_are_true(region):
    for problem in ("dup_same_id", "dup_no_id"):
        lab = labels_of(region, problem)
        copies = rows_by_key(region, "residents", "record_no", lab.column("natural_key").to_pylist()).to_pylist()
        originals = rows_by_key(region, "residents", "record_no", lab.column("related_key").to_pylist()).to_pylist()
        for c, o in zip(copies, originals, strict=True):
            assert c["record_no"] != o["record_no"]
            assert (c["birth_date"], c["sex"]) == (o["birth_date"], o["sex"])
            assert c["name"].replace(" ", "")[0] == o["name"][0]
            assert c["id_number"] == (o["id_number"] if problem == "dup_same_id" else "")
    # duplicated ID numbers occur only on labelled copies
    ids = col(region, "residents", "id_number").astype(str)
    vals, counts = np.unique(ids[ids != ""], return_counts=True)
    assert (counts <= 2).all() and (counts == 2).sum() == labels_of(region, "dup_same_id").num_rows


SIX = ("height", "weight", "waist", "sbp_left", "dbp_left", "pulse")


def test_lookalike_exam_labels_are_true_and_complete(region):
    ex = region.tables["health_examinations"]
    lab = labels_of(region, "exam_lookalike")
    a = rows_by_key(region, "health_examinations", "encounter_no", lab.column("natural_key").to_pylist()).to_pylist()
    b = rows_by_key(region, "health_examinations", "encounter_no", lab.column("related_key").to_pylist()).to_pylist()
    for x, y in zip(a, b, strict=True):
        assert x["resident"] != y["resident"] and x["org_unit"] == y["org_unit"]
        assert x["service_date"].year == y["service_date"].year
        assert sum(x[f] == y[f] for f in SIX) >= ref.LOOKALIKE_EXAM_MIN_SAME
    # no other pair of exams in the same unit and year shares 4 of the 6 values
    involved = set(lab.column("natural_key").to_pylist()) | set(lab.column("related_key").to_pylist())
    keys = np.asarray(ex.column("encounter_no").to_numpy(zero_copy_only=False))
    unit = np.asarray(ex.column("org_unit").to_numpy(zero_copy_only=False))
    year = np.asarray(pc.year(ex.column("service_date")).to_numpy(zero_copy_only=False))
    vals = [np.round(np.asarray(ex.column(f).to_numpy(zero_copy_only=False), dtype=float) * 10).astype(np.int64)
            for f in SIX]
    for combo in itertools.combinations(range(6), 4):
        mat = np.stack([np.unique(unit, return_inverse=True)[1], year] + [vals[j] for j in combo], axis=1)
        _, inv, counts = np.unique(mat, axis=0, return_inverse=True, return_counts=True)
        clash = keys[counts[inv.ravel()] > 1]
        assert set(clash) <= involved


def test_arm_gap_labels_are_true_and_complete(region):
    ex = region.tables["health_examinations"]
    gap = np.abs(col(region, "health_examinations", "sbp_left") - col(region, "health_examinations", "sbp_right"))
    keys = col(region, "health_examinations", "encounter_no")
    g10 = set(labels_of(region, "bp_arm_gap_10").column("natural_key").to_pylist())
    g20 = set(labels_of(region, "bp_arm_gap_20").column("natural_key").to_pylist())
    assert set(keys[(gap > 10) & (gap <= 20)]) == g10
    assert set(keys[gap > 20]) == g20
    assert ex.num_rows > 0


def test_uncontrolled_without_guidance_labels_are_true_and_complete(region):
    fu = region.tables["chronic_follow_ups"]
    cls = col(region, "chronic_follow_ups", "classification")
    guidance = col(region, "chronic_follow_ups", "guidance")
    referral = col(region, "chronic_follow_ups", "referral")
    adjusted = col(region, "chronic_follow_ups", "medication_adjusted")
    keys = col(region, "chronic_follow_ups", "encounter_no")
    bare = (cls == "2") & (guidance == "") & ~referral & ~adjusted
    assert set(keys[bare]) == set(labels_of(region, "uncontrolled_no_guidance").column("natural_key").to_pylist())
    # the share of uncontrolled visits given guidance is near [pingliang-2020q2]'s figure
    guided = 1 - bare.sum() / (cls == "2").sum()
    assert guided == pytest.approx(ref.OBSERVED_RATES["uncontrolled_guided"].value, abs=0.05)
    assert fu.num_rows > 0


def test_services_after_closing_are_labelled(region):
    res = region.tables["residents"]
    status = dict(zip(col(region, "residents", "record_no"), col(region, "residents", "status"), strict=True))
    closed_on = dict(zip(col(region, "residents", "record_no"), res.column("status_date").to_pylist(), strict=True))
    labelled = set()
    for problem, want in (("service_after_death", "dead"), ("service_after_moveout", "moved_out")):
        lab = labels_of(region, problem).to_pylist()
        assert lab
        for r in lab:
            rows = rows_by_key(region, r["table"], "encounter_no", [r["natural_key"]]).to_pylist()[0]
            assert rows["resident"] == r["related_key"] and status[r["related_key"]] == want
            assert rows["service_date"] >= closed_on[r["related_key"]]
            labelled.add(r["natural_key"])
    # every service dated on or after its resident's closing date is labelled
    for name, t in region.tables.items():
        if "encounter_no" not in t.column_names:
            continue
        rec = np.asarray(t.column("resident").to_numpy(zero_copy_only=False))
        dates = t.column("service_date").to_pylist()
        keys = np.asarray(t.column("encounter_no").to_numpy(zero_copy_only=False))
        for k, rr, d in zip(keys, rec, dates, strict=True):
            c = closed_on.get(rr)
            if c is not None and d >= c:
                assert k in labelled, (name, k)


def test_report_labels_are_true(region):
    deadline = ref.REPORT_DEADLINE_HOURS
    late = rows_by_key(region, "infectious_disease_reports", "report_no",
                       labels_of(region, "report_late").column("natural_key").to_pylist()).to_pylist()
    for r in late:
        assert (r["reported_at"] - r["diagnosed_at"]).total_seconds() / 3600 > deadline[r["disease_class"]]
    missing = rows_by_key(region, "infectious_disease_reports", "report_no",
                          labels_of(region, "report_missing").column("natural_key").to_pylist()).to_pylist()
    assert all(r["reported_at"] is None for r in missing)


def test_schedules_follow_the_specification(region):
    cc = region.tables["child_checks"]
    assert set(col(region, "child_checks", "age_months")) <= set(ref.CHILD_CHECK_MONTHS)
    assert set(col(region, "child_tcm_guidance", "age_months")) <= set(ref.CHILD_TCM_MONTHS)
    vac = set(zip(col(region, "vaccinations", "vaccine"), col(region, "vaccinations", "dose_no"), strict=True))
    assert vac <= {(str(d.accepted[0][0]), d.accepted[0][1]) for e in nip.EDITIONS for d in e.doses}
    # each dose follows the edition in force on its due date: from 2025 DT is no longer given (DTaP 5 is), and a
    # record is at most 20 days after its due date
    given = list(zip(col(region, "vaccinations", "vaccine"), col(region, "vaccinations", "dose_no"),
                     region.tables["vaccinations"].column("service_date").to_pylist(), strict=True))
    assert not [g for g in given if g[0] == "DT" and g[2] >= dt.date(2025, 1, 21)]
    assert [g for g in given if (g[0], g[1]) == ("DTaP", 5)] and [g for g in given if g[0] == "DT"]
    # the full-month check falls on day 28–30 after birth
    birth = dict(zip(region.tables["residents"].column("record_no").to_pylist(),
                     region.tables["residents"].column("birth_date").to_pylist(), strict=True))
    first, last = child_spec.FULL_MONTH_CHECK_DAYS
    full_month = [(r, d) for r, d, m in zip(cc.column("resident").to_pylist(), cc.column("service_date").to_pylist(),
                                            cc.column("age_months").to_pylist(), strict=True) if m == 1]
    assert full_month and all(first <= (d - birth[r]).days <= last for r, d in full_month)
    reg = region.tables["prenatal_visits"].filter(pc.field("is_registration"))
    weeks = np.asarray(reg.column("gestational_weeks").to_numpy())
    assert (weeks < ref.EARLY_REGISTRATION_BEFORE_WEEKS).mean() > 0.7
    tcm = col(region, "tcm_constitutions", "answers").astype(str)
    assert all(len(a) == 33 and set(a) <= set("12345") for a in tcm)
    assert cc.num_rows > 0


def test_tiny_region():
    r = generate_region(300, 7, AS_OF, months=12, config=replace(SynthConfig(), lagging_counties=0))
    assert r.residents == 300 and r.tables["org_units"].num_rows == 5


def test_issue8_records_are_plausible(region):
    """Certificates: nearly every child under 7 who is due has one ([baotou-2025]: 建证率 100%; 1 % left out on
    purpose), dated from birth (or arrival); first visits of the year of people 35+ mostly have BP taken
    (config 93 %, times the township's diligence — lagging units measure less), later ones about half; emergency reports exist and most are on time; few SMI follow-ups say
    "not at home"."""
    cfg = SMALL_UNITS
    t = region.tables
    res = t["residents"]
    birth = dict(zip(res["record_no"].to_pylist(), res["birth_date"].to_pylist(), strict=True))
    certs = t["vaccination_certificates"]
    assert certs.num_rows > 0
    for rec, issued in zip(certs["resident"].to_pylist(), certs["service_date"].to_pylist(), strict=True):
        assert birth[rec] <= issued <= AS_OF
    kids = [r for r, b in birth.items() if b.year >= AS_OF.year - 6 and b <= AS_OF - dt.timedelta(days=200)]
    share = len(set(certs["resident"].to_pylist()) & set(kids)) / len(kids)
    assert 0.9 < share < 1.0

    c = t["consultations"].to_pylist()
    by_person: dict = {}
    for row in sorted(c, key=lambda r: (r["resident"], r["service_date"], r["encounter_no"])):
        by_person.setdefault((row["resident"], row["service_date"].year), []).append(row)
    first = [v[0] for v in by_person.values() if (v[0]["service_date"] - birth[v[0]["resident"]]).days >= 35 * 366]
    later = [r for v in by_person.values() for r in v[1:]]
    bp_first = sum(r["bp_measured"] for r in first) / len(first)
    bp_later = sum(r["bp_measured"] for r in later) / len(later)
    assert 0.7 < bp_first <= cfg.first_visit_bp_share
    assert 0.35 < bp_later < 0.6 and bp_first > bp_later + 0.2
    assert all((r["sbp"] is not None) == r["bp_measured"] for r in c)

    ev = t["emergency_event_reports"].to_pylist()
    assert ev and all(e["reported_at"] is None or e["reported_at"] > e["found_at"] for e in ev)
    on_time = [e for e in ev if e["reported_at"] is not None and (e["reported_at"] - e["found_at"]).total_seconds() <= 7200]
    assert len(on_time) >= 0.6 * len(ev)
    home = t["smi_follow_ups"]["living_at_home"].to_pylist()
    assert 0.9 < sum(home) / len(home) <= 1.0
