"""Database subcommands (``gongwei migrate``, ``gongwei manage``) and where every command finds its database.

Each command either builds a database where there is none (``migrate``, ``demo``, ``synth`` into the database,
``manage migrate``), needs none (``synth --format csv``, ``manage check`` and the like), or needs one that
exists. The last kind is refused before any work when the embedded SQLite file is missing, with the path
gongwei looked at and the command that creates it — otherwise SQLite would quietly create an empty file and the
command would fail on a missing table.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gongwei.errors import DatabaseMissing

# Django management commands that never open the database.
MANAGE_WITHOUT_DATABASE = frozenset({"help", "check", "version", "diffsettings", "collectstatic",
                                     "compilemessages", "makemessages"})


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


def database_use(args: argparse.Namespace) -> str:
    """``"creates"``, ``"none"`` or ``"needs"``: how the parsed command meets the database."""
    command = getattr(args, "command", None)
    if command in ("migrate", "demo"):
        return "creates"
    if command == "synth":
        return "none" if getattr(args, "format", "db") == "csv" else "creates"
    if command == "manage":
        name = next((a for a in args.args if not a.startswith("-")), "help")
        if name == "migrate":
            return "creates"
        if name in MANAGE_WITHOUT_DATABASE:
            return "none"
    return "needs"


def prepare_database(args: argparse.Namespace) -> None:
    """Make room for a database the command builds, or refuse a command whose database is missing.

    Only looks at the file system: opening the connection is what would create an empty SQLite file.
    """
    from django.db import connections

    connection = connections["default"]
    use = database_use(args)
    if use == "none" or connection.vendor != "sqlite":
        return  # a missing PostgreSQL database is reported when the connection fails (cli.main)
    name = str(connection.settings_dict["NAME"])
    if connection.creation.is_in_memory_db(name):
        return
    path = Path(name)
    if use == "creates":
        # the data folder holds personal data: readable by its owner only
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        return
    if not path.is_file() or path.stat().st_size == 0:
        raise DatabaseMissing(missing_message(path))


def missing_message(path: Path) -> str:
    empty = path.is_file()  # a zero-byte file left by an older version is no database either
    if os.environ.get("DATABASE_URL", "").strip():
        where = f"DATABASE_URL 指定的 SQLite 数据库文件 {path} {'是空文件' if empty else '不存在'}"
    elif os.environ.get("GONGWEI_DATA_DIR", "").strip():
        where = f"GONGWEI_DATA_DIR 指定的数据目录中{'的数据库文件是空文件' if empty else '没有数据库文件'}（{path}）"
    elif empty:
        where = f"数据库文件 {path} 是空文件"
    else:
        where = f"当前目录 {Path.cwd()} 及其各级上级目录中都没有 data/{path.name}"
    return (f"没有找到数据库：{where}；如要在 {path} 新建，请运行 gongwei migrate（空数据库）或 gongwei demo"
            "（演示数据），如已有数据库，请到它所在的项目目录运行，或用环境变量 GONGWEI_DATA_DIR 或 DATABASE_URL 指明位置。")
