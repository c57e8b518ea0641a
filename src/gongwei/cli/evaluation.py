"""``gongwei evaluate``: performance-evaluation rounds — create, score, enter manual scores, publish, export.

Each subcommand parses its arguments, calls one use case of :mod:`gongwei.service.evaluation` and renders with
:mod:`gongwei.reports.evaluation`; refusals are one Chinese sentence with exit code 2 (cli.main).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from gongwei.cli.face import actor, emit, notice

KINDS = ("year_end", "mid_year", "quarterly")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate", help="绩效评价：创建考核轮次、按已保存的结果评分、人工评分、发布、导出两个附件",
        description="按考核方案为一个范围内的下级单位评分：轮次创建时冻结当前最新快照和规则库版本，评分只读取该快照已保存的"
        "指标和质控结果（未保存时提示应运行的计算任务）；人工评分项由绩效评价员录入；发布后不能再修改，更正须新建一轮。"
        "导出“绩效评价情况表”和“各单位问题列表”（XLSX）。")
    ev = p.add_subparsers(dest="evaluate_command", metavar="SUBCOMMAND", required=True)

    s = ev.add_parser("schemes", help="列出可用的考核方案", description="列出系统内置的考核方案及其一级项目和分值。")
    s.set_defaults(func=_schemes)

    s = ev.add_parser("create", help="创建考核轮次（草稿）",
                      description="创建一个考核轮次：冻结最新快照和规则库版本，被考核单位为 --org 下层级为 --level 的单位。")
    s.add_argument("--scheme", required=True, help="考核方案代码（见 gongwei evaluate schemes）")
    s.add_argument("--year", required=True, type=int, help="考核年度，如 2025")
    s.add_argument("--kind", required=True, choices=KINDS, help="考核类型：year_end 年终、mid_year 年中、quarterly 季度")
    s.add_argument("--org", required=True, help="考核范围的上级单位代码（如县卫健局）")
    s.add_argument("--period", help="统计期间（默认：年终为全年，年中为截至6月30日；季度考核必填，如 2025Q2）")
    s.add_argument("--level", help="被考核单位的层级（默认为 --org 的直接下级层级，如 township）")
    s.add_argument("--corrects", type=int, help="本轮更正的已发布轮次编号（须同时用 --note 写明更正内容）")
    s.add_argument("--note", default="", help="说明")
    s.set_defaults(func=_create)

    s = ev.add_parser("score", help="评分（可重复，每次生成新的评分批次）",
                      description="按冻结的快照和期间读取已保存的指标与质控结果，为每个被考核单位评分。")
    s.add_argument("--round", required=True, help="考核轮次编号")
    s.set_defaults(func=_score)

    s = ev.add_parser("manual", help="录入人工评分、核实问题数或一票否决",
                      description="为一个被考核单位的人工评分项录入分值（是否项录 1 或 0，按核实问题扣分项录问题个数）；"
                      "--item VETO 录入一票否决（1 否决、0 撤销）。修改已录入的值须 --reason 说明原因，原记录保留。")
    s.add_argument("--round", required=True, help="考核轮次编号")
    s.add_argument("--org", required=True, help="被考核单位代码")
    s.add_argument("--item", required=True, help="项目代码（或 VETO）")
    s.add_argument("--value", required=True, type=float, help="录入值")
    s.add_argument("--note", required=True, help="评分说明")
    s.add_argument("--file", default="", help="佐证文件（名称或存放位置）")
    s.add_argument("--reason", default="", help="修改原因（修改已录入的值时必填）")
    s.set_defaults(func=_manual)

    s = ev.add_parser("publish", help="发布考核结果（发布后锁定）", description="发布轮次；发布后不能再评分或修改。")
    s.add_argument("--round", required=True, help="考核轮次编号")
    s.set_defaults(func=_publish)

    s = ev.add_parser("export", help="导出绩效评价情况表和各单位问题列表",
                      description="打印绩效评价情况表；--out 导出包含两个附件的 XLSX。只包含您权限范围内的单位。")
    s.add_argument("--round", required=True, help="考核轮次编号")
    s.add_argument("--out", type=Path, help="输出 XLSX 文件")
    s.set_defaults(func=_export)


def _schemes(args: argparse.Namespace) -> int:
    from gongwei.spec import evaluation as se

    lines = []
    for s in se.schemes().values():
        lines.append(f"{s.code}  {s.name}（{s.points:g}分）")
        lines += [f"    {i.code} {i.name} {i.points:g}分" for i in s.items]
    emit("\n".join(lines), None)
    return 0


def _create(args: argparse.Namespace) -> int:
    from gongwei.service import evaluation

    rnd = evaluation.create_round(actor(args), args.scheme, args.year, args.kind, args.org, period=args.period,
                                  level=args.level, corrects=args.corrects, note=args.note)
    print(f"考核轮次 {rnd.pk} 已创建（草稿）：方案 {rnd.scheme}，期间 {rnd.period}，快照 {rnd.snapshot_id}，"
          f"被考核单位层级 {rnd.level}")
    return 0


def _score(args: argparse.Namespace) -> int:
    from gongwei.service import evaluation

    out = evaluation.score_round(actor(args), args.round)
    print(f"考核轮次 {out.round.pk} 已评分（批次 {out.round.run}）：{out.units} 个单位；合理缺项 {out.not_applicable} 项；"
          f"待录入人工评分 {out.pending} 项")
    if out.pending:
        notice("有人工评分项尚未录入，录入后请重新评分；全部录入前不能发布。")
    return 0


def _manual(args: argparse.Namespace) -> int:
    from gongwei.service import evaluation

    entry = evaluation.set_manual(actor(args), args.round, args.org, args.item, args.value, args.note,
                                  file=args.file, reason=args.reason)
    print(f"已录入：轮次 {args.round}，单位 {args.org}，项目 {entry.item} = {entry.value:g}（重新评分后生效）")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from gongwei.service import evaluation

    rnd = evaluation.publish(actor(args), args.round)
    print(f"考核轮次 {rnd.pk} 已发布（{rnd.published_by}），此后不能修改；更正请新建一轮（--corrects {rnd.pk}）")
    return 0


def _export(args: argparse.Namespace) -> int:
    from gongwei.reports import evaluation as report
    from gongwei.service import evaluation

    result = evaluation.round_report(actor(args), args.round)
    if args.out:
        print(report.round_xlsx(result, args.out))
    else:
        emit(report.round_text(result), None)
    return 0
