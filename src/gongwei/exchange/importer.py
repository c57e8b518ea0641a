"""Import an exchange folder (``gongwei import DIR``): read, submit through the entry layer, report.

Everything is validated by :func:`gongwei.records.entry.submit`; this module only reads the folder
(:func:`gongwei.exchange.layout.read_dir`) and turns the outcome into a report CSV (UTF-8 with BOM so
Excel opens it) and a Chinese summary.
"""

from __future__ import annotations

import codecs
import csv
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from gongwei.exchange.layout import REPORT_NAME, LayoutError, read_dir
from gongwei.records import entry
from gongwei.records.entry import Issue, SubmitResult

REPORT_COLUMNS = ("file", "row", "field", "value", "rule", "message")

# Chinese names of the entry layer's rules, for summaries and the documentation.
RULE_NAMES = {
    "required": "必填项为空",
    "format_int": "整数格式错误",
    "format_dec": "数字格式错误",
    "format_date": "日期格式错误",
    "format_datetime": "日期时间格式错误",
    "format_bool": "是/否格式错误",
    "max_length": "超过最大长度",
    "vocab": "值域代码无效",
    "bounds": "超出可能范围",
    "ordered": "数值大小关系不成立（如舒张压≥收缩压）",
    "date_order": "结束日期早于开始日期",
    "ref_missing": "引用的记录不存在",
    "duplicate_key": "同一批数据中主键重复",
    "layout": "文件结构错误",
    "summary": "汇总",
}


@dataclass
class ImportOutcome:
    status: str  # "written" | "rejected" | "layout_error"
    report_path: Path
    issues: list[Issue] = field(default_factory=list)
    result: SubmitResult | None = None
    error: str = ""

    @property
    def exit_code(self) -> int:
        return {"written": 0, "rejected": 1, "layout_error": 2}[self.status]


def rule_name(rule: str) -> str:
    return RULE_NAMES.get(rule, rule)


def write_report(path: Path, issues: list[Issue], result: SubmitResult | None = None, *,
                 rejected: bool = False, layout_error: str = "") -> Path:
    """The report CSV: per-table summary rows (rule ``summary``), then one row per issue."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(REPORT_COLUMNS)
        if layout_error:
            w.writerow(["", "", "", "", "layout", layout_error])
        if result is not None:
            for name, tr in result.tables.items():
                w.writerow([f"{name}.csv", "", "", "", "summary",
                            f"收到 {tr.received} 行：新增 {tr.inserted}，更新 {tr.updated}，未变 {tr.unchanged}，"
                            f"未导入 {tr.rejected}"])
        if rejected:
            w.writerow(["", "", "", "", "summary", f"共 {len(issues)} 个问题，整批未写入（数据库未做任何修改）"])
        for i in issues:
            w.writerow([f"{i.table}.csv", i.row or "", i.field, i.value, i.rule, i.message])
    return path


# The national standard for Chinese text; a superset of GBK and GB2312, so it also reads files saved as those.
# Exports from older provincial platforms and from Excel on a Chinese Windows are usually in one of them.
LEGACY_ENCODING = "gb18030"


def _undecodable_line(folder: Path, encoding: str) -> tuple[Path, int] | None:
    """The first CSV file and line in ``folder`` that ``encoding`` cannot decode (None when all can).

    Runs only after reading failed, to name the place; lines split safely on the newline byte because no
    multi-byte sequence of UTF-8, GBK or GB18030 contains it.
    """
    codec = codecs.lookup(encoding).name
    for path in sorted(folder.glob("*.csv")):
        with path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    raw.decode(codec)
                except UnicodeDecodeError:
                    return path, number
    return None


def _encoding_error(folder: Path, encoding: str) -> str | None:
    place = _undecodable_line(folder, encoding) if folder.is_dir() else None
    if place is None:
        return None
    path, line = place
    if codecs.lookup(encoding).name == "utf-8":
        hint = (f"请另存为 UTF-8，或加 --encoding {LEGACY_ENCODING} 按国家标准编码 GB18030 读取"
                "（兼容 GBK 和 GB2312，旧平台和中文版 Excel 导出的文件多为此编码）")
    else:
        hint = "请确认文件的实际编码后用 --encoding 指定（不加时按 UTF-8 读取）"
    return f"文件 {path.name} 第 {line} 行不是 {encoding} 编码，无法读取；{hint}"


def import_dir(folder: Path, *, actor: str, accept_valid: bool = False, report: Path | None = None,
               encoding: str = "utf-8", progress: entry.Progress | None = None) -> ImportOutcome:
    folder = Path(folder)
    report_path = Path(report) if report else folder / REPORT_NAME
    try:
        batch, _manifest = read_dir(folder, encoding=encoding)
    except (LayoutError, UnicodeDecodeError) as exc:  # a decoder inside pyarrow raises the latter unwrapped
        decoding = isinstance(exc, UnicodeDecodeError) or isinstance(exc.__cause__, UnicodeDecodeError) or (
            "utf8" in str(exc.__cause__).lower().replace("-", ""))
        message = (_encoding_error(folder, encoding) if decoding else None) or str(exc)
        if folder.is_dir() or report:
            write_report(report_path, [], layout_error=message)
        return ImportOutcome("layout_error", report_path, error=message)
    if not batch:
        msg = f"目录 {folder} 中没有可导入的数据文件（<表名>.csv）"
        if folder.is_dir() or report:
            write_report(report_path, [], layout_error=msg)
        return ImportOutcome("layout_error", report_path, error=msg)
    try:
        result = entry.submit(batch, actor=actor, kind="import", source=str(folder.resolve()),
                              accept_valid=accept_valid, progress=progress)
    except entry.Rejected as exc:
        write_report(report_path, exc.issues, rejected=True)
        return ImportOutcome("rejected", report_path, issues=exc.issues)
    write_report(report_path, result.issues, result)
    return ImportOutcome("written", report_path, issues=result.issues, result=result)


def summary_lines(outcome: ImportOutcome) -> list[str]:
    """A Chinese summary for the terminal."""
    lines: list[str] = []
    if outcome.status == "layout_error":
        return [f"导入失败：{outcome.error}"]
    if outcome.status == "rejected":
        lines.append(f"导入被拒绝：发现 {len(outcome.issues)} 个数据问题，整批未写入（数据库未做任何修改）。")
    elif outcome.result is not None:
        r = outcome.result
        tot = {k: sum(getattr(t, k) for t in r.tables.values())
               for k in ("received", "inserted", "updated", "unchanged", "rejected")}
        lines.append(f"导入完成（批次 {r.batch_id}）：收到 {tot['received']} 行，新增 {tot['inserted']}，"
                     f"更新 {tot['updated']}，未变 {tot['unchanged']}，未导入 {tot['rejected']}。")
        for name, t in r.tables.items():
            lines.append(f"  {name}: 收到 {t.received}，新增 {t.inserted}，更新 {t.updated}，"
                         f"未变 {t.unchanged}，未导入 {t.rejected}")
    if outcome.issues:
        lines.append("问题按规则统计：")
        by_rule = Counter(i.rule for i in outcome.issues if i.row)
        by_table_rule = Counter((i.table, i.rule) for i in outcome.issues if i.row)
        for rule, n in by_rule.most_common():
            tables_ = "，".join(f"{t} {c}" for (t, r), c in sorted(by_table_rule.items()) if r == rule)
            lines.append(f"  {rule}（{rule_name(rule)}）：{n} 处（{tables_}）")
    lines.append(f"报告：{outcome.report_path}")
    return lines
