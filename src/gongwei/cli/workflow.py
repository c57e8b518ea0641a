"""``gongwei merge`` / ``unmerge`` / ``close`` / ``findings``: the quality workflow from the command line."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from gongwei.cli.face import actor, notice, rule_progress
from gongwei.service.errors import BadRequest


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


def _merge(args: argparse.Namespace) -> int:
    from gongwei.service import quality

    record = quality.merge(actor(args), args.survivor, args.duplicate, reason=args.reason)
    moved = "，".join(f"{k.split('.')[1]} {len(v)} 条" for k, v in record.moved.items()) or "无服务记录"
    print(f"已将 {args.duplicate} 合并至 {args.survivor}（合并 #{record.pk}）：转移 {moved}")
    return 0


def _unmerge(args: argparse.Namespace) -> int:
    from gongwei.service import quality

    record = quality.unmerge(actor(args), args.duplicate, reason=args.reason)
    print(f"已撤销合并 #{record.pk}：{args.duplicate} 恢复为独立档案")
    return 0


def _close(args: argparse.Namespace) -> int:
    from gongwei.service import quality

    try:
        with args.file.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.DictReader(fh))
    except UnicodeDecodeError:
        raise BadRequest(f"文件 {args.file} 不是 UTF-8 编码的 CSV，请另存为“CSV UTF-8”后重试") from None
    except OSError as exc:
        raise BadRequest(f"无法读取 {args.file}：{exc.strerror or exc}") from None
    result = quality.close_from_list(actor(args), rows)
    if result.issues:
        print("名单有问题，全部未执行：\n" + "\n".join(result.issues), file=sys.stderr)
        return 2
    print(f"已结案 {result.closed} 份档案（未删除任何数据）")
    return 0


def _findings(args: argparse.Namespace) -> int:
    from gongwei.reports.quality import stored_text
    from gongwei.service import quality

    result = quality.evaluate_findings(actor(args), args.period, rules=args.rules, snapshot=args.snapshot,
                                       notice=notice, progress=rule_progress)
    print(stored_text(result.basis.snapshot_id, result.found, result.ledger))
    return 0
