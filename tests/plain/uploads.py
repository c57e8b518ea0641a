"""Upload validity the plain way (rulebook: gongwei.spec.programs.uploads): add up the tallies of upload batches
started in the period (local date), per unit named by the tally; rows of no known unit are left out."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from gongwei.spec.programs import uploads

PROGRAMS = {"uploads": uploads}
TABLES = ["load_batches", "load_tallies"]


def state(tables: dict[str, list[dict]], program: str, period) -> dict[str, Counter]:
    local = dt.timedelta(hours=uploads.LOCAL_UTC_OFFSET_HOURS)
    batches = {b["id"] for b in tables["load_batches"]
               if b["kind"] in uploads.UPLOAD_BATCH_KINDS and period.start <= (b["started_at"] + local).date() <= period.end}
    counts = {"submitted_rows": Counter(), "valid_rows": Counter()}
    for t in tables["load_tallies"]:
        if t["batch_id"] in batches and t["org_unit_id"] is not None:
            counts["submitted_rows"][t["org_unit_id"]] += t["received"]
            counts["valid_rows"][t["org_unit_id"]] += t["received"] - t["rejected"]
    return counts
