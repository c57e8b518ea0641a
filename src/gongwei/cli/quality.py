"""``gongwei qc``: the data-quality scorecard of a unit and its children, written like a progress bulletin;
and :func:`store_findings`, the one path from engine findings into the rectification ledger (``qc --store``
and ``gongwei findings`` both use it)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gongwei.cli.analysis import _data_dir, _emit, _open_engine
from gongwei.cli.textable import render

GROUP_KIND_NAMES = {"all": "合计", "level": "级别", "family": "类别", "rule": "规则"}
BY_NAMES = {"count": "问题数", "rate": "每千条"}


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


# --- the ledger path ---------------------------------------------------------------------------------------
def implemented_rules() -> list[str]:
    """Rulebook codes that have an evaluator, in rulebook order."""
    from gongwei.engine import quality
    from gongwei.spec.quality import rules

    impl = quality.evaluators()
    return [c for c in rules() if c in impl]


def rule_codes(text: str | None) -> list[str]:
    """Codes from ``--rule``/``--rules`` (comma-separated), checked against the rulebook and the evaluators;
    ValueError with a Chinese message otherwise. Default: every implemented rule."""
    from gongwei.engine import quality
    from gongwei.spec.quality import rules

    if not text:
        codes = implemented_rules()
        if not codes:
            raise ValueError("尚无已实现的质控规则")
        return codes
    codes = list(dict.fromkeys(c.strip() for c in text.split(",") if c.strip()))
    unknown = [c for c in codes if c not in rules()]
    if unknown:
        raise ValueError(f"未知的质控规则：{', '.join(unknown)}")
    absent = [c for c in codes if c not in quality.evaluators()]
    if absent:
        raise ValueError(f"质控规则尚未实现：{', '.join(absent)}")
    return codes


def store_findings(findings, *, snapshot_id: str, period: str, codes: list[str], units: list[int] | None = None):
    """Keep one evaluation's findings in the rectification ledger.

    ``units``: the subtree the evaluation covered. Open findings elsewhere are left alone — not finding
    them again in a county says nothing about the next county.
    """
    from gongwei.quality import services
    from gongwei.spec import catalogue

    return services.sync_findings(findings, snapshot_id=snapshot_id, period=period,
                                  rulebook=catalogue.rulebook_version(), rules=codes, units=units)


def stored_text(snapshot_id: str, found: int, result) -> str:
    return (f"快照 {snapshot_id}：发现 {found} 个问题；新增 {result.new}，持续 {result.recurring}，"
            f"重新出现 {result.reopened}，数据已修正（自动标记已整改） {result.rectified}")


def _progress(label: str, total: int):
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="规则", file=sys.stderr)

    def step(code: str) -> None:
        bar.set_postfix_str(code)
        bar.update(1)

    return bar, step


def evaluate(eng, period, codes: list[str], units: list[int] | None, label: str):
    from gongwei.engine import quality

    bar, step = _progress(label, len(codes))
    try:
        return quality.evaluate(eng, period, codes, units=units, progress=step)
    finally:
        bar.close()


# --- gongwei qc ----------------------------------------------------------------------------------------
def _qc(args: argparse.Namespace) -> int:
    from gongwei.engine import scorecard
    from gongwei.engine.backends import Engine
    from gongwei.engine.orgs import OrgTree
    from gongwei.engine.snapshot import Snapshot
    from gongwei.spec import catalogue
    from gongwei.spec.periods import parse
    from gongwei.spec.quality import rules

    catalogue_rules = rules()
    try:
        period = parse(args.period)
        compare = parse(args.compare) if args.compare else scorecard.previous_period(period)
        codes = rule_codes(args.rule)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.format == "xlsx" and not args.out:
        print("xlsx 格式需要 --out 文件名", file=sys.stderr)
        return 2
    eng = _open_engine(args)
    tree = OrgTree.load(eng.snapshot)
    try:
        unit = tree.by_code(args.org)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    units = tree.subtree(unit)
    findings = evaluate(eng, period, codes, units, f"质控 {period.code}")
    current = scorecard.tally(eng, period, findings, codes, units)
    stored = scorecard.store(current, _data_dir() / "results", eng.snapshot.id, period)
    prev_eng = eng
    if args.compare_snapshot:
        prev_eng = Engine(Snapshot.open(args.compare_snapshot), args.backend)
        print(f"对比期间 {compare.code} 使用快照 {prev_eng.snapshot.id}（{prev_eng.snapshot.taken_at}）", file=sys.stderr)
    prev_findings = evaluate(prev_eng, compare, codes, units, f"质控 {compare.code}")
    previous = scorecard.tally(prev_eng, compare, prev_findings, codes, units)
    card = scorecard.build(tree, unit, period, current, codes=codes, previous=previous, previous_period_=compare,
                           top=args.top, min_examined=args.min_records)
    ledger = None
    if args.store:
        ledger = store_findings(findings, snapshot_id=eng.snapshot.id, period=period.code, codes=codes, units=units)
        print(stored_text(eng.snapshot.id, findings.num_rows, ledger), file=sys.stderr)
    examined = scorecard.examined_by_source(current)
    if args.format == "json":
        payload = {
            "org": args.org, "org_name": tree.name[unit], "period": period.code, "compare": compare.code,
            "snapshot": eng.snapshot.id, "compare_snapshot": prev_eng.snapshot.id,
            "rulebook": catalogue.rulebook_version(), "results_file": str(stored),
            "rules": [{"code": c, "name": catalogue_rules[c].name, "level": catalogue_rules[c].level.value} for c in codes],
            "examined": examined, "figures": [_figure_json(r, tree) for r in card.figures.to_pylist()],
            "clusters": [{**r, "label": scorecard.place_label(tree, unit, r["org_unit_id"])}
                         for r in card.clusters.to_pylist()],
            "ledger": None if ledger is None else vars(ledger),
        }
        _emit(json.dumps(payload, ensure_ascii=False, indent=2), args.out)
    elif args.format == "xlsx":
        _write_xlsx(card, tree, args.out, period.code, compare.code, eng.snapshot.id)
        print(args.out)
    else:
        _emit(bulletin_text(card, tree, examined, eng.snapshot.id), args.out)
    return 0


def _figure_json(r: dict, tree) -> dict:
    out = {k: v for k, v in r.items() if k not in ("depth", "parent_id")}
    out["parent"] = None if r["parent_id"] is None else tree.code[r["parent_id"]]
    return out


_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 25 → 二十五 (headings 一、二、…)."""
    if n < 10:
        return _DIGITS[n]
    tens, ones = divmod(n, 10)
    if tens >= 10:
        return str(n)
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + ("" if ones == 0 else _DIGITS[ones])


def _headline(r: dict) -> str:
    from gongwei.engine.scorecard import change_text, rate_text

    text = f"问题 {r['findings']:,} 个，每千条 {rate_text(r['rate'])}，{change_text(r['change'])}"
    if r["previous_rate"] is not None and r["rate"] is not None:
        text += f"（每千条 {rate_text(r['previous_rate'])} → {rate_text(r['rate'])}）"
    return text


def _rank_text(r: dict, level: str) -> str:
    from gongwei.spec.vocab import OrgLevel

    if r["rank"] is None or r["siblings"] < 2:
        return ""
    try:
        word = OrgLevel(level).zh
    except ValueError:
        word = "单位"
    return f"，在 {r['siblings']} 个{word}中排第 {r['rank']}（问题率由低到高）"


def bulletin_text(card, tree, examined: dict[str, int], snapshot_id: str) -> str:
    """The scorecard as bulletin paragraphs: a headline for the unit, one block per child unit (rule families
    with rate and change, main problems), then where problems cluster."""
    from gongwei.engine.scorecard import SOURCE_NAMES, change_text, place_label, place_name, rate_text

    root = card.root
    compare = card.previous_period.code if card.previous_period else "—"
    total = card.figure(root, "all")
    sources = "、".join(f"{SOURCE_NAMES.get(k, k)} {v:,}" for k, v in examined.items() if v)
    lines = [f"{tree.name[root]} 数据质量记分卡（期间 {card.period.code}，对比 {compare}；快照 {snapshot_id}；"
             f"规则 {len(card.rules)} 条）",
             f"共检查记录 {total['examined']:,} 条（{sources or '无'}），{_headline(total)}。"]
    levels = card.rows(root, "level")
    if levels:
        lines.append("按级别：" + "；".join(f"{r['group_name']} {r['findings']:,}（每千条 {rate_text(r['rate'])}）"
                                          for r in levels) + "。")
    children = sorted(tree.children(root), key=lambda u: tree.code[u]) or [root]
    for i, child in enumerate(children, start=1):
        head = card.figure(child, "all")
        lines.append("")
        lines.append(f"{chinese_number(i)}、{place_name(tree.name[child])}：{_headline(head)}"
                     f"{_rank_text(head, tree.level[child])}。")
        rows = []
        for r in [*card.rows(child, "family"), head]:
            rank = "" if r["rank"] is None or r["siblings"] < 2 else f"{r['rank']}/{r['siblings']}"
            rows.append([r["group_name"] if r["group_kind"] != "all" else "合计", f"{r['findings']:,}",
                         f"{r['examined']:,}", rate_text(r["rate"]),
                         "" if r["previous_findings"] is None else f"{r['previous_findings']:,}",
                         "" if r["change"] is None else f"{r['change']:+,}" if r["change"] else "0", rank])
        lines.append(render(["类别", "问题数", "检查记录", "每千条", "上期", "较上期", "排名"], rows,
                            [False, True, True, True, True, True, True]))
        main = sorted((r for r in card.rows(child, "rule") if r["findings"] > 0), key=lambda r: -r["findings"])[:5]
        if main:
            lines.append("主要问题：" + "；".join(
                f"{r['group_name']} {r['findings']:,}（每千条 {rate_text(r['rate'])}，{change_text(r['change'])}）"
                for r in main) + "。")
    clusters = card.clusters.to_pylist()
    if clusters:
        lines += ["", "问题集中"]
        by_rule: dict[str, list[dict]] = {}
        for c in clusters:
            by_rule.setdefault(c["rule"], []).append(c)
        for code in card.rules:
            items = by_rule.get(code)
            if not items:
                continue
            rule_total = card.figure(root, "rule", code)
            parts = []
            for by in ("count", "rate"):
                per_level = []
                for level in ("township", "village"):
                    chosen = [c for c in items if c["by"] == by and c["level"] == level]
                    if not chosen:
                        continue
                    names = "、".join(
                        f"{place_label(tree, root, c['org_unit_id'])}（{c['findings']:,} 个）" if by == "count" else
                        f"{place_label(tree, root, c['org_unit_id'])}（每千条 {rate_text(c['rate'])}）"
                        for c in chosen)
                    per_level.append(("乡镇：" if level == "township" else "村（社区）：") + names)
                if per_level:
                    parts.append(("主要集中在" if by == "count" else "问题率最高的是") + "；".join(per_level))
            lines.append(f"{rule_total['group_name']}（{code}）{rule_total['findings']:,} 个，" + "。".join(parts) + "。")
    return "\n".join(lines)


def _write_xlsx(card, tree, out: Path, period: str, compare: str, snapshot: str) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongwei.engine.scorecard import place_label
    from gongwei.files import append_text_safe, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "记分卡"
    append_text_safe(ws, [f"{tree.name[card.root]} 数据质量记分卡", f"期间 {period}", f"对比 {compare}", f"快照 {snapshot}"])
    append_text_safe(ws, ["单位代码", "单位", "层级", "上级单位代码", "分组类型", "分组", "名称", "问题数", "检查记录数", "每千条",
               "上期问题数", "上期检查记录数", "上期每千条", "较上期", "每千条较上期", "排名", "同级单位数"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for r in card.figures.to_pylist():
        append_text_safe(ws, [r["code"], r["name"], r["level"], None if r["parent_id"] is None else tree.code[r["parent_id"]],
                   GROUP_KIND_NAMES[r["group_kind"]], r["group"], r["group_name"], r["findings"], r["examined"],
                   r["rate"], r["previous_findings"], r["previous_examined"], r["previous_rate"], r["change"],
                   r["rate_change"], r["rank"], r["siblings"]])
        for col in (10, 13, 15):
            ws.cell(row=ws.max_row, column=col).number_format = "0.0"
    ws = wb.create_sheet("问题集中")
    append_text_safe(ws, ["规则", "规则名称", "层级", "排序依据", "名次", "单位代码", "单位", "问题数", "检查记录数", "每千条"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for c in card.clusters.to_pylist():
        append_text_safe(ws, [c["rule"], c["rule_name"], c["level"], BY_NAMES[c["by"]], c["position"], c["code"],
                   place_label(tree, card.root, c["org_unit_id"]), c["findings"], c["examined"], c["rate"]])
        ws.cell(row=ws.max_row, column=10).number_format = "0.0"
    save_workbook(wb, out)
