"""Database subcommands: ``gongwei migrate`` and ``gongwei manage`` (any Django management command)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="创建或升级数据库表结构", description="创建或升级数据库表结构（Django migrate）。")
    p.set_defaults(func=_migrate)
    p = sub.add_parser("manage", help="运行 Django 管理命令", description="运行任意 Django 管理命令，例如 gongwei manage createsuperuser。")
    p.add_argument("args", nargs=argparse.REMAINDER, help="传给 django-admin 的参数")
    p.set_defaults(func=_manage)


def _migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)
    return 0


def _manage(args: argparse.Namespace) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["gongwei manage", *args.args])
    return 0
