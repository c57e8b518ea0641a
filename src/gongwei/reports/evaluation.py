"""The two attachments of an evaluation round: 绩效评价情况表 (units × items, total, rank, funds ratio) and
各单位问题列表 (per unit, each lost point with its reason and what lies behind it), as one XLSX workbook and as text.

Takes :class:`gongwei.service.evaluation.RoundReport` (duck-typed: reports never import the service)."""

from __future__ import annotations

from pathlib import Path

STATUS_ZH = {"scored": "已评分", "no_denominator": "合理缺项（无服务对象）", "no_target": "合理缺项（无目标值）",
             "pending": "待录入", "sum": "小计"}


def title(report) -> str:
    from gongwei.spec.evaluation import RoundKind

    r = report.round
    return f"{r.root.name} {r.year}年{RoundKind(r.kind).zh}（{report.scheme.name}）"


def _basis(report) -> str:
    r = report.round
    state = "已发布" if r.status == "published" else "草稿"
    return (f"考核轮次 {r.pk}（{state}）；统计期间 {r.period}；快照 {r.snapshot_id}；规则库 {r.rulebook}；"
            f"评分批次 {r.run}")


def _behind(item, score) -> str:
    """What lies behind a lost point: the figures with their drill-down key, the findings, or the manual entry."""
    ev = score.evidence or {}
    kind = ev.get("kind")
    if kind == "indicator":
        drill = ev["drill"]["gaps"]
        rate = "—" if ev.get("rate") is None else f"{ev['rate'] * 100:.2f}%"
        target = ev.get("target") if ev.get("target") is not None else ev.get("limit")
        target_text = "—" if target is None else f"{target * 100:.2f}%"
        return (f"指标 {ev['indicator']}：分子 {ev['numerator']}，分母 {ev['denominator']}，率 {rate}，"
                f"目标 {target_text}；名单：gongwei gaps --indicator {drill['indicator']} --org {drill['org']} "
                f"--period {drill['period']}")
    if kind == "findings":
        drill = ev["drill"]["findings"]
        return (f"质控问题 {ev['findings']} 个（{'、'.join(f'{k}: {v}' for k, v in ev['by_rule'].items())}），"
                f"检查记录 {ev.get('examined', '—')} 条；"
                f"明细见整改台账：机构 {drill['org']}，规则 {'、'.join(drill['rules'])}，期间 {drill['period']}")
    if kind == "workload":
        drill = ev["drill"]["workload"]
        yardstick = "参评单位中位数" if ev.get("relative") else "目标值"
        per = "—" if ev.get("per_thousand") is None else f"{ev['per_thousand']:g}"
        target = "—" if ev.get("target") is None else f"{ev['target']:g}"
        return (f"服务当量 {ev['equivalents']:g}（服务 {ev['services']} 次），常住人口 {ev.get('population') or '—'}，"
                f"每千人 {per}，{yardstick} {target}；明细见工作量页面 /unit/{drill['org']}/workload/"
                f"?period={drill['period']}")
    if kind == "manual":
        if ev.get("pending"):
            return "人工评分尚未录入"
        file = f"；佐证 {ev['file']}" if ev.get("file") else ""
        return f"{ev['by']} 于 {ev['at']} 录入 {ev['value']:g}：{ev['note']}{file}"
    return ""


def table_rows(report) -> tuple[list[str], list[list[object]]]:
    """The 绩效评价情况表: one row per unit, the top-level items' points, total, rank, funds ratio."""
    tops = list(report.scheme.items)
    header = ["名次", "单位代码", "单位", *(f"{t.code} {t.name}（{t.points:g}分）" for t in tops), "实得分", "应得分",
              "总分", "资金拨付比例", "资金说明", "待录入项"]
    rows = []
    for row in report.rows:
        s = row.score
        rows.append([s.rank, row.code, row.name,
                     *(round(row.items[t.code].points, 2) if t.code in row.items else None for t in tops),
                     round(s.points, 2), round(s.possible, 2), s.score, round(s.funds_ratio, 4), s.funds_note,
                     s.pending])
    return header, rows


def problem_rows(report) -> tuple[list[str], list[list[object]]]:
    header = ["单位代码", "单位", "项目代码", "项目", "评分方法", "分值", "得分", "失分", "状态", "失分原因", "依据与明细"]
    rows = []
    for row, item, s in report.lost():
        rows.append([row.code, row.name, item.code, item.name, item.method.zh, s.max_points, round(s.points, 2),
                     round(s.max_points - s.points, 2) if s.status == "scored" else None,
                     STATUS_ZH.get(s.status, s.status), s.reason, _behind(item, s)])
    return header, rows


def round_xlsx(report, out: Path) -> Path:
    from openpyxl import Workbook

    from gongwei.files import append_text_safe, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "绩效评价情况表"
    append_text_safe(ws, [f"{title(report)} 绩效评价情况表"])
    append_text_safe(ws, [_basis(report)])
    header, rows = table_rows(report)
    append_text_safe(ws, header)
    for r in rows:
        append_text_safe(ws, r)
    ws2 = wb.create_sheet("各单位问题列表")
    append_text_safe(ws2, [f"{title(report)} 各单位问题列表", _basis(report)])
    header, rows = problem_rows(report)
    append_text_safe(ws2, header)
    for r in rows:
        append_text_safe(ws2, r)
    return save_workbook(wb, Path(out))


def round_text(report) -> str:
    """The 绩效评价情况表 as plain text for the terminal."""
    header, rows = table_rows(report)
    tops = len(report.scheme.items)
    lines = [f"{title(report)} 绩效评价情况表", _basis(report), ""]
    lines.append("  ".join(["名次", "单位", *header[3:3 + tops], "总分", "资金拨付比例"]))
    for r in rows:
        lines.append("  ".join(str(x) for x in [r[0], f"{r[2]}（{r[1]}）", *r[3:3 + tops], r[3 + tops + 2],
                                                 f"{r[3 + tops + 3] * 100:.1f}%"]))
    lost = report.lost()
    lines += ["", f"失分项 {len(lost)} 个（各单位问题列表见 --out 导出的 XLSX）"]
    return "\n".join(lines)
