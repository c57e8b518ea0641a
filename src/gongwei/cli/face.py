"""What every subcommand shares as a face: the actor, messages on stderr, progress bars, writing its output.

Subcommands parse their arguments, call one function of :mod:`gongwei.service` with :func:`actor` and render the
result with :mod:`gongwei.reports`; errors the service raises (:mod:`gongwei.service.errors`) are printed as one
sentence with exit code 2 by :func:`gongwei.cli.main.main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from gongwei.service.errors import BadRequest


def actor(args: argparse.Namespace):
    """The operator, or the login named by ``gongwei --as NAME`` (set by cli.main before the command runs)."""
    return args.requester


def notice(text: str) -> None:
    print(text, file=sys.stderr)


def rule_progress(label: str, total: int):
    """A tqdm bar on stderr; returns the per-step callback the service calls with each rule's code."""
    from tqdm import tqdm

    bar = tqdm(total=total, desc=label, unit="规则", file=sys.stderr, leave=False)

    def step(code: str) -> None:
        bar.set_postfix_str(code)
        bar.update(1)
        if bar.n >= bar.total:
            bar.close()

    return step


def require_out(args: argparse.Namespace, formats: tuple[str, ...] = ("xlsx",)) -> None:
    """Refuse a file format without ``--out`` before any work is done."""
    if args.format in formats and not args.out:
        raise BadRequest(f"{args.format} 格式需要 --out 文件名")


def emit(text: str, out: Path | None) -> None:
    if out:
        from gongwei.reports.text import write_text

        write_text(text, out)
        print(out)
    else:
        print(text)


def render(args: argparse.Namespace, result: object, *, text: Callable[[object], str],
           payload: Callable[[object], object] | None = None,
           xlsx: Callable[[object, Path], Path] | None = None) -> int:
    """Write ``result`` in the format asked for (``--format``): a JSON payload, an XLSX workbook (``--out``,
    checked by :func:`require_out` before the work), or text; to ``--out`` or the terminal. Exit code 0."""
    if args.format == "json" and payload is not None:
        emit(json.dumps(payload(result), ensure_ascii=False, indent=2), args.out)
    elif args.format == "xlsx" and xlsx is not None:
        print(xlsx(result, args.out))
    else:
        emit(text(result), args.out)
    return 0
