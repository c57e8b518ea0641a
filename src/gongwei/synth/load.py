"""Load a synthetic region into the configured database through the entry layer, with its labels."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pyarrow as pa
from django.db import IntegrityError, connection, transaction

from gongwei.records import entry
from gongwei.synth.generate import SyntheticRegion
from gongwei.synth.models import InjectedProblem

LABEL_BATCH = 5_000


def load_region(region: SyntheticRegion, progress: bool = True) -> entry.SubmitResult:
    """Validate and write every table with :func:`gongwei.records.entry.submit` (one transaction), then
    the ground-truth labels (:class:`InjectedProblem`, bulk). Loading the same region twice changes nothing."""
    total = region.row_count
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=2 * total, unit="行", unit_scale=True, desc="载入合成地区", dynamic_ncols=True)

    def report(step: str, rows: int) -> None:
        if bar is not None:
            bar.set_postfix_str(step, refresh=False)
            bar.update(rows)

    try:
        with _sqlite_deferred_key_check():
            result = entry.submit(region.tables, actor="gongwei synth", kind="synth",
                                  source=f"synth residents={region.residents} seed={region.seed} "
                                         f"window={region.start.isoformat()}..{region.as_of.isoformat()}",
                                  progress=report)
            write_labels(region.labels)
    finally:
        if bar is not None:
            bar.close()
    return result


@contextmanager
def _sqlite_deferred_key_check() -> Iterator[None]:
    """On SQLite, check foreign keys once for the whole load instead of on every inserted row.

    SQLite only honours ``PRAGMA foreign_keys`` outside a transaction, so enforcement is switched off
    before an outer transaction begins; ``PRAGMA foreign_key_check`` then verifies every table before
    that transaction commits (a violation rolls everything back), and enforcement is switched on again.
    Other databases, or a call inside an open transaction, load with the usual per-row checks.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA foreign_keys = OFF")
    try:
        with transaction.atomic():
            yield
            with connection.cursor() as cur:
                cur.execute("PRAGMA foreign_key_check")
                bad = cur.fetchmany(5)
            if bad:
                raise IntegrityError(f"外键检查失败：{bad}")
    finally:
        with connection.cursor() as cur:
            cur.execute("PRAGMA foreign_keys = ON")


def write_labels(labels: pa.Table) -> int:
    """Insert labels not stored yet (same problem, table, keys and seed); returns the number inserted."""
    if not labels.num_rows:
        return 0
    cols = {k: labels.column(k).to_pylist() for k in ("problem", "table", "natural_key", "related_key", "detail", "seed")}
    seeds = sorted(set(cols["seed"]))
    existing = set(InjectedProblem.objects.filter(seed__in=seeds)
                   .values_list("problem", "table", "natural_key", "related_key", "seed"))
    rows = [InjectedProblem(problem=p, table=t, natural_key=k, related_key=r, detail=d[:200], seed=s)
            for p, t, k, r, d, s in zip(*cols.values(), strict=True) if (p, t, k, r, s) not in existing]
    with transaction.atomic():
        for i in range(0, len(rows), LABEL_BATCH):
            InjectedProblem.objects.bulk_create(rows[i:i + LABEL_BATCH])
    return len(rows)


def label_counts(labels: pa.Table) -> dict[str, int]:
    problems, counts = np.unique(np.asarray(labels.column("problem").to_numpy(zero_copy_only=False)).astype(str),
                                 return_counts=True)
    return dict(zip(problems.tolist(), counts.tolist(), strict=True))
