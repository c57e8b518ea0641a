"""NIP vaccination coverage per vaccine and dose (rules in :mod:`gongwei.spec.programs.vaccination`).

Rows: resident children (as for the child program) with a deadline age not before the period start. The period is
counted against the schedule edition in force in its year. Per dose (``<key>`` = ``mmr_1`` ...) of that edition:

* ``eligible_<key>`` (应种): the child reaches the dose's deadline age in the period, record not closed before;
* ``vaccinated_<key>`` (实种): eligible, with an accepted record dated from the schedule age (of the edition in
  force on the record's date) to the day before the deadline age;
* ``gap_missing_<key>``: eligible and not vaccinated; ``<key>_due``: the deadline while not vaccinated, from the
  period start to the end of its calendar year (overdue at the period end ⇔ gap).

Doses of other editions (DT from 2025, DTaP 5 before) are all-false columns, so the catalogue shows 0 due.

V1 (certificates), for every child 0–6 at some time in the period (rows are added for children past the last
dose's deadline but not yet 7):

* ``certificate_deadline``: birth + the months after birth, or — for a child who came to live here after birth —
  ``residence_since`` + the months after arrival;
* ``certificate_due_child`` (应建证): the deadline on or before the period end, record not closed before it;
* ``has_certificate``: due and a certificate record (not void, any unit) dated by the period end;
  ``gap_no_certificate``: due without one; ``certificate_due``: the deadline while no certificate, record open,
  up to the end of the period's calendar year (no lower bound: an old deadline stays overdue).

:func:`passes` applies V3 (every dose ≥ 90 %) to the catalogue's V2 results.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction
from types import ModuleType

import ibis
import pyarrow as pa

from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.engine.programs.child import (
    add_months,
    alive_at,
    born_from,
    children,
    first_birth,
    horizon,
    left,
    plus_months,
)
from gongwei.spec.periods import Period
from gongwei.spec.programs import vaccination
from gongwei.spec.programs.vaccination import AllComponentsRule

PROGRAMS = {vaccination.CODE: vaccination}


def _deadline(birth: ibis.ir.DateValue, d: vaccination.Dose) -> ibis.ir.DateValue:
    return add_months(birth, d.by_months) + ibis.interval(days=d.by_days)


def _deadline_between(birth: ibis.ir.DateValue, d: vaccination.Dose, first: dt.date,
                      last: dt.date | None = None) -> ibis.ir.BooleanValue:
    """``first <= deadline (<= last)``, as a comparison of the birth date (see ``child.first_birth``)."""
    def deadline(b: dt.date) -> dt.date:
        return plus_months(b, d.by_months) + dt.timedelta(days=d.by_days)

    test = birth >= ibis.date(first_birth(deadline, first))
    return test if last is None else test & (birth < ibis.date(first_birth(deadline, last, after=True)))


def _earliest(j: ibis.Table, spec: ModuleType, d: vaccination.Dose) -> ibis.ir.DateValue:
    """The schedule age of ``d`` in the edition in force on the record's date (a child straddling a change keeps
    the doses given at the age of the edition of their day)."""
    expr = add_months(j.birth_date, d.months)
    for edition in reversed(spec.EDITIONS[1:]):  # innermost = latest, so each date meets its own edition
        then = spec.schedule_for(edition.year - 1).dose(d.code)
        months = d.months if then is None else then.months
        expr = ibis.cases((j.service_date < ibis.date(edition.effective), add_months(j.birth_date, months)),
                          else_=expr)
    return expr


def _product(j: ibis.Table, d: vaccination.Dose, effective) -> ibis.ir.BooleanValue:
    ok = ibis.or_(*[(j.vaccine == code) & (j.dose_no == n) for code, n in d.accepted])
    if d.accepted_before:
        before = ibis.or_(*[(j.vaccine == code) & (j.dose_no == n) for code, n in d.accepted_before])
        ok = ok | (before & (j.service_date < ibis.date(effective)))
    return ok


# per edition of the schedule, each child's first record given on time for each dose, derived once with the
# snapshot's DuckDB copy (engine.native): ``<DERIVED>_<edition year>``
DERIVED = "vaccination_first_given"


def _given(j: ibis.Table, spec: ModuleType, d: vaccination.Dose, edition: vaccination.Schedule) -> ibis.ir.BooleanValue:
    """The record (a row of vaccinations joined with the child's birth date) is an accepted product for ``d``
    given from its schedule age to the day before its deadline age."""
    on_time = (j.service_date >= _earliest(j, spec, d)) & (j.service_date < _deadline(j.birth_date, d))
    product = _product(j, d, edition.effective)
    # product & on_time, with the ages computed only for records of this dose's products
    return ibis.cases((product.isnull(), product & on_time), (product, on_time), else_=False)


def _records(vac: ibis.Table) -> ibis.Table:
    return vac.filter(~vac.is_void).select("resident_id", "service_date", "vaccine", "dose_no")


def first_given(residents: ibis.Table, vaccinations: ibis.Table, edition: vaccination.Schedule,
                spec: ModuleType = vaccination) -> ibis.Table:
    """Per resident with a record: ``first_<dose>``, the date of the first record given on time for each dose of
    ``edition`` (:func:`_given`), and ``first_not_<dose>``, of the first record that is not. Whatever the period:
    a child had a dose by the period end when ``first_<dose>`` is on or before it. The snapshot's DuckDB copy
    stores it per edition (:data:`DERIVED`) and :func:`evaluate` reads it from there, where it would otherwise
    redo the ages' date arithmetic for every record on every run."""
    vac = _records(vaccinations)
    j = vac.join(residents.select(resident_id=residents.id, birth_date=residents.birth_date), "resident_id")
    agg = {}
    for d in edition.doses:
        given = _given(j, spec, d, edition)
        agg[f"first_{d.key}"] = ibis.cases((given, j.service_date), else_=ibis.null("date")).min()
        agg[f"first_not_{d.key}"] = ibis.cases((~given, j.service_date), else_=ibis.null("date")).min()
    return j.group_by("resident_id").aggregate(**agg)


def derived_name(edition: vaccination.Schedule) -> str:
    return f"{DERIVED}_{edition.year}"


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    end = ibis.date(period.end)
    edition = spec.schedule_for(period.year)
    kids = children(eng, period, units)
    # children whose latest deadline age is on or after the period start (a superset), and children 0–6 at some
    # time in the period (V1)
    latest = max(edition.doses, key=lambda d: (d.by_months, d.by_days))
    under_age = born_from(kids.birth_date, (spec.CERTIFICATE_MAX_AGE_YEARS + 1) * 12, period.start)
    kids = kids.filter(_deadline_between(kids.birth_date, latest, period.start) | under_age)

    derived = eng.derived(derived_name(edition)) if spec is vaccination else None
    if derived is not None:  # the first dates, computed when the snapshot's copy was written
        # has = the largest of given (1/0) over the records dated by the period end; none: null
        received = derived.select("resident_id", **{
            f"has_{d.key}": ibis.cases((derived[f"first_{d.key}"] <= end, 1),
                                       (derived[f"first_not_{d.key}"] <= end, 0), else_=ibis.null("int64"))
            for d in edition.doses})
    else:
        vac = _records(eng.table("vaccinations"))
        vac = vac.filter(vac.service_date <= end)
        j = vac.join(kids.select("resident_id", "birth_date"), "resident_id")
        received = j.group_by("resident_id").aggregate(**{
            f"has_{d.key}": _given(j, spec, d, edition).cast("int64").max() for d in edition.doses})

    # 应种 depends on the child alone: computed below the joins, once per dose (the flags built on it are inlined
    # into one another when compiled and would otherwise repeat it)
    eligible = {}
    for d in spec.DOSES:
        current = edition.dose(d.code)
        if current is not None:
            eligible[f"eligible_{d.key}"] = (_deadline_between(kids.birth_date, current, period.start, period.end)
                                             & alive_at(kids, _deadline(kids.birth_date, current)))
    s = left(kids.mutate(**eligible), received)
    s = left(s, _certificates(eng, spec, period))
    s = left(s, eng.table("residents").select(resident_id="id", residence_since="residence_since"))
    cols = _certificate_columns(s, spec, period)
    for d in spec.DOSES:
        current = edition.dose(d.code)
        if current is None:  # not in this year's schedule: nobody is due
            cols[f"eligible_{d.key}"] = cols[f"vaccinated_{d.key}"] = cols[f"gap_missing_{d.key}"] = ibis.literal(False)
            cols[f"{d.key}_due"] = ibis.null("date")
            continue
        deadline = _deadline(s.birth_date, current)
        alive = alive_at(s, deadline)
        has = s[f"has_{d.key}"].fill_null(0) == 1
        due = s[f"eligible_{d.key}"]
        cols[f"eligible_{d.key}"] = due
        cols[f"vaccinated_{d.key}"] = due & has
        cols[f"gap_missing_{d.key}"] = due & ~has
        cols[f"{d.key}_due"] = ibis.cases(
            (~has & _deadline_between(s.birth_date, current, period.start, horizon(period)) & alive, deadline),
            else_=ibis.null("date"))
    # the eligible columns move to where they were before (the state table's column order)
    return s.select(*[c for c in s.columns if c not in eligible], **cols)


def _certificates(eng: Engine, spec: ModuleType, period: Period) -> ibis.Table:
    c = eng.table("vaccination_certificates")
    c = c.filter(~c.is_void & (c.service_date <= ibis.date(period.end)))
    return c.group_by("resident_id").aggregate(certificate_date=c.service_date.min())


def _certificate_columns(s: ibis.Table, spec: ModuleType, period: Period) -> dict[str, ibis.Expr]:
    end, last = ibis.date(period.end), ibis.date(horizon(period))
    arrived = s.residence_since.notnull() & (s.residence_since > s.birth_date)
    deadline = ibis.cases(
        (arrived, add_months(s.residence_since, spec.CERTIFICATE_MONTHS_AFTER_ARRIVAL)),
        else_=add_months(s.birth_date, spec.CERTIFICATE_MONTHS_AFTER_BIRTH))
    child = born_from(s.birth_date, (spec.CERTIFICATE_MAX_AGE_YEARS + 1) * 12, period.start)
    alive = child & alive_at(s, deadline)
    has = s.certificate_date.notnull()
    due = (deadline <= end) & alive
    return {
        "certificate_deadline": deadline,
        "certificate_due_child": due,
        "has_certificate": due & has,
        "gap_no_certificate": due & ~has,
        "certificate_due": ibis.cases((~has & alive & (deadline <= last), deadline), else_=ibis.null("date")),
    }


def passes(results: pa.Table, tree: OrgTree | None = None, rule: AllComponentsRule = vaccination.V3) -> pa.Table:
    """V3 per unit from catalogue results (``indicator, org_unit_id, numerator, denominator``): ``numerator`` =
    doses reaching the rate, ``denominator`` = doses with children due, ``passed`` = all of them reach it.
    With ``tree``, only units at the rule's level (township) are returned."""
    rate = Fraction(str(rule.min_rate))
    doses: dict[int, int] = {}
    reaching: dict[int, int] = {}
    for r in results.to_pylist():
        if not r["indicator"].startswith(rule.components) or not r["denominator"]:
            continue
        unit = r["org_unit_id"]
        doses[unit] = doses.get(unit, 0) + 1
        # integer comparison: numerator / denominator ≥ p / q  ⇔  numerator · q ≥ p · denominator
        ok = r["numerator"] * rate.denominator >= rate.numerator * r["denominator"]
        reaching[unit] = reaching.get(unit, 0) + int(ok)
    units = sorted(doses)
    if tree is not None:
        units = [u for u in units if tree.level[u] == rule.level.value]
    return pa.table({
        "indicator": pa.array([rule.code] * len(units), pa.string()),
        "org_unit_id": pa.array(units, pa.int64()),
        "numerator": pa.array([reaching[u] for u in units], pa.int64()),
        "denominator": pa.array([doses[u] for u in units], pa.int64()),
        "passed": pa.array([reaching[u] == doses[u] for u in units], pa.bool_()),
    })
