"""The exchange folder layout: one UTF-8 CSV per table plus ``manifest.json``.

Writing (:func:`write_dir`, :class:`DirWriter`) formats typed or string Arrow columns into the documented
value formats (dates ``YYYY-MM-DD``, datetimes ISO 8601 with ``+08:00``, booleans ``1``/``0``, empty for
null) and records row counts and SHA-256 checksums in the manifest. Reading (:func:`read_dir`) returns
all-string Arrow tables ready for :func:`gongwei.records.entry.submit`, after checking the manifest.

A folder without ``manifest.json`` is accepted (sets mapped by hand from another platform rarely have
one); when a manifest is present every listed file must exist and match its checksum and row count, and
no unlisted data file may be present. See docs/import-format.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from gongwei.files import inside, open_private, private_dir, safe_column, unescape_column

FORMAT_NAME = "gongwei-exchange"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
REPORT_NAME = "import-report.csv"
# Files in a folder that are never data: the import report written next to the data.
IGNORED_FILES = frozenset({REPORT_NAME})
TZ = "Asia/Shanghai"
_TZ_SUFFIX = "+08:00"


class LayoutError(ValueError):
    """The folder cannot be read as an exchange set (message in Chinese, naming the file/column)."""


# --- value formatting ---------------------------------------------------------------------------------
def _blank_strings(n: int) -> pa.Array:
    return pa.array([""] * n, pa.string()) if n else pa.array([], pa.string())


def format_column(arr: pa.Array | pa.ChunkedArray, kind: str | None = None) -> pa.Array:
    """Render one column as non-null strings in the exchange value format (vectorised)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    n = len(arr)
    t = arr.type
    if pa.types.is_null(t):
        return _blank_strings(n)
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return pc.fill_null(arr.cast(pa.string()), "")
    if pa.types.is_boolean(t):
        out = pc.if_else(arr, "1", "0")
    elif pa.types.is_timestamp(t):
        if kind == "date":
            if t.tz:
                arr = pc.local_timestamp(arr.cast(pa.timestamp(t.unit, tz=TZ)))
            out = pc.strftime(arr.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%d")
        else:
            if t.tz:  # render wall-clock time in China Standard Time
                arr = pc.local_timestamp(arr.cast(pa.timestamp(t.unit, tz=TZ)))
            out = pc.binary_join_element_wise(
                pc.strftime(arr.cast(pa.timestamp("s"), safe=False), format="%Y-%m-%dT%H:%M:%S"),
                pa.scalar(_TZ_SUFFIX), "")
    elif pa.types.is_date(t):
        out = pc.strftime(arr.cast(pa.date32()).cast(pa.timestamp("s")), format="%Y-%m-%d")
    elif pa.types.is_floating(t) and kind in ("int", "bool"):
        out = pc.cast(pc.cast(arr, pa.int64(), safe=False), pa.string())
        if kind == "bool":
            out = pc.if_else(pc.equal(out, "0"), "0", "1")
    elif pa.types.is_integer(t) and kind == "bool":
        out = pc.if_else(pc.equal(arr, 0), "0", "1")
    else:  # integers, floats, decimals
        out = pc.cast(arr, pa.string())
    return pc.fill_null(out, "")


def _needs_quotes(tbl: pa.Table) -> bool:
    return any(len(col) and pc.any(pc.match_substring_regex(col, r'[,"\r\n]')).as_py() for col in tbl.columns)


def _header_line(columns: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(columns)
    return buf.getvalue().encode("utf-8")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- writing ------------------------------------------------------------------------------------------
class DirWriter:
    """Write an exchange folder table by table, streaming chunks; :meth:`close` writes the manifest."""

    def __init__(self, out_dir: Path, *, source: str = ""):
        self.out_dir = Path(out_dir)
        private_dir(self.out_dir)
        self.source = source
        self.files: list[dict] = []

    def write_table(self, name: str, chunks: Iterable[pa.Table | pa.RecordBatch], *,
                    columns: list[str] | None = None, extra: bool = False) -> int:
        """Write ``<name>.csv`` from ``chunks``; schema tables get the schema's columns in schema order."""
        from gongwei.records.schema import tables

        schema = tables()
        kinds: dict[str, str] = {}
        if not extra:
            if name not in schema:
                raise LayoutError(f"未知的数据表：{name}")
            table = schema[name]
            columns = table.column_names
            kinds = {c.name: c.kind for c in table.columns}
        path = self.out_dir / f"{name}.csv"
        rows = 0
        with open_private(path, "wb") as f:
            header_written = False
            for chunk in chunks:
                if columns is None:
                    columns = list(chunk.schema.names)
                if not header_written:
                    f.write(_header_line(columns))
                    header_written = True
                n = chunk.num_rows
                if not n:
                    continue
                present = set(chunk.schema.names)
                # text that a spreadsheet would run as a formula is escaped (gongwei.files; undone on import)
                cols = [safe_column(format_column(chunk.column(c), kinds.get(c))) if c in present
                        else _blank_strings(n) for c in columns]
                out = pa.table(cols, names=[f"c{i}" for i in range(len(columns))])
                if _needs_quotes(out):  # minimal quoting, as a spreadsheet would write it
                    text = io.StringIO()
                    csv.writer(text, lineterminator="\n").writerows(zip(*(c.to_pylist() for c in out.columns),
                                                                           strict=True))
                    f.write(text.getvalue().encode("utf-8"))
                else:
                    pacsv.write_csv(out, f, pacsv.WriteOptions(include_header=False, quoting_style="none"))
                rows += n
            if not header_written:
                f.write(_header_line(columns or []))
        entry = {"file": path.name, "table": name, "rows": rows, "sha256": _sha256(path),
                 "columns": list(columns or [])}
        if extra:
            entry["extra"] = True
        self.files.append(entry)
        return rows

    def close(self) -> Path:
        manifest = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "generated_at": dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
            .isoformat(timespec="seconds"),
            "source": self.source,
            "files": self.files,
        }
        path = self.out_dir / MANIFEST
        with open_private(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
        return path


def write_dir(batch: dict[str, pa.Table], out_dir: Path, *, extra: dict[str, pa.Table] | None = None,
              source: str = "") -> Path:
    """Write ``batch`` (exchange table name → Arrow table) as an exchange folder; returns the folder.

    Schema tables are written in schema (loading) order; ``extra`` tables (e.g. ``labels``) are written
    as additional files with their own columns and marked ``"extra": true`` in the manifest.
    """
    from gongwei.records.schema import tables

    unknown = set(batch) - set(tables())
    if unknown:
        raise LayoutError(f"未知的数据表：{'、'.join(sorted(unknown))}")
    w = DirWriter(out_dir, source=source)
    for name in tables():
        if name in batch:
            w.write_table(name, [batch[name]])
    for name, tbl in (extra or {}).items():
        w.write_table(name, [tbl], extra=True)
    w.close()
    return Path(out_dir)


# --- reading ------------------------------------------------------------------------------------------
def _read_header(path: Path, encoding: str) -> list[str]:
    try:
        with path.open("r", encoding="utf-8-sig" if encoding.replace("-", "").lower() == "utf8" else encoding,
                       newline="") as f:
            header = next(csv.reader(f), None)
    except UnicodeDecodeError as exc:
        raise LayoutError(f"文件 {path.name} 不是 {encoding} 编码（{exc.reason}，位置 {exc.start}）；"
                          "请另存为 UTF-8，或用 --encoding 指定编码（如 gbk）") from exc
    if not header:
        raise LayoutError(f"文件 {path.name} 为空，缺少表头行")
    return [h.strip() for h in header]


def _check_header(path: Path, table_name: str, header: list[str]) -> None:
    from gongwei.records.schema import tables

    expected = tables()[table_name].column_names
    seen: set[str] = set()
    for h in header:
        if h in seen:
            raise LayoutError(f"文件 {path.name} 的表头中列“{h}”重复出现")
        seen.add(h)
    unknown = [h for h in header if h not in expected]
    if unknown:
        raise LayoutError(f"文件 {path.name} 含有未知列：{'、'.join(unknown)}（该表允许的列：{'、'.join(expected)}）")
    missing = [c for c in expected if c not in seen]
    if missing:
        raise LayoutError(f"文件 {path.name} 缺少列：{'、'.join(missing)}（每个文件必须包含该表的全部列，"
                          "没有数据的列保留表头、内容留空）")


def read_csv_strings(path: Path, columns: list[str], *, encoding: str = "utf-8") -> pa.Table:
    """Read one CSV whose header is ``columns`` as an all-string Arrow table (empty cells → ""); text our export
    escaped against spreadsheet formulas comes back as it was."""
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[],
            ),
        )
        return pa.table({name: unescape_column(table.column(name)) for name in table.column_names})
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "utf8" in msg.lower():
            raise LayoutError(f"文件 {path.name} 含有非 UTF-8 字符；请另存为 UTF-8，或用 --encoding 指定编码（如 gbk）"
                              ) from exc
        raise LayoutError(f"文件 {path.name} 不是有效的 CSV：{msg}") from exc


def read_manifest(folder: Path) -> dict | None:
    path = Path(folder) / MANIFEST
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise LayoutError(f"{MANIFEST} 不是有效的 JSON：{exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise LayoutError(f"{MANIFEST} 的 format 应为“{FORMAT_NAME}”")
    version = manifest.get("version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise LayoutError(f"{MANIFEST} 的版本 {version!r} 不受支持（本程序支持版本 ≤ {FORMAT_VERSION}）")
    if not isinstance(manifest.get("files"), list):
        raise LayoutError(f"{MANIFEST} 缺少 files 列表")
    return manifest


def read_dir(folder: Path, *, encoding: str = "utf-8") -> tuple[dict[str, pa.Table], dict]:
    """Read an exchange folder: (table name → all-string Arrow table in schema column order, manifest).

    Without ``manifest.json`` the returned manifest is ``{"files": [...], "manifest": False}`` built from
    the files found. Raises :class:`LayoutError` (Chinese message naming the file/column) on any problem.
    """
    from gongwei.records.schema import tables

    folder = Path(folder)
    if not folder.is_dir():
        raise LayoutError(f"目录 {folder} 不存在")
    schema = tables()
    manifest = read_manifest(folder)
    listed: dict[str, dict] = {}
    if manifest is not None:
        for entry in manifest["files"]:
            name = entry.get("file") if isinstance(entry, dict) else None
            if not name:
                raise LayoutError(f"{MANIFEST} 的 files 中有缺少 file 字段的条目")
            try:
                path = inside(folder, name)
            except ValueError as exc:
                raise LayoutError(f"{MANIFEST} 列出的文件名 {name} 指向导入目录之外，已拒绝") from exc
            if not path.is_file():
                raise LayoutError(f"{MANIFEST} 列出的文件 {name} 不存在")
            digest = _sha256(path)
            if entry.get("sha256") and digest != entry["sha256"]:
                raise LayoutError(f"文件 {name} 的 SHA-256 校验值与 {MANIFEST} 不符：文件在导出后被修改或已损坏"
                                  f"（应为 {entry['sha256']}，实际 {digest}）。如确系有意修改，请删除 {MANIFEST} 后再导入")
            listed[name] = entry
    csv_files = sorted(p for p in folder.iterdir()
                       if p.is_file() and p.suffix.lower() == ".csv" and p.name not in IGNORED_FILES)
    found: dict[str, Path] = {}
    for path in csv_files:
        entry = listed.get(path.name)
        if manifest is not None and entry is None:
            raise LayoutError(f"文件 {path.name} 未列入 {MANIFEST}；请删除该文件，或删除 {MANIFEST} 后再导入")
        if entry is not None and entry.get("extra"):
            continue
        table_name = path.stem
        if table_name not in schema:
            raise LayoutError(f"未知文件 {path.name}：不是已知的数据表（允许的文件名：" +
                              "、".join(f"{t}.csv" for t in schema) + "）")
        if path.name != f"{table_name}.csv":
            raise LayoutError(f"文件名 {path.name} 应为小写扩展名 {table_name}.csv")
        found[table_name] = path
    batch: dict[str, pa.Table] = {}
    files_info: list[dict] = []
    for table_name in schema:  # loading order
        path = found.get(table_name)
        if path is None:
            continue
        header = _read_header(path, encoding)
        _check_header(path, table_name, header)
        entry = listed.get(path.name)
        if entry is not None and entry.get("columns") and list(entry["columns"]) != header:
            raise LayoutError(f"文件 {path.name} 的表头与 {MANIFEST} 记录的列不一致")
        tbl = read_csv_strings(path, header, encoding=encoding)
        if tbl.column_names != header:
            raise LayoutError(f"文件 {path.name} 的表头无法解析")
        if entry is not None and "rows" in entry and int(entry["rows"]) != tbl.num_rows:
            raise LayoutError(f"文件 {path.name} 有 {tbl.num_rows} 行数据，而 {MANIFEST} 记录为 {entry['rows']} 行")
        batch[table_name] = tbl.select(schema[table_name].column_names)
        files_info.append({"file": path.name, "table": table_name, "rows": tbl.num_rows, "columns": header})
    if manifest is None:
        manifest = {"manifest": False, "files": files_info}
    return batch, manifest


def read_extra(folder: Path, name: str, *, encoding: str = "utf-8") -> pa.Table:
    """Read an extra (non-schema) file such as ``labels.csv`` as an all-string table."""
    path = Path(folder) / f"{name}.csv"
    header = _read_header(path, encoding)
    return read_csv_strings(path, header, encoding=encoding)
