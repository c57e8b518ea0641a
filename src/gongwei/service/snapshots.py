"""Open a snapshot for the engine, or take one: the only place a face gets an engine from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from gongwei.engine.backends import Engine
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
    """A new consistent snapshot of the system of record."""
    from gongwei.records.snapshot import take_snapshot

    return Snapshot.open(take_snapshot(root or snapshot_root(), progress=progress))


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
    snap = open_snapshot(folder, notice=notice, take_if_missing=take_if_missing)
    if notice:
        notice(f"快照 {snap.id}（{snap.taken_at}），后端 {backend}")
    return Engine(snap, backend)
