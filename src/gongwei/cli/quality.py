"""``gongwei qc``: the data-quality scorecard of a unit and its children, written like a progress bulletin."""

from __future__ import annotations

import argparse
from pathlib import Path

from gongwei.cli.face import actor, notice, render, require_out, rule_progress


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "qc", help="数据质量记分卡：问题数、每千条问题数、较上期、排名、问题集中的乡镇和村",
        description="对机构及其下级单位运行质控规则，按类别、级别和规则统计问题数与每千条记录问题数，与上一同类期间"
        "（上年、上季度）对比，在同级单位中排名（问题率低者在前），并列出每条规则问题最多、问题率最高的乡镇和村。"
        "--store 同时把发现的问题保存到整改台账（与 gongwei findings 相同）。")
    p.add_argument("--org", required=True, help="机构统计用区划代码（只统计其下属单位的问题）")
    p.add_argument("--period", required=True, help="期间：2025、2025MCY、2025Q3 或 2025-06-30")
    p.add_argument("--rule", help="只评估这些规则代码，逗号分隔（默认全部已实现的规则）")
    p.add_argument("--compare", help="对比期间（默认上一同类期间：年度对上年，季度对上季度）")
    p.add_argument("--compare-snapshot", help="在这个较早的快照上计算对比期间（默认与本期使用同一快照）")
    p.add_argument("--top", type=int, default=3, help="问题集中：每条规则、每一层级列出的单位数（默认 3）")
    p.add_argument("--min-records", type=int, default=20,
                   help="问题集中按每千条排名时，单位至少应检查的记录数（默认 20）")
    p.add_argument("--store", action="store_true", help="把本次发现的问题保存到整改台账")
    p.add_argument("--snapshot", help="快照目录；默认使用最新快照（没有时自动生成）")
    p.add_argument("--backend", choices=["duckdb", "pyspark"], default="duckdb", help="计算后端（默认 duckdb）")
    p.add_argument("--format", choices=["table", "json", "xlsx"], default="table", help="输出格式")
    p.add_argument("--out", type=Path, help="输出文件（xlsx 必填；json/table 默认打印）")
    p.set_defaults(func=_qc)


def _qc(args: argparse.Namespace) -> int:
    from gongwei.reports import quality as report
    from gongwei.service import quality

    require_out(args)
    result = quality.qc_scorecard(
        actor(args), args.org, args.period, rules=args.rule, compare=args.compare,
        compare_snapshot=args.compare_snapshot, top=args.top, min_records=args.min_records, store=args.store,
        snapshot=args.snapshot, backend=args.backend, notice=notice, progress=rule_progress)
    if result.ledger is not None:
        notice(report.stored_text(result.basis.snapshot_id, _found(result), result.ledger))
    return render(args, result, text=report.bulletin_text, payload=report.qc_payload, xlsx=report.qc_xlsx)


def _found(result) -> int:
    return int(result.card.figure(result.card.root, "all")["findings"])
