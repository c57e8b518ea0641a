"""``gongwei snapshot``, ``gongwei indicators``, ``gongwei gaps``, ``gongwei worklist``, ``gongwei roster``."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from gongwei.cli.face import actor, notice, render, require_out

PERIOD_HELP = ("期间：2025（各指标按其统计年度：妇幼指标为妇幼卫生统计年度 2024-10-01～2025-09-30，其余为日历年度）、"
               "2025CY（全部按日历年度）、2025MCY（全部按妇幼卫生统计年度）、2025Q3 或 2025-06-30")


def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”无效，应为 YYYY-MM-DD，例如 2025-06-30") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("snapshot", help="从档案库生成一致性快照（Parquet）",
                       description="在一个只读事务中把档案库导出为快照（每表一个 Parquet 文件），供指标计算使用。")
    p.add_argument("--out", type=Path, help="快照根目录（默认 数据目录/snapshots）")
    p.set_defaults(func=_snapshot)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--snapshot", help="快照目录；默认使用最新快照（没有时自动生成）")
    common.add_argument("--backend", choices=["duckdb", "pyspark"], default="duckdb", help="计算后端（默认 duckdb）")
    common.add_argument("--format", choices=["table", "json", "xlsx"], default="table", help="输出格式")
    common.add_argument("--out", type=Path, help="输出文件（xlsx 必填；json/table 默认打印）")

    p = sub.add_parser("indicators", parents=[common], help="计算指标：单位×指标，含目标、较上期、排名",
                       description="计算机构及其下级单位的指标（数量、分母、率、目标、较上期变化、排名、落后单位、年底预测）。"
                       "结果按快照×期间×规则库版本保存，再次查询直接读取。")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--period", required=True, help=PERIOD_HELP)
    p.add_argument("--indicators", help="只计算这些指标代码，逗号分隔，不分大小写（默认全部）")
    p.add_argument("--compare", help="对比期间（默认上年同期）")
    p.set_defaults(func=_indicators)

    p = sub.add_parser("gaps", parents=[common], help="指标缺口人员及原因",
                       description="列出某指标在某机构、某期间的分母、分子或缺口人员；缺口人员逐人给出原因。每次查看记入查看记录。")
    p.add_argument("--indicator", required=True, help="指标代码，如 H2（不分大小写）")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--period", required=True, help=PERIOD_HELP)
    p.add_argument("--part", choices=["gap", "numerator", "denominator"], default="gap", help="缺口/分子/分母人员")
    p.add_argument("--page", type=int, default=1, help="页码（从 1 开始）")
    p.add_argument("--size", type=int, default=50, help="每页人数")
    p.set_defaults(func=_gaps)

    p = sub.add_parser("worklist", parents=[common], help="待办：到期和逾期服务",
                       description="列出机构（村卫生室/团队）管理人员中已逾期或 7 天内到期的服务。")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--as-of", type=iso_date, default=dt.date.today(), help="截至日期 YYYY-MM-DD（默认今天）")
    p.add_argument("--upcoming", action="store_true", help="同时列出本年内以后到期的服务")
    p.set_defaults(func=_worklist)

    p = sub.add_parser("roster", parents=[common], help="重点人群花名册（按村，含团队负责人）",
                       description="列出机构下各村（社区）重点人群名单，含责任医生、签约团队和团队负责人。")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--as-of", type=iso_date, default=dt.date.today(), help="截至日期 YYYY-MM-DD（默认今天）")
    p.add_argument("--programs", help="只列这些项目，逗号分隔（如 hypertension,diabetes）")
    p.set_defaults(func=_roster)


def _snapshot(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gongwei.records.schema import TABLES
    from gongwei.records.snapshot import EXTRA_TABLES
    from gongwei.service import analysis

    bar = tqdm(total=len(TABLES) + len(EXTRA_TABLES), desc="快照", unit="表")

    def progress(name: str, rows: int) -> None:
        bar.set_postfix_str(f"{name} {rows:,}")
        bar.update(1)

    snap = analysis.take_snapshot(actor(args), root=args.out, progress=progress)
    bar.close()
    print(snap.folder)
    return 0


def _indicators(args: argparse.Namespace) -> int:
    from gongwei.reports import indicators as report
    from gongwei.service import analysis

    require_out(args)
    result = analysis.indicators(actor(args), args.org, args.period, compare=args.compare, codes=args.indicators,
                                 snapshot=args.snapshot, backend=args.backend, notice=notice)
    return render(args, result, text=report.bulletin_text, payload=report.payload, xlsx=report.write_xlsx)


def _gaps(args: argparse.Namespace) -> int:
    from gongwei.reports import people as report
    from gongwei.service import analysis

    require_out(args)
    result = analysis.gap_list(actor(args), args.indicator, args.org, args.period, part=args.part, page=args.page,
                               size=args.size, snapshot=args.snapshot, backend=args.backend,
                               export=bool(args.out), notice=notice)
    return render(args, result, text=report.gaps_text, payload=report.gaps_payload)


def _worklist(args: argparse.Namespace) -> int:
    from gongwei.reports import people as report
    from gongwei.service import analysis

    require_out(args)
    result = analysis.worklist(actor(args), args.org, args.as_of, upcoming=args.upcoming, snapshot=args.snapshot,
                               backend=args.backend, notice=notice)
    return render(args, result, text=report.worklist_text, payload=report.worklist_payload)


def _roster(args: argparse.Namespace) -> int:
    from gongwei.reports import people as report
    from gongwei.service import analysis

    require_out(args)
    programs = [p.strip() for p in args.programs.split(",") if p.strip()] if args.programs else None
    result = analysis.roster(actor(args), args.org, args.as_of, programs=programs, snapshot=args.snapshot,
                             backend=args.backend, export=bool(args.out), notice=notice)
    return render(args, result, text=report.roster_text, payload=report.roster_payload, xlsx=report.roster_xlsx)
