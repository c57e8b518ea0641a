"""Benchmark: generate and load synthetic regions, timing the two separately.

    python -m gongwei.synth.bench --sizes 100000,300000,1000000 --repeat 3 --db sqlite|postgres

Each run is a fresh process on a fresh database (SQLite file in a temporary folder, or a PostgreSQL
database re-created with ``DROP/CREATE DATABASE``); schema migration is not timed. Generation covers
``--months`` months of services (default 12). Prints a Markdown table with the median of the repeats.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/gongwei_bench"


def _worker(size: int, seed: int, months: int, as_of: str) -> dict:
    import datetime as dt

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from gongwei.synth.generate import generate_region
    from gongwei.synth.load import load_region

    t0 = time.perf_counter()
    region = generate_region(size, seed, as_of=dt.date.fromisoformat(as_of), months=months)
    t1 = time.perf_counter()
    result = load_region(region, progress=False)
    t2 = time.perf_counter()
    return {"size": size, "rows": region.row_count, "written": result.written, "labels": region.labels.num_rows,
            "generate_s": t1 - t0, "load_s": t2 - t1, "issues": len(result.issues)}


def _recreate_pg(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _run_one(size: int, db: str, seed: int, months: int, as_of: str, pg_url: str) -> dict:
    env = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="gongwei-bench-") as tmp:
        if db == "sqlite":
            env.pop("DATABASE_URL", None)
            env["GONGWEI_DATA_DIR"] = tmp
        else:
            _recreate_pg(pg_url)
            env["DATABASE_URL"] = pg_url
        cmd = [sys.executable, "-m", "gongwei.synth.bench", "--worker", "--sizes", str(size), "--seed", str(seed),
               "--months", str(months), "--as-of", as_of]
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
        return json.loads(out.stdout.strip().splitlines()[-1])


def _fmt_rows(n: float) -> str:
    return f"{n / 1e6:.2f} M" if n >= 1e6 else f"{n / 1e3:.0f} k"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gongwei.synth.bench", description="合成地区生成与载入的性能基准")
    ap.add_argument("--sizes", default="100000,300000,1000000", help="居民人数，逗号分隔")
    ap.add_argument("--repeat", type=int, default=3, help="每个规模重复次数（取中位数）")
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--pg-url", default=os.environ.get("GONGWEI_BENCH_PG_URL", DEFAULT_PG),
                    help=f"PostgreSQL 基准库（每次运行前删除并重建；默认 {DEFAULT_PG}）")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--as-of", default="2026-06-30")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.worker:
        print(json.dumps(_worker(sizes[0], args.seed, args.months, args.as_of)))
        return 0
    lines = [f"数据库：{args.db}；机器：{os.cpu_count()} 核，Python {platform.python_version()}；"
             f"服务月数 {args.months}；每个规模 {args.repeat} 次取中位数", "",
             "| 居民 | 行数 | 标签 | 生成 (s) | 载入 (s) | 合计 (s) | 载入 行/秒 |",
             "|---:|---:|---:|---:|---:|---:|---:|"]
    results = []
    for size in sizes:
        runs = []
        for i in range(args.repeat):
            r = _run_one(size, args.db, args.seed, args.months, args.as_of, args.pg_url)
            print(f"  {size}: 第 {i + 1} 次 生成 {r['generate_s']:.1f}s 载入 {r['load_s']:.1f}s", file=sys.stderr)
            runs.append(r)
        gen = statistics.median(r["generate_s"] for r in runs)
        load = statistics.median(r["load_s"] for r in runs)
        total = statistics.median(r["generate_s"] + r["load_s"] for r in runs)
        rows = runs[0]["rows"]
        results.append((size, rows, gen, load, total))
        lines.append(f"| {size:,} | {_fmt_rows(rows)} | {runs[0]['labels']:,} | {gen:.1f} | {load:.1f} | {total:.1f} | "
                     f"{rows / load:,.0f} |")
    if len(results) >= 2:
        (s0, r0, _g0, _l0, t0), (s1, r1, _g1, _l1, t1) = results[0], results[-1]
        lines += ["", f"规模 ×{s1 / s0:.0f}（{s0:,} → {s1:,} 居民）：合计时间 ×{t1 / t0:.1f}，行数 ×{r1 / r0:.1f}"]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
