"""Family-doctor contracts (F1–F4): one state row per resident found in the records, at the resident's
managing unit. Semantics are in :mod:`gongwei.spec.programs.family_doctor`."""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.engine.programs.records import blank_in, closed_expr, enrolled_in, residents_in_records
from gongwei.spec.periods import Period
from gongwei.spec.programs import elderly
from gongwei.spec.programs import family_doctor as fd

PROGRAMS = {"family_doctor": fd}
ONE_DAY = dt.timedelta(days=1)


def _in_force_until(c: ibis.Table) -> ibis.ir.DateValue:
    """Last day a contract is in force: its end date, or the day before it was cancelled."""
    # a date, not the timestamp a date minus an interval is: every comparison with it would cast the other side
    cancelled_eve = (c.cancelled_on.cast("timestamp") - ibis.interval(days=1)).date()
    return ibis.cases((c.cancelled_on.notnull() & (cancelled_eve < c.end_date), cancelled_eve), else_=c.end_date)


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    start, end = ibis.date(period.start), ibis.date(period.end)
    res = residents_in_records(eng, period, units)
    people = res.select(resident_id="id", managing_unit_id="managing_unit_id", birth_date="birth_date",
                        in_records=ibis.literal(True),
                        closed_on=ibis.cases((closed_expr(res), res.status_date), else_=ibis.null("date")))
    c = eng.table("contracts")
    c = c.mutate(until=_in_force_until(c))

    if spec.SIGNED_AT.for_year(period.year) is spec.SignedAt.PERIOD_END:
        in_force = (c.start_date <= end) & (c.until >= end)
    else:
        in_force = (ibis.greatest(c.start_date, start) <= ibis.least(c.until, end))
    counted = c.filter(in_force)
    signed = counted.select(signed_id="resident_id").distinct()
    fulfilled = _fulfilled(eng, spec, counted, period)

    # Groups found in the records, the signed and the fulfilled: one list of (resident, tag) rows turned into a
    # column per tag, so that the people are joined once rather than once per group.
    hr = eng.table("health_records")
    tagged = [signed.select(t_id="signed_id", tag=ibis.literal("signed")),
              fulfilled.select(t_id="fulfilled_id", tag=ibis.literal("fulfilled"))]
    rules = spec.KEY_GROUPS.for_year(period.year)
    for rule in rules:
        g = rule.group.value
        if rule.programs:
            ids = enrolled_in(eng, rule.programs, period)
        elif rule.disability:
            ids = hr.filter(~blank_in(hr, "disability") & ~hr.disability.isin(list(spec.NO_DISABILITY_CODES)))
        else:
            continue
        tagged.append(ids.select(t_id="resident_id", tag=ibis.literal(f"group:{g}")))
    tags = ibis.union(*tagged)
    flags = tags.group_by("t_id").aggregate(
        t_signed=(tags.tag == "signed").any(), t_fulfilled=(tags.tag == "fulfilled").any(),
        **{f"m_{r.group.value}": (tags.tag == f"group:{r.group.value}").any()
           for r in rules if r.programs or r.disability})
    s = people.left_join(flags, people.resident_id == flags.t_id)
    signed_now = s.t_signed.fill_null(False)
    cols = {"signed": signed_now, "fulfilled": signed_now & s.t_fulfilled.fill_null(False)}
    members = {r.group.value: s[f"m_{r.group.value}"].fill_null(False) for r in rules if r.programs or r.disability}
    born = s.birth_date <= end
    for rule in rules:
        g = rule.group.value
        if rule.programs or rule.disability:
            cols[f"in_{g}"] = members[g]
        else:
            cond = born
            if rule.min_age is not None:
                cond = cond & (s.birth_date <= ibis.date(elderly.born_by(period, rule.min_age)))
            if rule.max_age is not None:
                cond = cond & (s.birth_date > ibis.date(elderly.born_by(period, rule.max_age + 1)))
            cols[f"in_{g}"] = cond
    s = s.select("resident_id", "managing_unit_id", "in_records", "closed_on", **cols)
    key = None
    for rule in rules:
        m = s[f"in_{rule.group.value}"]
        key = m if key is None else key | m
    s = s.mutate(key_member=key if key is not None else ibis.literal(False),
                 **{f"signed_{r.group.value}": s[f"in_{r.group.value}"] & s.signed for r in rules})
    s = s.mutate(key_signed=s.key_member & s.signed, gap_not_signed=~s.signed,
                 gap_not_fulfilled=s.signed & ~s.fulfilled)
    return _renewals(s, people, c, spec, period)


def _fulfilled(eng: Engine, spec: ModuleType, counted: ibis.Table, period: Period) -> ibis.Table:
    """Residents with a service record dated on a day one of their counted contracts was in force in the period."""
    parts = []
    for name in spec.FULFILMENT_SERVICES:
        t = eng.table(name)
        parts.append(t.filter(~t.is_void & (t.service_date >= ibis.date(period.start))
                              & (t.service_date <= ibis.date(period.end)))
                     .select(v_resident="resident_id", v_date="service_date"))
    # not de-duplicated: the hits are, by person (a DISTINCT of 1.3 M service days cost more than the join)
    services = ibis.union(*parts, distinct=False) if len(parts) > 1 else parts[0]
    spans = counted.select(f_resident="resident_id", f_from="start_date", f_to="until")
    hits = spans.join(services, (spans.f_resident == services.v_resident) & (services.v_date >= spans.f_from)
                      & (services.v_date <= spans.f_to))
    return hits.select(fulfilled_id="f_resident").distinct()


def _renewals(s: ibis.Table, people: ibis.Table, c: ibis.Table, spec: ModuleType, period: Period) -> ibis.Table:
    """Contracts expiring from the period start to the year's end (not cancelled early, the person still in
    the records at the end: one of ``people``), each renewed by a later contract starting at most the grace days
    after it. (``people`` rather than ``s``: a state table read twice is materialised whole, 2 M rows of flags.)"""
    year_end = dt.date(period.year, 12, 31)
    expiring = c.filter(c.cancelled_on.isnull() | (c.cancelled_on > c.end_date))
    expiring = expiring.filter((expiring.end_date >= ibis.date(period.start)) & (expiring.end_date <= ibis.date(year_end)))
    expiring = expiring.select(e_resident="resident_id", e_start="start_date", e_end="end_date", e_id="id")
    later = c.select(n_resident="resident_id", n_start="start_date")
    pairs = expiring.join(later, (expiring.e_resident == later.n_resident) & (later.n_start > expiring.e_start)
                          & (later.n_start <= expiring.e_end + ibis.interval(days=spec.RENEWAL_GRACE_DAYS)))
    renewed_ids = pairs.select(r_id="e_id").distinct()
    e = expiring.left_join(renewed_ids, expiring.e_id == renewed_ids.r_id)
    e = e.select("e_resident", "e_end", renewed=e.r_id.notnull())
    persons = people.select(p_id="resident_id", p_closed="closed_on")
    e = e.join(persons, e.e_resident == persons.p_id)
    e = e.filter(e.p_closed.isnull() | (e.p_closed > e.e_end))
    per_person = e.group_by(rp_id="e_resident").aggregate(
        due_in_period=(e.e_end <= ibis.date(period.end)).cast("int64").sum(),
        renewal_due=e.e_end.min(where=~e.renewed),
    )
    s = s.left_join(per_person, s.resident_id == per_person.rp_id).drop("rp_id")
    expiring_now = s.due_in_period.fill_null(0) > 0
    gap = s.renewal_due.notnull() & (s.renewal_due <= ibis.date(period.end))
    return s.mutate(expiring=expiring_now, renewed=expiring_now & ~gap, gap_not_renewed=gap).drop("due_in_period")
