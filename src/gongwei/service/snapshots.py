"""Open a snapshot for the engine, or take one: the only place a face gets an engine from."""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from gongwei.engine.backends import Engine, SharedDatabase
from gongwei.engine.snapshot import Snapshot
from gongwei.service.errors import NotFound

TableProgress = Callable[[str, int], None]


def data_dir() -> Path:
    return Path(settings.DATA_DIR)


def snapshot_root() -> Path:
    return data_dir() / "snapshots"


def results_root() -> Path:
    return data_dir() / "results"


def take(*, root: Path | None = None, progress: TableProgress | None = None) -> Snapshot:
    """A new consistent snapshot of the system of record, with its tables copied into DuckDB's storage for the
    engine when it is large enough to gain from it (:mod:`gongwei.engine.native`)."""
    from gongwei.engine import native
    from gongwei.records.snapshot import take_snapshot

    snap = Snapshot.open(take_snapshot(root or snapshot_root(), progress=progress))
    if native.worth_writing(snap):
        if progress:
            progress("DuckDB 副本", sum(snap.tables.values()))
        native.write(snap)
    return snap


def open_snapshot(folder: str | Path | None = None, *, take_if_missing: bool = True,
                  notice: Callable[[str], None] | None = None) -> Snapshot:
    """The snapshot in ``folder``, or the latest one; with none yet, one is taken (``notice`` says so)."""
    if folder:
        return Snapshot.open(folder)  # SnapshotMissing / SnapshotInvalid name the folder and what is wrong
    try:
        return Snapshot.latest(snapshot_root())
    except FileNotFoundError:
        if not take_if_missing:
            raise NotFound(f"{snapshot_root()} 下没有快照；请先运行 gongwei snapshot") from None
        if notice:
            notice("尚无快照，正在生成……")
        return take()


def engine(folder: str | Path | None = None, backend: str = "duckdb", *,
           notice: Callable[[str], None] | None = None, take_if_missing: bool = True) -> Engine:
    """An engine on the snapshot in ``folder`` (or the latest). On DuckDB it works on a cursor of the snapshot's
    database, kept per process (:class:`EngineCache`), so a page does not pay a new DuckDB connection."""
    snap = open_snapshot(folder, notice=notice, take_if_missing=take_if_missing)
    if notice:
        notice(f"快照 {snap.id}（{snap.taken_at}），后端 {backend}")
    if backend != "duckdb":
        return Engine(snap, backend)
    return ENGINES.engine(snap, latest=folder is None)


# --- one DuckDB database per snapshot and process ------------------------------------------------------------
@dataclass(eq=False)
class _Entry:
    database: SharedDatabase
    users: int = 0  # engines handed out and not yet garbage-collected
    retired: bool = False
    closed: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acquire(self) -> None:
        with self.lock:
            self.users += 1

    def release(self) -> None:
        with self.lock:
            self.users -= 1
            self._close_if_unused()

    def retire(self) -> None:
        with self.lock:
            self.retired = True
            self._close_if_unused()

    def _close_if_unused(self) -> None:
        if self.retired and self.users == 0 and not self.closed:
            self.closed = True
            self.database.close()


class EngineCache:
    """The DuckDB database of each snapshot folder, kept for the life of the process (at most ``size`` of them,
    least recently used dropped first). Every :meth:`engine` is a new :class:`Engine` on its own cursor of the
    folder's database — about a millisecond instead of a new connection — so engines used by several request
    threads at once never share a cursor. The views of the snapshot's tables are created once per database.

    A database leaves the cache when a newer snapshot becomes the latest or when it is the least recently used
    beyond ``size``; it is closed when the last engine handed out on it is garbage-collected (a request still
    reading it finishes first). A folder is known by its path and its manifest's modification time."""

    def __init__(self, size: int = 4):
        self.size = size
        self._entries: OrderedDict[tuple[str, int], _Entry] = OrderedDict()
        self._latest: tuple[str, int] | None = None
        self._lock = threading.Lock()
        self.opened = 0  # databases opened (tests and the benchmark read it)

    def engine(self, snap, *, latest: bool = False) -> Engine:
        key = (str(Path(snap.folder).resolve()), (Path(snap.folder) / "manifest.json").stat().st_mtime_ns)
        dropped: list[_Entry] = []
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = _Entry(SharedDatabase())
                self._entries[key] = entry
                self.opened += 1
            self._entries.move_to_end(key)
            if latest and self._latest != key:
                if self._latest is not None and self._latest in self._entries:
                    dropped.append(self._entries.pop(self._latest))  # a newer snapshot replaces it
                self._latest = key
            while len(self._entries) > self.size:
                dropped.append(self._entries.popitem(last=False)[1])
            entry.acquire()
        for old in dropped:
            old.retire()
        try:
            eng = Engine(snap, "duckdb", database=entry.database)
        except BaseException:
            entry.release()
            raise
        weakref.finalize(eng, entry.release)
        return eng

    def clear(self) -> None:
        with self._lock:
            entries, self._entries, self._latest = list(self._entries.values()), OrderedDict(), None
        for entry in entries:
            entry.retire()

    def __len__(self) -> int:
        return len(self._entries)


ENGINES = EngineCache()
