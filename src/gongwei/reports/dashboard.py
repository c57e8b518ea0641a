"""The gap list of the dashboard as an XLSX file (:class:`gongwei.service.dashboard.GapList`)."""

from __future__ import annotations

from pathlib import Path


def gaps_xlsx(gaps, out: Path) -> Path:
    """One row per person in the gap: record number, name, managing unit, reasons in plain Chinese. Every text
    cell is typed as text, so a name that looks like a formula (``=HYPERLINK(...)``) stays a name. The list
    carries no identity number, phone or birth date, so nothing in it differs by role."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongwei.files import append_text_safe, save_workbook

    result = gaps.result
    page, counted = result.page, result.counted
    wb = Workbook()
    ws = wb.active
    ws.title = "缺口人员"
    reason = dict(gaps.reasons).get(gaps.reason, "") if gaps.reason else "全部原因"
    append_text_safe(ws, [f"{result.unit.label} {gaps.indicator} {gaps.name} 缺口人员",
                          f"期间 {page.period}（{counted.label}）", f"原因：{reason}", f"共 {page.total} 人",
                          f"数据时间 {result.basis.taken_at}（快照 {result.basis.snapshot_id}）"])
    append_text_safe(ws, ["档案编号", "姓名", "管理机构", "机构代码", "缺口原因"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for p in page.people:
        append_text_safe(ws, [p.record_no, p.name, p.unit_name, p.unit_code, "；".join(t for _, t in p.reasons)])
    for col, width in zip("ABCDE", (22, 12, 18, 16, 60), strict=True):
        ws.column_dimensions[col].width = width
    return save_workbook(wb, out)
