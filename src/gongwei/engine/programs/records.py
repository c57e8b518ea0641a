"""Resident health records (R1–R5): one state row per record, at the resident's managing unit.

Semantics are in :mod:`gongwei.spec.programs.records`. Also home of :func:`residents_in_records`, the cohort
of people "found in the records" that the elderly, TCM and family-doctor programs share.

Field checks run on the snapshot, which leaves out identity numbers and phones (privacy): ``id_number`` is
judged filled from ``id_status``; a field the snapshot leaves out is checked through a ``<field>_present``
column when the snapshot provides one, and otherwise cannot be checked (:func:`unchecked_fields`).
Duplicates by identity number need a pseudonymous key of the normalised number in the snapshot
(:data:`ID_KEY_COLUMN`); without it only merged records are known duplicates.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.native import BLANK_SUFFIX
from gongwei.spec.periods import Period
from gongwei.spec.programs import elderly as elderly_spec
from gongwei.spec.programs import records as records_spec
from gongwei.spec.vocab import CLOSED_STATUSES, IdStatus, ResidentStatus

PROGRAMS = {"records": records_spec}

ID_KEY_COLUMN = "id_key"  # keyed hash of the normalised identity number (records.snapshot.pseudonymise)
HOLDERS_COLUMN = "id_key_holders"  # rows of the snapshot holding that key (snapshot format /2, ADR 028)
PRESENT_SUFFIX = "_present"


def closed_expr(res: ibis.Table) -> ibis.ir.BooleanValue:
    return res.status.isin(sorted(s.value for s in CLOSED_STATUSES))  # sorted: the same SQL in every process


def merged_expr(res: ibis.Table) -> ibis.ir.BooleanValue:
    return (res.status == ResidentStatus.MERGED.value) | res.merged_into_id.notnull()


def residents_in_records(eng: Engine, period: Period, units: list[int] | None = None) -> ibis.Table:
    """Residents found in the records at the end of ``period``: not merged into another record, not closed
    (death, move, loss, refusal) on or before the period end, usual residents (when the rulebook counts only
    those) — the people a year-end population base counts. (The chronic programs' managed cohort also keeps
    patients closed during the period, as H2 counts them.)"""
    res = eng.table("residents")
    if units is not None:
        res = res.filter(res.managing_unit_id.isin(units))
    keep = ~merged_expr(res) & ~(closed_expr(res) & (res.status_date <= ibis.date(period.end)))
    if records_spec.USUAL_RESIDENTS_ONLY:
        keep = keep & res.usual_resident
    return res.filter(keep)


def enrolled_in(eng: Engine, programs: tuple[str, ...], period: Period) -> ibis.Table:
    """Distinct residents with an enrolment in one of ``programs`` overlapping the period."""
    enr = eng.table("enrollments")
    enr = enr.filter(enr.program.isin(list(programs)) & (enr.start_date <= ibis.date(period.end))
                     & (enr.end_date.isnull() | (enr.end_date >= ibis.date(period.start))))
    return enr.select("resident_id").distinct()


# What ``strip`` removes on both backends (TRIM with these characters); codes of a text's first character
_STRIPPED_CODES = (32, 9, 10, 13, 11, 12)


def blank(col: ibis.ir.Value) -> ibis.ir.BooleanValue:
    """Null, or only whitespace. A text whose first character is not whitespace is not blank: checked first,
    so that only the rare text starting with whitespace is trimmed (trimming every value is the costliest part
    of the completeness checks)."""
    if col.type().is_string():
        return ibis.cases((col.isnull(), True), (col == "", True), (~col.ascii_str().isin(_STRIPPED_CODES), False),
                          else_=col.strip() == "")
    return col.isnull()


def blank_in(t: ibis.Table, name: str) -> ibis.ir.BooleanValue:
    """``blank(t[name])``, read from the column the snapshot's DuckDB copy derived with it when the table has
    one (engine.native): the same value, computed once when the snapshot was taken."""
    derived = name + BLANK_SUFFIX
    return t[derived] if derived in t.columns else blank(t[name])


def _field_check(res: ibis.Table, hr: ibis.Table, name: str) -> tuple[ibis.Table, ibis.ir.BooleanValue] | None:
    """The table a required field is checked on (residents before health records) and the check."""
    if name == "id_number":
        return res, res.id_status == IdStatus.MISSING.value
    for t in (res, hr):
        if name in t.columns:
            return t, blank_in(t, name)
        if name + PRESENT_SUFFIX in t.columns:
            return t, ~t[name + PRESENT_SUFFIX].fill_null(False)
    return None


def _field_missing(res: ibis.Table, hr: ibis.Table, name: str) -> ibis.ir.BooleanValue | None:
    check = _field_check(res, hr, name)
    return None if check is None else check[1]


def unchecked_fields(eng: Engine, year: int) -> tuple[str, ...]:
    """Required fields the snapshot cannot show (left out for privacy, no presence column)."""
    res, hr = eng.table("residents"), eng.table("health_records")
    std = records_spec.STANDARD.for_year(year)
    return tuple(f for f in std.required_fields if _field_missing(res, hr, f) is None)


def missing_list(checks: list[tuple[str, ibis.ir.BooleanValue]]) -> tuple[ibis.ir.StringValue, ibis.ir.IntegerValue]:
    """The labels of the missing items joined with "、", and how many are missing."""
    if not checks:
        return ibis.literal(""), ibis.literal(0)
    text = None
    count = None
    for label, missing in checks:
        part = ibis.cases((missing, "、" + label), else_="")
        text = part if text is None else text + part
        n = missing.cast("int64")
        count = n if count is None else count + n
    return text.substr(1), count


def services_since(eng: Engine, tables: tuple[str, ...], start: dt.date, end: dt.date) -> ibis.Table:
    """Distinct residents with a (non-void) service record dated in [start, end] in any of ``tables``."""
    parts = []
    for name in tables:
        t = eng.table(name)
        parts.append(t.filter(~t.is_void & (t.service_date >= ibis.date(start)) & (t.service_date <= ibis.date(end)))
                     .select("resident_id"))
    # one DISTINCT over all the parts: a UNION of many parts nests, and DuckDB then de-duplicates the growing
    # set once per part (ten hash aggregations of up to 2 M rows instead of one)
    return (ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]).distinct()


# each record standard's pairing of residents with their health records, derived once with the snapshot's DuckDB
# copy (engine.native)
DERIVED_PREFIX = "records_pairing_"


def derived_name(edition_year: int) -> str:
    return f"{DERIVED_PREFIX}{edition_year}"


def pairing(res: ibis.Table, hr: ibis.Table, std: records_spec.RecordStandard,
            spec: ModuleType = records_spec) -> ibis.Table:
    """One row per health record with its resident's columns: the missing required fields of ``std`` (labels
    and count), merged, closed with its date, usual resident, and the identity key with its holders when the
    snapshot has them. It depends on the snapshot's rows alone, never on the period: the snapshot's DuckDB copy
    stores it per record standard (:func:`derived_name`), and :func:`evaluate` reads it from there, where it
    would otherwise join 2 M residents with their records and check their fields on every run."""
    # Each field is checked on its own table, before the join: there DuckDB still holds a text column as a
    # dictionary and trims each distinct value once; after the join it would trim every row's value.
    on_table: dict[int, dict[str, ibis.ir.BooleanValue]] = {id(res): {}, id(hr): {}}
    labels = []
    for i, f in enumerate(std.required_fields):
        check = _field_check(res, hr, f)
        if check is not None:
            on_table[id(check[0])][f"_missing_{i}"] = check[1]
            labels.append((spec.FIELD_LABELS.get(f, f), f"_missing_{i}"))
    # and each table counts its own missing fields: a query that needs only whether any is missing (the catalogue)
    # then carries one number per side through the join of 2 M residents with their records, not a flag per field
    # (DuckDB drops the flags the query does not use)
    for t, count in ((res, "_missing_on_resident"), (hr, "_missing_on_record")):
        checks = on_table[id(t)]
        checks[count] = missing_list([("", c) for c in checks.values()])[1]
    res = res.mutate(**on_table[id(res)])
    hr = hr.mutate(**on_table[id(hr)])
    rows = res.join(hr, res.id == hr.resident_id)
    missing_text, _ = missing_list([(label, rows[col]) for label, col in labels])
    keys = {c: res[c] for c in (ID_KEY_COLUMN, HOLDERS_COLUMN) if c in res.columns}
    if len(keys) == 2:  # only a key another record holds can make a duplicate: the others need not be read again
        keys[ID_KEY_COLUMN] = ibis.cases((res[HOLDERS_COLUMN] > 1, res[ID_KEY_COLUMN]), else_=ibis.null("string"))
    return rows.select(
        resident_id=res.id,
        managing_unit_id=res.managing_unit_id,
        birth_date=res.birth_date,
        created_on=hr.created_on,
        closed=closed_expr(res),
        status_date=res.status_date,
        usual_resident=res.usual_resident,
        is_electronic=hr.is_electronic.fill_null(False),
        is_merged=merged_expr(res),
        missing_fields=missing_text,
        missing_count=rows._missing_on_resident + rows._missing_on_record,
        **keys,
    )


def _recorded(p: ibis.Table, spec: ModuleType, end: ibis.ir.DateValue) -> ibis.ir.BooleanValue:
    """Of a :func:`pairing` row: the record exists at ``end`` (created, not closed, a usual resident)."""
    recorded = (p.created_on <= end) & ~(p.closed & (p.status_date <= end))
    return recorded & p.usual_resident if spec.USUAL_RESIDENTS_ONLY else recorded


def _duplicates_of_shared_keys(p: ibis.Table, spec: ModuleType, end: ibis.ir.DateValue) -> ibis.Table:
    """``dup_id``: the active records in the records at ``end`` (the rows :func:`evaluate` keeps) whose identity
    key an earlier such record holds, from :func:`pairing` rows. Only residents whose key the snapshot shows on
    two records or more (:data:`HOLDERS_COLUMN`, any status) can be one, so they alone are ranked: the same
    records as grouping every active key, without grouping the population's keys."""
    p = p.filter((p[HOLDERS_COLUMN] > 1) & ~p.is_merged & p[ID_KEY_COLUMN].notnull() & (p[ID_KEY_COLUMN] != ""))
    active = p.filter(_recorded(p, spec, end)).select("resident_id", "created_on", key=ID_KEY_COLUMN)
    ranked = active.mutate(dup_rank=ibis.row_number().over(
        group_by=active.key, order_by=[active.created_on, active.resident_id]))
    return ranked.filter(ranked.dup_rank > 0).select(dup_id="resident_id")


def _residents_of(eng: Engine, units: list[int] | None) -> ibis.Table:
    res = eng.table("residents")
    return res if units is None else res.filter(res.managing_unit_id.isin(units))


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    edition = spec.STANDARD.year_in_force(period.year)
    std = spec.STANDARD.values[edition]
    end = ibis.date(period.end)
    derived = eng.derived(derived_name(edition)) if spec is records_spec else None
    if derived is not None:  # the same rows, paired when the snapshot's copy was written
        p = derived if units is None else derived.filter(derived.managing_unit_id.isin(units))
    else:
        p = pairing(_residents_of(eng, units), eng.table("health_records"), std, spec)
    s = p.filter(_recorded(p, spec, end)).select(
        "resident_id", "managing_unit_id", "birth_date", "created_on", recorded=ibis.literal(True),
        is_electronic="is_electronic", is_merged="is_merged", missing_fields="missing_fields",
        missing_count="missing_count", **({ID_KEY_COLUMN: ID_KEY_COLUMN} if ID_KEY_COLUMN in p.columns else {}))

    # exact duplicates: a second (or later) active record with the same identity key; the earliest kept
    if HOLDERS_COLUMN in p.columns and ID_KEY_COLUMN in p.columns:
        if derived is None:  # a second pairing of only the residents whose key another record holds: reading
            # the evaluated rows a second time would make DuckDB materialise them
            res = _residents_of(eng, units)
            res = res.filter(res[HOLDERS_COLUMN] > 1)
            dups = _duplicates_of_shared_keys(pairing(res, eng.table("health_records"), std, spec), spec, end)
        else:
            dups = _duplicates_of_shared_keys(p, spec, end)
        s = s.left_join(dups, s.resident_id == dups.dup_id)
        s = s.mutate(is_duplicate_id=s.dup_id.notnull()).drop("dup_id", ID_KEY_COLUMN)
    elif ID_KEY_COLUMN in s.columns:
        active = s.filter(~s.is_merged & s[ID_KEY_COLUMN].notnull() & (s[ID_KEY_COLUMN] != ""))
        # rank only keys held by two records or more: a window over every record would sort the population
        shared = active.group_by(ID_KEY_COLUMN).aggregate(holders=ibis._.count())
        shared = shared.filter(shared.holders > 1).select(shared_key=shared[ID_KEY_COLUMN])
        active = active.semi_join(shared, active[ID_KEY_COLUMN] == shared.shared_key)
        ranked = active.mutate(dup_rank=ibis.row_number().over(
            group_by=active[ID_KEY_COLUMN], order_by=[active.created_on, active.resident_id]))
        dups = ranked.filter(ranked.dup_rank > 0).select(dup_id="resident_id")
        s = s.left_join(dups, s.resident_id == dups.dup_id)
        s = s.mutate(is_duplicate_id=s.dup_id.notnull()).drop("dup_id", ID_KEY_COLUMN)
    else:
        s = s.mutate(is_duplicate_id=ibis.literal(False))

    window_from = period.end - dt.timedelta(days=spec.DYNAMIC_USE_DAYS - 1)
    used = services_since(eng, spec.DYNAMIC_USE_SERVICES, window_from, period.end).select(used_id="resident_id")
    s = s.left_join(used, s.resident_id == used.used_id)
    s = s.mutate(in_use=s.used_id.notnull()).drop("used_id")

    if std.exam_for_key_populations:
        cutoff = elderly_spec.born_by(period, std.key_min_age)
        patients = enrolled_in(eng, std.key_programs, period).select(patient_id="resident_id")
        exam_from = period.end - dt.timedelta(days=std.exam_window_days - 1)
        examined = services_since(eng, ("health_examinations",), exam_from, period.end).select(exam_id="resident_id")
        s = s.left_join(patients, s.resident_id == patients.patient_id)
        s = s.left_join(examined, s.resident_id == examined.exam_id)
        key = (s.birth_date <= ibis.date(cutoff)) | s.patient_id.notnull()
        s = s.mutate(gap_no_key_exam=key & s.exam_id.isnull()).drop("patient_id", "exam_id")
    else:
        s = s.mutate(gap_no_key_exam=ibis.literal(False))

    s = s.mutate(
        gap_not_electronic=~s.is_electronic,
        gap_missing_fields=s.missing_count > 0,
        gap_merged=s.is_merged,
        gap_duplicate_id=s.is_duplicate_id,
        gap_no_recent_service=~s.in_use,
    )
    duplicate = s.is_merged | s.is_duplicate_id
    standardized = ~s.gap_missing_fields & ~s.gap_no_key_exam
    if std.electronic:
        standardized = standardized & s.is_electronic
    if std.exclude_duplicates:
        standardized = standardized & ~duplicate
    return s.mutate(
        recorded_person=~duplicate,  # one row per person: the record a duplicate was merged into, or the earliest
        electronic=s.is_electronic,
        standardized=standardized,
        valid=~duplicate,
    )
