"""The bulletin's data attachment as XLSX: every figure the text cites, one row per indicator × unit, frozen
header, text cells typed as text (a unit name starting with ``=`` stays a name), percentages as numbers."""

from __future__ import annotations

from pathlib import Path

from gongwei.bulletins import numbers
from gongwei.bulletins.narrative import Facts

HEADER = ["指标代码", "指标名称", "单位代码", "单位", "是否本级合计", "分子", "分母", "率", "目标值", "是否达标", "上期率",
          "较上期（百分点）", "排名", "同级单位数"]


def write(bulletin, facts: Facts, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    from gongwei.files import append_text_safe, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "进展数据"
    append_text_safe(ws, [bulletin.title, bulletin.document_number, f"数据截至 {bulletin.data_cutoff.isoformat()}",
                          f"快照 {bulletin.snapshot_id}", f"规则库 {bulletin.rulebook}"])
    append_text_safe(ws, HEADER)
    for cell in ws[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    order = {c: i for i, c in enumerate(dict.fromkeys(f.indicator for f in facts.figures))}
    for f in sorted(facts.figures, key=lambda f: (order[f.indicator], not f.own, f.rank or 10**6, f.unit_code)):
        append_text_safe(ws, [f.indicator, f.name, f.unit_code, f.unit_name, "是" if f.own else "否", f.numerator,
                              f.denominator, f.rate, f.target or "无", None if f.met is None else ("是" if f.met else "否"),
                              f.previous_rate, None if f.change is None else float(numbers.points(f.change)),
                              None if f.own else f.rank, None if f.own else f.siblings])
        for col in (8, 11):
            ws.cell(row=ws.max_row, column=col).number_format = "0.00%"
        ws.cell(row=ws.max_row, column=12).number_format = "+0.00;-0.00;0.00"
    ws.freeze_panes = "A3"
    for col, width in zip("ABCDEFGHIJKLMN", (10, 34, 15, 18, 8, 10, 10, 9, 10, 8, 9, 10, 6, 8), strict=True):
        ws.column_dimensions[col].width = width
    if facts.qc:
        qs = wb.create_sheet("质控问题")
        append_text_safe(qs, ["规则", "规则名称", "问题数", "较上期", "问题集中的地方"])
        for cell in qs[1]:
            cell.font = Font(bold=True)
        for q in facts.qc:
            append_text_safe(qs, [q.rule, q.name, q.findings, q.change, "、".join(q.clusters)])
        qs.freeze_panes = "A2"
        for col, width in zip("ABCDE", (8, 36, 10, 10, 50), strict=True):
            qs.column_dimensions[col].width = width
    if facts.evaluation:  # the annual evaluation bulletin's two attachments (issue 12 round, frozen in the facts)
        ev = facts.evaluation
        es = wb.create_sheet("绩效评价情况表")
        append_text_safe(es, [ev["title"], ev["scheme"]])
        append_text_safe(es, ["排名", "单位代码", "单位", "得分", "一票否决"])
        for u in sorted(ev["units"], key=lambda u: (u["rank"], u["code"])):
            append_text_safe(es, [u["rank"], u["code"], u["name"], u["score"], "是" if u["vetoed"] else "否"])
        es.freeze_panes = "A3"
        ps = wb.create_sheet("各单位问题列表")
        append_text_safe(ps, ["单位", "项目", "失分", "失分原因"])
        for p in ev["problems"]:
            append_text_safe(ps, [p["unit"], p["item"], p["lost"], p["reason"]])
        ps.freeze_panes = "A2"
        for sheet, widths in ((es, (6, 15, 20, 8, 8)), (ps, (20, 36, 8, 60))):
            for cell in sheet[1 if sheet is ps else 2]:
                cell.font = Font(bold=True)
            for col, width in zip("ABCDE", widths, strict=False):
                sheet.column_dimensions[col].width = width
    return save_workbook(wb, Path(out))
