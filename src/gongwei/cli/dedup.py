"""``gongwei dedup``: duplicate records (重复档案) proposed for review; merging stays with ``gongwei merge``."""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

from gongwei.cli.textable import render
from gongwei.files import open_private, safe_text

TABLE_LIMIT = 20  # rows of the review queue a terminal shows unless --limit says otherwise


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dedup", help="查找重复档案（身份证号相同 + 概率匹配），生成复核队列",
        description="在快照中查找机构辖区内的重复档案：身份证号相同的为精确重复；其余按姓名（含同音字）、出生日期、"
        "性别、村/乡镇、电话做概率匹配（Splink）。输出候选对数、聚类数和按可信度排序的复核队列，每对附合并命令"
        "（保留建档较早的档案）。本命令不合并任何档案，合并请复核后用 gongwei merge。")
    p.add_argument("--org", required=True, help="机构统计用区划代码（含全部下级单位）")
    p.add_argument("--snapshot", help="快照目录；默认使用最新快照（没有时自动生成）")
    p.add_argument("--threshold", type=float, help="进入复核队列和聚类的最低匹配概率（默认按规则库 DEDUP）")
    p.add_argument("--limit", type=int, help=f"只输出复核队列前 N 对（表格默认 {TABLE_LIMIT}，json/csv 默认全部）")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table", help="输出格式")
    p.add_argument("--out", type=Path, help="输出文件（默认打印）")
    p.set_defaults(func=_dedup)


def _snapshot(arg: str | None):
    from django.conf import settings

    from gongwei.engine.snapshot import Snapshot

    if arg:
        return Snapshot.open(arg)
    root = Path(settings.DATA_DIR) / "snapshots"
    try:
        return Snapshot.latest(root)
    except FileNotFoundError:
        print("尚无快照，正在生成……", file=sys.stderr)
        from gongwei.records.snapshot import take_snapshot

        return Snapshot.open(take_snapshot(root))


def _dedup(args: argparse.Namespace) -> int:
    from gongwei.engine.dedup import find_duplicates
    from gongwei.engine.orgs import OrgTree

    if args.limit is not None and args.limit < 0:
        print("--limit 不能为负数", file=sys.stderr)
        return 2
    try:
        snap = _snapshot(args.snapshot)
    except (FileNotFoundError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 2
    tree = OrgTree.load(snap)
    try:
        unit = tree.by_code(args.org)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    start = time.perf_counter()

    def progress(step: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} 秒] {step}", file=sys.stderr, flush=True)

    print(f"快照 {snap.id}（{snap.taken_at}），机构 {tree.name[unit]}（{args.org}）", file=sys.stderr)
    try:
        result = find_duplicates(snap, args.org, threshold=args.threshold, tree=tree, progress=progress)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    progress("完成")
    limit = args.limit if args.limit is not None else (TABLE_LIMIT if args.format == "table" else None)
    queue = result.queue if limit is None else result.queue.slice(0, limit)
    rows = queue.to_pylist()
    for r in rows:
        for k in ("survivor_birth_date", "duplicate_birth_date"):
            r[k] = r[k].isoformat() if r[k] else None
    s = result.summary
    if args.format == "json":
        text = json.dumps({"summary": s, "parameters": result.parameters, "queue": rows}, ensure_ascii=False, indent=2)
    elif args.format == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=queue.column_names, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: safe_text(v) for k, v in r.items()} for r in rows)
        text = buf.getvalue().rstrip("\n")
    else:
        text = _table(s, rows, tree.name[unit], len(result.queue))
    if args.out:
        # a BOM so that spreadsheet programs on Windows read the Chinese correctly
        with open_private(args.out, "w", encoding="utf-8-sig" if args.format == "csv" else "utf-8") as f:
            f.write(text + "\n")
        print(args.out)
    else:
        print(text)
    return 0


def _table(s: dict, rows: list[dict], unit_name: str, total: int) -> str:
    head = (f"{unit_name} 重复档案：档案 {s['records']:,} 份，比较 {s['compared_pairs']:,} 对；"
            f"身份证号相同 {s['exact_pairs']:,} 对，疑似重复（匹配概率 ≥ {s['threshold']:g}）{s['probable_pairs']:,} 对；"
            f"聚类 {s['clusters']:,} 个，涉及档案 {s['records_in_clusters']:,} 份")
    if not rows:
        return head + "\n未发现重复档案。"
    body = render(
        ["序号", "类型", "概率", "保留档案", "姓名", "出生日期", "单位", "重复档案", "姓名", "出生日期", "单位", "一致项",
         "合并命令"],
        [[r["rank"], r["kind"], f"{r['match_probability']:.4f}", r["survivor"], r["survivor_name"],
          r["survivor_birth_date"], r["survivor_unit"], r["duplicate"], r["duplicate_name"], r["duplicate_birth_date"],
          r["duplicate_unit"], r["agree"], r["merge_command"]] for r in rows],
        [True, False, True] + [False] * 10)
    more = f"\n（共 {total:,} 对，仅显示前 {len(rows):,} 对；用 --limit 或 --format csv --out 文件 查看全部）" \
        if total > len(rows) else ""
    return f"{head}\n复核队列（精确重复在前，其余按匹配概率从高到低；逐对复核后再执行合并命令）：\n{body}{more}"
