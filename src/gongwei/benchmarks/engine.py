"""Engine benchmark: snapshot from PostgreSQL, the whole catalogue for every unit, one village's gap list and
worklist, and the whole QC rule catalogue — for synthetic regions of growing size.

    python -m gongwei.benchmarks.engine --sizes 100000,500000,2000000 --repeat 3
    python -m gongwei.benchmarks.engine --catalogue-only --snapshot SNAPSHOT_FOLDER --repeat 5
    GONGWEI_DATA_DIR=/tmp/bench python -m gongwei.benchmarks.engine --build-snapshot 2000000   # that snapshot

For each size a PostgreSQL database is re-created and loaded with ``gongwei synth`` (load not timed here;
see gongwei.synth.bench). Timed: ``take_snapshot`` (median of --repeat), ``catalogue.evaluate`` for the year
on a fresh DuckDB engine — the first run, which compiles every program's SQL and fills the SQL cache
(``catalogue (cold)``), apart from the median of the --repeat runs after it, which read the SQL from the
cache (``catalogue``) — and the H2 gap list (first page) and worklist of one village (median of 20 calls on a
warm engine; the first call, which materialises the period's state tables, is reported apart), and
``quality.evaluate`` with every QC rule (median of --repeat). Results go to stdout as Markdown.

``--catalogue-only --snapshot`` times only the catalogue on an existing snapshot folder (no PostgreSQL), with
the process's CPU seconds beside the wall-clock ones: on a shared machine the CPU time varies less. With
``--by-program`` (and ``--threads 1`` for a figure that load barely moves) each program's query is timed alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/gongwei_bench_engine"


def _cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _time_catalogue(snap, period, repeat: int) -> dict:
    """The first run on a fresh SQL cache (compiles), then ``repeat`` runs reading the cache; fresh engine each."""
    from gongwei.engine import catalogue
    from gongwei.engine.backends import Engine

    runs, results = [], None
    for _ in range(repeat + 1):
        eng = Engine(snap, "duckdb")
        c0, t0 = _cpu(), time.perf_counter()
        results = catalogue.evaluate(eng, period)
        runs.append((time.perf_counter() - t0, _cpu() - c0))
    warm = runs[1:]
    return {"catalogue_cold_s": runs[0][0], "catalogue_cold_cpu_s": runs[0][1],
            "catalogue_s": statistics.median(r[0] for r in warm), "catalogue_cpu_s": statistics.median(r[1] for r in warm),
            "catalogue_runs_s": [round(r[0], 2) for r in warm], "results": results,
            "load_avg": os.getloadavg()[0]}


def _catalogue_only(folder: str, repeat: int, period: str, parquet: bool = False) -> dict:
    """The whole catalogue on an existing snapshot. ``parquet``: on its Parquet files only, as before ADR 038
    (its DuckDB copy is set aside for the run); otherwise a snapshot without the copy gets one first, timed."""
    from gongwei.engine import native
    from gongwei.engine.snapshot import Snapshot

    snap = Snapshot.open(folder)
    copy = native.path(snap)
    if parquet:
        aside = copy.with_name(copy.name + ".aside")
        if copy.exists():
            copy.rename(aside)
        try:
            return _time_only(snap, repeat, period, None)
        finally:
            if aside.exists():
                aside.rename(copy)
    copy_s = None
    if not native.usable(snap):
        t0 = time.perf_counter()
        native.write(snap)
        copy_s = time.perf_counter() - t0
    return _time_only(snap, repeat, period, copy_s)


def _time_only(snap, repeat: int, period: str, copy_s: float | None) -> dict:
    from gongwei.spec.periods import parse

    with tempfile.TemporaryDirectory() as cache:
        os.environ["GONGWEI_SQL_CACHE"] = cache  # start cold, whatever earlier runs left beside the snapshot
        timed = _time_catalogue(snap, parse(period), repeat)
    results = timed.pop("results")
    return {"residents": snap.tables.get("residents", 0), "snapshot_rows": sum(snap.tables.values()),
            "native_copy_s": copy_s, "indicators": len(set(results.column("indicator").to_pylist())), **timed}


def _build_snapshot(size: int, seed: int, as_of: str, root: str) -> Path:
    """Load a synthetic region into the configured database (``GONGWEI_DATA_DIR`` / ``DATABASE_URL``, migrated
    first) and snapshot it under ``root``: the snapshot ``--catalogue-only`` times."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    django.setup()
    from django.core.management import call_command

    from gongwei.records.snapshot import take_snapshot
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    call_command("migrate", interactive=False, verbosity=0)
    load_region(generate_region(size, seed, as_of=dt.date.fromisoformat(as_of)), progress=False)
    return take_snapshot(Path(root))


def _by_program(folder: str, repeat: int, period: str, threads: int | None) -> list[dict]:
    """Each program's catalogue query run alone (SQL compiled first, not timed): the least wall and CPU seconds
    of ``repeat`` runs. With ``threads`` DuckDB uses that many threads (1: CPU seconds = work, whatever the load)."""
    from gongwei.engine import catalogue
    from gongwei.engine.backends import Engine
    from gongwei.engine.snapshot import Snapshot
    from gongwei.spec.periods import parse

    snap = Snapshot.open(folder)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["GONGWEI_SQL_CACHE"] = cache
        eng = Engine(snap, "duckdb")
        if threads:
            eng.con.raw_sql(f"SET threads = {int(threads)}")
        out = []
        rules = catalogue.rules_in_force()
        for job in catalogue.catalogue_jobs(eng, parse(period)):
            sql, schema = catalogue._compiled(eng, job, rules)
            runs = []
            for _ in range(repeat):
                c0, t0 = _cpu(), time.perf_counter()
                catalogue._run_on_cursor(eng.con.con, sql, schema)
                runs.append((time.perf_counter() - t0, _cpu() - c0))
            out.append({"program": job[0], "period": job[1].code, "wall_s": min(r[0] for r in runs),
                        "cpu_s": min(r[1] for r in runs)})
    return out


def _worker(size: int, seed: int, repeat: int, as_of: str, period: str) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from gongwei.engine import gaps, worklist
    from gongwei.engine.backends import Engine
    from gongwei.engine.orgs import OrgTree
    from gongwei.engine.snapshot import Snapshot
    from gongwei.records.snapshot import take_snapshot
    from gongwei.spec.periods import parse
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    t0 = time.perf_counter()
    load_region(generate_region(size, seed, as_of=dt.date.fromisoformat(as_of)), progress=False)
    load_s = time.perf_counter() - t0
    root = Path(tempfile.mkdtemp(prefix="gongwei-snap-"))
    snap_times, native_times, folder = [], [], None
    from gongwei.engine import native

    for _ in range(repeat):
        t0 = time.perf_counter()
        folder = take_snapshot(root)
        snap_times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        native.write(Snapshot.open(folder))  # the DuckDB copy the nightly writes with each snapshot (ADR 038)
        native_times.append(time.perf_counter() - t0)
    snap = Snapshot.open(folder)
    p = parse(period)
    timed = _time_catalogue(snap, p, repeat)
    results = timed.pop("results")
    from gongwei.engine import quality

    qc_times, findings = [], 0
    for _ in range(repeat):
        eng = Engine(snap, "duckdb")
        t0 = time.perf_counter()
        findings = quality.evaluate(eng, p).num_rows
        qc_times.append(time.perf_counter() - t0)
    tree = OrgTree.load(snap)
    villages = sorted(i for i in tree.ids if tree.level[i] == "village")
    village = tree.code[villages[len(villages) // 2]]
    eng = Engine(snap, "duckdb")
    t0 = time.perf_counter()
    gaps.people(eng, "H2", village, p, tree=tree)  # first call materialises the period's state tables
    first_gap_s = time.perf_counter() - t0
    gap_times, work_times = [], []
    for _ in range(20):
        eng.states.clear()
        t0 = time.perf_counter()
        gaps.people(eng, "H2", village, p, tree=tree)
        gap_times.append(time.perf_counter() - t0)
        eng.states.clear()
        t0 = time.perf_counter()
        worklist.items(eng, village, dt.date.fromisoformat(as_of), tree=tree)
        work_times.append(time.perf_counter() - t0)
    rows = sum(snap.tables.values())
    return {"size": size, "snapshot_rows": rows, "units": len(tree.ids), "indicators": len(set(results.column("indicator").to_pylist())),
            "load_s": load_s, "snapshot_s": statistics.median(snap_times),
            "native_copy_s": statistics.median(native_times), **timed,
            "qc_s": statistics.median(qc_times), "findings": findings, "first_gap_s": first_gap_s,
            "gap_list_ms": 1000 * statistics.median(gap_times), "worklist_ms": 1000 * statistics.median(work_times)}


def _recreate_pg(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="指标引擎基准测试（PostgreSQL 快照、全量指标、单村缺口与待办）")
    parser.add_argument("--sizes", default="100000,500000,2000000", help="居民数，逗号分隔")
    parser.add_argument("--repeat", type=int, default=3, help="快照与全量指标的重复次数（取中位数）")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", default="2026-11-24")
    parser.add_argument("--period", default="2025")
    parser.add_argument("--pg-url", default=DEFAULT_PG)
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--catalogue-only", action="store_true", help="只计时全量指标（需 --snapshot）")
    parser.add_argument("--snapshot", help="已有快照目录（与 --catalogue-only 同用，不连 PostgreSQL）")
    parser.add_argument("--by-program", action="store_true", help="逐个项目单独计时（与 --catalogue-only 同用）")
    parser.add_argument("--parquet", action="store_true",
                        help="只读快照的 Parquet 文件，不用 DuckDB 副本（与 --catalogue-only 同用，用于对比）")
    parser.add_argument("--threads", type=int, help="DuckDB 线程数（与 --by-program 同用）")
    parser.add_argument("--build-snapshot", type=int, metavar="RESIDENTS",
                        help="生成该规模的合成地区，载入当前数据库并在 --snapshot-root 下生成快照")
    parser.add_argument("--snapshot-root", default="data/bench-snapshots", help="--build-snapshot 的快照根目录")
    args = parser.parse_args(argv)
    if args.build_snapshot:
        print(_build_snapshot(args.build_snapshot, args.seed, args.as_of, args.snapshot_root))
        return 0
    if args.catalogue_only and args.by_program and args.snapshot:
        rows = _by_program(args.snapshot, args.repeat, args.period, args.threads)
        print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; snapshot {args.snapshot}; period {args.period}; "
              f"DuckDB threads {args.threads or 'default'}; least of {args.repeat} runs; "
              f"1-minute load average {os.getloadavg()[0]:.1f}.\n")
        print("| program | period | wall (s) | CPU (s) |\n| --- | --- | ---: | ---: |")
        for r in rows:
            print(f"| {r['program']} | {r['period']} | {r['wall_s']:.3f} | {r['cpu_s']:.3f} |")
        print(f"| all | | {sum(r['wall_s'] for r in rows):.3f} | {sum(r['cpu_s'] for r in rows):.3f} |")
        return 0
    if args.catalogue_only:
        if not args.snapshot:
            parser.error("--catalogue-only 需要 --snapshot")
        r = _catalogue_only(args.snapshot, args.repeat, args.period, parquet=args.parquet)
        source = "Parquet files only (--parquet)" if args.parquet else "DuckDB copy" + (
            f" (written first: {r['native_copy_s']:.1f} s)" if r["native_copy_s"] is not None else "")
        print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; snapshot {args.snapshot}; period {args.period}; "
              f"tables read from: {source}; 1-minute load average {r['load_avg']:.1f}.\n")
        print("| residents | snapshot rows | indicators | catalogue cold (s) | cold CPU (s) | catalogue cached SQL, "
              "median (s) | cached CPU (s) | runs (s) |")
        print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        print(f"| {r['residents']:,} | {r['snapshot_rows']:,} | {r['indicators']} | {r['catalogue_cold_s']:.2f} | "
              f"{r['catalogue_cold_cpu_s']:.2f} | {r['catalogue_s']:.2f} | {r['catalogue_cpu_s']:.2f} | "
              f"{', '.join(map(str, r['catalogue_runs_s']))} |")
        return 0
    if args.worker:
        print(json.dumps(_worker(args.worker, args.seed, args.repeat, args.as_of, args.period)))
        return 0
    results = []
    for size in [int(s) for s in args.sizes.split(",")]:
        _recreate_pg(args.pg_url)
        env = dict(os.environ, DATABASE_URL=args.pg_url)
        with tempfile.TemporaryDirectory() as tmp:
            env["GONGWEI_DATA_DIR"] = tmp
            out = subprocess.run([sys.executable, "-m", "gongwei.benchmarks.engine", "--worker", str(size),
                                  "--repeat", str(args.repeat), "--seed", str(args.seed), "--as-of", args.as_of,
                                  "--period", args.period], env=env, check=True, capture_output=True, text=True)
        result = json.loads(out.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f"{size:,}: {result}", file=sys.stderr)
    print(f"\nMachine: {platform.machine()}, {os.cpu_count()} cores; PostgreSQL → snapshot → DuckDB; period {args.period}; "
          f"median of {args.repeat} (snapshot, catalogue after the cold run) and 20 (gap list, worklist).\n")
    print("| residents | snapshot rows | units | indicators | load (s, once) | snapshot (s) | catalogue cold (s) | "
          "catalogue (s) | QC rules (s) | findings | first gap list (s) | village gap list (ms) | village worklist (ms) |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['size']:,} | {r['snapshot_rows']:,} | {r['units']:,} | {r['indicators']} | {r['load_s']:.0f} | "
              f"{r['snapshot_s']:.1f} | {r['catalogue_cold_s']:.2f} | {r['catalogue_s']:.2f} | {r['qc_s']:.1f} | {r['findings']:,} | "
              f"{r['first_gap_s']:.2f} | {r['gap_list_ms']:.0f} | {r['worklist_ms']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
