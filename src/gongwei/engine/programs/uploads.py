"""Upload validity (DV1): rows received and rejected per batch, table and unit (rules in
:mod:`gongwei.spec.programs.uploads`).

One state row per ``LoadTally`` of an upload batch started in the period (local date) whose unit is known;
``managing_unit_id`` is that unit and ``resident_id`` is null. ``submitted_rows`` and ``valid_rows`` are counts,
not flags: the catalogue sums them per unit like any flag.
"""

from __future__ import annotations

import datetime as dt
from types import ModuleType

import ibis

from gongwei.engine.backends import Engine
from gongwei.spec.periods import Period
from gongwei.spec.programs import uploads

PROGRAMS = {uploads.CODE: uploads}


def _epoch(spec: ModuleType, d: dt.date) -> int:
    """Seconds since the epoch (UTC) of local midnight starting ``d``."""
    return (d - dt.date(1970, 1, 1)).days * 86_400 - spec.LOCAL_UTC_OFFSET_HOURS * 3600


def evaluate(eng: Engine, spec: ModuleType, period: Period, units: list[int] | None = None) -> ibis.Table:
    b = eng.table("load_batches")
    # compared as epoch seconds, which both backends read the same way whatever their session time zone
    sec = b.started_at.epoch_seconds()
    b = b.filter(b.kind.isin(list(spec.UPLOAD_BATCH_KINDS)) & (sec >= _epoch(spec, period.start))
                 & (sec < _epoch(spec, period.end + dt.timedelta(days=1))))
    t = eng.table("load_tallies")
    t = t.filter(t.org_unit_id.notnull())
    if units is not None:
        t = t.filter(t.org_unit_id.isin(units))
    ids = b.select(bid="id")
    j = t.join(ids, t.batch_id == ids.bid)
    rejected = j.rejected.cast("int64")
    return j.select(
        resident_id=ibis.null("int64"),
        managing_unit_id=j.org_unit_id,
        batch_id=j.batch_id,
        table=j.table,
        submitted_rows=j.received.cast("int64"),
        valid_rows=(j.received - j.rejected).cast("int64"),
        rejected_rows=rejected,
        gap_rows_rejected=rejected > 0,
    )
