"""Plain-text tables that line up with Chinese characters (two columns wide in a terminal), and small helpers."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int, right: bool = False) -> str:
    fill = " " * max(0, size - width(text))
    return fill + text if right else text + fill


def render(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[bool] | None = None) -> str:
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    widths = [max([width(h)] + [width(r[i]) for r in cells]) for i, h in enumerate(headers)]
    numeric = numeric or [False] * len(headers)
    lines = ["  ".join(pad(h, widths[i], numeric[i]) for i, h in enumerate(headers)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(pad(c, widths[i], numeric[i]) for i, c in enumerate(r)) for r in cells]
    return "\n".join(lines)


def pct(x: float | None) -> str:
    return "" if x is None else f"{x * 100:.2f}%"


def write_text(text: str, out) -> None:
    """Write ``text`` to ``out``, readable by the owner only."""
    from pathlib import Path

    from gongwei.files import open_private

    with open_private(Path(out), "w", encoding="utf-8") as f:
        f.write(text + "\n")


def jsonable(value):
    """Dates as ISO text, everything else as is (for json.dumps of engine rows)."""
    import datetime as dt

    return value.isoformat() if isinstance(value, dt.date) else value
