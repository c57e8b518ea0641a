"""The ``gongwei`` command. Each subcommand lives beside the module it drives and registers itself here.

Errors the user can fix end here, once for every command: one Chinese sentence on stderr and exit code 2, no
traceback (:func:`user_message`). Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import re
import sys
from pathlib import Path

from gongwei.errors import UserError

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
    "gongwei.cli.evaluation",
    "gongwei.cli.bulletin",
    "gongwei.cli.verification",
    "gongwei.cli.surveys",  # issue 13 §3: awareness and satisfaction surveys
)

# Commands whose --out names a file (the others take a folder they create). Checked before any work, so a
# typing mistake in the path does not cost a computation over the whole population.
FILE_OUTPUT_COMMANDS = frozenset({"indicators", "gaps", "worklist", "roster", "qc", "dedup", "evaluate", "bulletin"})


def _invalid_value(action: argparse.Action, value: str) -> str:
    kind = getattr(action.type, "__name__", "")
    if kind == "fromisoformat":
        return f"“{value}”不是有效的日期，应为 YYYY-MM-DD 格式的真实日期（如 2025-06-30）"
    if kind == "int":
        return f"“{value}”不是整数"
    if kind == "float":
        return f"“{value}”不是数字"
    return f"“{value}”不是有效的值"


def _unquote(text: str) -> str:
    return text.strip().strip("'\"")


# argparse's own messages (Python 3.11–3.12), worded in Chinese; anything not listed is shown as it is.
_ARGPARSE_MESSAGES = (
    (re.compile(r"the following arguments are required: (.*)"), lambda m: f"缺少必需的参数：{m[1]}"),
    (re.compile(r"unrecognized arguments: (.*)"), lambda m: f"无法识别的参数：{m[1]}"),
    (re.compile(r"one of the arguments (.*) is required"), lambda m: f"参数 {m[1]} 必须给出其中一个"),
    (re.compile(r"ambiguous option: (\S+) could match (.*)"), lambda m: f"选项 {m[1]} 有歧义，可能是 {m[2]}"),
    (re.compile(r"argument COMMAND: invalid choice: (.*?) \(choose from (.*)\)"),
     lambda m: f"没有命令“{_unquote(m[1])}”（可用的命令：{'、'.join(map(_unquote, m[2].split(',')))}）"),
    (re.compile(r"argument (\S+): invalid choice: (.*?) \(choose from (.*)\)"),
     lambda m: f"参数 {m[1]} 的值“{_unquote(m[2])}”不在可选范围内（可选：{'、'.join(map(_unquote, m[3].split(',')))}）"),
    (re.compile(r"argument (\S+): expected one argument"), lambda m: f"参数 {m[1]} 后面缺少取值"),
    (re.compile(r"argument (\S+): expected at least one argument"), lambda m: f"参数 {m[1]} 后面至少要有一个取值"),
    (re.compile(r"argument (\S+): not allowed with argument (\S+)"), lambda m: f"参数 {m[1]} 不能与 {m[2]} 同时使用"),
    (re.compile(r"argument (\S+): (.*)", re.S), lambda m: f"参数 {m[1]}：{m[2]}"),
)


def _chinese(message: str) -> str:
    for pattern, word in _ARGPARSE_MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return word(match)
    return message


class ChineseArgumentParser(argparse.ArgumentParser):
    """argparse with its errors in one Chinese sentence (exit code 2, as argparse does)."""

    def _get_value(self, action: argparse.Action, arg_string: str):
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError as exc:
            if isinstance(exc.__context__, argparse.ArgumentTypeError):
                raise  # the type worded its own message
            raise argparse.ArgumentError(action, _invalid_value(action, arg_string)) from None

    def error(self, message: str):
        self.exit(2, f"{self.prog}：{_chinese(message)}；用法见 {self.prog} --help。\n")


def output_file(text: str) -> Path:
    """An argparse ``type`` for an output file: refused at parse time when it cannot be written."""
    try:
        return check_output_file(Path(text))
    except UserError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def check_output_file(path: Path) -> Path:
    """Prove ``path`` can be written — by trying, since permission bits say nothing for root or a read-only mount."""
    if path.is_dir():
        raise UserError(f"输出文件 {path} 是一个已有的目录，请给出文件名")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise UserError(f"输出文件 {path} 所在的目录 {folder} 不存在，请先创建该目录或换一个输出路径")
    try:
        if path.exists():
            os.close(os.open(path, os.O_WRONLY))  # no truncation: the command may still fail before writing
        else:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            path.unlink()
    except OSError as exc:
        raise UserError(f"无法写入输出文件 {path}：{_os_reason(exc)}") from None
    return path


def _os_reason(exc: OSError) -> str:
    return {
        errno.EACCES: "没有写入权限",
        errno.EPERM: "没有写入权限",
        errno.EROFS: "所在的文件系统是只读的",
        errno.ENOSPC: "磁盘空间不足",
        errno.EISDIR: "这是一个目录",
        errno.ENOTDIR: "路径中有一段不是目录",
        errno.ENOENT: "文件或目录不存在",
        errno.EEXIST: "已经存在",
        errno.ENAMETOOLONG: "路径太长",
    }.get(exc.errno, exc.strerror or "操作系统拒绝了访问")


def _os_message(exc: OSError) -> str | None:
    if not exc.filename:
        return None  # not about a path the user gave: a bug, keep the traceback
    path = Path(os.fsdecode(exc.filename))
    if exc.errno == errno.ENOENT and not path.absolute().parent.exists():
        return f"目录 {path.absolute().parent} 不存在，无法使用 {path}；请先创建该目录或换一个路径"
    return f"无法访问 {path}：{_os_reason(exc)}"


def _database_message(exc: Exception) -> str | None:
    from django.db import DatabaseError, connection

    if not isinstance(exc, DatabaseError):
        return None
    text = str(exc)
    where = connection.settings_dict.get("NAME")
    if connection.vendor != "sqlite":
        where = f"{connection.settings_dict.get('HOST') or '本机'} 上的 {where}"
    if "no such table" in text or 'relation "' in text and "does not exist" in text:
        return f"数据库 {where} 还没有建表或表结构过旧，请先运行 gongwei migrate"
    if connection.vendor != "sqlite" and connection.connection is None:
        detail = text.strip().splitlines()[-1] if text.strip() else ""
        return f"无法连接 DATABASE_URL 指定的数据库（{where}），请检查数据库是否已创建、服务是否运行（{detail}）"
    return None


def user_message(exc: BaseException) -> str | None:
    """The sentence to show for an error the user can fix, or None for a bug."""
    if isinstance(exc, UserError):
        return str(exc)
    if "django" in sys.modules:
        from django.core.exceptions import ImproperlyConfigured

        if isinstance(exc, ImproperlyConfigured):  # a configuration the command refuses
            return str(exc)
        if "django.db" in sys.modules:
            message = _database_message(exc)
            if message:
                return message
    if isinstance(exc, OSError):
        return _os_message(exc)
    return None


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongwei.settings")
    import django

    django.setup()


def build_parser() -> argparse.ArgumentParser:
    parser = ChineseArgumentParser(
        prog="gongwei",
        description="公卫 gongwei — 国家基本公共卫生服务项目信息系统。数据库由环境变量 DATABASE_URL 指定；"
        "未设置时使用数据目录中的内置 SQLite 文件 gongwei.sqlite3：GONGWEI_DATA_DIR，或当前目录及其上级目录中"
        "最近的 data 目录，都没有时为 ./data（由 gongwei migrate 或 gongwei demo 创建）。",
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
    try:
        out = getattr(args, "out", None)
        if args.command in FILE_OUTPUT_COMMANDS and out is not None:
            check_output_file(Path(out))
        setup_django()
        from gongwei.cli.db import prepare_database

        prepare_database(args)
        from gongwei.service import access

        args.requester = access.operator(args.as_user, command=" ".join(["gongwei", *(argv or sys.argv[1:])]))
        return int(args.func(args) or 0)
    except KeyboardInterrupt:  # Ctrl+C is the user's choice, not a crash
        print("已中断。", file=sys.stderr)
        return 130
    except Exception as exc:
        message = user_message(exc)
        if message is None:
            raise
        print(message if message.endswith(("。", "！", "？")) else message + "。", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
