"""Children 0–6: newborn visits, scheduled checks, eye checks and child TCM guidance.

The rules and their parameters are in :mod:`gongwei.spec.programs.child` (read its docstring first). Per child
and period this evaluator computes, for every scheduled item (check at *m* months, TCM guidance at *m* months,
the newborn visit):

* ``deadline`` = birth date + *m* months (calendar arithmetic, end of month clamped; + *d* days for an item fixed
  in days, the full-month check) + the window's ``after_days``; an item is **done** when a record lies in its
  window, whatever the period;
* **required** in the period when the deadline is in the period and the record was not closed before it;
  **missed** (``gap_missing_*``) when required and not done;
* its **due date** for the worklist (``*_due``) = the deadline, while not done, from the period start to the end
  of the period's calendar year — so an item is overdue at the period end exactly when it is missed.

An indicator's schedule is **kept** when none of its required items was missed and either one was required or
(``NOTHING_DUE_COUNTS``) the record is still open at the period end: a child with nothing due for its age is
not counted against the unit.

Months are added to dates with ``date + INTERVAL n MONTH`` (DuckDB and Spark both clamp to the month end).
Where such a date is only compared with a fixed date (the period's bounds), the comparison is made on the birth
date instead, against the first birth date that passes (:func:`first_birth`): a deadline never comes earlier for
a later birth, so the two are the same test, and the query does no date arithmetic for it.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import operator
from collections.abc import Callable, Iterable
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.spec.periods import Period
from gongwei.spec.programs import child
from gongwei.spec.programs.child import CheckItem
from gongwei.spec.vocab import CLOSED_STATUSES, ResidentStatus

PROGRAMS = {"child": child}

MONTHS_PER_YEAR = 12
_SEARCH_DAYS = 200 * 366  # deadlines of the schedules lie well within two centuries of the birth date


def horizon(period: Period) -> dt.date:
    """The last due date a worklist looks ahead to: the end of the period's calendar year."""
    return dt.date(period.end.year, 12, 31)


def children(eng: Engine, period: Period, units: list[int] | None) -> ibis.Table:
    """Residents born by the period end whose record is not merged and was not closed before the period
    (``closed_on`` = closing date of a record closed later), managed by one of ``units`` when given."""
    res = eng.table("residents")
    if units is not None:
        res = res.filter(res.managing_unit_id.isin(units))
    closed = res.status.isin([s.value for s in CLOSED_STATUSES])
    res = res.filter((res.status != ResidentStatus.MERGED.value) & res.merged_into_id.isnull()
                     & ~(closed & (res.status_date < ibis.date(period.start)))
                     & (res.birth_date <= ibis.date(period.end)))
    return res.select(resident_id=res.id, managing_unit_id=res.managing_unit_id, birth_date=res.birth_date,
                      closed_on=ibis.cases((closed, res.status_date), else_=ibis.null("date")))


def add_months(date: ibis.ir.DateValue, months: int) -> ibis.ir.DateValue:
    return date + ibis.interval(months=months) if months else date


def plus_months(date: dt.date, months: int) -> dt.date:
    """``date + INTERVAL months MONTH`` as both backends compute it: the day clamped to the month's end."""
    year, month = divmod(date.month - 1 + months, MONTHS_PER_YEAR)
    year += date.year
    month += 1
    return dt.date(year, month, min(date.day, calendar.monthrange(year, month)[1]))


def first_birth(deadline: Callable[[dt.date], dt.date], bound: dt.date, *, after: bool = False) -> dt.date:
    """The earliest birth date whose ``deadline`` is on or after ``bound`` (``after``: strictly after it).
    ``deadline`` never decreases as the birth date increases (months are added with the day clamped), so the
    births passing are exactly those on or after the date returned; a query compares the birth date with it."""
    lo, hi = bound.toordinal() - _SEARCH_DAYS, bound.toordinal() + _SEARCH_DAYS

    def passes(ordinal: int) -> bool:
        d = deadline(dt.date.fromordinal(ordinal))
        return d > bound if after else d >= bound

    if passes(lo) or not passes(hi):
        raise ValueError(f"deadline too far from {bound}")  # outside the range searched: a programming error
    while hi - lo > 1:  # passes(lo) is false and passes(hi) true
        mid = (lo + hi) // 2
        if passes(mid):
            hi = mid
        else:
            lo = mid
    return dt.date.fromordinal(hi)


def nominal_date(birth: dt.date, item: CheckItem) -> dt.date:
    return birth + dt.timedelta(days=item.days) if item.days is not None else plus_months(birth, item.months)


def item_deadline(birth: dt.date, item: CheckItem) -> dt.date:
    """:func:`window_bounds`' deadline, for one birth date in Python."""
    return nominal_date(birth, item) + dt.timedelta(days=item.window.after_days)


def window_bounds(birth: ibis.ir.DateValue, item: CheckItem) -> tuple[ibis.ir.DateValue, ibis.ir.DateValue]:
    nominal = birth + ibis.interval(days=item.days) if item.days is not None else add_months(birth, item.months)
    return nominal - ibis.interval(days=item.window.before_days), nominal + ibis.interval(days=item.window.after_days)


def born_from(birth: ibis.ir.DateValue, months: int, bound: dt.date) -> ibis.ir.BooleanValue:
    """``birth + months > bound``, as a comparison of the birth date."""
    return birth >= ibis.date(first_birth(lambda b: plus_months(b, months), bound, after=True))


def done_in_windows(kids: ibis.Table, events: ibis.Table, items: Iterable[CheckItem], prefix: str) -> ibis.Table:
    """Per child: ``<prefix>_<item>_done`` = 1 when one of ``events`` (resident_id, service_date) lies in the
    item's window."""
    j = events.join(kids.select("resident_id", "birth_date"), "resident_id")
    agg = {}
    for item in items:
        lo, hi = window_bounds(j.birth_date, item)
        agg[f"{prefix}_{item.key}_done"] = ((j.service_date >= lo) & (j.service_date <= hi)).cast("int64").max()
    return j.group_by("resident_id").aggregate(**agg)


# the per-child done flags of every scheduled item, derived once with the snapshot's DuckDB copy (engine.native)
DERIVED = "child_windows"


def _items(spec: ModuleType) -> list[tuple[CheckItem, str]]:
    """Every scheduled item with its column prefix: the checks, the TCM guidance, the newborn visit."""
    newborn_item = CheckItem(0, spec.NEWBORN_WINDOW)
    return [(i, "check") for i in spec.CHECKS] + [(i, "tcm") for i in spec.TCM_ITEMS] + [(newborn_item, "newborn")]


def _items_by_prefix(spec: ModuleType) -> dict[str, list[CheckItem]]:
    """:func:`_items` grouped by prefix, in their order."""
    out: dict[str, list[CheckItem]] = {}
    for item, prefix in _items(spec):
        out.setdefault(prefix, []).append(item)
    return out


def _scheduled_events(checks: ibis.Table, tcm: ibis.Table, newborn: ibis.Table) -> dict[str, ibis.Table]:
    """Per prefix, the records (resident_id, service_date) an item of that kind is done by (not void)."""
    return {prefix: t.filter(~t.is_void).select("resident_id", "service_date")
            for prefix, t in (("check", checks), ("tcm", tcm), ("newborn", newborn))}


def windows_done(residents: ibis.Table, checks: ibis.Table, tcm: ibis.Table, newborn: ibis.Table,
                 spec: ModuleType = child) -> ibis.Table:
    """Per resident with a record of any kind: ``<prefix>_<item>_done`` of every item (:func:`done_in_windows`;
    null where the resident has no record of that kind). It depends on the birth date and the records alone,
    never on the period: the snapshot's DuckDB copy stores it as :data:`DERIVED` and :func:`evaluate` reads it
    from there, where it would otherwise redo the windows' date arithmetic for every record on every run."""
    events = _scheduled_events(checks, tcm, newborn)
    people = ibis.union(*[e.select("resident_id") for e in events.values()], distinct=True)
    kids = people.join(residents.select(resident_id=residents.id, birth_date=residents.birth_date), "resident_id")
    s = kids.select("resident_id")
    for prefix, items in _items_by_prefix(spec).items():
        s = left(s, done_in_windows(kids, events[prefix], items, prefix))
    return s


def left(s: ibis.Table, other: ibis.Table) -> ibis.Table:
    return s.left_join(other, "resident_id").select(~ibis.selectors.endswith("_right"))


def alive_at(s: ibis.Table, deadline: ibis.ir.DateValue) -> ibis.ir.BooleanValue:
    """The record was not closed before ``deadline`` (the date is computed only for closed records)."""
    return ibis.cases((s.closed_on.isnull(), True), else_=deadline <= s.closed_on)


def item_required(s: ibis.Table, period: Period, item: CheckItem) -> ibis.ir.BooleanValue:
    """The item falls due in the period (its deadline in the period, the record not closed before it)."""
    return deadline_between(s.birth_date, item, period.start, period.end) & alive_at(s, window_bounds(s.birth_date, item)[1])


def item_columns(s: ibis.Table, period: Period, item: CheckItem, prefix: str) -> dict[str, ibis.Expr]:
    """``<prefix>_<key>_required`` (a column of ``s``, see :func:`item_required`), ``gap_missing_<prefix>_<key>``
    and ``<prefix>_<key>_due`` for one item."""
    _, deadline = window_bounds(s.birth_date, item)
    alive = alive_at(s, deadline)
    done = s[f"{prefix}_{item.key}_done"].fill_null(0) == 1
    required = s[f"{prefix}_{item.key}_required"]
    return {
        f"{prefix}_{item.key}_required": required,
        f"gap_missing_{prefix}_{item.key}": required & ~done,
        f"{prefix}_{item.key}_due": ibis.cases(
            (~done & deadline_between(s.birth_date, item, period.start, horizon(period)) & alive, deadline),
            else_=ibis.null("date")),
    }


def deadline_between(birth: ibis.ir.DateValue, item: CheckItem, first: dt.date, last: dt.date) -> ibis.ir.BooleanValue:
    """``first <= deadline <= last`` for ``item``, as a comparison of the birth date."""
    return ((birth >= ibis.date(first_birth(lambda b: item_deadline(b, item), first)))
            & (birth < ibis.date(first_birth(lambda b: item_deadline(b, item), last, after=True))))


def _count(s: ibis.Table, columns: list[str]) -> ibis.ir.IntegerValue:
    total = ibis.literal(0)
    for c in columns:
        total = total + s[c].cast("int64")
    return total


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    """The per-child state table for ``period`` (optionally for some units only)."""
    start, end = ibis.date(period.start), ibis.date(period.end)
    kids = children(eng, period, units)
    # under 7 at some time in the period: every item of the schedule closes before the 7th birthday
    span = (spec.MAX_AGE_YEARS + 1) * MONTHS_PER_YEAR
    kids = kids.filter(born_from(kids.birth_date, span, period.start))

    checks = eng.table("child_checks")
    checks = checks.filter(~checks.is_void)
    measured = functools.reduce(operator.or_, [checks[c].notnull() for c in spec.BODY_MEASUREMENTS])
    checks = checks.select("resident_id", "service_date", "eye_check", measured=measured.cast("int64"))
    newborn = eng.table("newborn_visits")
    newborn = newborn.filter(~newborn.is_void).select("resident_id", "service_date", "eye_check",
                                                      measured=ibis.literal(0, "int64"))

    # in the period: body-measurement checks (C2/C5; newborn visits do not count) and eye checks (C6: child
    # checks and newborn visits)
    contacts = ibis.union(checks, newborn)
    contacts = contacts.filter((contacts.service_date >= start) & (contacts.service_date <= end))
    in_period = contacts.group_by("resident_id").aggregate(
        checks_in_period=contacts.measured.sum(), eye_checks_in_period=contacts.eye_check.cast("int64").sum())

    items = _items(spec)
    newborn_item = items[-1][0]
    # Whether each item falls due is computed once per child, below the joins: the counts and flags built on it
    # are inlined into one another when compiled, and would otherwise repeat it many times over.
    s = kids.mutate(**{f"{prefix}_{i.key}_required": item_required(kids, period, i) for i, prefix in items})
    s = left(s, in_period)
    derived = eng.derived(DERIVED) if spec is child else None
    if derived is not None:  # the same flags, computed when the snapshot's copy was written
        s = left(s, derived)
    else:
        events = _scheduled_events(eng.table("child_checks"), eng.table("child_tcm_guidance"),
                                   eng.table("newborn_visits"))
        for prefix, of_prefix in _items_by_prefix(spec).items():
            s = left(s, done_in_windows(kids, events[prefix], of_prefix, prefix))
    s = s.mutate(checks_in_period=s.checks_in_period.fill_null(0),
                 eye_checks_in_period=s.eye_checks_in_period.fill_null(0))

    required_columns = [f"{prefix}_{i.key}_required" for i, prefix in items]
    cols: dict[str, ibis.Expr] = {}
    for item, prefix in items:
        cols.update(item_columns(s, period, item, prefix))
    _, nb_deadline = window_bounds(s.birth_date, newborn_item)
    # the required columns move after the ones that were there before (the state table's column order)
    s = s.select(*[c for c in s.columns if c not in required_columns], **cols, newborn_visit_deadline=nb_deadline)

    keys_all = [i.key for i in spec.CHECKS]
    keys_422 = [i.key for i in spec.CHECKS if i.months in spec.FOUR_TWO_TWO_MONTHS]
    keys_tcm = [i.key for i in spec.TCM_ITEMS]
    s = s.mutate(
        checks_required=_count(s, [f"check_{k}_required" for k in keys_all]),
        checks_missed=_count(s, [f"gap_missing_check_{k}" for k in keys_all]),
        checks_422_required=_count(s, [f"check_{k}_required" for k in keys_422]),
        checks_422_missed=_count(s, [f"gap_missing_check_{k}" for k in keys_422]),
        tcm_required=_count(s, [f"tcm_{k}_required" for k in keys_tcm]),
        tcm_missed=_count(s, [f"gap_missing_tcm_{k}" for k in keys_tcm]),
        newborn_done=s.newborn_m0_done.fill_null(0) == 1,
        # ages at the period end
        in_0_6=born_from(s.birth_date, span, period.end),
        under_3=born_from(s.birth_date, spec.UNDER_YEARS_SYSTEM * MONTHS_PER_YEAR, period.end),
        in_0_36m=born_from(s.birth_date, spec.TCM_MAX_MONTHS + 1, period.end),
        born=s.birth_date >= start,
    )
    alive_nb = s.closed_on.isnull() | (s.newborn_visit_deadline <= s.closed_on)
    # nothing due for its age and still managed at the period end: not counted against the unit
    open_at_end = s.closed_on.isnull() | (s.closed_on > end)
    excused = open_at_end if spec.NOTHING_DUE_COUNTS else ibis.literal(False)

    def kept(required: ibis.ir.IntegerValue, missed: ibis.ir.IntegerValue) -> ibis.ir.BooleanValue:
        return (missed == 0) & ((required >= 1) | excused)

    s = s.mutate(
        managed=s.in_0_6,
        newborn_visited=s.born & s.newborn_done,
        checked=s.in_0_6 & ((s.checks_in_period >= 1) | ((s.checks_required == 0) & excused)),
        eye_checked=s.in_0_6 & (s.eye_checks_in_period >= spec.EYE_CHECKS_REQUIRED),
        system_managed=s.in_0_6 & kept(s.checks_required, s.checks_missed),
        system_managed_u3=s.under_3 & kept(s.checks_422_required, s.checks_422_missed),
        tcm_managed=s.in_0_36m & kept(s.tcm_required, s.tcm_missed),
        gap_no_newborn_visit=s.gap_missing_newborn_m0,
        gap_newborn_visit_pending=~s.newborn_done & (s.newborn_visit_deadline > end) & alive_nb,
        gap_no_check=s.checks_in_period == 0,
        gap_no_eye_check=s.eye_checks_in_period < spec.EYE_CHECKS_REQUIRED,
        gap_no_due_check=(s.checks_required == 0) & ~excused,
        gap_no_due_check_422=(s.checks_422_required == 0) & ~excused,
        gap_no_due_tcm=(s.tcm_required == 0) & ~excused,
        gap_closed=s.closed_on.notnull() & (s.closed_on <= end),
        newborn_visit_due=s.newborn_m0_due,
    )
    return s
