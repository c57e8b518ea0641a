"""``gongwei synth``: generate a synthetic region and load it, or write it as an import folder."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

DESCRIPTION = """\
生成一个可复现的合成地区（省 › 市 › 县区 › 乡镇卫生院/社区卫生服务中心 › 村卫生室/社区卫生服务站），
包括居民、家庭、健康档案、专项管理、各类服务记录、家庭医生签约、基础数据（常住人口、任务数等），
并按已知比例注入数据问题（重复档案、身份证号为空或错误、体检数据雷同、左右臂血压差、
血压控制不满意无指导、死亡或迁出后仍有服务、传染病迟报等），同时给出每个问题的“标准答案”标签。
同一个 --seed 总是生成完全相同的数据。
默认经与录入界面相同的校验层写入 DATABASE_URL 指定的数据库（未设置时为内置 SQLite）；
--format csv --out DIR 则写成导入格式的目录（每表一个 CSV + manifest.json，标签另存 labels.csv），
可用 gongwei import DIR 导入。问题代码见 docs/synth.md。"""


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD，实际为“{text}”") from exc


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"应为正整数，实际为“{text}”") from exc
    if value <= 0:
        raise argparse.ArgumentTypeError(f"应为正整数，实际为“{text}”")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("synth", help="生成合成地区数据（含注入问题的标准答案标签）", description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=_positive, required=True, metavar="N", help="居民人数（例如 100000）")
    p.add_argument("--seed", type=int, required=True, metavar="S", help="随机种子：相同种子生成相同数据")
    p.add_argument("--as-of", type=_date, default=None, metavar="DATE",
                   help="数据截止日期 YYYY-MM-DD（默认今天）")
    p.add_argument("--months", type=_positive, default=None, metavar="M",
                   help="服务记录覆盖截止日期前的 M 个月（默认：从上一年1月1日到截止日期，含一个完整自然年）")
    p.add_argument("--format", choices=("db", "csv"), default="db",
                   help="db：写入数据库（默认）；csv：写成导入格式目录（需 --out）")
    p.add_argument("--out", type=Path, metavar="DIR", help="--format csv 时的输出目录")
    p.add_argument("--no-progress", action="store_true", help="不显示进度条")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from gongwei.synth.generate import generate_region

    if args.format == "csv" and args.out is None:
        print("错误：--format csv 需要 --out DIR", file=sys.stderr)
        return 2
    steps = tqdm(total=10, desc="生成合成地区", unit="步", file=sys.stderr, disable=args.no_progress or None,
                 leave=False)

    def step(name: str) -> None:
        steps.set_postfix_str(name, refresh=False)
        steps.update(1)

    region = generate_region(args.residents, args.seed, as_of=args.as_of, months=args.months, progress=step)
    steps.close()
    print(f"已生成：居民 {region.residents} 人，共 {region.row_count} 行，服务期间 "
          f"{region.start.isoformat()} 至 {region.as_of.isoformat()}，注入问题标签 {region.labels.num_rows} 条。")
    if args.format == "csv":
        from gongwei.exchange.layout import write_dir

        out = write_dir(region.tables, args.out, extra={"labels": region.labels},
                        source=f"gongwei synth --residents {args.residents} --seed {args.seed}")
        print(f"已写出导入格式目录：{out}（标签：labels.csv）")
        return 0
    from django.core.management import call_command

    from gongwei.synth.load import load_region

    call_command("migrate", interactive=False, verbosity=0)
    result = load_region(region, progress=not args.no_progress)
    inserted = sum(t.inserted for t in result.tables.values())
    updated = sum(t.updated for t in result.tables.values())
    unchanged = sum(t.unchanged for t in result.tables.values())
    print(f"已写入数据库：新增 {inserted} 行，更新 {updated} 行，未变 {unchanged} 行（批次 #{result.batch_id}）。")
    return 0
