"""The indicator bulletin (text, JSON, XLSX) from :class:`gongwei.service.analysis.IndicatorReport`."""

from __future__ import annotations

from pathlib import Path

from gongwei.engine.compare import NO_TARGET, target_text
from gongwei.reports.text import pct, render


def figure_json(report, f) -> dict:
    counted = report.counted[(f.indicator, f.unit_id)]
    before = report.counted_before.get((f.indicator, f.unit_id))
    t = f.target
    return {"indicator": f.indicator, "name": f.name, "org": f.unit_code, "org_name": f.unit_name,
            "period": counted.code, "period_start": counted.start.isoformat(), "period_end": counted.end.isoformat(),
            "previous_period": None if before is None else before.code,
            "numerator": f.numerator, "denominator": f.denominator, "rate": f.rate,
            "target": None if t is None else {"comparator": t.comparator.value, "value": t.value, "unit": t.unit,
                                              "region": t.region, "year": t.year, "source": str(t.source)},
            "target_text": target_text(t),
            "met": f.met, "previous_rate": f.previous_rate, "change": f.change, "rank": f.rank, "of": f.siblings,
            "forecast_rate": f.forecast_rate, "extra_per_week": f.extra_per_week, "lagging": f.lagging_children}


def payload(report) -> dict:
    return {"org": report.unit.code, "org_name": report.unit.name, "period": report.period.code,
            "compare": report.compare.code, "snapshot": report.basis.snapshot_id,
            "snapshot_taken_at": report.basis.taken_at, "rulebook": report.basis.rulebook,
            "results_file": report.results_file,
            "figures": [figure_json(report, f) for f in report.figures]}


def bulletin_text(report) -> str:
    unit = report.unit.id
    asked = report.period.code
    if report.period.per_indicator:
        asked += "，各指标按其统计年度，见各表“统计期间”"
    blocks = [f"{report.unit.label}基本公共卫生服务指标（期间 {asked}，对比 {report.compare.code}；"
              f"快照 {report.basis.snapshot_id}）"]
    current = None
    rows: list[list[object]] = []

    def flush() -> None:
        if rows:
            blocks.append(render(["单位", "代码", "统计期间", "数量", "分母", "率", "目标", "达标", "较上期", "排名"], rows,
                                 [False, False, False, True, True, True, False, False, True, True]))

    for f in report.figures:
        counted = report.counted[(f.indicator, f.unit_id)]
        if f.indicator != current:
            flush()
            rows = []
            current = f.indicator
            head = f"\n{f.indicator} {f.name}：{pct(f.rate)}" if f.unit_id == unit else f"\n{f.indicator} {f.name}"
            if f.unit_id == unit:
                head += f"（目标值 {target_text(f.target)}）" if f.target is not None else f"（{NO_TARGET}）"
                if f.change is not None:
                    head += f"，较上期{'增长' if f.change >= 0 else '下降'} {abs(f.change) * 100:.2f} 个百分点"
                elif f.indicator in report.without_previous:
                    head += f"，上期（{report.compare.code}）无数据，不作比较"
                if f.lagging_children:
                    head += f"；未达标：{'、'.join(f.lagging_children)}"
                if f.extra_per_week:
                    head += f"；按目前进度年底预计 {pct(f.forecast_rate)}，需每周增加 {f.extra_per_week} 人"
            head += f"；统计期间 {counted.code}（{counted.start.isoformat()}～{counted.end.isoformat()}）"
            blocks.append(head)
        met = "" if f.met is None else ("是" if f.met else "否")
        change = "" if f.change is None else f"{f.change * 100:+.2f}"
        rank = "" if f.unit_id == unit or f.rank is None else f"{f.rank}/{f.siblings}"
        rows.append([f.unit_name, f.unit_code, counted.code, f.numerator,
                     "" if f.denominator is None else f.denominator, pct(f.rate), target_text(f.target), met, change,
                     rank])
    flush()
    return "\n".join(blocks)


def write_xlsx(report, out: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from gongwei.files import append_text_safe, save_workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "指标"
    append_text_safe(ws, [f"{report.unit.label}基本公共卫生服务指标", f"期间 {report.period.code}",
                          f"对比 {report.compare.code}", f"快照 {report.basis.snapshot_id}"])
    append_text_safe(ws, ["指标代码", "指标名称", "单位代码", "单位", "数量", "分母", "率", "目标", "是否达标", "上期率",
                          "较上期", "排名", "同级单位数", "年底预测", "每周需增加人数", "统计期间", "期间起", "期间止"])
    for cell in ws[2]:
        cell.font = Font(bold=True)
    for f in report.figures:
        p = report.counted[(f.indicator, f.unit_id)]
        append_text_safe(ws, [
            f.indicator, f.name, f.unit_code, f.unit_name, f.numerator, f.denominator, f.rate,
            NO_TARGET if f.target is None else (f.target.value if f.target.unit == "rate" else target_text(f.target)),
            None if f.met is None else ("是" if f.met else "否"),
            f.previous_rate, f.change, f.rank, f.siblings, f.forecast_rate, f.extra_per_week, p.code, p.start, p.end])
        for col in (7, 8, 10, 11, 14):
            ws.cell(row=ws.max_row, column=col).number_format = "0.00%"
    return save_workbook(wb, out)
