"""The ``gongwei`` command. Each subcommand lives beside the module it drives and registers itself here."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# (module, help) — each module defines ``add_parser(subparsers)`` which sets ``func`` on its parser.
SUBCOMMAND_MODULES = (
    "gongwei.cli.db",
    "gongwei.synth.command",
    "gongwei.exchange.command",
    "gongwei.cli.demo",
    "gongwei.cli.analysis",
    "gongwei.cli.workflow",
    "gongwei.cli.dedup",
    "gongwei.cli.quality",
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gongwei",
        description="公卫 gongwei — 国家基本公共卫生服务项目信息系统。数据库由环境变量 DATABASE_URL 指定，"
        "未设置时使用 ./data 下的内置 SQLite 文件。",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a module still being built must not break the others
            if exc.name != name:
                raise
            continue
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_django()
    from django.core.exceptions import ImproperlyConfigured

    try:
        return int(args.func(args) or 0)
    except ImproperlyConfigured as exc:  # a configuration the command refuses: one sentence, no traceback
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
