"""Lists of people (gap lists, worklists, rosters) as text, JSON and XLSX, from :mod:`gongwei.service.analysis`."""

from __future__ import annotations

from pathlib import Path

from gongwei.reports.text import jsonable, render
from gongwei.spec import vocab

PART_NAMES = {"gap": "缺口", "numerator": "分子", "denominator": "分母"}
STATUS_NAMES = {"overdue": "逾期", "due_soon": "7天内到期", "upcoming": "待办"}


# --- gap lists --------------------------------------------------------------------------------------------
def gaps_payload(result) -> dict:
    page, counted = result.page, result.counted
    return {"indicator": page.indicator, "org": page.unit_code, "org_name": result.unit.name, "period": page.period,
            "period_start": counted.start.isoformat(), "period_end": counted.end.isoformat(), "part": page.part,
            "total": page.total, "page": page.page, "size": page.size, "note": page.note,
            "snapshot": result.basis.snapshot_id,
            "people": [{"record_no": p.record_no, "name": p.name, "org": p.unit_code, "org_name": p.unit_name,
                        "reasons": [{"code": c, "text": t} for c, t in p.reasons]} for p in page.people]}


def gaps_text(result) -> str:
    page = result.page
    head = (f"{page.indicator} {result.unit.label} {page.period}（{result.counted.label}）{PART_NAMES[page.part]}人员"
            f"共 {page.total} 人（第 {page.page} 页，每页 {page.size} 人）")
    if page.note:
        head += f"\n{page.note}"
    rows = [[p.record_no, p.name, p.unit_name, "；".join(t for _, t in p.reasons)] for p in page.people]
    return head + "\n" + render(["档案编号", "姓名", "管理机构", "原因"], rows)


# --- worklists -----------------------------------------------------------------------------------------------
def worklist_payload(result) -> list[dict]:
    return [{k: jsonable(v) for k, v in r.items()} for r in result.rows]


def worklist_text(result) -> str:
    body = render(["状态", "到期日", "逾期天数", "服务", "档案编号", "姓名", "机构代码"],
                  [[STATUS_NAMES[r["status"]], r["due_date"], r["days_overdue"] or "", r["service_name"],
                    r["record_no"], r["name"], r["unit_code"]] for r in result.rows])
    return (f"{result.unit.label} 截至 {result.as_of}：逾期 {result.count('overdue')} 项，"
            f"7天内到期 {result.count('due_soon')} 项\n{body}")


# --- rosters -----------------------------------------------------------------------------------------------------
def roster_payload(result) -> list[dict]:
    return [{k: jsonable(v) for k, v in r.items()} for r in result.rows]


def roster_text(result) -> str:
    names = result.program_names
    body = render(["村（社区）", "项目", "档案编号", "姓名", "责任医生", "签约团队", "团队负责人"],
                  [[r["unit_name"], names.get(r["program"], r["program"]), r["record_no"], r["name"], r["doctor"],
                    r["team"], r["team_lead"]] for r in result.rows])
    return f"{result.unit.label} 重点人群花名册（截至 {result.as_of}）共 {len(result.rows)} 人次\n{body}"


def roster_xlsx(result, out: Path) -> Path:
    from openpyxl import Workbook

    from gongwei.files import append_text_safe, save_workbook

    names = result.program_names
    wb = Workbook()
    ws = wb.active
    ws.title = "花名册"
    append_text_safe(ws, ["村（社区）", "项目", "档案编号", "姓名", "性别", "出生日期（或年龄）", "责任医生", "签约团队",
                          "团队负责人"])
    for r in result.rows:
        append_text_safe(ws, [r["unit_name"], names.get(r["program"], r["program"]), r["record_no"], r["name"],
                              vocab.Sex(r["sex"]).zh, r["birth_date"], r["doctor"], r["team"], r["team_lead"]])
    return save_workbook(wb, out)
