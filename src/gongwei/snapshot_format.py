"""The snapshot contract: what ``gongwei.records.snapshot`` writes and ``gongwei.engine.snapshot`` reads.

A snapshot is a folder: one Parquet file per table (``<table>.parquet``) and ``manifest.json``. This module is
the only place that knows the folder's shape — the format version, the manifest's fields and their types, the
tables a snapshot holds and how a table name becomes a file name that cannot leave the folder — so the writer
(in ``records``, which has Django) and the reader (in ``engine``, which must not) cannot drift apart.

It imports nothing of gongwei's but :mod:`gongwei.errors` and :mod:`gongwei.files`, so both layers may use it
(tests/test_layers.py). Every refusal is one Chinese sentence naming the folder and the rule.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from gongwei.errors import UserError
from gongwei.files import inside, open_private

FORMAT = "gongwei-snapshot/2"
# Formats this version reads. /2 adds ``residents.id_key_holders`` (how many records of the snapshot hold the same
# identity key, written once with the snapshot so the record-quality indicators need not group every key; ADR 028);
# a /1 snapshot lacks the column and the engine groups the keys itself, with the same results.
READABLE_FORMATS: tuple[str, ...] = ("gongwei-snapshot/1", FORMAT)
MANIFEST = "manifest.json"
SUFFIX = ".parquet"

# The tables a snapshot holds, in the order they are written: the exchange tables (records.schema.TABLES, in
# load order) and the tables the engine reads beyond them — the change trail, the load batches and their
# per-unit tallies (上传数据有效率). tests/test_snapshot_format.py checks the writer's models match this list.
EXCHANGE_TABLES: tuple[str, ...] = (
    "org_units", "staff", "teams", "team_members", "households", "residents", "health_records", "enrollments",
    "health_examinations", "chronic_follow_ups", "smi_follow_ups", "tb_follow_ups", "newborn_visits",
    "child_checks", "prenatal_visits", "postpartum_visits", "vaccinations", "tcm_constitutions",
    "child_tcm_guidance", "vaccination_certificates", "consultations", "health_education_activities",
    "infectious_disease_reports", "emergency_event_reports", "supervision_reports", "contracts",
    "contract_services", "population_bases",
)
EXTRA_TABLES: tuple[str, ...] = ("change_log", "load_batches", "load_tallies")
TABLES: tuple[str, ...] = EXCHANGE_TABLES + EXTRA_TABLES

# A table name becomes a file name: lower-case letters, digits and underscores only, so no name can hold a
# separator, ``..`` or an absolute path (and :func:`table_path` checks the resolved path as well).
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


class SnapshotMissing(UserError, FileNotFoundError):
    """No snapshot where one was named (a FileNotFoundError too: callers take a new snapshot on it)."""


class SnapshotInvalid(UserError, ValueError):
    """A folder with a manifest that is not a snapshot this version can read."""


def table_path(folder: Path | str, table: str) -> Path:
    """``folder/<table>.parquet``, refused when ``table`` is not a table name or the file would leave ``folder``."""
    if not isinstance(table, str) or not TABLE_NAME.fullmatch(table):
        raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 含有无效的表名：{table!r}（表名只能由小写字母、数字和下划线组成）")
    try:
        return inside(Path(folder), table + SUFFIX)
    except ValueError as exc:  # a link inside the folder that points outside it
        raise SnapshotInvalid(f"快照 {folder} 的数据文件 {table}{SUFFIX} 指向快照目录之外，已拒绝") from exc


@dataclass(frozen=True)
class TableEntry:
    rows: int
    sha256: str = ""  # of the Parquet file as written (empty in manifests that predate it)


@dataclass(frozen=True)
class Manifest:
    """``manifest.json``: the format, the snapshot's id and time, the database it was read from, its tables."""

    id: str
    taken_at: str  # ISO 8601 with the time zone, to the microsecond: snapshots are ordered by it
    database: str = ""  # "postgresql" / "sqlite"
    tables: dict[str, TableEntry] = field(default_factory=dict)
    format: str = FORMAT

    def to_json(self) -> str:
        data = {"format": self.format, "id": self.id, "taken_at": self.taken_at, "database": self.database,
                "tables": {name: {"rows": t.rows, "sha256": t.sha256} for name, t in self.tables.items()}}
        return json.dumps(data, ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str, folder: Path | str) -> Manifest:
        """Parse and validate a manifest read from ``folder`` (named in every refusal)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 不是有效的 JSON（第 {exc.lineno} 行附近）") from exc
        if not isinstance(data, dict) or data.get("format") not in READABLE_FORMATS:
            found = data.get("format") if isinstance(data, dict) else None
            raise SnapshotInvalid(f"快照 {folder} 的格式 {found!r} 不受支持（应为 {' 或 '.join(READABLE_FORMATS)}）")
        missing = [k for k in ("id", "taken_at", "tables") if k not in data]
        if missing:
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 缺少字段 {'、'.join(missing)}")
        for key in ("id", "taken_at", "database"):
            if not isinstance(data.get(key, ""), str):
                raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 字段 {key} 应为文本")
        raw = data["tables"]
        if not isinstance(raw, dict):
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 结构错误：tables 应为“表名 → {{\"rows\": 行数}}”")
        bad = [name for name in raw if not TABLE_NAME.fullmatch(name)]
        if bad:  # a table name is a file name here: it must not lead out of the snapshot folder
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 含有无效的表名：{'、'.join(map(repr, bad))}")
        tables = {}
        for name, entry in raw.items():
            rows = entry.get("rows") if isinstance(entry, dict) else None
            sha = entry.get("sha256", "") if isinstance(entry, dict) else None
            if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0 or not isinstance(sha, str):
                raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 结构错误：tables 应为“表名 → {{\"rows\": 行数}}”"
                                      f"（表 {name} 的行数应为非负整数）")
            tables[name] = TableEntry(rows, sha)
        return cls(data["id"], data["taken_at"], data.get("database", ""), tables, data["format"])

    @classmethod
    def read(cls, folder: Path | str) -> Manifest:
        """The manifest of the snapshot in ``folder``: it must exist, be valid and name files that exist inside it."""
        folder = Path(folder)
        if not folder.is_dir():
            raise SnapshotMissing(f"快照目录 {folder} 不存在（快照由 gongwei snapshot 生成，默认在数据目录的 snapshots 下）")
        path = folder / MANIFEST
        if not path.is_file():
            raise SnapshotMissing(f"快照目录 {folder} 中没有 {MANIFEST}，不是 gongwei snapshot 生成的快照")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 不是有效的 JSON（第 1 行附近）") from exc
        manifest = cls.from_json(text, folder)
        missing = [name for name in manifest.tables if not table_path(folder, name).is_file()]
        if missing:
            raise SnapshotInvalid(f"快照 {folder} 缺少数据文件：{'、'.join(n + SUFFIX for n in missing)}")
        return manifest

    def write(self, folder: Path | str) -> Path:
        """Write ``manifest.json`` into ``folder``, owner-only; every table it names must be a valid file name."""
        for name in self.tables:
            table_path(folder, name)
        path = Path(folder) / MANIFEST
        with open_private(path, "w", encoding="utf-8") as f:
            f.write(self.to_json())
        return path
