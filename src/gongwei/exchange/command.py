"""``gongwei import DIR`` and ``gongwei export DIR`` (format: docs/import-format.md)."""

from __future__ import annotations

import argparse
import codecs
import getpass
import sys
from pathlib import Path

IMPORT_DESCRIPTION = """\
从目录导入数据（每张表一个 UTF-8 CSV 文件 <表名>.csv，可附 manifest.json；格式见 docs/import-format.md）。
所有行先经过与录入界面相同的校验。只要有一处错误，整批拒绝、数据库不做任何修改（退出码 1）；
加 --accept-valid 时只写入通过校验的行，错误行及引用错误行的行不写入并列入报告。
按自然键（机构代码、健康档案编号、服务记录编号……）匹配已有记录：新记录插入，内容变化的记录更新并留下
修改痕迹（修改前/修改后），内容相同的记录不变——同一批数据重复导入不会产生任何变化。
报告（UTF-8 带 BOM 的 CSV，Excel 可直接打开）默认写到 DIR/import-report.csv。
退出码：0 已写入；1 数据有错、整批拒绝；2 目录或文件结构错误（未读取数据）。"""

EXPORT_DESCRIPTION = """\
把数据库导出为导入格式的目录：按表的加载顺序每张表一个 CSV 文件，外加 manifest.json（行数与 SHA-256 校验值）。
导出的目录可以原样导入另一个数据库（导出 → 导入空库 → 再导出，CSV 文件逐字节相同）。
加 --org 时只导出该机构及其下级机构、由这些机构管理的居民及其档案、专项管理和服务记录，
并自动带上被引用的上级机构、外单位医生或团队等记录，保证导出的目录可以独立导入。"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="从目录导入 CSV 数据（导入格式见 docs/import-format.md）",
                       description=IMPORT_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", type=Path, metavar="DIR", help="数据目录：<表名>.csv 文件及可选的 manifest.json")
    p.add_argument("--accept-valid", action="store_true",
                   help="只写入通过校验的行；错误行及引用了错误行的行跳过并列入报告（默认：有错误则整批拒绝）")
    p.add_argument("--report", type=Path, metavar="FILE",
                   help="导入报告的路径（默认 DIR/import-report.csv）")
    p.add_argument("--encoding", default="utf-8", type=_encoding,
                   help="CSV 文件编码（默认 utf-8，可带 BOM）；从旧平台或中文版 Excel 导出的文件请用 gb18030"
                        "（国家标准编码，兼容 gbk 和 gb2312）")
    p.add_argument("--actor", default="", help="记入批次和修改痕迹的操作人（默认当前系统用户名）")
    p.set_defaults(func=_import)

    p = sub.add_parser("export", help="把数据库导出为导入格式的 CSV 目录",
                       description=EXPORT_DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", type=Path, metavar="DIR", help="输出目录（不存在则创建；同名文件会被覆盖）")
    p.add_argument("--org", metavar="CODE", help="只导出该机构代码（统计用区划代码）及其下级的数据")
    p.set_defaults(func=_export)


def _encoding(text: str) -> str:
    try:
        codecs.lookup(text)
    except LookupError:
        raise argparse.ArgumentTypeError(f"不认识的编码“{text}”，常用的有 utf-8 和 gb18030（兼容 gbk、gb2312）"
                                         ) from None
    return text


def _actor(args: argparse.Namespace) -> str:
    if args.actor:
        return args.actor
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no user name in some containers
        return "cli"


def _import(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gongwei.exchange.importer import import_dir, summary_lines

    bar = tqdm(desc="导入", unit="步", file=sys.stderr, disable=None, leave=False)

    def progress(label: str, rows: int) -> None:
        bar.set_description(label)
        bar.set_postfix_str(f"{rows} 行")
        bar.update(1)

    try:
        outcome = import_dir(args.dir, actor=_actor(args), accept_valid=args.accept_valid, report=args.report,
                             encoding=args.encoding, progress=progress)
    finally:
        bar.close()
    stream = sys.stdout if outcome.exit_code == 0 else sys.stderr
    for line in summary_lines(outcome):
        print(line, file=stream)
    return outcome.exit_code


def _export(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gongwei.exchange.exporter import ExportError, export_dir

    bars: dict[str, tqdm] = {}

    def progress(table: str, done: int, total: int) -> None:
        bar = bars.get(table)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[table] = tqdm(total=total, desc=f"导出 {table}", unit="行", file=sys.stderr,
                                     disable=None, leave=False)
        bar.update(done - bar.n)

    try:
        counts = export_dir(args.dir, org=args.org, progress=progress)
    except ExportError as exc:
        print(f"导出失败：{exc}", file=sys.stderr)
        return 2
    finally:
        for bar in bars.values():
            bar.close()
    total = sum(counts.values())
    print(f"已导出 {total} 行到 {args.dir}（{sum(1 for n in counts.values() if n)} 张表有数据，共 {len(counts)} 个文件）")
    for name, n in counts.items():
        if n:
            print(f"  {name}: {n}")
    return 0
