"""``gongwei bulletin``: draft a bulletin from stored results and write it as DOCX (+ XLSX attachment, + PDF)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from gongwei.cli.face import actor, notice


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期“{text}”无效，应为 YYYY-MM-DD，例如 2025-08-28") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    from gongwei.bulletins.template import TYPES

    p = sub.add_parser(
        "bulletin", help="生成通报（DOCX，附件 XLSX；已安装 LibreOffice 时另出 PDF）",
        description="用快照中已保存的指标和质控结果起草通报：正文由数据生成（率、数量、目标值、较上期、未达标单位、"
        "问题集中的地方），保存为草稿并写出 DOCX（可编辑）、同名 XLSX 附件，已安装 LibreOffice 时另出 PDF。"
        "结果未计算时提示先运行的命令。类型：季度工作进展情况通报（quarterly）、按期整改情况报告（rectification，"
        "第N期按当年起草顺序编号）、工作报告中的基本公共卫生服务部分（report，按年度）。")
    p.add_argument("--type", dest="kind", required=True, choices=sorted(TYPES),
                   help="通报类型：" + "、".join(f"{k}（{v}）" for k, v in TYPES.items()))
    p.add_argument("--org", required=True, help="发文单位所辖机构的统计用区划代码")
    p.add_argument("--period", required=True, help="季度，如 2025Q2（当年1月1日至该季度末）；report 为年度，如 2025")
    p.add_argument("--out", required=True, type=Path, help="输出的 DOCX 文件（XLSX、PDF 写在同一目录，同名）")
    p.add_argument("--snapshot", help="快照目录（默认最新快照；不会自动生成）")
    p.add_argument("--issued-on", type=_date, help="成文日期 YYYY-MM-DD（默认今天）")
    p.add_argument("--no-pdf", action="store_true", help="不生成 PDF")
    p.set_defaults(func=_bulletin)


def _bulletin(args: argparse.Namespace) -> int:
    from gongwei.bulletins import pdf, render
    from gongwei.service import bulletins

    out = args.out if args.out.suffix.lower() == ".docx" else args.out.with_suffix(".docx")
    b = bulletins.draft(actor(args), args.kind, args.org, args.period, snapshot=args.snapshot,
                        issued_on=args.issued_on)
    notice(f"通报草稿 {b.pk}：{b.document_number} {b.title}（快照 {b.snapshot_id}，规则库 {b.rulebook}）")
    with_pdf = not args.no_pdf and pdf.available()
    if not args.no_pdf and not with_pdf:
        notice(f"未安装 LibreOffice，不生成 PDF（安装 {pdf.PACKAGE} 后重新运行）")
    for path in render.write_all(b, out, with_pdf=with_pdf).values():
        print(path)
    return 0
