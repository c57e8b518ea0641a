"""Data-quality reports: the QC scorecard as bulletin paragraphs, JSON and XLSX; the duplicate review queue; the
ledger summary — from the results of :mod:`gongwei.service.quality`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from gongwei.files import safe_text
from gongwei.reports.text import render

GROUP_KIND_NAMES = {"all": "合计", "level": "级别", "family": "类别", "rule": "规则"}
BY_NAMES = {"count": "问题数", "rate": "每千条"}


def stored_text(snapshot_id: str, found: int, result) -> str:
    return (f"快照 {snapshot_id}：发现 {found} 个问题；新增 {result.new}，持续 {result.recurring}，"
            f"重新出现 {result.reopened}，数据已修正（自动标记已整改） {result.rectified}")


def qc_payload(report) -> dict:
    from gongwei.engine.scorecard import place_label
    from gongwei.spec.quality import rules

    catalogue_rules = rules()
    tree, card = report.tree, report.card
    return {
        "org": report.unit.code, "org_name": report.unit.name, "period": card.period.code,
        "compare": card.previous_period.code if card.previous_period else None,
        "snapshot": report.basis.snapshot_id, "compare_snapshot": report.compare_basis.snapshot_id,
        "rulebook": report.basis.rulebook, "results_file": report.results_file,
        "rules": [{"code": c, "name": catalogue_rules[c].name, "level": catalogue_rules[c].level.value}
                  for c in report.rules],
        "examined": report.examined, "figures": [_figure_json(r, tree) for r in card.figures.to_pylist()],
        "clusters": [{**r, "label": place_label(tree, card.root, r["org_unit_id"])} for r in card.clusters.to_pylist()],
        "ledger": None if report.ledger is None else vars(report.ledger),
    }


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


def bulletin_text(report) -> str:
    """The scorecard as bulletin paragraphs: a headline for the unit, one block per child unit (rule families
    with rate and change, main problems), then where problems cluster."""
    from gongwei.engine.scorecard import SOURCE_NAMES, change_text, place_label, place_name, rate_text

    card, tree, examined, snapshot_id = report.card, report.tree, report.examined, report.basis.snapshot_id

    root = card.root
    compare = card.previous_period.code if card.previous_period else "—"
    total = card.figure(root, "all")
    sources = "、".join(f"{SOURCE_NAMES.get(k, k)} {v:,}" for k, v in examined.items() if v)
    lines = [f"{tree.name[root]}（{tree.code[root]}）数据质量记分卡（期间 {card.period.code}，对比 {compare}；快照 {snapshot_id}；"
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


def qc_xlsx(report, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongwei.engine.scorecard import place_label
    from gongwei.files import append_text_safe, save_workbook

    card, tree = report.card, report.tree
    period = card.period.code
    compare = card.previous_period.code if card.previous_period else "—"
    snapshot = report.basis.snapshot_id

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
    return save_workbook(wb, out)


# --- duplicates ------------------------------------------------------------------------------------------------
def duplicates_payload(result) -> dict:
    return {"summary": result.result.summary, "parameters": result.result.parameters, "queue": result.queue}


def duplicates_csv(result) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=result.result.queue.column_names, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: safe_text(v) for k, v in r.items()} for r in result.queue)
    return buf.getvalue().rstrip("\n")


def duplicates_text(result) -> str:
    s, rows = result.result.summary, result.queue
    head = (f"{result.unit.label} 重复档案：档案 {s['records']:,} 份，比较 {s['compared_pairs']:,} 对；"
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
    more = (f"\n（共 {result.total:,} 对，仅显示前 {len(rows):,} 对；用 --limit 或 --format csv --out 文件 查看全部）"
            if result.total > len(rows) else "")
    return f"{head}\n复核队列（精确重复在前，其余按匹配概率从高到低；逐对复核后再执行合并命令）：\n{body}{more}"


def duplicates_json(result) -> str:
    return json.dumps(duplicates_payload(result), ensure_ascii=False, indent=2)
