"""Files we hand to people: spreadsheet-safe cells, owner-only permissions, paths that stay in their folder.

Imports nothing of gongwei's, so every layer (exchange, snapshot, faces) may use it.

A resident's name or a free-text note that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return)
is a formula to Excel, WPS and LibreOffice when the CSV is opened (CSV injection, OWASP). Every CSV we write
escapes such text with a leading apostrophe unless the whole value is a number; every XLSX cell holding text is
written with the string type, so nothing we write is ever evaluated. The exchange import removes the apostrophe
again (:func:`unescape_text`), so an export re-imported changes nothing.

Exports, snapshots and reports hold personal data, so they are created readable by their owner only.
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"
# Text that already starts with the apostrophe is escaped too, so unescaping gives back exactly what was written.
_ESCAPE_START = (*FORMULA_START, ESCAPE)
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"
_RISKY_PATTERN = r"^[=+\-@\t\r']"
_ESCAPED_PATTERN = r"^'[=+\-@\t\r']"

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def needs_escape(value: str) -> bool:
    return value.startswith(_ESCAPE_START) and not _NUMBER.fullmatch(value)


def safe_text(value: object) -> object:
    """``value`` as a spreadsheet will show it, never run it: text that would start a formula gets an apostrophe."""
    if isinstance(value, str) and needs_escape(value):
        return ESCAPE + value
    return value


def unescape_text(value: str) -> str:
    """Undo :func:`safe_text` on a value read back from one of our files."""
    if value.startswith(ESCAPE) and needs_escape(value[1:]):
        return value[1:]
    return value


def safe_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`safe_text` over a string column, vectorised (exports run over whole populations)."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    risky = pc.and_(pc.match_substring_regex(column, _RISKY_PATTERN),
                    pc.invert(pc.match_substring_regex(column, _NUMBER_PATTERN)))
    return pc.if_else(pc.fill_null(risky, False), pc.binary_join_element_wise(ESCAPE, column, ""), column)


def unescape_column(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """:func:`unescape_text` over a string column, vectorised."""
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        return column
    escaped = pc.and_(pc.match_substring_regex(column, _ESCAPED_PATTERN),
                      pc.invert(pc.match_substring_regex(pc.utf8_slice_codeunits(column, 1), _NUMBER_PATTERN)))
    return pc.if_else(pc.fill_null(escaped, False), pc.utf8_slice_codeunits(column, 1), column)


# --- permissions and paths ----------------------------------------------------------------------------------
def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed, owner-only; a folder that already exists keeps its permissions
    (it may be the user's working folder)."""
    path = Path(path)
    if not path.exists():
        path.mkdir(parents=True)
        os.chmod(path, PRIVATE_DIR)
    return path


def open_private(path: Path, mode: str = "w", **kwargs):
    """Open ``path`` for writing, created (or truncated) with owner-only permissions."""
    path = Path(path)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, PRIVATE_FILE)
    os.chmod(path, PRIVATE_FILE)  # an existing file keeps its mode through os.open
    return open(fd, mode, **kwargs)  # noqa: SIM115 — the caller closes it


def make_private(path: Path) -> Path:
    """Owner-only permissions on a file another library wrote (openpyxl, Parquet)."""
    os.chmod(path, PRIVATE_FILE)
    return Path(path)


def inside(folder: Path, name: str) -> Path:
    """``folder / name``, refused when ``name`` would leave ``folder`` (absolute, ``..``, a link outside)."""
    folder = Path(folder).resolve()
    candidate = (folder / name).resolve()
    if Path(name).is_absolute() or not candidate.is_relative_to(folder) or candidate == folder:
        raise ValueError(f"文件名“{name}”指向文件夹 {folder} 之外，已拒绝")
    return candidate


# --- writers ------------------------------------------------------------------------------------------------
def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]], *,
              encoding: str = "utf-8-sig", lineterminator: str = "\r\n") -> Path:
    """A CSV with spreadsheet-safe cells, owner-only. ``utf-8-sig`` so Excel opens Chinese text correctly."""
    with open_private(path, "w", encoding=encoding, newline="") as f:
        writer = csv.writer(f, lineterminator=lineterminator)
        writer.writerow([safe_text(h) for h in header])
        writer.writerows([safe_text(v) for v in row] for row in rows)
    return Path(path)


def append_text_safe(ws, row: Iterable[object]) -> None:
    """``ws.append(row)`` with every text cell typed as a string (openpyxl treats text starting with ``=`` as a
    formula)."""
    values = list(row)
    ws.append(values)
    for cell, value in zip(ws[ws.max_row], values, strict=False):
        if isinstance(value, str):
            cell.data_type = "s"


def save_workbook(wb, path: Path) -> Path:
    """Save an openpyxl workbook owner-only."""
    wb.save(path)
    return make_private(path)
