"""Generate docs/indicators.md from the rulebook: ``python -m gongwei.spec.docgen [--check]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gongwei.spec import catalogue
from gongwei.spec.rules import DenominatorKind

KIND_ZH = {
    DenominatorKind.POPULATION_BASE: "人口基数（基础数据）",
    DenominatorKind.MANAGED_COHORT: "管理人群（档案）",
    DenominatorKind.TASK_NUMBER: "任务数（下达或估算）",
    DenominatorKind.EVENTS: "事件（报告、活动）",
}
DOC = Path(__file__).resolve().parents[3] / "docs" / "indicators.md"


def render() -> str:
    lines = [
        "# Indicators (指标)",
        "",
        "Generated from the rulebook by `python -m gongwei.spec.docgen`; a test fails if this file drifts.",
        "Rulebook version: computed per build (`gongwei.spec.catalogue.rulebook_version()`).",
        "",
        "Numerators and denominators name per-person state flags computed by the engine (`program.flag`)",
        "or population bases / task numbers entered per unit and year (`BaseGroup` codes). Targets: a unit is",
        "measured against its own region's (code prefix; the most specific wins) or a national one (blank region);",
        "未核实地区 marks a list whose region is unverified, which applies to no unit. Rates are shown as fractions.",
        "",
        "| code | 指标 | numerator | denominator | denominator kind | period | source | targets |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    book = catalogue.targets()
    for code, ind in catalogue.indicators().items():
        targets = sorted((t for t in book.targets if t.indicator == code), key=lambda t: (t.region, t.year))
        target_text = "; ".join(
            f"{t.year}{'（' + t.region + '）' if t.region else ''} {t.comparator.value} {t.value:g} — {t.source}"
            for t in targets) or "—"
        note = f" {ind.note}" if ind.note else ""
        lines.append(
            f"| {code} | {ind.name}{note} | `{ind.numerator}` | `{ind.denominator}` | "
            f"{KIND_ZH[ind.denominator_kind]} | {ind.period} | {ind.source} | {target_text} |")
    unsupported = {code: why for module in catalogue.PROGRAM_MODULES
                   for code, why in getattr(module, "NOT_SUPPORTED", {}).items()}
    if unsupported:
        lines += ["", "## Not computable from the system of record yet", ""]
        lines += [f"- **{code}**: {why}" for code, why in sorted(unsupported.items())]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="生成 docs/indicators.md")
    parser.add_argument("--check", action="store_true", help="只检查文档是否与规则库一致")
    args = parser.parse_args(argv)
    return write_or_check(DOC, render(), check=args.check, command="python -m gongwei.spec.docgen")


def write_or_check(doc: Path, text: str, *, check: bool, command: str) -> int:
    """Write a generated document, or (``check``) only say whether it is current: exit status 0 or 1."""
    if check:
        if not doc.exists() or doc.read_text(encoding="utf-8") != text:
            print(f"{doc.name} 与规则库不一致；请运行 {command}", file=sys.stderr)
            return 1
        return 0
    doc.write_text(text, encoding="utf-8")
    print(doc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
