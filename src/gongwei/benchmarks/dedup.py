"""Duplicate-record benchmark: exact and probabilistic dedup over synthetic regions of growing size.

    python -m gongwei.benchmarks.dedup --sizes 100000,500000,2000000 --repeat 3

Loading millions of residents through the database only to snapshot them again would time the loader,
not dedup, so each region is written straight to a snapshot-shaped folder (:func:`region_snapshot`):
the residents table carries exactly the columns ``gongwei snapshot`` writes — database-style integer ids,
``id_status`` from the same vectorised identity check the entry layer runs, and ``id_key`` / ``phone_key``
from :func:`gongwei.records.snapshot.pseudonymise` — so the engine cannot tell the difference.

Timed: :func:`gongwei.engine.dedup.find_duplicates` for the whole region (median of --repeat, each on a
fresh DuckDB connection). Scored against the generator's labels (``dup_same_id`` + ``dup_no_id``): a
labelled pair counts as found when both records fall in one cluster, precision is over the pairs the
review queue proposes. Results go to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

# the region's own timestamp for created_at/updated_at, so two writes of one region are byte-identical
_STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _lookup(keys: pa.Array, values: pa.Array) -> pa.Array:
    """Database id for each natural key (null where the key is empty or unknown)."""
    pos = pc.index_in(keys, value_set=values)
    return pc.add(pos.cast(pa.int64()), 1)


def _model_table(model, source: pa.Table, refs: dict[str, pa.Array], extra: dict[str, pa.Array],
                 keep: tuple[str, ...] = ()) -> pa.Table:
    """Columns in the order and types ``take_snapshot`` gives them; references turned into ids."""
    from django.db import models

    from gongwei.records.snapshot import _arrow_type, _fields

    n = source.num_rows
    out = {}
    for f in _fields(model, keep):
        typ = _arrow_type(f)
        if f.column in extra:
            col = extra[f.column]
        elif isinstance(f, models.ForeignKey):
            col = _lookup(source.column(f.name).combine_chunks(), refs[f.name]) if f.name in refs else pa.nulls(n)
        elif f.name in source.column_names:
            col = source.column(f.name).combine_chunks()
        elif f.has_default():
            col = pa.repeat(pa.scalar(f.get_default()), n)
        else:
            col = pa.nulls(n)
        out[f.column] = col.cast(typ)
    return pa.table(out)


def region_snapshot(region, root: Path) -> Path:
    """Write ``region`` (a :class:`~gongwei.synth.generate.SyntheticRegion`) as a snapshot folder holding
    org_units, households, residents and health_records; returns the folder."""
    from gongwei.records import identity
    from gongwei.records import models as m
    from gongwei.records.snapshot import PSEUDONYMISED, SNAPSHOT_FORMAT, _sha256, pseudonymise

    folder = Path(root) / f"synth-{region.residents}-{region.seed}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    t = region.tables
    org = t["org_units"]
    codes = org.column("code").combine_chunks()
    parents = _lookup(org.column("parent").combine_chunks(), codes).to_pylist()
    path: dict[int, str] = {}
    for i, p in enumerate(parents, start=1):  # org units are metadata-sized and parents come first
        path[i] = (path[p] if p else "/") + f"{i}/"
    ids = lambda table: pa.array(np.arange(1, table.num_rows + 1, dtype=np.int64))  # noqa: E731
    tables = {
        "org_units": _model_table(m.OrgUnit, org, {"parent": codes},
                                  {"id": ids(org), "path": pa.array([path[i] for i in range(1, org.num_rows + 1)])}),
        "households": _model_table(m.Household, t["households"], {"org_unit": codes}, {"id": ids(t["households"])}),
    }
    res = t["residents"]
    numbers, status = identity.check_many(
        np.asarray(res.column("id_number").to_numpy(zero_copy_only=False), dtype=object),
        birth_dates=np.asarray(res.column("birth_date").to_numpy(zero_copy_only=False), dtype="datetime64[D]"),
        sexes=np.asarray(res.column("sex").to_numpy(zero_copy_only=False), dtype=object),
        id_types=np.asarray(res.column("id_type").to_numpy(zero_copy_only=False), dtype=object),
        today=region.as_of,
    )
    stamp = pa.array(np.full(res.num_rows, np.datetime64(_STAMP.replace(tzinfo=None), "us")), pa.timestamp("us", tz="UTC"))
    residents = _model_table(
        m.Resident, res,
        {"household": t["households"].column("household_no").combine_chunks(), "managing_unit": codes,
         "responsible_doctor": t["staff"].column("code").combine_chunks(),
         "merged_into": res.column("record_no").combine_chunks()},
        {"id": ids(res), "id_number": pa.array(numbers.astype(str)), "id_status": pa.array(status.astype(str)), "created_at": stamp, "updated_at": stamp},
        keep=PSEUDONYMISED["residents"])
    tables["residents"] = pseudonymise("residents", residents)
    hr = t["health_records"]
    tables["health_records"] = pseudonymise("health_records", _model_table(
        m.HealthRecord, hr, {"resident": res.column("record_no").combine_chunks(), "created_by_unit": codes},
        {"updated_at": stamp.slice(0, hr.num_rows)}, keep=PSEUDONYMISED["health_records"]))
    manifest = {"format": SNAPSHOT_FORMAT, "id": folder.name, "taken_at": _STAMP.isoformat(), "database": "synthetic",
                "tables": {}}
    for name, table in tables.items():
        p = folder / f"{name}.parquet"
        pq.write_table(table, p)
        manifest["tables"][name] = {"rows": table.num_rows, "sha256": _sha256(p)}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def label_pairs(region) -> set[tuple[str, str]]:
    """Labelled duplicate pairs (record numbers, sorted within the pair)."""
    lab = region.labels
    sel = lab.filter(pc.is_in(lab.column("problem"), pa.array(["dup_same_id", "dup_no_id"])))
    a, b = sel.column("natural_key").to_pylist(), sel.column("related_key").to_pylist()
    return {(min(x, y), max(x, y)) for x, y in zip(a, b, strict=True)}


def score(result, truth: set[tuple[str, str]]) -> dict:
    """Recall of labelled pairs (both records in one cluster) and precision of the proposed pairs."""
    clusters = result.clusters
    cid = dict(zip(clusters.column("record_no").to_pylist(), clusters.column("cluster_id").to_pylist(), strict=True))
    found = sum(1 for a, b in truth if a in cid and cid.get(a) == cid.get(b))
    q = result.queue
    proposed = {(min(a, b), max(a, b)) for a, b in zip(q.column("survivor").to_pylist(), q.column("duplicate").to_pylist(),
                                                       strict=True)}
    # a proposed pair is right when both records belong to one labelled person (covers a person recorded 3 times)
    person: dict[str, str] = {}
    for a, b in sorted(truth):
        root = person.get(b, b)
        person[a] = root
        person.setdefault(b, root)
    right = sum(1 for a, b in proposed if person.get(a, a) == person.get(b, b))
    return {"labelled": len(truth), "found": found, "recall": found / len(truth) if truth else 1.0,
            "proposed": len(proposed), "right": right, "precision": right / len(proposed) if proposed else 1.0}


def _worker(size: int, seed: int, repeat: int, as_of: str) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    django.setup()
    from gongwei.engine.dedup import find_duplicates
    from gongwei.engine.snapshot import Snapshot
    from gongwei.synth.generate import generate_region

    t0 = time.perf_counter()
    region = generate_region(size, seed, as_of=dt.date.fromisoformat(as_of))
    gen_s = time.perf_counter() - t0
    root = Path(tempfile.mkdtemp(prefix="gongwei-dedup-"))
    try:
        t0 = time.perf_counter()
        snap = Snapshot.open(region_snapshot(region, root))
        write_s = time.perf_counter() - t0
        truth = label_pairs(region)
        residents = region.tables["residents"].num_rows
        del region
        times, result = [], None
        for _ in range(repeat):
            t0 = time.perf_counter()
            result = find_duplicates(snap)
            times.append(time.perf_counter() - t0)
        s = score(result, truth)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"size": size, "residents": residents, "generate_s": gen_s, "write_s": write_s,
            "dedup_s": statistics.median(times), "times": times, "exact": result.summary["exact_pairs"],
            "probable": result.summary["probable_pairs"], "clusters": result.summary["clusters"],
            "compared": result.summary["compared_pairs"], **s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="重复档案识别基准测试（精确 + 概率匹配，合成辖区）")
    parser.add_argument("--sizes", default="100000,500000,2000000", help="居民数，逗号分隔")
    parser.add_argument("--repeat", type=int, default=3, help="重复次数（取中位数）")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-06-30")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker(args.worker, args.seed, args.repeat, args.as_of)))
        return 0
    import subprocess

    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        # a fresh process per size: memory of the previous region is returned to the system
        out = subprocess.run([sys.executable, "-m", "gongwei.benchmarks.dedup", "--worker", str(size),
                              "--repeat", str(args.repeat), "--seed", str(args.seed), "--as-of", args.as_of],
                             check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{size:,}: {result}", file=sys.stderr)
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores; synthetic region (seed {args.seed}) written "
          f"as a snapshot; exact + Splink/DuckDB dedup of the whole region, median of {args.repeat}.\n")
    print("| residents (records) | dedup (s) | compared pairs | exact pairs | probable pairs | clusters | "
          "labelled pairs | recall | precision |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['size']:,} ({r['residents']:,}) | {r['dedup_s']:.1f} | {r['compared']:,} | {r['exact']:,} | "
              f"{r['probable']:,} | {r['clusters']:,} | {r['labelled']:,} | {r['recall']:.4f} | {r['precision']:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
