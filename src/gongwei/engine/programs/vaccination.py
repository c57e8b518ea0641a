"""NIP vaccination coverage per vaccine and dose (rules in :mod:`gongwei.spec.programs.vaccination`).

Rows: resident children (as for the child program) with a dose of the schedule whose deadline is not before the
period start. Per dose (``<key>`` = ``mmr_1`` ...):

* ``eligible_<key>`` (应种): deadline (birth + schedule age + grace) in the period, record not closed before it;
* ``vaccinated_<key>`` (实种): eligible, and an accepted record dated from the schedule age to the period end;
* ``gap_missing_<key>``: eligible and not vaccinated; ``<key>_due``: the deadline while not vaccinated, from the
  period start to the end of its calendar year (overdue at the period end ⇔ gap).

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

from fractions import Fraction
from types import ModuleType

import ibis
import pyarrow as pa

from gongwei.engine.backends import Engine
from gongwei.engine.orgs import OrgTree
from gongwei.engine.programs.child import add_months, children, horizon, left
from gongwei.spec.periods import Period
from gongwei.spec.programs import vaccination
from gongwei.spec.programs.vaccination import AllComponentsRule

PROGRAMS = {vaccination.CODE: vaccination}


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    start, end, last = ibis.date(period.start), ibis.date(period.end), ibis.date(horizon(period))
    kids = children(eng, period, units)
    # children with a dose deadline on or after the period start (a superset: latest age, longest grace), and
    # children 0–6 at some time in the period (V1)
    latest = add_months(kids.birth_date, max(d.months for d in spec.DOSES))
    last_dose = latest + ibis.interval(days=max(d.window.after_days for d in spec.DOSES))
    under_age = add_months(kids.birth_date, (spec.CERTIFICATE_MAX_AGE_YEARS + 1) * 12) > start
    kids = kids.filter((last_dose >= start) | under_age)

    vac = eng.table("vaccinations")
    vac = vac.filter(~vac.is_void & (vac.service_date <= end)).select("resident_id", "service_date", "vaccine",
                                                                       "dose_no")
    j = vac.join(kids.select("resident_id", "birth_date"), "resident_id")
    agg = {}
    for d in spec.DOSES:
        product = ibis.or_(*[(j.vaccine == code) & (j.dose_no == n) for code, n in d.accepted])
        earliest = add_months(j.birth_date, d.months) - ibis.interval(days=d.window.before_days)
        agg[f"has_{d.key}"] = (product & (j.service_date >= earliest)).cast("int64").max()
    received = j.group_by("resident_id").aggregate(**agg)

    s = left(kids, received)
    s = left(s, _certificates(eng, spec, period))
    s = left(s, eng.table("residents").select(resident_id="id", residence_since="residence_since"))
    cols = _certificate_columns(s, spec, period)
    for d in spec.DOSES:
        deadline = add_months(s.birth_date, d.months) + ibis.interval(days=d.window.after_days)
        alive = s.closed_on.isnull() | (deadline <= s.closed_on)
        has = s[f"has_{d.key}"].fill_null(0) == 1
        eligible = (deadline >= start) & (deadline <= end) & alive
        cols[f"eligible_{d.key}"] = eligible
        cols[f"vaccinated_{d.key}"] = eligible & has
        cols[f"gap_missing_{d.key}"] = eligible & ~has
        cols[f"{d.key}_due"] = ibis.cases((~has & (deadline >= start) & (deadline <= last) & alive, deadline),
                                          else_=ibis.null("date"))
    return s.mutate(**cols)


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
    child = add_months(s.birth_date, (spec.CERTIFICATE_MAX_AGE_YEARS + 1) * 12) > ibis.date(period.start)
    alive = child & (s.closed_on.isnull() | (deadline <= s.closed_on))
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
