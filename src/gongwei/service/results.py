"""The results store: indicator figures and QC tallies kept by snapshot × period × rulebook version.

A snapshot never changes and the rulebook version is a hash of ``spec``'s source, so a stored result is valid
for as long as it exists: every use case reads it before computing anything, and computes (then stores) only
what is missing. One folder per snapshot and period holds both kinds::

    results/<snapshot id>/<period>/<rulebook>.parquet        indicators (all units, the codes computed so far)
    results/<snapshot id>/<period>/qc-<rulebook>.parquet     QC tally (all units, the rules evaluated so far)

Files are replaced atomically (write beside, then rename), so a page reading while a job writes sees the old
file or the new one, never half of one. Results cover every unit; scope is applied when they are read.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from gongwei.engine import catalogue, scorecard
from gongwei.engine.backends import Engine
from gongwei.files import make_private, private_dir
from gongwei.service.errors import NotReady
from gongwei.service.snapshots import results_root
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period


def folder(snapshot_id: str, period: Period, root: Path | None = None) -> Path:
    return Path(root or results_root()) / snapshot_id / period.code


def indicator_path(snapshot_id: str, period: Period, root: Path | None = None) -> Path:
    return folder(snapshot_id, period, root) / f"{spec_catalogue.rulebook_version()}.parquet"


def qc_path(snapshot_id: str, period: Period, root: Path | None = None) -> Path:
    return folder(snapshot_id, period, root) / f"qc-{spec_catalogue.rulebook_version()}.parquet"


def _write(table: pa.Table, path: Path) -> Path:
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    pq.write_table(table, tmp)
    make_private(tmp)
    os.replace(tmp, path)
    return path


# The last stored tables read, per process: a stored file never changes in place (it is replaced by rename, which
# gives it a new inode and time), so a table read once is valid for as long as its file's identity is the same.
# A page reads the period and the period before, and the dashboard read the period twice (issue 10).
_KEEP = 8
_tables: OrderedDict[tuple, pa.Table] = OrderedDict()
_tables_lock = threading.Lock()


def _read(path: Path) -> pa.Table | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    key = (str(path), st.st_ino, st.st_mtime_ns, st.st_size)
    with _tables_lock:
        if (hit := _tables.get(key)) is not None:
            _tables.move_to_end(key)
            return hit
    try:
        table = pq.read_table(path)
    except (FileNotFoundError, OSError, pa.ArrowInvalid):  # absent, or left broken by a crash: compute again
        return None
    with _tables_lock:
        _tables[key] = table
        while len(_tables) > _KEEP:
            _tables.popitem(last=False)
    return table


def stored_qc_rules(snapshot_id: str, period: Period) -> list[str]:
    """The rules whose QC tally is stored for this snapshot and period (none: nothing stored)."""
    have = _read(qc_path(snapshot_id, period))
    return [] if have is None else scorecard.tally_rules(have)


def stored_qc_tally(snapshot_id: str, period: Period, codes: list[str]) -> pa.Table:
    """The stored QC tally of ``codes`` without an engine (pages: no connection opened); :class:`NotReady`
    when a rule is missing."""
    have = _read(qc_path(snapshot_id, period))
    missing = [c for c in codes if c not in ([] if have is None else scorecard.tally_rules(have))]
    if missing or have is None:
        raise NotReady(f"快照 {snapshot_id} 的 {period.code} 质控结果尚未计算（缺 {len(missing)} 条规则），请运行质控评估任务")
    return _tally_rows(have, codes)


def stored_indicators(snapshot_id: str, period: Period) -> pa.Table | None:
    """What the store holds for this snapshot and period, without computing anything (pages use this)."""
    return _read(indicator_path(snapshot_id, period))


def indicators(eng: Engine, period: Period, codes: list[str] | None = None, *, compute: bool = True) -> pa.Table:
    """Numerator, denominator and counted period of ``codes`` (default: the whole catalogue) for every unit.

    ``compute=False`` (web pages): only what is stored; :class:`NotReady` if something is missing."""
    wanted = list(codes or spec_catalogue.indicators())
    path = indicator_path(eng.snapshot.id, period)
    have = _read(path)
    done = set() if have is None else set(pc.unique(have.column("indicator")).to_pylist())  # 95 codes, not 91,675
    missing = [c for c in wanted if c not in done]
    if missing and not compute:
        raise NotReady(f"快照 {eng.snapshot.id} 的 {period.code} 指标尚未计算（缺 {len(missing)} 项），请运行计算任务")
    if missing:
        fresh = catalogue.evaluate(eng, period, missing)
        have = fresh if have is None else pa.concat_tables([have, fresh.cast(have.schema)])
        _write(have, path)
    assert have is not None
    return have.filter(pc.is_in(have.column("indicator"), pa.array(wanted, pa.string())))


def qc_tally(eng: Engine, period: Period, codes: list[str], *, findings: pa.Table | None = None,
             progress=None, compute: bool = True) -> pa.Table:
    """The QC tally of ``codes`` over every unit: findings per rule and records examined per source table.

    ``findings``: when the caller has just evaluated exactly these rules over the whole tree (to keep them in
    the ledger), the tally is made from them instead of evaluating again. ``compute=False`` (web pages):
    only what is stored; :class:`NotReady` if a rule is missing."""
    from gongwei.engine import quality

    path = qc_path(eng.snapshot.id, period)
    have = _read(path)
    done = [] if have is None else scorecard.tally_rules(have)
    run = list(codes) if findings is not None else [c for c in codes if c not in done]
    if run and not compute:
        raise NotReady(f"快照 {eng.snapshot.id} 的 {period.code} 质控结果尚未计算（缺 {len(run)} 条规则），请运行质控评估任务")
    if run:
        found = findings if findings is not None else quality.evaluate(eng, period, run, progress=progress)
        fresh = scorecard.tally(eng, period, found, run).replace_schema_metadata(None)
        if have is not None:
            # examined counts depend only on the source table (same snapshot, same period): the fresh rows win
            old = have.replace_schema_metadata(None)
            kind, key = old.column("kind"), old.column("key")
            fresh_tables = fresh.filter(pc.equal(fresh.column("kind"), "table")).column("key")
            stale = pc.or_(pc.and_(pc.equal(kind, "rule"), pc.is_in(key, pa.array(run, pa.string()))),
                           pc.and_(pc.equal(kind, "table"), pc.is_in(key, fresh_tables.combine_chunks())))
            fresh = pa.concat_tables([old.filter(pc.invert(stale)), fresh])
        rules = [*(c for c in done if c not in run), *run]
        have = fresh.replace_schema_metadata({"rules": json.dumps(rules), "period": period.code})
        _write(have, path)
    assert have is not None
    return _tally_rows(have, codes).replace_schema_metadata({"rules": json.dumps(list(codes)),
                                                             "period": period.code})


def _tally_rows(t: pa.Table, codes: list[str]) -> pa.Table:
    """Rows of a tally for these rules: their findings, and the records examined by their source tables."""
    from gongwei.spec.quality import rules

    catalogue_rules = rules()
    sources = sorted({s for c in codes for s in scorecard.examined_tables(catalogue_rules[c].table)})
    kind, key = t.column("kind"), t.column("key")
    keep = pc.or_(pc.and_(pc.equal(kind, "rule"), pc.is_in(key, pa.array(list(codes), pa.string()))),
                  pc.and_(pc.equal(kind, "table"), pc.is_in(key, pa.array(sources, pa.string()))))
    return t.filter(keep)
