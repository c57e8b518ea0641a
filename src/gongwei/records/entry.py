"""The one entry point every write goes through: validate, resolve references, write in one transaction.

Input is a batch of tables in the exchange layout (:mod:`gongwei.records.schema`) as Arrow tables —
from a CSV import, a synthetic region or a single form (a one-row table). Validation is columnar, so a
million rows cost NumPy/Arrow time, not Python-loop time. Every problem becomes an :class:`Issue`
naming the table, row, field, value and rule, with a Chinese message. A batch with issues is rejected
whole unless ``accept_valid`` is set, in which case invalid rows — and rows that reference them — are
skipped and reported. Re-submitting identical rows changes nothing (natural keys); changed rows are
updated with a :class:`~gongwei.records.models.ChangeLog` entry holding before and after.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.db import connection, transaction
from django.utils import timezone

from gongwei.records import bulk, identity
from gongwei.records import models as m
from gongwei.records.schema import UNIT_COLUMN, Column, Table, tables
from gongwei.spec import entry as entry_rules
from gongwei.spec import vocab as v

KEY_SEP = "\x1f"
_TRUE = ["1", "true", "True", "TRUE", "是", "t", "T", "y", "Y"]
_FALSE = ["0", "false", "False", "FALSE", "否", "f", "F", "n", "N", ""]

RULE_MESSAGES = {
    "required": "{label}为必填项，不能为空",
    "format_int": "{label}应为整数，实际为“{value}”",
    "format_dec": "{label}应为数字，实际为“{value}”",
    "format_date": "{label}应为日期（YYYY-MM-DD），实际为“{value}”",
    "format_datetime": "{label}应为带时区的日期时间（如 2024-03-01T08:30:00+08:00），实际为“{value}”",
    "format_bool": "{label}应为 1/0（是/否），实际为“{value}”",
    "max_length": "{label}长度超过 {limit} 个字符",
    "vocab": "{label}的值“{value}”不在值域代码中（允许：{allowed}）",
    "bounds": "{label}的值 {value} 超出可能范围 {limit}",
    "ordered": "{label}（{value}）必须小于{other}",
    "date_order": "{label}（{value}）不能早于{other}",
    "ref_missing": "{label}引用的记录“{value}”不存在",
    "duplicate_key": "同一批数据中{label}“{value}”重复出现",
}


@dataclass(frozen=True)
class Issue:
    table: str
    row: int  # 1-based data row (the header is row 0)
    field: str
    value: str
    rule: str
    message: str


class Rejected(Exception):
    """The batch had issues and was not written (nothing was written)."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__(f"{len(issues)} 个数据问题，整批未写入")


class StaleVersion(Rejected):
    """A save from a form loaded at an older version of the row: refused whole, nothing written.

    ``changes`` are the :class:`~gongwei.records.models.ChangeLog` rows written since ``expected`` (who, when,
    before → after), so the refusal can say what changed meanwhile; :meth:`describe` words it for a user
    (identifiers masked unless that user sees them).
    """

    def __init__(self, model: type, pk: object, expected: int, current: int, changes: list[m.ChangeLog]):
        self.model, self.pk, self.expected, self.current, self.changes = model, pk, expected, current, changes
        from gongwei.records.schema import table_for_model

        table = table_for_model(model).name
        super().__init__([Issue(table, 1, "version", str(expected), "stale_version", self.describe())])
        self.args = (self.describe(),)

    def change_lines(self, user=None) -> list[str]:
        """One line per change since the form's version: who, when, and each field's old → new value."""
        from gongwei.records import roles

        fields = {}
        for f in self.model._meta.concrete_fields:
            fields[f.name] = fields[f.attname] = str(f.verbose_name)
        lines = []
        for row in self.changes:
            before = roles.mask_mapping(row.before, user) or {}
            after = roles.mask_mapping(row.after, user) or {}
            who = row.actor_label or (row.actor.username if row.actor_id else "") or "未知"
            when = timezone.localtime(row.at).strftime("%Y-%m-%d %H:%M:%S")
            # keys that are not fields (a merge's tally of moved rows) are bookkeeping, not a change to show
            parts = [f"{fields.get(k, k)}：{_shown(before.get(k))} → {_shown(after.get(k))}"
                     for k in dict.fromkeys([*before, *after]) if k in fields]
            verb = v.ChangeAction(row.action).zh if row.action in {a.value for a in v.ChangeAction} else "修改"
            why = f"（{row.reason}）" if row.reason and row.action != v.ChangeAction.UPDATE else ""
            lines.append(f"{who} 于 {when} {verb}{why}（第 {row.version} 版）：" + "；".join(parts))
        return lines

    def describe(self, user=None) -> str:
        head = (f"保存被拒绝：您打开页面时这条{self.model._meta.verbose_name}是第 {self.expected} 版，"
                f"其后已被他人修改为第 {self.current} 版，本次修改未写入。")
        lines = self.change_lines(user)
        body = "期间的修改：" + " ".join(f"{i}. {line}" for i, line in enumerate(lines, 1)) if lines else \
            "期间的修改未留下逐项记录。"
        return f"{head}{body} 请重新打开页面，在最新内容上修改。"


def _shown(x: object) -> str:
    return "（空）" if x in (None, "") else str(x)


def stale_changes(model: type, pk: object, since: int) -> list[m.ChangeLog]:
    """The ChangeLog rows of one object that brought it past version ``since``, oldest first."""
    return list(m.ChangeLog.objects.filter(model=model._meta.label, object_pk=str(pk), version__gt=since)
                .select_related("actor").order_by("version", "id"))


def check_version(model: type, pk: object, version: int) -> None:
    """Refuse (raise :class:`StaleVersion`) when the stored row is no longer at ``version``.

    An early check for a form before it validates; the write itself compares and sets atomically
    (``UPDATE ... WHERE version = expected``), so a save that passes here can still be refused there.
    """
    current = model._default_manager.filter(pk=pk).values_list("version", flat=True).first()
    if current is not None and current != int(version):
        raise StaleVersion(model, pk, int(version), current, stale_changes(model, pk, int(version)))


@dataclass
class TableResult:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0


@dataclass
class SubmitResult:
    batch_id: int | None
    issues: list[Issue] = field(default_factory=list)
    tables: dict[str, TableResult] = field(default_factory=dict)
    # (table, org unit id or None, rows received, rows rejected): the batch's LoadTally rows
    tallies: list[tuple[str, int | None, int, int]] = field(default_factory=list)

    @property
    def written(self) -> int:
        return sum(t.inserted + t.updated for t in self.tables.values())


Progress = Callable[[str, int], None]


# --- coercion & validation -------------------------------------------------------------------------
def _as_str(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        return pc.utf8_trim_whitespace(arr.cast(pa.string()))
    if pa.types.is_null(arr.type):
        return pa.nulls(len(arr), pa.string())
    if pa.types.is_dictionary(arr.type):
        return arr.cast(pa.string())
    return pc.cast(arr, pa.string())


def _blank(arr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.equal(_as_str(arr), ""), True).to_numpy(zero_copy_only=False), dtype=bool)


class _Checker:
    def __init__(self, table: Table, n: int):
        self.table, self.n = table, n
        self.bad = np.zeros(n, dtype=bool)
        self.issues: list[Issue] = []

    def flag(self, mask: np.ndarray, col: Column, values: pa.Array | np.ndarray | None, rule: str, **extra: str) -> None:
        idx = np.flatnonzero(mask)
        if not len(idx):
            return
        self.bad[idx] = True
        vals = values.to_pylist() if isinstance(values, pa.Array) else (list(values) if values is not None else None)
        for i in idx[:10_000]:  # a report with more than 10k lines per rule is not read; counts still exact
            value = "" if vals is None or vals[i] is None else str(vals[i])
            msg = RULE_MESSAGES[rule].format(label=col.label, value=value, **extra)
            self.issues.append(Issue(self.table.name, int(i) + 1, col.name, value, rule, msg))
        if len(idx) > 10_000:
            self.issues.append(Issue(self.table.name, 0, col.name, "", rule,
                                     f"{col.label}：另有 {len(idx) - 10_000} 行同类问题未逐行列出"))


def _coerce(col: Column, raw: pa.Array | None, n: int, chk: _Checker) -> pa.Array:
    """Return the column as its target Arrow type; invalid cells become null and are flagged."""
    if raw is None:
        raw = pa.nulls(n)
    raw = raw.combine_chunks() if isinstance(raw, pa.ChunkedArray) else raw
    blank = _blank(raw)
    if col.required:
        chk.flag(blank, col, None, "required")
    if col.kind in ("str", "ref"):
        out = pc.fill_null(_as_str(raw), "")
        if col.max_length:
            chk.flag(np.asarray(pc.greater(pc.utf8_length(out), col.max_length)), col, out, "max_length",
                     limit=str(col.max_length))
        if col.vocab is not None and col.multi:
            # every comma-separated code must be in the vocabulary (one flag per row)
            codes = pc.split_pattern(out, ",")
            flat = pc.utf8_trim_whitespace(pc.list_flatten(codes))
            wrong = pc.and_(pc.not_equal(flat, ""), pc.invert(pc.is_in(flat, value_set=pa.array(sorted(col.vocab)))))
            bad = np.zeros(len(out), bool)
            bad[np.asarray(pc.list_parent_indices(codes))[np.asarray(wrong)]] = True
            chk.flag(bad & ~blank, col, out, "vocab", allowed="、".join(sorted(col.vocab)) + "（多个用逗号分隔）")
        elif col.vocab is not None:
            bad = ~blank & ~np.asarray(pc.is_in(out, value_set=pa.array(sorted(col.vocab))))
            chk.flag(bad, col, out, "vocab", allowed="、".join(sorted(col.vocab)))
        return out
    if col.kind == "bool":
        # blank stays null here so the model default applies (is_active, usual_resident default to true)
        if pa.types.is_boolean(raw.type):
            return raw
        s = pc.fill_null(_as_str(raw), "")
        is_true = pc.is_in(s, value_set=pa.array(_TRUE))
        chk.flag(~np.asarray(pc.or_(is_true, pc.is_in(s, value_set=pa.array(_FALSE)))), col, s, "format_bool")
        return pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.bool_()), is_true)
    if col.kind in ("int", "dec"):
        target = pa.int64() if col.kind == "int" else pa.float64()
        if pa.types.is_integer(raw.type) or pa.types.is_floating(raw.type) or pa.types.is_decimal(raw.type):
            out = pc.cast(raw, target)
        else:
            s = _as_str(raw)
            pattern = r"^-?\d+$" if col.kind == "int" else r"^-?\d+(\.\d+)?$"
            ok = pc.fill_null(pc.match_substring_regex(s, pattern), False)
            chk.flag(~blank & ~np.asarray(ok), col, s, f"format_{col.kind}")
            out = pc.cast(pc.if_else(ok, s, pa.scalar(None, pa.string())), target)
        if col.bounds:
            lo, hi = col.bounds
            outside = pc.fill_null(pc.or_(pc.less(out, lo), pc.greater(out, hi)), False)
            chk.flag(np.asarray(outside), col, out, "bounds", limit=f"{lo:g}–{hi:g}")
            out = pc.if_else(outside, pa.scalar(None, target), out)
        return out
    if col.kind == "date":
        if pa.types.is_date(raw.type):
            return raw.cast(pa.date32())
        if pa.types.is_timestamp(raw.type):
            return raw.cast(pa.date32())
        s = _as_str(raw)
        parsed = pc.strptime(pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s), format="%Y-%m-%d",
                             unit="s", error_is_null=True)
        # strptime rolls 02-30 over to 03-02; a date is valid only if it formats back to the input
        exact = pc.equal(pc.strftime(parsed, format="%Y-%m-%d"), s)
        parsed = pc.if_else(pc.fill_null(exact, False), parsed, pa.scalar(None, parsed.type))
        chk.flag(~blank & np.asarray(pc.is_null(parsed)), col, s, "format_date")
        return parsed.cast(pa.date32())
    if col.kind == "datetime":
        if pa.types.is_timestamp(raw.type):
            return raw.cast(pa.timestamp("us", tz="UTC")) if raw.type.tz else \
                pc.assume_timezone(raw.cast(pa.timestamp("us")), "Asia/Shanghai").cast(pa.timestamp("us", tz="UTC"))
        s = _as_str(raw)
        s = pc.replace_substring_regex(s, r"([+-]\d\d):(\d\d)$", r"\1\2")  # +08:00 → +0800 for %z
        s = pc.replace_substring(s, " ", "T")
        # fractional seconds (an instance's own value, 12:00:00.123456+0000): %S takes whole seconds only
        frac = pc.struct_field(pc.extract_regex(s, r"\.(?P<f>\d{1,6})[+-]\d{4}$"), [0])
        micros = pc.fill_null(pc.cast(pc.utf8_rpad(frac, 6, "0"), pa.int64()), 0).cast(pa.duration("us"))
        s = pc.replace_substring_regex(s, r"\.\d{1,6}([+-]\d{4})$", r"\1")
        parsed = pc.strptime(pc.if_else(pc.equal(s, ""), pa.scalar(None, pa.string()), s),
                             format="%Y-%m-%dT%H:%M:%S%z", unit="us", error_is_null=True)
        parsed = pc.add(parsed, micros)
        chk.flag(~blank & np.asarray(pc.is_null(parsed)), col, _as_str(raw), "format_datetime")
        return parsed.cast(pa.timestamp("us", tz="UTC"))
    raise AssertionError(col.kind)


def _key_strings(cols: list[pa.Array]) -> pa.Array:
    strs = [pc.fill_null(_as_str(c), "") for c in cols]
    if len(strs) == 1:
        return strs[0]
    return pc.binary_join_element_wise(*strs, KEY_SEP)


# --- reference index -------------------------------------------------------------------------------
# A batch this small (a form, a short import) looks up only its own keys instead of loading whole tables.
SMALL_BATCH = 5_000


class _Index:
    """Natural key → database id for one table: rows already stored plus rows of this batch.

    Stored rows are loaded lazily: all of them for a large batch (one query), or only the keys a small
    batch asks for, so a single form save costs a few indexed queries however large the tables are.
    """

    def __init__(self, table: Table):
        self.table = table
        self.db_keys: pa.Array = pa.array([], pa.string())
        self.db_ids = np.array([], dtype=np.int64)
        self.new_keys: pa.Array = pa.array([], pa.string())
        self.new_ids = np.array([], dtype=np.int64)
        self.loaded = False
        self.asked: set[str] = set()

    def _simple_key(self) -> str | None:
        nk = self.table.natural_key
        return nk[0] if len(nk) == 1 and self.table.column(nk[0]).kind != "ref" else None

    def load(self) -> None:
        if self.loaded:
            return
        t = self.table
        key_attnames = [t.column(k).attname for k in t.natural_key]
        pk = t.model._meta.pk.attname
        rows = list(t.model.objects.values_list(pk, *key_attnames))
        ids = np.array([r[0] for r in rows], dtype=np.int64)
        key_cols = []
        for i, k in enumerate(t.natural_key):
            c = t.column(k)
            vals = [r[i + 1] for r in rows]
            if c.kind == "ref":  # composite keys made of references: use the referenced natural keys
                ref_index = _INDEX_CACHE[c.ref_table]
                ref_index.load()
                key_cols.append(ref_index.key_of(np.array(vals, dtype=np.int64)))
            else:
                key_cols.append(pa.array([None if x is None else str(x) for x in vals], pa.string()))
        self.db_keys = _key_strings(key_cols) if rows else pa.array([], pa.string())
        self.db_ids = ids
        self.loaded = True

    def _ensure(self, keys: pa.Array) -> None:
        if self.loaded:
            return
        key = self._simple_key()
        if key is None or len(keys) > SMALL_BATCH:
            self.load()
            return
        wanted = {k for k in keys.to_pylist() if k} - self.asked
        if not wanted:
            return
        self.asked |= wanted
        pk = self.table.model._meta.pk.attname
        rows = list(self.table.model.objects.filter(**{f"{key}__in": sorted(wanted)}).values_list(pk, key))
        if rows:
            self.db_keys = pa.concat_arrays([self.db_keys, pa.array([str(r[1]) for r in rows], pa.string())])
            self.db_ids = np.concatenate([self.db_ids, np.array([r[0] for r in rows], dtype=np.int64)])

    @property
    def keys(self) -> pa.Array:
        return pa.concat_arrays([self.db_keys, self.new_keys])

    @property
    def ids(self) -> np.ndarray:
        return np.concatenate([self.db_ids, self.new_ids])

    def key_of(self, ids: np.ndarray) -> pa.Array:
        all_ids, all_keys = self.ids, self.keys
        order = np.argsort(all_ids)
        pos = np.searchsorted(all_ids, ids, sorter=order)
        pos = np.clip(pos, 0, max(len(order) - 1, 0))
        return all_keys.take(pa.array(order[pos])) if len(order) else pa.array([""] * len(ids))

    def lookup(self, keys: pa.Array) -> np.ndarray:
        """ids for keys; -1 where unknown."""
        self._ensure(keys)
        all_keys, all_ids = self.keys, self.ids
        if not len(all_keys):
            return np.full(len(keys), -1, dtype=np.int64)
        pos = pc.index_in(keys, value_set=all_keys)
        pos_np = np.asarray(pc.fill_null(pos, -1), dtype=np.int64)
        return np.where(pos_np >= 0, all_ids[np.clip(pos_np, 0, None)], -1)

    def add(self, keys: pa.Array, ids: np.ndarray) -> None:
        self.new_keys = pa.concat_arrays([self.new_keys, keys.cast(pa.string())])
        self.new_ids = np.concatenate([self.new_ids, ids])


class _ThreadIndexes(threading.local):
    """The batch's indexes, one set per thread: two submits running at once (an import and a form save on
    other units) must not clear or read each other's."""

    def __init__(self) -> None:
        self.tables: dict[str, _Index] = {}

    def __getitem__(self, name: str) -> _Index:
        return self.tables[name]

    def __setitem__(self, name: str, index: _Index) -> None:
        self.tables[name] = index

    def clear(self) -> None:
        self.tables.clear()


_INDEX_CACHE = _ThreadIndexes()


# --- derived columns -------------------------------------------------------------------------------
def _derive_residents(data: dict[str, pa.Array], n: int, now: dt.datetime) -> None:
    raw = data["id_number"]
    numbers, status = identity.check_many(
        np.asarray(raw.to_numpy(zero_copy_only=False), dtype=object),
        birth_dates=np.asarray(data["birth_date"].cast(pa.date32()).to_numpy(zero_copy_only=False), dtype="datetime64[D]"),
        sexes=np.asarray(data["sex"].to_numpy(zero_copy_only=False), dtype=object),
        id_types=np.asarray(data["id_type"].to_numpy(zero_copy_only=False), dtype=object),
    )
    data["id_number_raw"] = raw
    data["id_number"] = pa.array(numbers.astype(str), pa.string())
    data["id_status"] = pa.array(status.astype(str), pa.string())


def _defaults(table: Table, data: dict[str, pa.Array], n: int) -> None:
    for col in table.columns:
        f = table.model._meta.get_field(col.name)
        arr = data[col.name]
        if f.has_default() and col.kind != "ref":
            default = f.get_default()
            if col.kind == "str":
                arr = pc.if_else(pc.equal(arr, ""), pa.scalar(str(default)), arr)
            elif col.kind == "bool":
                arr = pc.fill_null(arr, bool(default))
            elif col.kind in ("int", "dec"):
                arr = pc.fill_null(arr, default)
        if col.kind == "bool":  # a blank boolean without a model default is false
            arr = pc.fill_null(arr, False)
        data[col.name] = arr


# --- the entry point -------------------------------------------------------------------------------
Pending = tuple[Table, dict[str, pa.Array], np.ndarray, np.ndarray, np.ndarray]


def submit(
    batch: dict[str, pa.Table],
    *,
    actor: str,
    kind: str,
    source: str = "",
    accept_valid: bool = False,
    progress: Progress | None = None,
    actor_user: object | None = None,
    expected_versions: dict[str, dict[int, int]] | None = None,
) -> SubmitResult:
    """Validate and write ``batch`` (table name → Arrow table) in one transaction.

    Raises :class:`Rejected` (nothing written) when any row has an issue and ``accept_valid`` is false, and
    :class:`StaleVersion` when a row named in ``expected_versions`` (table → {id: version}) is no longer at
    that version. Writers of different org units do not wait for each other (:func:`_lock_units`).
    """
    schema = tables()
    unknown = set(batch) - set(schema)
    if unknown:
        raise ValueError(f"未知的数据表：{', '.join(sorted(unknown))}")
    now = timezone.now()
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        return _submit_sqlite(batch, schema, accept_valid=accept_valid, kind=kind, source=source, actor=actor,
                              actor_user=actor_user, progress=progress, now=now, expected_versions=expected_versions)
    with transaction.atomic():
        _lock_units(batch, schema)
        result, pending = _validate(batch, schema, accept_valid, progress, now)
        return _write(result, pending, kind=kind, source=source, actor=actor, actor_user=actor_user,
                      progress=progress, now=now, expected_versions=expected_versions)


# --- SQLite: stage outside the writer lock, publish under it ------------------------------------------
STAGE_ATTEMPTS = 3  # a batch that met a conflict this many times is validated and written under the lock


def _submit_sqlite(batch: dict[str, pa.Table], schema: dict[str, Table], *, accept_valid: bool, kind: str,
                   source: str, actor: str, actor_user: object | None, progress: Progress | None, now: dt.datetime,
                   expected_versions: dict[str, dict[int, int]] | None) -> SubmitResult:
    """SQLite has one writer at a time and a transaction here takes the writer lock when it begins
    (transaction_mode IMMEDIATE). The batch is validated and written to connection-private staging tables
    first, holding no lock on the database; the writer lock is taken only to publish it — in-engine copies,
    checked against what others committed meanwhile — so a form of another unit saves while an import
    validates or writes (ADR 015, amended)."""
    if _stageable(batch, expected_versions):
        for attempt in range(STAGE_ATTEMPTS):
            hook = progress if attempt == 0 else None
            result, pending = _validate(batch, schema, accept_valid, hook, now)
            if _stage_and_publish(result, pending, kind=kind, source=source, actor=actor, actor_user=actor_user,
                                  progress=hook, now=now):
                return result
        with transaction.atomic():  # a conflict at every attempt: validated and written under the lock
            result, pending = _validate(batch, schema, accept_valid, None, now)
            return _write(result, pending, kind=kind, source=source, actor=actor, actor_user=actor_user,
                          progress=None, now=now, expected_versions=expected_versions)
    # not staged (org units, form saves): validated before the lock, and again under it if another connection
    # committed in between, so nothing is written from a stale reading
    seen = _data_version()
    result, pending = _validate(batch, schema, accept_valid, progress, now)
    with transaction.atomic():
        if _data_version() != seen:
            result, pending = _validate(batch, schema, accept_valid, None, now)
        return _write(result, pending, kind=kind, source=source, actor=actor, actor_user=actor_user,
                      progress=progress, now=now, expected_versions=expected_versions)


def _data_version() -> int:
    with connection.cursor() as cur:
        cur.execute("PRAGMA data_version")  # changes whenever another connection commits
        return int(cur.fetchone()[0])


class _Retry(Exception):
    """Someone committed a conflicting row between validation and publishing: roll back, validate again."""


def _stageable(batch: dict[str, pa.Table], expected_versions: dict[str, dict[int, int]] | None) -> bool:
    """Staged unless the batch writes org units (a new unit's path is computed from its parent's, which a
    move meanwhile would change) or is a form save (one row: nothing to gain, and a stale form must be refused
    rather than validated again)."""
    return not expected_versions and "org_units" not in batch


def _temp_table(cur, name: str, like: str, columns: list[str] | None = None) -> str:
    q = connection.ops.quote_name
    cur.execute(f"DROP TABLE IF EXISTS temp.{q(name)}")
    if columns is None:  # the target's columns (and type affinities), no constraints
        cur.execute(f"CREATE TEMP TABLE {q(name)} AS SELECT * FROM main.{q(like)} WHERE 0")
    else:
        cur.execute(f"CREATE TEMP TABLE {q(name)} ({', '.join(q(c) for c in columns)})")
    return name


def _stage_and_publish(result: SubmitResult, pending: list[Pending], *, kind: str, source: str, actor: str,
                       actor_user: object | None, progress: Progress | None, now: dt.datetime) -> bool:
    """Write a validated batch to temporary tables of this connection, then publish it in one short
    ``BEGIN IMMEDIATE`` transaction. False when a conflict was found (nothing published; validate again).

    The temporary tables live in the connection's own temp database, so filling them — the Python-side
    conversion and ``executemany``, most of a write — takes no lock on the database: other connections read
    and write meanwhile. Publishing copies the rows inside SQLite (``INSERT ... SELECT``, ``UPDATE ... FROM``)
    and checks what could have changed since validation: a new row's natural key taken by a row committed
    meanwhile, and every update's version (compare-and-set, counted). New rows' ids were reserved from
    ``sqlite_sequence`` at validation (:func:`_reserve_ids`), so no other writer takes them. Nothing is half
    written: the publish is one transaction, and the staging tables are private and dropped.
    """
    q = connection.ops.quote_name
    staged: list[tuple[Table, str, int, list[str]]] = []  # (table, staging table of new rows, rows, columns)
    updates: list[tuple[_UpdatePlan, str]] = []
    logs: list[m.ChangeLog] = []
    names: list[str] = []
    log_fields = [f for f in m.ChangeLog._meta.concrete_fields if f.column != "id"]
    try:
        with connection.cursor() as cur:
            cur.execute("BEGIN DEFERRED")  # touches only the temp database: no lock on the database file
            for i, (table, data, ids, new_mask, changed_mask) in enumerate(pending):
                db_table = table.model._meta.db_table
                n_new = int(new_mask.sum())
                if n_new:
                    name = _temp_table(cur, f"gw_stage_new_{i}", db_table)
                    names.append(name)
                    staged.append((table, name, n_new, bulk.stage(name, table, data, ids, new_mask, now)))
                plan = _plan_updates(table, data, ids, changed_mask, None, actor, actor_user, now, {})
                if plan is not None:
                    cols = [f"v{j}" for j in range(len(plan.columns))] + ["pk", "expected"]
                    name = _temp_table(cur, f"gw_stage_upd_{i}", db_table, cols)
                    names.append(name)
                    cur.executemany(f"INSERT INTO temp.{q(name)} VALUES ({', '.join(['%s'] * len(cols))})",
                                    plan.params)
                    updates.append((plan, name))
                    logs.extend(plan.logs)
                result.tables[table.name].inserted = n_new
                result.tables[table.name].updated = len(plan.logs) if plan else 0
                if progress:
                    progress(f"写入 {table.name}", int(new_mask.sum() + changed_mask.sum()))
            if logs:
                name = _temp_table(cur, "gw_stage_log", m.ChangeLog._meta.db_table, [f.column for f in log_fields])
                names.append(name)
                cur.executemany(f"INSERT INTO temp.{q(name)} VALUES ({', '.join(['%s'] * len(log_fields))})",
                                [[f.get_db_prep_save(getattr(log, f.attname), connection) for f in log_fields]
                                 for log in logs])
            cur.execute("COMMIT")
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE: the writer lock, for in-engine copies only
                _publish(result, staged, updates, bool(logs), log_fields, kind=kind, source=source, actor=actor)
        except _Retry:
            return False
        return True
    finally:
        with connection.cursor() as cur:
            if connection.connection.in_transaction and not connection.in_atomic_block:
                cur.execute("ROLLBACK")  # a staging transaction left open by an error
            for name in names:
                cur.execute(f"DROP TABLE IF EXISTS temp.{q(name)}")


def _publish(result: SubmitResult, staged: list[tuple[Table, str, int, list[str]]], updates: list[tuple[_UpdatePlan, str]],
             has_logs: bool, log_fields: list, *, kind: str, source: str, actor: str) -> None:
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        for table, name, _, _ in staged:  # a key committed by someone else since validation (unique indexes)
            db_table = table.model._meta.db_table
            keys = [table.model._meta.get_field(k).column for k in table.natural_key]
            pk = table.model._meta.pk.column
            for on in (" AND ".join(f"r.{q(k)} = s.{q(k)}" for k in keys), f"r.{q(pk)} = s.{q(pk)}"):
                cur.execute(f"SELECT 1 FROM temp.{q(name)} s WHERE EXISTS (SELECT 1 FROM main.{q(db_table)} r "
                            f"WHERE {on}) LIMIT 1")
                if cur.fetchone():
                    raise _Retry
        batch_row = m.LoadBatch.objects.create(kind=kind, source=source[:500], actor=actor[:150])
        result.batch_id = batch_row.pk
        for table, name, n, cols in staged:
            db_table = table.model._meta.db_table
            select = ", ".join("%s" if c == "batch_id" else f"s.{q(c)}" for c in cols)
            params = [batch_row.pk] if "batch_id" in cols else []
            with bulk._indexes_suspended(db_table, n):
                cur.execute(f"INSERT INTO main.{q(db_table)} ({', '.join(q(c) for c in cols)}) "
                            f"SELECT {select} FROM temp.{q(name)} s", params)
        for plan, name in updates:  # compare-and-set, all rows of a table in one statement
            db_table = plan.model._meta.db_table
            pk = plan.model._meta.pk.column
            sets = [f"{q(c)} = u.v{j}" for j, c in enumerate(plan.columns)] + [f"{q('version')} = t.{q('version')} + 1"]
            cur.execute(f"UPDATE main.{q(db_table)} AS t SET {', '.join(sets)} FROM temp.{q(name)} AS u "
                        f"WHERE t.{q(pk)} = u.pk AND t.{q('version')} = u.expected")
            if cur.rowcount != len(plan.params):
                raise _Retry  # a row moved on since validation: validate again, against its new version
        if has_logs:
            cols = [f.column for f in log_fields]
            select = ", ".join("%s" if c == "batch_id" else q(c) for c in cols)
            cur.execute(f"INSERT INTO main.{q(m.ChangeLog._meta.db_table)} ({', '.join(q(c) for c in cols)}) "
                        f"SELECT {select} FROM temp.gw_stage_log", [batch_row.pk])
    _finish_batch(batch_row, result)


def _finish_batch(batch_row: m.LoadBatch, result: SubmitResult) -> None:
    """The batch's per-unit tallies (上传数据有效率) and its counts, written with the rows they describe."""
    m.LoadTally.objects.bulk_create([
        m.LoadTally(batch=batch_row, table=name, org_unit_id=unit, received=received, rejected=rejected)
        for name, unit, received, rejected in result.tallies])
    batch_row.finished_at = timezone.now()
    batch_row.counts = {k: vars(tr) for k, tr in result.tables.items()}
    batch_row.save(update_fields=["finished_at", "counts"])


def _lock_units(batch: dict[str, pa.Table], schema: dict[str, Table]) -> list[int]:
    """Lock the org units whose rows the batch writes (PostgreSQL), in id order so writers cannot deadlock.

    Row locks ``FOR NO KEY UPDATE`` on the units: a second writer of the same unit waits until this
    transaction ends, writers of other units do not wait at all, and readers and foreign-key checks
    (``KEY SHARE``) are never blocked. The units are resolved from the codes in the batch before validation,
    so everything validated is read under the lock. SQLite needs none: it has one writer at a time.
    """
    if connection.vendor != "postgresql":
        return []
    codes: set[str] = set()
    for name, arrow in batch.items():
        col = UNIT_COLUMN.get(name, "org_unit")
        if col in schema[name].column_names and col in arrow.column_names:
            codes.update(pc.unique(_as_str(arrow.column(col))).to_pylist())
    codes.discard(None)
    codes.discard("")
    if not codes:
        return []
    return list(m.OrgUnit.objects.select_for_update(no_key=True).filter(code__in=sorted(codes))
                .order_by("pk").values_list("pk", flat=True))


def _validate(batch: dict[str, pa.Table], schema: dict[str, Table], accept_valid: bool,
              progress: Progress | None, now: dt.datetime) -> tuple[SubmitResult, list[Pending]]:
    result = SubmitResult(batch_id=None)
    _INDEX_CACHE.clear()
    for name in schema:
        _INDEX_CACHE[name] = _Index(schema[name])
    pending: list[Pending] = []
    for name, table in schema.items():
        if name not in batch:
            continue
        prepared = _prepare(table, batch[name], result, now)
        if prepared is not None:
            pending.append(prepared)
        if progress:
            progress(f"校验 {name}", batch[name].num_rows)
    if result.issues and not accept_valid:
        raise Rejected(result.issues)
    return result, pending


def _write(result: SubmitResult, pending: list[Pending], *, kind: str, source: str, actor: str,
           actor_user: object | None, progress: Progress | None, now: dt.datetime,
           expected_versions: dict[str, dict[int, int]] | None) -> SubmitResult:
    batch_row = m.LoadBatch.objects.create(kind=kind, source=source[:500], actor=actor[:150])
    result.batch_id = batch_row.pk
    for table, data, ids, new_mask, changed_mask in pending:
        tr = result.tables[table.name]
        tr.inserted = bulk.insert(table, data, ids, new_mask, batch_row.pk, now)
        tr.updated = _apply_updates(table, data, ids, changed_mask, batch_row, actor, actor_user, now,
                                    (expected_versions or {}).get(table.name, {}))
        if progress:
            progress(f"写入 {table.name}", int(new_mask.sum() + changed_mask.sum()))
    _finish_batch(batch_row, result)
    return result


def _reserve_sqlite(model: type, count: int) -> np.ndarray:
    """``count`` keys after the largest ever used, reserved in ``sqlite_sequence`` (Django's SQLite keys are
    AUTOINCREMENT): one short write, so a batch staged outside the writer lock keeps its keys while others
    write — their keys, explicit or automatic, come after (ADR 015)."""
    db_table, pk = model._meta.db_table, model._meta.pk.column
    q = connection.ops.quote_name
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX({q(pk)}), 0) FROM {q(db_table)}")
        top = int(cur.fetchone()[0])
        cur.execute("UPDATE sqlite_sequence SET seq = MAX(seq, %s) + %s WHERE name = %s RETURNING seq",
                    [top, count, db_table])
        row = cur.fetchone()
        if row is None:  # no row was ever inserted: the table has no sequence row yet
            cur.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (%s, %s)", [db_table, top + count])
            end = top + count
        else:
            end = int(row[0])
    return np.arange(end - count + 1, end + 1, dtype=np.int64)


def _reserve_ids(table: Table, count: int) -> np.ndarray:
    """``count`` fresh primary keys for the new rows of ``table``, assigned before they are written.

    PostgreSQL takes them from the table's own sequence, which no two transactions can share, so writers
    of different units need no common lock (a gap is left if the batch rolls back). SQLite, one writer at
    a time, continues after the largest stored key.
    """
    if not count:
        return np.array([], dtype=np.int64)
    model = table.model
    if connection.vendor != "postgresql":
        return _reserve_sqlite(model, count)
    pk, db_table = model._meta.pk.column, model._meta.db_table
    q = connection.ops.quote_name
    with connection.cursor() as cur:
        cur.execute("SELECT pg_get_serial_sequence(%s, %s)", [db_table, pk])
        seq = cur.fetchone()[0]
        # a sequence left behind keys written explicitly before keys were reserved from it catches up first
        cur.execute(f"SELECT setval(%s, s.m) FROM (SELECT MAX({q(pk)}) AS m FROM {q(db_table)}) AS s "
                    f"WHERE s.m > (SELECT last_value FROM {seq})", [seq])
        cur.execute("WITH s AS (SELECT nextval(%s) AS v FROM generate_series(1, %s)) "
                    "SELECT MIN(v), MAX(v), CASE WHEN MAX(v) - MIN(v) + 1 = %s THEN NULL "
                    "ELSE array_agg(v ORDER BY v) END FROM s", [seq, count, count])
        lo, hi, scattered = cur.fetchone()
    # concurrent writers usually leave the range contiguous; otherwise the values themselves came back
    return np.arange(lo, hi + 1, dtype=np.int64) if scattered is None else np.array(scattered, dtype=np.int64)


def _prepare(table: Table, source: pa.Table, result: SubmitResult, now: dt.datetime):
    n = source.num_rows
    tr = result.tables.setdefault(table.name, TableResult(received=n))
    chk = _Checker(table, n)
    names = set(source.column_names)
    data: dict[str, pa.Array] = {}
    for col in table.columns:
        raw = source.column(col.name) if col.name in names else None
        data[col.name] = _coerce(col, raw, n, chk)
    _defaults(table, data, n)
    # DBP must be lower than SBP
    for hi, lo in entry_rules.ORDERED_PAIRS:
        if hi in data and lo in data and table.column(hi).kind == "int":
            bad = np.asarray(pc.fill_null(pc.less_equal(data[hi], data[lo]), False))
            col = table.column(lo)
            chk.flag(bad, col, data[lo], "ordered", other=table.column(hi).label)
    for first, second in entry_rules.ORDERED_DATES:
        if first in data and second in data:
            bad = np.asarray(pc.fill_null(pc.less(data[second], data[first]), False))
            chk.flag(bad, table.column(second), data[second], "date_order", other=table.column(first).label)
    # references → ids
    ref_ids: dict[str, np.ndarray] = {}
    self_refs = []
    for col in table.columns:
        if col.kind != "ref":
            continue
        if col.ref_table == table.name:
            self_refs.append(col)
            continue
        keys = data[col.name]
        ids = _INDEX_CACHE[col.ref_table].lookup(keys)
        blank = np.asarray(pc.equal(keys, ""))
        chk.flag(~blank & (ids < 0), col, keys, "ref_missing")
        ref_ids[col.name] = ids
    # natural key: duplicates inside the batch, then existing vs new
    key_cols = []
    for k in table.natural_key:
        c = table.column(k)
        key_cols.append(pa.array(ref_ids[k].astype(str)) if c.kind == "ref" and c.name in ref_ids else data[k])
    keys = _key_strings(key_cols)
    if table.model._meta.pk.is_relation:
        keys = pa.array(ref_ids[table.natural_key[0]].astype(str))
    uniq, first_idx, counts = np.unique(np.asarray(keys.to_numpy(zero_copy_only=False), dtype=object).astype(str),
                                        return_index=True, return_counts=True)
    dup = np.ones(n, dtype=bool)
    dup[first_idx] = False
    if dup.any():
        chk.flag(dup, table.column(table.natural_key[0]), data[table.natural_key[0]], "duplicate_key")
    index = _INDEX_CACHE[table.name]
    existing = _existing_ids(table, keys, ref_ids)
    valid = ~chk.bad
    new_mask = valid & (existing < 0)
    ids = existing.copy()
    if table.model._meta.pk.is_relation:
        ids = np.where(new_mask, ref_ids[table.natural_key[0]], ids)
    else:
        ids[new_mask] = _reserve_ids(table, int(new_mask.sum()))
    index.add(pc.filter(keys, pa.array(new_mask)), ids[new_mask])
    for col in self_refs:  # references within the same table (parent org unit, merged_into)
        kk = data[col.name]
        rid = index.lookup(kk)
        blank = np.asarray(pc.equal(kk, ""))
        missing = ~blank & (rid < 0)
        chk.flag(missing, col, kk, "ref_missing")
        ref_ids[col.name] = rid
    valid = ~chk.bad
    new_mask &= valid
    for name_, arr in ref_ids.items():
        data[name_] = pa.array(np.where(arr >= 0, arr, None).tolist() if (arr < 0).any() else arr, pa.int64())
    if table.name == "residents":
        _derive_residents(data, n, now)
    changed_mask = np.zeros(n, dtype=bool)
    existing_valid = valid & (existing >= 0)
    if existing_valid.any():
        changed_mask = _changed(table, data, existing, existing_valid)
    tr.rejected = int((~valid).sum())
    tr.unchanged = int(existing_valid.sum() - changed_mask.sum())
    result.tallies.extend(_tally(table, data, ref_ids, ~valid))
    result.issues.extend(chk.issues)
    return table, data, ids, new_mask, changed_mask


def _tally(table: Table, data: dict[str, pa.Array], ref_ids: dict[str, np.ndarray],
           rejected: np.ndarray) -> list[tuple[str, int | None, int, int]]:
    """Rows received and rejected per org unit of the row (its unit column; unknown or blank → None)."""
    name = UNIT_COLUMN.get(table.name, "org_unit")
    n = len(rejected)
    if name in ref_ids:
        unit = ref_ids[name]
    elif table.name == "org_units":  # a unit's own rows count at the unit (valid new ones are indexed by now)
        unit = _INDEX_CACHE["org_units"].lookup(data["code"])
    else:
        unit = np.full(n, -1, dtype=np.int64)
    units, inverse = np.unique(unit, return_inverse=True)
    received = np.bincount(inverse, minlength=len(units))
    bad = np.bincount(inverse, weights=rejected.astype(np.int64), minlength=len(units)).astype(np.int64)
    return [(table.name, int(u) if u >= 0 else None, int(r), int(b))
            for u, r, b in zip(units, received, bad, strict=True)]


def _existing_ids(table: Table, keys: pa.Array, ref_ids: dict[str, np.ndarray]) -> np.ndarray:
    index = _INDEX_CACHE[table.name]
    if table.model._meta.pk.is_relation or any(table.column(k).kind == "ref" for k in table.natural_key):
        # keys made of referenced ids: compare against stored id tuples
        key_attnames = [table.column(k).attname for k in table.natural_key]
        pk = table.model._meta.pk.attname
        qs = table.model.objects.all()
        first = table.column(table.natural_key[0])
        if len(keys) <= SMALL_BATCH and first.name in ref_ids:
            wanted = sorted({int(x) for x in ref_ids[first.name] if x >= 0})
            qs = qs.filter(**{f"{first.attname}__in": wanted})
        stored = list(qs.values_list(pk, *key_attnames))
        if not stored:
            return np.full(len(keys), -1, dtype=np.int64)
        stored_keys = pa.array([KEY_SEP.join(str(x) for x in r[1:]) for r in stored])
        stored_ids = np.array([r[0] for r in stored], dtype=np.int64)
        pos = np.asarray(pc.fill_null(pc.index_in(keys, value_set=stored_keys), -1), dtype=np.int64)
        return np.where(pos >= 0, stored_ids[np.clip(pos, 0, None)], -1)
    return index.lookup(keys)


def _comparable(col: Column, arr: pa.Array) -> pa.Array:
    if col.kind == "dec":
        return pc.round(arr.cast(pa.float64()), 4)
    if col.kind == "ref":
        return arr.cast(pa.int64())
    return arr


def _changed(table: Table, data: dict[str, pa.Array], ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rows whose stored values differ from the incoming ones (one query: the batch's rows, or the table)."""
    attnames = [c.attname for c in table.columns]
    pk = table.model._meta.pk.attname
    qs = table.model.objects.all()
    if int(mask.sum()) <= SMALL_BATCH:
        qs = qs.filter(pk__in=ids[mask].tolist())
    stored = list(qs.values_list(pk, *attnames))
    stored_ids = np.array([r[0] for r in stored], dtype=np.int64)
    order = np.argsort(stored_ids)
    pos = order[np.searchsorted(stored_ids, ids[mask], sorter=order)]
    changed = np.zeros(int(mask.sum()), dtype=bool)
    sel = pa.array(mask)
    for j, col in enumerate(table.columns):
        if table.name == "residents" and col.name == "id_number":
            values = [stored[i][j + 1] for i in pos]
            incoming = pc.filter(data["id_number"], sel)
            # compare the normalised number, which is what is stored
        else:
            values = [stored[i][j + 1] for i in pos]
            incoming = pc.filter(data[col.name], sel)
        if col.kind == "dec":
            values = [None if x is None else float(x) for x in values]
        if col.kind == "datetime":
            values = [None if x is None else x.astimezone(dt.UTC) for x in values]
        old = pa.array(values, type=incoming.type if col.kind != "dec" else pa.float64())
        a, b = _comparable(col, old), _comparable(col, incoming)
        ne = pc.fill_null(pc.not_equal(a, b), False)
        nulls_differ = pc.not_equal(pc.is_null(a), pc.is_null(b))
        changed |= np.asarray(pc.or_(ne, nulls_differ))
    out = np.zeros(len(mask), dtype=bool)
    out[np.flatnonzero(mask)] = changed
    return out


class _Conflict(Exception):
    """Some compare-and-set of a batch missed: roll its savepoint back and name the stale row."""


@dataclass
class _UpdatePlan:
    """The compare-and-set updates of one table: ``sql`` run once per row of ``params`` (``[*values, pk,
    expected version]``), the ChangeLog rows they produce, and the (pk, expected version) of each row."""

    model: type
    columns: list[str]  # db columns set, in the order of the first values of each params row
    sql: str
    params: list[list[object]]
    logs: list[m.ChangeLog]
    wanted: dict[int, int]


def _plan_updates(table: Table, data: dict[str, pa.Array], ids: np.ndarray, mask: np.ndarray,
                  batch_row: m.LoadBatch | None, actor: str, actor_user: object | None, now: dt.datetime,
                  expected: dict[int, int]) -> _UpdatePlan | None:
    idx = np.flatnonzero(mask)
    if not len(idx):
        return None
    model = table.model
    attnames = [c.attname for c in table.columns]
    if table.name == "residents":
        attnames += ["id_number_raw", "id_status"]
    objs = {o.pk: o for o in model.objects.filter(pk__in=ids[idx].tolist())}
    cols = {a: data[a.removesuffix("_id") if a.endswith("_id") and a.removesuffix("_id") in data else a]
            .take(pa.array(idx)).to_pylist() for a in attnames}
    logs, rows = [], []
    for k, i in enumerate(idx):
        obj = objs[int(ids[i])]
        before, after = {}, {}
        for a in attnames:
            new = cols[a][k]
            old = getattr(obj, a)
            if _differs(old, new):
                before[a], after[a] = _jsonable(old), _jsonable(new)
        if not after:
            continue
        version = expected.get(obj.pk, obj.version)
        rows.append((obj, version, after.keys()))
        logs.append(m.ChangeLog(model=model._meta.label, object_pk=str(obj.pk), action=v.ChangeAction.UPDATE,
                                actor=actor_user if actor_user is not None else None, actor_label=actor,
                                before=before, after=after, batch=batch_row, version=version + 1, at=now))
    if not rows:
        return None
    # every row sets the columns any row changed: its new value where it changed, its stored one elsewhere
    changed = [a for a in attnames if any(a in keys for _, _, keys in rows)]
    position = {int(ids[i]): k for k, i in enumerate(idx)}
    fields = [model._meta.get_field(a) for a in changed]
    stamp = [f for f in model._meta.concrete_fields if f.name == "updated_at"]
    q = connection.ops.quote_name
    sets = [f"{q(f.column)} = %s" for f in [*fields, *stamp]] + [f"{q('version')} = {q('version')} + 1"]
    pk_col = model._meta.pk.column
    sql = (f"UPDATE {q(model._meta.db_table)} SET {', '.join(sets)} "
           f"WHERE {q(pk_col)} = %s AND {q('version')} = %s")
    params = []
    for obj, version, keys in rows:
        k = position[obj.pk]
        values = [f.get_db_prep_save(cols[a][k] if a in keys else getattr(obj, a), connection)
                  for a, f in zip(changed, fields, strict=True)]
        values += [f.get_db_prep_save(now, connection) for f in stamp]
        params.append([*values, obj.pk, version])
    return _UpdatePlan(model, [f.column for f in [*fields, *stamp]], sql, params, logs,
                       {obj.pk: version for obj, version, _ in rows})


def _stale(plan: _UpdatePlan) -> StaleVersion:
    """The refusal naming a row of ``plan`` that is no longer at the version it was read (or loaded) at."""
    model = plan.model
    current = dict(model.objects.filter(pk__in=list(plan.wanted)).values_list("pk", "version"))
    pk = next((pk for pk, version in plan.wanted.items() if current.get(pk) != version), next(iter(plan.wanted)))
    return StaleVersion(model, pk, plan.wanted[pk], current.get(pk) or 0, stale_changes(model, pk, plan.wanted[pk]))


def _apply_updates(table: Table, data: dict[str, pa.Array], ids: np.ndarray, mask: np.ndarray,
                   batch_row: m.LoadBatch, actor: str, actor_user: object | None, now: dt.datetime,
                   expected: dict[int, int]) -> int:
    """Update the changed rows, each by compare-and-set on its version, with a ChangeLog entry.

    One statement run for every row (``executemany``), ``UPDATE ... SET version = version + 1 WHERE id = %s
    AND version = %s``: a row is written only if it is still at the version it was read at (or, for a form,
    loaded at — ``expected``). If the rows written fall short of the rows sent, the savepoint is rolled back
    and :class:`StaleVersion` names a row that moved on; the caller's transaction then rolls the whole batch
    back. Two saves racing from the same version cannot both win.
    """
    plan = _plan_updates(table, data, ids, mask, batch_row, actor, actor_user, now, expected)
    if plan is None:
        return 0
    try:
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(plan.sql, plan.params)
            if cur.rowcount != len(plan.params):
                raise _Conflict
    except _Conflict:
        raise _stale(plan) from None
    m.ChangeLog.objects.bulk_create(plan.logs)
    return len(plan.logs)


def _differs(old: object, new: object) -> bool:
    if old is None or new is None:
        return old is not new
    try:
        return float(old) != float(new)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return old != new


def _jsonable(x: object) -> object:
    if isinstance(x, dt.datetime | dt.date):
        return x.isoformat()
    if x is None or isinstance(x, bool | int | float | str):
        return x
    return str(x)


# --- single-object writes (forms, admin) ------------------------------------------------------------
def record_change(obj, *, action: str, actor_user=None, actor: str = "", before: dict | None = None,
                  after: dict | None = None, reason: str = "") -> m.ChangeLog:
    return m.ChangeLog.objects.create(model=obj._meta.label, object_pk=str(obj.pk), action=action,
                                      actor=actor_user, actor_label=actor or str(actor_user or ""),
                                      before=before, after=after, reason=reason,
                                      version=getattr(obj, "version", None))


def _bump(obj, **values) -> None:
    """Write ``values`` to ``obj``'s row if it is still at ``obj.version``, moving it to the next version."""
    from django.db.models import F

    model, version = type(obj), obj.version
    if not model.objects.filter(pk=obj.pk, version=version).update(**values, version=F("version") + 1):
        current = model.objects.filter(pk=obj.pk).values_list("version", flat=True).first()
        raise StaleVersion(model, obj.pk, version, current or 0, stale_changes(model, obj.pk, version))
    for name, value in values.items():
        setattr(obj, name, value)
    obj.version = version + 1


def snapshot(obj, fields: Iterable[str] | None = None) -> dict:
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {a: _jsonable(getattr(obj, a)) for a in names}


def move_org_unit(unit: m.OrgUnit, new_parent: m.OrgUnit, *, actor_user=None, reason: str = "") -> None:
    """Move a unit (and its subtree) under another parent, keeping history; one UPDATE for the subtree."""
    from django.db.models import F, Value
    from django.db.models.functions import Concat, Substr

    if new_parent.path.startswith(unit.path):
        raise ValueError("不能把机构移动到其自身或下级机构之下")
    with transaction.atomic():
        old_path = unit.path
        new_path = f"{new_parent.path}{unit.pk}/"
        before = {"parent_id": unit.parent_id, "path": old_path}
        _bump(unit, parent=new_parent)
        m.OrgUnit.objects.filter(path__startswith=old_path).update(
            path=Concat(Value(new_path), Substr(F("path"), len(old_path) + 1)))
        unit.refresh_from_db()
        record_change(unit, action=v.ChangeAction.MOVE, actor_user=actor_user, before=before,
                      after={"parent_id": unit.parent_id, "path": unit.path}, reason=reason)


def close_resident(resident: m.Resident, status: str, on: dt.date, reason: str, *, actor_user=None) -> None:
    """Close a record (death, migration, loss, refusal): status changes, nothing is deleted."""
    if status not in {s.value for s in v.CLOSED_STATUSES}:
        raise ValueError(f"结案状态“{status}”无效")
    with transaction.atomic():
        before = snapshot(resident, ["status", "status_date", "status_reason"])
        _bump(resident, status=status, status_date=on, status_reason=reason, updated_at=timezone.now())
        record_change(resident, action=v.ChangeAction.CLOSE, actor_user=actor_user, before=before,
                      after=snapshot(resident, ["status", "status_date", "status_reason"]), reason=reason)


def instance_row(obj) -> dict[str, object]:
    """A model instance as one row of its exchange table (references as natural keys)."""
    from gongwei.records.schema import table_for_model

    table = table_for_model(type(obj))
    row: dict[str, object] = {}
    for col in table.columns:
        if col.kind == "ref":
            target = getattr(obj, col.name)
            if target is None:
                row[col.name] = ""
                continue
            ref_table = tables()[col.ref_table]
            parts = []
            for k in ref_table.natural_key:
                val = getattr(target, k)
                parts.append(str(val.pk) if hasattr(val, "pk") else str(val))
            row[col.name] = KEY_SEP.join(parts)
        elif col.name == "id_number" and hasattr(obj, "id_number_raw") and obj.id_number_raw and not obj.id_number:
            row[col.name] = obj.id_number_raw
        else:
            val = getattr(obj, col.name)
            row[col.name] = "" if val is None else (val.isoformat() if isinstance(val, dt.date) else
                                                    ("1" if val is True else "0" if val is False else str(val)))
    return row


def submit_instance(obj, *, actor_user=None, reason: str = "", expected_version: int | None = None) -> SubmitResult:
    """Validate and write one instance (create or update) through :func:`submit`.

    Raises :class:`Rejected` with Chinese messages naming the field; the admin shows them on the form.
    ``expected_version`` is the version the form was loaded at: a row changed since is refused with
    :class:`StaleVersion` (checked first for a clear message, and again atomically by the write).
    """
    from gongwei.records.schema import table_for_model

    table = table_for_model(type(obj))
    expected: dict[str, dict[int, int]] = {}
    if expected_version is not None and not obj._state.adding and obj.pk is not None:
        check_version(type(obj), obj.pk, expected_version)
        expected = {table.name: {obj.pk: int(expected_version)}}
    row = instance_row(obj)
    arrow = pa.table({k: pa.array([v], pa.string()) for k, v in row.items()})
    actor = getattr(actor_user, "username", "") or "system"
    return submit({table.name: arrow}, actor=actor, kind="entry", source=reason or "单条录入",
                  actor_user=actor_user, expected_versions=expected)


def reopen_resident(resident: m.Resident, reason: str, *, actor_user=None) -> None:
    """Undo a closing (死亡/迁出/失访/拒绝 recorded in error, or a person back in management): the record is in
    management again; the closing stays in the history (ChangeLog before/after). A merged record is reopened by
    undoing the merge, not here."""
    if resident.status not in {s.value for s in v.CLOSED_STATUSES}:
        raise ValueError(f"档案状态“{resident.status}”不是结案状态，无需恢复")
    with transaction.atomic():
        before = snapshot(resident, ["status", "status_date", "status_reason"])
        _bump(resident, status=v.ResidentStatus.ACTIVE, status_date=None, status_reason="", updated_at=timezone.now())
        record_change(resident, action=v.ChangeAction.REOPEN, actor_user=actor_user, before=before,
                      after=snapshot(resident, ["status", "status_date", "status_reason"]), reason=reason)
