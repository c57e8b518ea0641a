"""Wording of samples and verification (抽样核查) for every face: the sample sheet, the frame check, the
verified rate beside the platform's. Takes the results of :mod:`gongwei.service.verification` as they are."""

from __future__ import annotations


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def interval_text(bounds: tuple[float, float] | None) -> str:
    return "—" if bounds is None else f"{bounds[0] * 100:.1f}%～{bounds[1] * 100:.1f}%"


def sample_heading(v) -> list[str]:
    """The lines that prove which people were drawn and why."""
    lines = [
        f"样本 {v.sample_no}：{v.unit_name}（{v.unit_code}）{v.period} 年度 {v.indicator} {v.indicator_name}，"
        f"抽样人群：{v.part_name}",
        f"抽样框：快照 {v.snapshot_id}，统计期间 {v.counted_period}，按档案编号排序，共 {v.frame_size} 人，"
        f"SHA-256 {v.frame_hash}",
        f"方法：{v.method_name}；样本量 {v.size}（{v.size_text}）；随机种子 {v.seed}",
    ]
    if v.interval is not None:
        lines.append(f"抽样间距 k = {v.frame_size}/{v.size} = {v.interval:.4f}，随机起点 r = {v.random_start:.4f}，"
                     f"抽取第 ⌊r + i·k⌋ + 1 人（i = 0…{v.size - 1}）")
    if v.allocation:
        lines.append("各层样本量（按规模比例分配）：" + "，".join(f"{k} {n} 人" for k, n in sorted(v.allocation.items())))
    lines.append(f"抽样人：{v.created_by}，时间 {v.created_at:%Y-%m-%d %H:%M}，规则库版本 {v.rulebook}")
    return lines


def sample_text(v) -> str:
    lines = sample_heading(v)
    lines.append("序号\t框内序号\t档案编号\t姓名\t电话\t管理机构\t核查方式\t核查人\t核查结果\t说明")
    for r in v.items:
        result = r.outcome_name + (f"（{r.wrong_field_name}）" if r.wrong_field_name else "")
        lines.append(f"{r.position}\t{r.frame_index + 1}\t{r.record_no}\t{r.name}\t{r.phone or '—'}\t{r.unit_name}\t"
                     f"{r.method_name or '未派发'}\t{r.assignee or '—'}\t{result or '待核查'}\t{r.note}")
    return "\n".join(lines)


def rate_line(u, label: str = "") -> str:
    head = label or f"{u.unit_name}（{u.unit_code}）"
    platform = (f"平台 {pct(u.platform_rate)}（{u.platform_numerator}/{u.platform_denominator}）"
                if u.platform_rate is not None else "平台 —")
    return (f"{head}：抽取 {u.drawn} 人，已核实 {u.verified} 人，真实 {u.genuine} 人，核实真实率 {pct(u.rate)}"
            f"（95% 置信区间 {interval_text(u.interval)}）；{platform}；未核实 {u.excluded} 人，待核查 {u.pending} 人，"
            f"疑似造假 {u.fabrication} 人")


def rates_text(report) -> str:
    lines = sample_heading(report.sample)[:1]
    lines.append(rate_line(report.total, f"合计 {report.total.unit_name}（{report.total.unit_code}）"))
    lines += [rate_line(u) for u in report.units]
    if report.platform_note:
        lines.append(report.platform_note)
    lines.append("核实真实率 = 服务属实人数 ÷（服务属实 + 查无此人 + 未接受服务 + 信息不符）；拒绝核查、无法联系不计入；"
                 "区间为 Wilson 得分区间")
    return "\n".join(lines)


def units_text(found: dict, period: str) -> str:
    if not found:
        return f"{period} 没有核查样本"
    lines = [f"{period} 核查结果（按管理机构及其上级汇总）："]
    for code in sorted(found):
        v = found[code]
        lines.append(rate_line(v.all) + f"；样本 {'、'.join(v.samples)}")
    return "\n".join(lines)
