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
    parser.add_argument("--as", dest="as_user", metavar="LOGIN",
                        help="以该登录账号的权限运行（机构范围、脱敏），用于核对某一角色能看到什么；默认为命令行操作员（全部机构）")
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

    from gongwei.service import access
    from gongwei.service.errors import ServiceError

    try:
        args.actor = access.operator(args.as_user, command=" ".join(["gongwei", *(argv or sys.argv[1:])]))
        return int(args.func(args) or 0)
    except (ImproperlyConfigured, ServiceError) as exc:  # refused or malformed: one sentence, no traceback
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
