"""``gongwei merge`` / ``unmerge`` / ``close`` / ``findings``: the quality workflow from the command line."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge", help="合并重复档案（可撤销）",
                       description="把重复档案的全部服务记录、专项管理和签约转到保留档案，重复档案标记为已合并；不删除任何数据。")
    p.add_argument("survivor", help="保留档案的健康档案编号")
    p.add_argument("duplicate", help="被合并档案的健康档案编号")
    p.add_argument("--reason", default="", help="合并原因")
    p.set_defaults(func=_merge)

    p = sub.add_parser("unmerge", help="撤销合并", description="按合并时记录的内容原样撤销一次合并。")
    p.add_argument("duplicate", help="被合并档案的健康档案编号（撤销其最近一次合并）")
    p.add_argument("--reason", default="", help="撤销原因")
    p.set_defaults(func=_unmerge)

    p = sub.add_parser("close", help="按名单结案（死亡、迁出、失访、拒绝）",
                       description="从 CSV 名单（列：record_no,status,date,reason；status 为 dead/moved_out/lost/refused）"
                       "批量结案。整份名单先校验，有错则全部不执行。")
    p.add_argument("file", type=Path, help="CSV 文件（UTF-8）")
    p.set_defaults(func=_close)

    p = sub.add_parser("findings", help="质控评估并保存问题（整改台账）",
                       description="对快照运行全部质控规则，把结果保存为质控问题：新问题待整改；数据已修正的问题自动标记为已整改。")
    p.add_argument("--period", required=True, help="期间：2025、2025Q3 或 2025-06-30")
    p.add_argument("--snapshot", help="快照目录（默认最新，没有时自动生成）")
    p.add_argument("--rules", help="只评估这些规则，逗号分隔（默认全部已实现的规则）")
    p.set_defaults(func=_findings)


def _resident(record_no: str):
    from gongwei.records.models import Resident

    try:
        return Resident.objects.get(record_no=record_no)
    except Resident.DoesNotExist:
        print(f"档案编号“{record_no}”不存在", file=sys.stderr)
        return None


def _merge(args: argparse.Namespace) -> int:
    from gongwei.quality import services

    survivor, duplicate = _resident(args.survivor), _resident(args.duplicate)
    if survivor is None or duplicate is None:
        return 2
    try:
        record = services.merge(survivor, duplicate, reason=args.reason)
    except services.WorkflowError as exc:
        print(exc, file=sys.stderr)
        return 1
    moved = "，".join(f"{k.split('.')[1]} {len(v)} 条" for k, v in record.moved.items()) or "无服务记录"
    print(f"已将 {duplicate.record_no} 合并至 {survivor.record_no}（合并 #{record.pk}）：转移 {moved}")
    return 0


def _unmerge(args: argparse.Namespace) -> int:
    from gongwei.quality import services
    from gongwei.quality.models import Merge

    duplicate = _resident(args.duplicate)
    if duplicate is None:
        return 2
    record = Merge.objects.filter(duplicate=duplicate, undone_at__isnull=True).order_by("-pk").first()
    if record is None:
        print(f"档案 {duplicate.record_no} 没有未撤销的合并", file=sys.stderr)
        return 1
    try:
        services.unmerge(record, reason=args.reason)
    except services.WorkflowError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"已撤销合并 #{record.pk}：{duplicate.record_no} 恢复为独立档案")
    return 0


def _close(args: argparse.Namespace) -> int:
    from gongwei.quality import services

    try:
        with args.file.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"无法读取 {args.file}：{exc}", file=sys.stderr)
        return 2
    result = services.close_from_list(rows)
    if result.issues:
        print("名单有问题，全部未执行：\n" + "\n".join(result.issues), file=sys.stderr)
        return 1
    print(f"已结案 {result.closed} 份档案（未删除任何数据）")
    return 0


def _findings(args: argparse.Namespace) -> int:
    from django.conf import settings

    from gongwei.cli.quality import evaluate, rule_codes, store_findings, stored_text
    from gongwei.engine.backends import Engine
    from gongwei.engine.snapshot import Snapshot
    from gongwei.spec.periods import parse

    try:
        period = parse(args.period)
        codes = rule_codes(args.rules)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.snapshot:
        snap = Snapshot.open(args.snapshot)
    else:
        root = Path(settings.DATA_DIR) / "snapshots"
        try:
            snap = Snapshot.latest(root)
        except FileNotFoundError:
            from gongwei.records.snapshot import take_snapshot

            snap = Snapshot.open(take_snapshot(root))
    findings = evaluate(Engine(snap, "duckdb"), period, codes, None, f"质控 {period.code}")
    result = store_findings(findings, snapshot_id=snap.id, period=period.code, codes=codes)
    print(stored_text(snap.id, findings.num_rows, result))
    return 0
