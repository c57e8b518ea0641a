"""``gongwei snapshot``, ``gongwei indicators``, ``gongwei gaps``, ``gongwei worklist``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from gongwei.cli.textable import render

PERIOD_HELP = ("期间：2025（各指标按其统计年度：妇幼指标为妇幼卫生统计年度 2024-10-01～2025-09-30，其余为日历年度）、"
               "2025CY（全部按日历年度）、2025MCY（全部按妇幼卫生统计年度）、2025Q3 或 2025-06-30")


def _data_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR)


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
                       description="计算机构及其下级单位的指标（数量、分母、率、目标、较上期变化、排名、落后单位、年底预测）。")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--period", required=True, help=PERIOD_HELP)
    p.add_argument("--indicators", help="只计算这些指标代码，逗号分隔（默认全部）")
    p.add_argument("--compare", help="对比期间（默认上年同期）")
    p.set_defaults(func=_indicators)

    p = sub.add_parser("gaps", parents=[common], help="指标缺口人员及原因",
                       description="列出某指标在某机构、某期间的分母、分子或缺口人员；缺口人员逐人给出原因。")
    p.add_argument("--indicator", required=True, help="指标代码，如 H2")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--period", required=True, help=PERIOD_HELP)
    p.add_argument("--part", choices=["gap", "numerator", "denominator"], default="gap", help="缺口/分子/分母人员")
    p.add_argument("--page", type=int, default=1, help="页码（从 1 开始）")
    p.add_argument("--size", type=int, default=50, help="每页人数")
    p.set_defaults(func=_gaps)

    p = sub.add_parser("worklist", parents=[common], help="待办：到期和逾期服务",
                       description="列出机构（村卫生室/团队）管理人员中已逾期或 7 天内到期的服务。")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today(), help="截至日期（默认今天）")
    p.add_argument("--upcoming", action="store_true", help="同时列出本年内以后到期的服务")
    p.set_defaults(func=_worklist)

    p = sub.add_parser("roster", parents=[common], help="重点人群花名册（按村，含团队负责人）",
                       description="列出机构下各村（社区）重点人群名单，含责任医生、签约团队和团队负责人。")
    p.add_argument("--org", required=True, help="机构统计用区划代码")
    p.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today(), help="截至日期（默认今天）")
    p.add_argument("--programs", help="只列这些项目，逗号分隔（如 hypertension,diabetes）")
    p.set_defaults(func=_roster)


def _open_engine(args: argparse.Namespace):
    from gongwei.engine.backends import Engine
    from gongwei.engine.snapshot import Snapshot

    if args.snapshot:
        snap = Snapshot.open(args.snapshot)
    else:
        root = _data_dir() / "snapshots"
        try:
            snap = Snapshot.latest(root)
        except FileNotFoundError:
            print("尚无快照，正在生成……", file=sys.stderr)
            from gongwei.records.snapshot import take_snapshot

            snap = Snapshot.open(take_snapshot(root))
    print(f"快照 {snap.id}（{snap.taken_at}），后端 {args.backend}", file=sys.stderr)
    return Engine(snap, args.backend)


def _snapshot(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gongwei.records.schema import TABLES
    from gongwei.records.snapshot import EXTRA_TABLES, take_snapshot

    bar = tqdm(total=len(TABLES) + len(EXTRA_TABLES), desc="快照", unit="表")

    def progress(name: str, rows: int) -> None:
        bar.set_postfix_str(f"{name} {rows:,}")
        bar.update(1)

    folder = take_snapshot(args.out or _data_dir() / "snapshots", progress=progress)
    bar.close()
    print(folder)
    return 0


def _pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.2f}%"


def _indicators(args: argparse.Namespace) -> int:
    from gongwei.engine import catalogue
    from gongwei.engine.compare import figures
    from gongwei.engine.orgs import OrgTree
    from gongwei.spec import catalogue as spec_catalogue
    from gongwei.spec.periods import parse

    if args.format == "xlsx" and not args.out:  # before any work
        print("xlsx 格式需要 --out 文件名", file=sys.stderr)
        return 2
    try:
        period = parse(args.period)
        compare = parse(args.compare) if args.compare else period.previous()
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    typed = [c.strip() for c in args.indicators.split(",") if c.strip()] if args.indicators else None
    unknown = [c for c in typed or [] if spec_catalogue.canonical_code(c) is None]
    if unknown:
        print(f"未知的指标代码：{', '.join(unknown)}", file=sys.stderr)
        return 2
    codes = [spec_catalogue.canonical_code(c) for c in typed] if typed else None
    eng = _open_engine(args)
    tree = OrgTree.load(eng.snapshot)
    try:
        unit = tree.by_code(args.org)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    results = catalogue.evaluate(eng, period, codes)
    stored = catalogue.store(results, _data_dir() / "results", eng.snapshot.id, period)
    previous = catalogue.evaluate(eng, compare, codes)
    units = [unit, *sorted(tree.children(unit), key=lambda u: tree.code[u])]
    figs = figures(results, tree, period, previous=previous, units=units)
    # the period each figure was counted over (a plain year is the maternal and child year for some indicators)
    counted = _periods_of(results)
    counted_before = _periods_of(previous)
    order = {c: i for i, c in enumerate(spec_catalogue.indicators())}
    figs.sort(key=lambda f: (order[f.indicator], f.unit_id != unit, f.rank or 10**6))
    if args.format == "json":
        payload = {"org": args.org, "period": period.code, "compare": compare.code, "snapshot": eng.snapshot.id,
                   "rulebook": spec_catalogue.rulebook_version(), "results_file": str(stored),
                   "figures": [_figure_json(f, counted[(f.indicator, f.unit_id)],
                                            counted_before.get((f.indicator, f.unit_id))) for f in figs]}
        text = json.dumps(payload, ensure_ascii=False, indent=2)
        _emit(text, args.out)
    elif args.format == "xlsx":
        if not args.out:
            print("xlsx 格式需要 --out 文件名", file=sys.stderr)
            return 2
        _write_xlsx(figs, counted, args.out, tree.name[unit], period.code, compare.code, eng.snapshot.id)
        print(args.out)
    else:
        _emit(_bulletin_text(figs, counted, tree.name[unit], unit, period, compare.code), args.out)
    return 0


def _periods_of(results) -> dict:
    from gongwei.spec.periods import parse

    parsed: dict = {}
    return {(code, unit): parsed.setdefault(p, parse(p)) for code, unit, p in
            zip(*(results.column(c).to_pylist() for c in ("indicator", "org_unit_id", "period")), strict=True)}


def _figure_json(f, counted, counted_before) -> dict:
    from gongwei.engine.compare import target_text

    t = f.target
    return {"indicator": f.indicator, "name": f.name, "org": f.unit_code, "org_name": f.unit_name,
            "period": counted.code, "period_start": counted.start.isoformat(), "period_end": counted.end.isoformat(),
            "previous_period": None if counted_before is None else counted_before.code,
            "numerator": f.numerator, "denominator": f.denominator, "rate": f.rate,
            "target": None if t is None else {"comparator": t.comparator.value, "value": t.value, "unit": t.unit,
                                              "region": t.region, "year": t.year, "source": str(t.source)},
            "target_text": target_text(t),
            "met": f.met, "previous_rate": f.previous_rate, "change": f.change, "rank": f.rank, "of": f.siblings,
            "forecast_rate": f.forecast_rate, "extra_per_week": f.extra_per_week, "lagging": f.lagging_children}


def _bulletin_text(figs, counted, unit_name: str, unit: int, period, compare: str) -> str:
    from gongwei.engine.compare import NO_TARGET, target_text

    asked = period.code
    if period.per_indicator:
        asked += "，各指标按其统计年度，见各表“统计期间”"
    blocks = [f"{unit_name} 基本公共卫生服务指标（期间 {asked}，对比 {compare}）"]
    current = None
    rows: list[list[object]] = []

    def flush() -> None:
        if rows:
            blocks.append(render(["单位", "统计期间", "数量", "分母", "率", "目标", "达标", "较上期", "排名"], rows,
                                 [False, False, True, True, True, False, False, True, True]))

    for f in figs:
        if f.indicator != current:
            flush()
            rows = []
            current = f.indicator
            head = f"\n{f.indicator} {f.name}：{_pct(f.rate)}" if f.unit_id == unit else f"\n{f.indicator} {f.name}"
            if f.unit_id == unit:
                head += f"（目标值 {target_text(f.target)}）" if f.target is not None else f"（{NO_TARGET}）"
                if f.change is not None:
                    head += f"，较上期{'增长' if f.change >= 0 else '下降'} {abs(f.change) * 100:.2f} 个百分点"
                if f.lagging_children:
                    head += f"；未达标：{'、'.join(f.lagging_children)}"
                if f.extra_per_week:
                    head += f"；按目前进度年底预计 {_pct(f.forecast_rate)}，需每周增加 {f.extra_per_week} 人"
            p = counted[(f.indicator, f.unit_id)]
            head += f"；统计期间 {p.code}（{p.start.isoformat()}～{p.end.isoformat()}）"
            blocks.append(head)
        met = "" if f.met is None else ("是" if f.met else "否")
        target = target_text(f.target)
        change = "" if f.change is None else f"{f.change * 100:+.2f}"
        rank = "" if f.unit_id == unit or f.rank is None else f"{f.rank}/{f.siblings}"
        rows.append([f.unit_name, counted[(f.indicator, f.unit_id)].code, f.numerator,
                     "" if f.denominator is None else f.denominator, _pct(f.rate), target, met, change, rank])
    flush()
    return "\n".join(blocks)


def _write_xlsx(figs, counted, out: Path, unit_name: str, period: str, compare: str, snapshot: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongwei.engine.compare import NO_TARGET, target_text
    from gongwei.files import append_text_safe, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    append_text_safe(ws, [f"{unit_name} 基本公共卫生服务指标", f"期间 {period}", f"对比 {compare}", f"快照 {snapshot}"])
    append_text_safe(ws, ["指标代码", "指标名称", "单位代码", "单位", "数量", "分母", "率", "目标", "是否达标", "上期率", "较上期",
               "排名", "同级单位数", "年底预测", "每周需增加人数", "统计期间", "期间起", "期间止"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for f in figs:
        p = counted[(f.indicator, f.unit_id)]
        append_text_safe(ws, [f.indicator, f.name, f.unit_code, f.unit_name, f.numerator, f.denominator, f.rate,
                   NO_TARGET if f.target is None else (f.target.value if f.target.unit == "rate" else target_text(f.target)),
                   None if f.met is None else ("是" if f.met else "否"),
                   f.previous_rate, f.change, f.rank, f.siblings, f.forecast_rate, f.extra_per_week,
                   p.code, p.start, p.end])
        for col in (7, 8, 10, 11, 14):
            ws.cell(row=ws.max_row, column=col).number_format = "0.00%"
    save_workbook(wb, out)


def _emit(text: str, out: Path | None) -> None:
    if out:
        from gongwei.files import open_private

        with open_private(Path(out), "w", encoding="utf-8") as f:
            f.write(text + "\n")
        print(out)
    else:
        print(text)


def _gaps(args: argparse.Namespace) -> int:
    from gongwei.engine import gaps
    from gongwei.spec.catalogue import canonical_code
    from gongwei.spec.periods import parse

    try:
        period = parse(args.period)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    indicator = canonical_code(args.indicator) or args.indicator  # an unknown code is refused by the engine
    eng = _open_engine(args)
    try:
        page = gaps.people(eng, indicator, args.org, period, part=args.part, page=args.page, size=args.size)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    counted = parse(page.period)  # the period the unit's figure is counted over (may differ from the one asked)
    if args.format == "json":
        _emit(json.dumps({"indicator": page.indicator, "org": page.unit_code, "period": page.period,
                          "period_start": counted.start.isoformat(), "period_end": counted.end.isoformat(),
                          "part": page.part,
                          "total": page.total, "page": page.page, "size": page.size, "note": page.note,
                          "people": [{"record_no": p.record_no, "name": p.name, "org": p.unit_code,
                                      "org_name": p.unit_name, "reasons": [{"code": c, "text": t} for c, t in p.reasons]}
                                     for p in page.people]}, ensure_ascii=False, indent=2), args.out)
        return 0
    label = {"gap": "缺口", "numerator": "分子", "denominator": "分母"}[page.part]
    head = f"{page.indicator} {page.unit_code} {page.period}（{counted.label}）{label}人员共 {page.total} 人（第 {page.page} 页，每页 {page.size} 人）"
    if page.note:
        head += f"\n{page.note}"
    rows = [[p.record_no, p.name, p.unit_name, "；".join(t for _, t in p.reasons)] for p in page.people]
    _emit(head + "\n" + render(["档案编号", "姓名", "管理机构", "原因"], rows), args.out)
    return 0


def _worklist(args: argparse.Namespace) -> int:
    from gongwei.engine import worklist

    eng = _open_engine(args)
    try:
        table = worklist.items(eng, args.org, args.as_of, include_upcoming=args.upcoming)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    rows = table.to_pylist()
    if args.format == "json":
        _emit(json.dumps([{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in rows],
                         ensure_ascii=False, indent=2), args.out)
        return 0
    status = {"overdue": "逾期", "due_soon": "7天内到期", "upcoming": "待办"}
    body = render(["状态", "到期日", "逾期天数", "服务", "档案编号", "姓名", "机构代码"],
                  [[status[r["status"]], r["due_date"], r["days_overdue"] or "", r["service_name"], r["record_no"],
                    r["name"], r["unit_code"]] for r in rows])
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in status}
    _emit(f"{args.org} 截至 {args.as_of}：逾期 {counts['overdue']} 项，7天内到期 {counts['due_soon']} 项\n{body}", args.out)
    return 0


def _roster(args: argparse.Namespace) -> int:
    from gongwei.engine import roster
    from gongwei.spec import vocab

    if args.format == "xlsx" and not args.out:  # before any work
        print("xlsx 格式需要 --out 文件名", file=sys.stderr)
        return 2
    eng = _open_engine(args)
    programs = [p.strip() for p in args.programs.split(",")] if args.programs else None
    try:
        table = roster.roster(eng, args.org, args.as_of, programs=programs)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    rows = table.to_pylist()
    from gongwei.engine import registry

    names = {p.value: p.zh for p in vocab.Program}
    # engine program codes (e.g. maternal) are named by their rulebook module's program (孕产妇健康管理)
    names.update({code: vocab.Program(str(spec.PROGRAM)).zh for code, (_, spec) in registry.evaluators().items()
                  if str(getattr(spec, "PROGRAM", "")) in names})
    names.update({code: spec.PROGRAM_NAME for code, (_, spec) in registry.evaluators().items()
                  if hasattr(spec, "PROGRAM_NAME")})
    if args.format == "json":
        _emit(json.dumps([{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in r.items()} for r in rows],
                         ensure_ascii=False, indent=2), args.out)
        return 0
    if args.format == "xlsx":
        if not args.out:
            print("xlsx 格式需要 --out 文件名", file=sys.stderr)
            return 2
        from openpyxl import Workbook

        from gongwei.files import append_text_safe, save_workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "花名册"
        append_text_safe(ws, ["村（社区）", "项目", "档案编号", "姓名", "性别", "出生日期", "责任医生", "签约团队", "团队负责人"])
        for r in rows:
            append_text_safe(ws, [r["unit_name"], names.get(r["program"], r["program"]), r["record_no"], r["name"],
                       vocab.Sex(r["sex"]).zh, r["birth_date"], r["doctor"], r["team"], r["team_lead"]])
        save_workbook(wb, args.out)
        print(args.out)
        return 0
    body = render(["村（社区）", "项目", "档案编号", "姓名", "责任医生", "签约团队", "团队负责人"],
                  [[r["unit_name"], names.get(r["program"], r["program"]), r["record_no"], r["name"], r["doctor"],
                    r["team"], r["team_lead"]] for r in rows])
    _emit(f"{args.org} 重点人群花名册（截至 {args.as_of}）共 {len(rows)} 人次\n{body}", args.out)
    return 0
