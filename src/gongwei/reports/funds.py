"""The funds table per county as the bureaus report it ([city-rectification-2023]: 拨付率 and 支出率 by county, highest first), with the
alerts and the village doctors' subsidies, as one XLSX workbook.

Takes :class:`gongwei.service.funds.FundsTable` and friends (duck-typed: reports never import the service)."""

from __future__ import annotations

from pathlib import Path

from gongwei.spec.funds import FUND_ITEMS

ALERT_ZH = {"not_disbursed": "下达未拨付", "idle": "资金沉淀", "not_passed_down": "专项未落实到乡村"}


def title(table) -> str:
    item = FUND_ITEMS[table.item].name if table.item else "全部资金项目"
    return f"{table.unit.name} {table.year}年度基本公卫资金到位、拨付和支出情况（截至 {table.as_of:%Y-%m-%d}，{item}）"


def _pct(rate) -> object:
    return "—" if rate is None else round(rate * 100, 2)


def table_rows(table) -> tuple[list[str], list[list[object]]]:
    header = ["单位", "代码", "下达（元）", "到位（元）", "拨付（元）", "支出（元，含下级）",
              *[f"{r.name}（%）" for r in table.rates]]
    rows = []
    for row in [*table.rows, table.total]:
        f = row.figures
        name = row.unit.name if row is not table.total else f"{row.unit.name}（合计）"
        rows.append([name, row.unit.code, float(f.allocated), float(f.arrived), float(f.disbursed),
                     float(f.spent_below), *[_pct(f.rate(r.code)) for r in table.rates]])
    return header, rows


def funds_xlsx(table, alerts, subsidies, out: Path) -> Path:
    from openpyxl import Workbook

    from gongwei.files import append_text_safe, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "资金情况表"
    append_text_safe(ws, [title(table)])
    append_text_safe(ws, ["；".join(f"{r.name}：{r.source.ref}" for r in table.rates)])
    header, rows = table_rows(table)
    append_text_safe(ws, header)
    for r in rows:
        append_text_safe(ws, r)
    ws2 = wb.create_sheet("资金预警")
    append_text_safe(ws2, ["预警", "单位", "代码", "金额（元）", "说明", "依据"])
    for a in alerts.items:
        append_text_safe(ws2, [ALERT_ZH.get(a.rule, a.rule), a.unit.name, a.unit.code, float(a.amount), a.message,
                               a.source])
    ws3 = wb.create_sheet("乡村医生补助")
    append_text_safe(ws3, ["村卫生室", "代码", "已发放（元）", "笔数"])
    for s in subsidies:
        append_text_safe(ws3, [s.village.name, s.village.code, float(s.paid), s.payments])
    return save_workbook(wb, Path(out))
