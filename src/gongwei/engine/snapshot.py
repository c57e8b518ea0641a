"""Reading snapshots written by ``gongwei.records.snapshot`` (Parquet per table + manifest.json)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from gongwei.errors import UserError

SNAPSHOT_FORMAT = "gongwei-snapshot/1"


TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


class SnapshotMissing(UserError, FileNotFoundError):
    """No snapshot where one was named (a FileNotFoundError too: callers take a new snapshot on it)."""


class SnapshotInvalid(UserError, ValueError):
    """A folder with a manifest that is not a snapshot this version can read."""


@dataclass(frozen=True)
class Snapshot:
    folder: Path
    id: str
    taken_at: str
    tables: dict[str, int]  # name → rows

    @classmethod
    def open(cls, folder: Path | str) -> Snapshot:
        folder = Path(folder)
        manifest_path = folder / "manifest.json"
        if not folder.is_dir():
            raise SnapshotMissing(f"快照目录 {folder} 不存在（快照由 gongwei snapshot 生成，默认在数据目录的 snapshots 下）")
        if not manifest_path.is_file():
            raise SnapshotMissing(f"快照目录 {folder} 中没有 manifest.json，不是 gongwei snapshot 生成的快照")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 不是有效的 JSON（第 {getattr(exc, 'lineno', 1)} 行附近）"
                                  ) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != SNAPSHOT_FORMAT:
            found = manifest.get("format") if isinstance(manifest, dict) else None
            raise SnapshotInvalid(f"快照 {folder} 的格式 {found!r} 不受支持（应为 {SNAPSHOT_FORMAT}）")
        try:
            tables = manifest["tables"]
            bad = [name for name in tables if not TABLE_NAME.fullmatch(name)]
            if bad:  # a table name is a file name here: it must not lead out of the snapshot folder
                raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 含有无效的表名：{'、'.join(map(repr, bad))}")
            snapshot = cls(folder, manifest["id"], manifest["taken_at"], {k: v["rows"] for k, v in tables.items()})
        except KeyError as exc:
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 缺少字段 {exc}") from exc
        except (TypeError, AttributeError) as exc:
            raise SnapshotInvalid(f"快照 {folder} 的 manifest.json 结构错误：tables 应为“表名 → {{\"rows\": 行数}}”"
                                  ) from exc
        missing = [name for name in snapshot.tables if not snapshot.path(name).is_file()]
        if missing:
            raise SnapshotInvalid(f"快照 {folder} 缺少数据文件：{'、'.join(f'{n}.parquet' for n in missing)}")
        return snapshot

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    @classmethod
    def latest(cls, root: Path | str) -> Snapshot:
        folders = [p for p in Path(root).iterdir() if (p / "manifest.json").exists()] if Path(root).exists() else []
        if not folders:
            raise SnapshotMissing(f"{root} 下没有快照；请先运行 gongwei snapshot")
        # by the time in the manifest (to the microsecond), not the folder name: two snapshots taken in the same
        # second would otherwise sort by the random part of their ids
        readable = []
        for p in folders:
            try:
                readable.append(cls.open(p))
            except SnapshotInvalid:  # a broken old snapshot does not hide the good ones
                continue
        if not readable:
            raise SnapshotMissing(f"{root} 下没有可读取的快照；请运行 gongwei snapshot 生成新快照")
        return max(readable, key=lambda s: (s.taken_at, s.id))
