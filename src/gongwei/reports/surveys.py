"""Wording of awareness and satisfaction surveys (知晓率 / 满意度调查) for the command line: a survey's
respondents, its rates per unit with the change since the last survey, and the rates per unit of a period."""

from __future__ import annotations

from gongwei.reports.verification import interval_text, pct


def change_text(rate) -> str:
    if rate.change is None:
        return "无上次调查可比"
    return f"较上次（{rate.previous_ref}，{pct(rate.previous.rate)}）{rate.change * 100:+.1f} 个百分点"


def rate_line(rate, name: str, label: str = "") -> str:
    head = label or f"{rate.unit_name}（{rate.unit_code}）"
    return (f"{head}：抽取 {rate.drawn} 人，有效问卷 {rate.valid} 份，{name} {pct(rate.rate)}（{rate.positive}/"
            f"{rate.valid}，95% 置信区间 {interval_text(rate.interval)}）；{change_text(rate)}；拒绝 {rate.refused}，"
            f"无法联系 {rate.unreachable}，非本人 {rate.proxy}，待调查 {rate.pending}")


def survey_text(v) -> str:
    d = v.definition
    lines = [f"调查 {v.survey_no}：{d['name']}，{v.unit_name}（{v.unit_code}）{v.period}，{v.mode_name}，"
             f"样本 {v.sample_no}，发起人 {v.created_by}，{v.created_at:%Y-%m-%d %H:%M}",
             "序号\t档案编号\t姓名\t电话\t管理机构\t调查结果\t判定题答案\t调查员"]
    for r in v.rows:
        lines.append(f"{r.position}\t{r.record_no}\t{r.name}\t{r.phone or '—'}\t{r.unit_name}\t"
                     f"{r.status_name or '待调查'}\t{r.deciding_answer or '—'}\t{r.recorded_by or '—'}")
    return "\n".join(lines)


def rates_text(report) -> str:
    name = report.survey.definition["rate_name"]
    lines = survey_text(report.survey).splitlines()[:1]
    lines.append(rate_line(report.total, name, f"合计 {report.total.unit_name}（{report.total.unit_code}）"))
    lines += [rate_line(u, name) for u in report.units]
    lines.append(f"{name} = 表示{report.survey.definition['positive_name']}的人数 ÷ 有效问卷数；拒绝调查、无法联系、"
                 "非本人作答不计入；区间为 Wilson 得分区间")
    return "\n".join(lines)


def units_text(found: dict, period: str, names: dict[str, str]) -> str:
    if not found:
        return f"{period} 没有调查结果"
    lines = []
    for code in sorted(found):
        for q, rate in sorted(found[code].items()):
            lines.append(rate_line(rate, names.get(q, q)))
    return "\n".join(lines)
