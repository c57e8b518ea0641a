"""Scoring an evaluation round from stored results for every unit of a city-sized org tree.

    python -m gongwei.benchmarks.evaluation --counties 10 --townships 15 --villages 20 --repeat 3

Scoring reads stored figures, not residents: its cost grows with units × scheme leaves. A fresh process builds a
city's org tree in an embedded SQLite database in a temporary folder (1 city, ``--counties`` counties, each with
``--townships`` townships of ``--villages`` villages; the defaults are about the shape of a 2 M-resident city),
takes a snapshot, writes stored indicator results and a QC tally for every unit (random figures, as the nightly job
would store them) and every manual entry of the scheme, then times ``score_round`` of ``district-2023`` at the
township and at the village level (best of ``--repeat`` runs; every run writes a new run of rows).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time


def _tree(counties: int, townships: int, villages: int):
    import pyarrow as pa

    rows = [("620800000000", "平凉市卫生健康委员会", "city", "health_bureau", "")]
    for c in range(1, counties + 1):
        cc = f"6208{c:02d}000000"
        rows.append((cc, f"第{c}县卫生健康局", "county", "health_bureau", "620800000000"))
        for t in range(1, townships + 1):
            tc = f"{cc[:6]}{t:03d}000"
            rows.append((tc, f"第{c}县第{t}乡镇卫生院", "township", "township_hc", cc))
            rows += [(f"{tc[:9]}{v:03d}", f"第{c}县第{t}乡第{v}村卫生室", "village", "village_clinic", tc)
                     for v in range(1, villages + 1)]
    cols = ("code", "name", "level", "kind", "parent")
    return pa.table({k: pa.array([r[i] for r in rows], pa.string()) for i, k in enumerate(cols)})


def _store(snap, period, scheme, seed: int) -> None:
    import numpy as np
    import pyarrow as pa

    from gongwei.engine.orgs import OrgTree
    from gongwei.engine.scorecard import examined_tables
    from gongwei.service import results
    from gongwei.spec.quality import rules as qc_rules

    rng = np.random.default_rng(seed)
    tree = OrgTree.load(snap)
    ids = np.array(tree.ids, dtype=np.int64)
    codes = sorted({i.indicator for i in scheme.leaves() if i.indicator})
    den = rng.integers(0, 3000, size=(len(codes), len(ids)))
    num = (den * rng.uniform(0.3, 1.0, size=den.shape)).astype(np.int64)
    table = pa.table({
        "indicator": pa.array(np.repeat(codes, len(ids)), pa.string()),
        "org_unit_id": pa.array(np.tile(ids, len(codes)), pa.int64()),
        "numerator": pa.array(num.ravel(), pa.int64()),
        "denominator": pa.array(den.ravel(), pa.int64()),
        "period": pa.array([period.code] * (len(codes) * len(ids)), pa.string()),
    })
    results._write(table, results.indicator_path(snap.id, period))
    rules = sorted({r for i in scheme.leaves() for r in i.rules})
    book = qc_rules()
    tables = sorted({t for r in rules for t in examined_tables(book[r].table)})
    keys = [("rule", r) for r in rules] + [("table", t) for t in tables]
    n = np.where([k == "rule" for k, _ in keys], 1, 0)[:, None] * rng.integers(0, 30, size=(len(keys), len(ids))) + \
        np.where([k == "table" for k, _ in keys], 1, 0)[:, None] * rng.integers(100, 3000, size=(len(keys), len(ids)))
    tally = pa.table({
        "org_unit_id": pa.array(np.tile(ids, len(keys)), pa.int64()),
        "kind": pa.array(np.repeat([k for k, _ in keys], len(ids)), pa.string()),
        "key": pa.array(np.repeat([v for _, v in keys], len(ids)), pa.string()),
        "n": pa.array(n.ravel(), pa.int64()),
    }).replace_schema_metadata({"rules": json.dumps(rules), "period": period.code})
    results._write(tally, results.qc_path(snap.id, period))


def _manual(rnd, scheme) -> int:
    from gongwei.evaluation import models as em
    from gongwei.records import models as rm
    from gongwei.spec.evaluation import Method

    units = rm.OrgUnit.objects.filter(path__startswith=rnd.root.path, level=rnd.level)
    rows = [em.ManualScore(round=rnd, org_unit=u, item=i.code,
                           value=0 if i.method is Method.DEDUCT_PER_FINDING else (1 if i.method is Method.YES_NO
                                                                                 else i.points),
                           note="基准测试", entered_by="bench")
            for u in units for i in scheme.leaves() if i.manual]
    em.ManualScore.objects.bulk_create(rows, batch_size=5000)
    return len(rows)


def run(counties: int, townships: int, villages: int, repeat: int, seed: int) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from gongwei.records import entry
    from gongwei.service import access, snapshots
    from gongwei.service import evaluation as sev
    from gongwei.spec import evaluation as se
    from gongwei.spec.periods import parse

    entry.submit({"org_units": _tree(counties, townships, villages)}, actor="bench", kind="synth")
    snap = snapshots.take()
    scheme = se.scheme("district-2023")
    period = parse("2025")
    _store(snap, period, scheme, seed)
    actor = access.operator()
    out = {"units": snap.tables.get("org_units", 0), "leaves": len(scheme.leaves())}
    for level in ("township", "village"):
        rnd = sev.create_round(actor, scheme.code, 2025, "year_end", "620800000000", level=level)
        entries = _manual(rnd, scheme)
        times, cpu = [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            got = sev.score_round(actor, rnd.pk)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[level] = {"scored_units": got.units, "item_rows": got.units * len(list(scheme.walk())),
                      "manual_entries": entries, "best_s": round(min(times), 3), "best_cpu_s": round(min(cpu), 3),
                      "runs_s": [round(t, 3) for t in times]}
    out["load_average"] = os.getloadavg()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--counties", type=int, default=10)
    p.add_argument("--townships", type=int, default=15)
    p.add_argument("--villages", type=int, default=20)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["GONGWEI_DATA_DIR"] = folder
        os.environ.pop("DATABASE_URL", None)
        os.environ.setdefault("GONGWEI_SECRET_KEY", "benchmark-key-" + "b" * 50)
        result = run(args.counties, args.townships, args.villages, args.repeat, args.seed)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
