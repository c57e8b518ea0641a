"""``gongwei dedup``: duplicate records (重复档案) proposed for review; merging stays with ``gongwei merge``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from gongwei.cli.face import actor, notice
from gongwei.files import open_private

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


def _dedup(args: argparse.Namespace) -> int:
    from gongwei.reports import quality as report
    from gongwei.service import quality

    start = time.perf_counter()

    def progress(step: str) -> None:
        print(f"[{time.perf_counter() - start:6.1f} 秒] {step}", file=sys.stderr, flush=True)

    limit = args.limit if args.limit is not None else (TABLE_LIMIT if args.format == "table" else None)
    result = quality.duplicates(actor(args), args.org, threshold=args.threshold, limit=limit,
                                snapshot=args.snapshot, notice=notice, progress=progress)
    progress("完成")
    if args.format == "json":
        text = report.duplicates_json(result)
    elif args.format == "csv":
        text = report.duplicates_csv(result)
    else:
        text = report.duplicates_text(result)
    if args.out:
        # a BOM so that spreadsheet programs on Windows read the Chinese correctly
        with open_private(args.out, "w", encoding="utf-8-sig" if args.format == "csv" else "utf-8") as f:
            f.write(text + "\n")
        print(args.out)
    else:
        print(text)
    return 0
