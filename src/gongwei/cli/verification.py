"""``gongwei sample …``: draw a reproducible sample, check it, assign and record verification, show rates."""

from __future__ import annotations

import argparse

from gongwei.cli.face import actor
from gongwei.service.errors import BadRequest


def _positions(text: str | None) -> list[int] | None:
    if not text:
        return None
    try:
        return [int(x) for x in text.replace("，", ",").split(",") if x.strip()]
    except ValueError:
        raise BadRequest(f"序号“{text}”无效：应为逗号分隔的整数，如 1,2,5") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="抽样核查：抽样、复核抽样框、派发核查、录入结果、核实率",
                       description="从快照中某指标的人员抽取可复现的样本（等间距或分层随机），派发电话、入户或远程核查，"
                       "录入核查结果，并与平台指标并列显示核实真实率。")
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    d = actions.add_parser("draw", help="抽取样本", description="从最新快照抽取样本并保存（抽样框定义、人数、哈希、种子、间距、起点）。"
                           "样本量默认按 ±5%、95% 置信、p=0.5 计算（有限总体校正），也可用 --size 固定。")
    d.add_argument("indicator", help="指标代码，如 H2")
    d.add_argument("org", help="机构代码（抽样范围为该机构及下级）")
    d.add_argument("period", help="期间：2025、2025Q3 或 2025-06-30")
    d.add_argument("--method", default="interval", choices=["interval", "stratified"],
                   help="interval 等间距抽样（默认），stratified 按下级机构分层随机抽样")
    d.add_argument("--part", default="numerator", choices=["numerator", "denominator"],
                   help="抽样人群：numerator 平台计为已服务的人（默认），denominator 分母人员")
    d.add_argument("--size", type=int, help="固定样本量")
    d.add_argument("--p", type=float, help="预期比例（默认 0.5）")
    d.add_argument("--margin", type=float, help="允许误差（默认 0.05，即 ±5%%）")
    d.add_argument("--seed", type=int, help="随机种子（默认随机生成并保存；给出同一种子可复现）")
    d.add_argument("--snapshot", help="快照目录（默认最新）")
    d.set_defaults(func=_draw)

    s = actions.add_parser("show", help="显示样本及核查情况", description="显示样本的抽样依据和每个样本人员的核查任务。")
    s.add_argument("sample_no", help="样本编号")
    s.set_defaults(func=_show)

    ls = actions.add_parser("list", help="列出机构的样本", description="列出该机构及下级的样本（新的在前）。")
    ls.add_argument("org", help="机构代码")
    ls.add_argument("--period", default="", help="只列该期间")
    ls.set_defaults(func=_list)

    c = actions.add_parser("check", help="复核样本能否复现",
                           description="按保存的定义重建抽样框、比较哈希，并用保存的种子重新抽取；抽样框变化时退出码为 1。")
    c.add_argument("sample_no", help="样本编号")
    c.add_argument("--snapshot", help="用这个快照重建（默认样本自己的快照，已删除时用最新快照）")
    c.set_defaults(func=_check)

    a = actions.add_parser("assign", help="派发核查任务", description="把样本的核查任务派给一个登录账号，并指定核查方式。"
                           "核查人应属于被核查机构的上级单位。")
    a.add_argument("sample_no", help="样本编号")
    a.add_argument("login", help="核查人登录名")
    a.add_argument("--method", required=True, choices=["phone", "visit", "remote"],
                   help="phone 电话核查，visit 入户核查，remote 远程复核")
    a.add_argument("--items", help="只派发这些序号，逗号分隔（默认全部未录入结果的任务）")
    a.set_defaults(func=_assign)

    r = actions.add_parser("record", help="录入核查结果", description="录入一个样本人员的核查结果。查无此人、未接受服务会在"
                           "整改台账中生成问题；信息不符须用 --field 指明哪一项；除服务属实外都须填写 --note。")
    r.add_argument("sample_no", help="样本编号")
    r.add_argument("position", type=int, help="序号")
    r.add_argument("outcome", help="confirmed 服务属实，not_found 查无此人，not_received 未接受该服务，"
                   "wrong_info 信息不符，refused 拒绝核查，unreachable 无法联系")
    r.add_argument("--note", default="", help="核查说明")
    r.add_argument("--field", default="", help="信息不符时哪一项：name、id_number、phone、address、service_date、"
                   "service_content、measurement、medication、other")
    r.add_argument("--version", type=int, help="任务版本（防止覆盖他人的修改）")
    r.set_defaults(func=_record)

    t = actions.add_parser("rates", help="核实真实率与平台指标对照",
                           description="样本的核实真实率（总体和各层，95% Wilson 置信区间），与平台同一指标的比率并列。")
    t.add_argument("sample_no", help="样本编号")
    t.set_defaults(func=_rates)

    u = actions.add_parser("units", help="各机构的核查结果（供绩效评价）",
                           description="某期间全部样本的核查结果，按管理机构及其上级汇总：核实真实率和疑似造假人数。")
    u.add_argument("period", help="期间")
    u.add_argument("--unit", action="append", help="只显示这些机构（可重复）")
    u.add_argument("--indicator", help="只统计该指标的样本")
    u.set_defaults(func=_units)


def _draw(args: argparse.Namespace) -> int:
    from gongwei.reports.verification import sample_text
    from gongwei.service import verification

    v = verification.draw(actor(args), args.indicator, args.org, args.period, method=args.method, part=args.part,
                          size=args.size, p=args.p, margin=args.margin, seed=args.seed, snapshot=args.snapshot)
    print(sample_text(v))
    return 0


def _show(args: argparse.Namespace) -> int:
    from gongwei.reports.verification import sample_text
    from gongwei.service import verification

    print(sample_text(verification.show(actor(args), args.sample_no)))
    return 0


def _list(args: argparse.Namespace) -> int:
    from gongwei.service import verification

    found = verification.samples(actor(args), args.org, period=args.period)
    for s in found:
        print(f"{s.sample_no}\t{s.period}\t{s.indicator}\t{s.org_unit.name}\t{s.size}/{s.frame_size}\t"
              f"{s.created_by_label}\t{s.created_at:%Y-%m-%d %H:%M}")
    if not found:
        print("没有样本")
    return 0


def _check(args: argparse.Namespace) -> int:
    from gongwei.service import verification

    result = verification.check(actor(args), args.sample_no, snapshot=args.snapshot)
    print(result.message)
    return 0 if result.same else 1


def _assign(args: argparse.Namespace) -> int:
    from gongwei.service import verification

    n = verification.assign(actor(args), args.sample_no, args.login, args.method, positions=_positions(args.items))
    print(f"已将样本 {args.sample_no} 的 {n} 个核查任务派给 {args.login}")
    return 0


def _record(args: argparse.Namespace) -> int:
    from gongwei.service import verification

    row = verification.record(actor(args), args.sample_no, args.position, args.outcome, note=args.note,
                              wrong_field=args.field, version=args.version)
    extra = f"，已在整改台账生成问题 #{row.finding_id}" if row.finding_id and args.outcome in ("not_found", "not_received") else ""
    print(f"已录入样本 {args.sample_no} 序号 {row.position}（{row.record_no}）：{row.outcome_name}{extra}")
    return 0


def _rates(args: argparse.Namespace) -> int:
    from gongwei.reports.verification import rates_text
    from gongwei.service import verification

    print(rates_text(verification.rates(actor(args), args.sample_no)))
    return 0


def _units(args: argparse.Namespace) -> int:
    from gongwei.reports.verification import units_text
    from gongwei.service import verification

    found = verification.verified_by_unit(actor(args), args.period, units=args.unit, indicator=args.indicator)
    print(units_text(found, args.period))
    return 0
