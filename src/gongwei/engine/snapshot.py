"""Reading snapshots written by ``gongwei.records.snapshot`` (Parquet per table + manifest.json)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

SNAPSHOT_FORMAT = "gongwei-snapshot/1"


TABLE_NAME = re.compile(r"[a-z][a-z0-9_]*")


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
        if not manifest_path.exists():
            raise FileNotFoundError(f"快照目录 {folder} 中没有 manifest.json")
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("format") != SNAPSHOT_FORMAT:
            raise ValueError(f"快照格式 {manifest.get('format')!r} 不受支持（应为 {SNAPSHOT_FORMAT}）")
        bad = [name for name in manifest["tables"] if not TABLE_NAME.fullmatch(name)]
        if bad:  # a table name is a file name here: it must not lead out of the snapshot folder
            raise ValueError(f"快照 {folder} 的 manifest.json 含有无效的表名：{'、'.join(map(repr, bad))}")
        return cls(folder, manifest["id"], manifest["taken_at"],
                   {k: v["rows"] for k, v in manifest["tables"].items()})

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.parquet"

    @classmethod
    def latest(cls, root: Path | str) -> Snapshot:
        folders = sorted(p for p in Path(root).iterdir() if (p / "manifest.json").exists()) if Path(root).exists() else []
        if not folders:
            raise FileNotFoundError(f"{root} 下没有快照；请先运行 gongwei snapshot")
        return cls.open(folders[-1])
