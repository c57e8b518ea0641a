"""Reading snapshots written by ``gongwei.records.snapshot`` (Parquet per table + manifest.json).

The folder's shape — format version, manifest fields, file names kept inside the folder — is the contract in
:mod:`gongwei.snapshot_format`, shared with the writer.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from gongwei.snapshot_format import FORMAT as SNAPSHOT_FORMAT
from gongwei.snapshot_format import MANIFEST, Manifest, SnapshotInvalid, SnapshotMissing, table_path

__all__ = ["SNAPSHOT_FORMAT", "Snapshot", "SnapshotInvalid", "SnapshotMissing"]


@dataclass(frozen=True)
class Snapshot:
    folder: Path
    id: str
    taken_at: str
    tables: dict[str, int]  # name → rows

    @classmethod
    def open(cls, folder: Path | str) -> Snapshot:
        folder = Path(folder)
        manifest = Manifest.read(folder)
        return cls(folder, manifest.id, manifest.taken_at, {k: v.rows for k, v in manifest.tables.items()})

    @classmethod
    def _open_known(cls, folder: Path) -> Snapshot:
        """``open``, remembered per process while the manifest file stays the same one (inode, mtime, size): a
        snapshot folder is never rewritten, and :meth:`latest` looks at every folder on each page request."""
        st = (folder / MANIFEST).stat()
        return _opened(cls, str(folder), st.st_ino, st.st_mtime_ns, st.st_size)

    def path(self, table: str) -> Path:
        return table_path(self.folder, table)

    @classmethod
    def latest(cls, root: Path | str) -> Snapshot:
        folders = [p for p in Path(root).iterdir() if (p / MANIFEST).exists()] if Path(root).exists() else []
        if not folders:
            raise SnapshotMissing(f"{root} 下没有快照；请先运行 gongwei snapshot")
        # by the time in the manifest (to the microsecond), not the folder name: two snapshots taken in the same
        # second would otherwise sort by the random part of their ids
        readable = []
        for p in folders:
            try:
                readable.append(cls._open_known(p))
            except (SnapshotInvalid, FileNotFoundError):  # a broken (or just removed) old snapshot hides nothing
                continue
        if not readable:
            raise SnapshotMissing(f"{root} 下没有可读取的快照；请运行 gongwei snapshot 生成新快照")
        return max(readable, key=lambda s: (s.taken_at, s.id))


@functools.lru_cache(maxsize=4096)
def _opened(cls: type[Snapshot], folder: str, _inode: int, _mtime_ns: int, _size: int) -> Snapshot:
    return cls.open(folder)
