"""The snapshot's tables in DuckDB's own storage, beside its Parquet files (ADR 038).

The Parquet files are the snapshot (hashed in its manifest, read by both backends, exchanged); ``tables.duckdb``
is a copy of the same rows in DuckDB's format, written once when the snapshot is taken. DuckDB scans its own
format with less work than Parquet (no page decompression or dictionary decoding, zone maps for the date and
status filters every program applies), and the catalogue reads the residents and encounters once per program:
on the 2 M-resident city the whole catalogue needed about a fifth less CPU (docs/benchmarks.md §2.5).

The copy is derived and optional. It is written under a temporary name and renamed when complete, carries the
snapshot's id, and is used only when that id matches; without it the engine reads the Parquet files as before,
and PySpark always does.

The copy also carries **derived columns**: ``<field>__blank`` for the text fields the rulebook checks for blanks
(the basic-information fields of the records program, a follow-up's guidance), computed once per row with the
engine's own :func:`~gongwei.engine.programs.records.blank`. The checks were the costliest part of the records
query, repeated on every run over 2 M rows; read from the copy they are a boolean column each (ADR 042). A
field name never contains ``__`` (Django reserves it), so a derived column cannot shadow a field. The copy's
``format`` names the derived columns' definition: a copy written by other code is passed over.

And **derived tables** (``derived__<name>``), facts per resident that depend on the snapshot's rows alone, never on
the period asked for: the child program's items done in their age windows (``child.windows_done``), which were
its query's costliest part (date arithmetic on every record, ADR 043), and per edition of the vaccination
schedule each child's first record given on time for each dose (``vaccination.first_given``). The format digest covers their compiled
SQL, so a change to a schedule or to the code makes the copy one to pass over.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from gongwei.engine.snapshot import Snapshot

if TYPE_CHECKING:
    import ibis

FILE = "tables.duckdb"
# a snapshot with fewer rows is read from its Parquet files: writing the copy (a tenth of a second and more) would
# cost more than it saves (a demo region, a test's fixture); measured at 2 M residents, docs/benchmarks.md §2.5
MIN_ROWS = 100_000
_META = "_gongwei_snapshot"  # one row: the snapshot id the copy was made from, its format and derived columns
BLANK_SUFFIX = "__blank"
DERIVED_PREFIX = "derived__"  # a derived table's name in the copy: no snapshot table's name starts so


def _blank_fields() -> dict[str, frozenset[str]]:
    """Per table, the text fields whose blankness the rulebook checks: every basic-information field it names
    (any year's required fields, and those it has labels for, so a regional list can pick any), and the
    guidance on a follow-up (an uncontrolled visit with no answer)."""
    from gongwei.spec.programs import records as records_spec

    named = frozenset(records_spec.FIELD_LABELS) | frozenset(
        f for std in records_spec.STANDARD.values.values() for f in std.required_fields)
    return {"residents": named, "health_records": named, "chronic_follow_ups": frozenset({"guidance"})}


def _derived_table_exprs(schemas: dict[str, ibis.Schema]) -> dict[str, ibis.Table]:
    """Each derived table (without its prefix) as an expression over the copy's own tables, for the tables of
    ``schemas`` (a snapshot without them gets none)."""
    import ibis

    from gongwei.engine.programs import child, consultation, records, vaccination
    from gongwei.spec.programs import records as records_spec
    from gongwei.spec.programs import vaccination as vaccination_spec

    t = {n: ibis.table(s, name=n) for n, s in schemas.items()}
    out: dict[str, ibis.Table] = {}
    if all(n in t for n in ("residents", "child_checks", "child_tcm_guidance", "newborn_visits")):
        out[child.DERIVED] = child.windows_done(t["residents"], t["child_checks"], t["child_tcm_guidance"],
                                                t["newborn_visits"])
    if all(n in t for n in ("residents", "vaccinations")):
        for edition in vaccination_spec.EDITIONS:
            out[vaccination.derived_name(edition)] = vaccination.first_given(t["residents"], t["vaccinations"],
                                                                             edition)
    if all(n in t for n in ("residents", "consultations")):
        out[consultation.DERIVED] = consultation.first_visits(t["residents"], t["consultations"])
    if all(n in t for n in ("residents", "health_records")):
        for year, std in records_spec.STANDARD.values.items():
            out[records.derived_name(year)] = records.pairing(t["residents"], t["health_records"], std)
    return out


def _checked_fields() -> dict[str, str]:
    """Every basic-information field the rulebook names (:func:`_blank_fields`), as a text column: the records
    pairing's field checks in the digest's SQL (a changed list or label changes it)."""
    return {f: "string" for f in sorted(_blank_fields()["residents"])}


# the columns the derived tables' definitions read, for the format digest (their SQL, compiled on these)
_DIGEST_SCHEMAS = {
    "residents": {**_checked_fields(), "id": "int64", "birth_date": "date", "status": "string",
                  "merged_into_id": "int64", "managing_unit_id": "int64", "status_date": "date",
                  "usual_resident": "boolean", "id_status": "string", "id_key": "string", "id_key_holders": "int64"},
    "health_records": {"resident_id": "int64", "created_on": "date", "is_electronic": "boolean"},
    **{n: {"resident_id": "int64", "service_date": "date", "is_void": "boolean"}
       for n in ("child_checks", "child_tcm_guidance", "newborn_visits")},
    "vaccinations": {"resident_id": "int64", "service_date": "date", "is_void": "boolean", "vaccine": "string",
                     "dose_no": "int64"},
    "consultations": {"resident_id": "int64", "service_date": "date", "is_void": "boolean", "encounter_no": "string",
                      "org_unit_id": "int64", "bp_measured": "boolean", "glucose_measured": "boolean",
                      "sbp": "int64", "blood_glucose": "decimal(4, 1)"},
}


@functools.cache
def format_version() -> str:
    """The copy's format: its layout and the definition of its derived columns (the code of ``blank``) and
    tables (their SQL)."""
    import ibis

    from gongwei.engine.programs import records

    digest = hashlib.sha256(inspect.getsource(records.blank).encode())
    digest.update(repr(records._STRIPPED_CODES).encode())
    schemas = {n: ibis.schema(cols) for n, cols in _DIGEST_SCHEMAS.items()}
    for name, expr in sorted(_derived_table_exprs(schemas).items()):
        digest.update(name.encode())
        digest.update(str(ibis.to_sql(expr, dialect="duckdb")).encode())
    return f"gongwei-native/3+{digest.hexdigest()[:12]}"


def derived_tables(about: str) -> frozenset[str]:
    """The derived tables a copy holds, from its ``derived`` entry (JSON)."""
    if not about:
        return frozenset()
    return frozenset(n for n in json.loads(about) if n.startswith(DERIVED_PREFIX))


def path(snapshot: Snapshot) -> Path:
    return snapshot.folder / FILE


def worth_writing(snapshot: Snapshot) -> bool:
    return sum(snapshot.tables.values()) >= MIN_ROWS


def usable(snapshot: Snapshot) -> bool:
    """The copy exists (it is renamed into place only when whole); its id is checked when it is attached."""
    return path(snapshot).is_file()


def write(snapshot: Snapshot) -> Path:
    """Copy every table of ``snapshot`` into ``tables.duckdb`` (replacing an earlier copy) and return its path."""
    import duckdb

    target = path(snapshot)
    tmp = target.with_name(f".{FILE}.{uuid.uuid4().hex}.tmp")
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")  # a nightly job's log, not a terminal
            con.execute("BEGIN")
            derived: dict[str, list[str]] = {}
            for name in snapshot.tables:
                con.execute(f'CREATE TABLE "{name}" AS {_select_with_derived(name, snapshot.path(name), derived)}')
            _write_derived_tables(con, snapshot, derived)
            con.execute(f'CREATE TABLE "{_META}" AS SELECT ? AS snapshot_id, ? AS format, ? AS derived',
                        [snapshot.id, format_version(), json.dumps(derived, sort_keys=True)])
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.chmod(tmp, 0o600)  # pseudonymised, but still personal data, like the Parquet files beside it
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return target


def _select_with_derived(name: str, file: Path, derived: dict[str, list[str]]) -> str:
    """The copy of one table: its Parquet file's columns, then the derived ``<field>__blank`` columns of its text
    fields the rulebook checks (recorded in ``derived``), compiled from the engine's own expression."""
    import ibis
    import pyarrow.parquet as pq

    from gongwei.engine.programs.records import blank

    source = "read_parquet('{}')".format(str(file).replace("'", "''"))
    select = f"SELECT * FROM {source}"
    fields = _blank_fields().get(name, frozenset())
    if not fields:
        return select
    src = ibis.table(ibis.Schema.from_pyarrow(pq.read_schema(file)), name="_gongwei_source")
    checks = {f + BLANK_SUFFIX: blank(src[f]) for f in sorted(fields)
              if f in src.columns and src[f].type().is_string()}
    if not checks:
        return select
    derived[name] = sorted(checks)
    sql = ibis.to_sql(src.mutate(**checks), dialect="duckdb")
    return str(sql).replace('"_gongwei_source"', source)


def _write_derived_tables(con, snapshot: Snapshot, derived: dict[str, list[str]]) -> None:
    """The derived tables, each from the tables just copied (recorded in ``derived`` with their columns)."""
    import ibis
    import pyarrow.parquet as pq

    schemas = {n: ibis.Schema.from_pyarrow(pq.read_schema(snapshot.path(n))) for n in snapshot.tables}
    for name, expr in _derived_table_exprs(schemas).items():
        stored = DERIVED_PREFIX + name
        con.execute(f'CREATE TABLE "{stored}" AS {ibis.to_sql(expr, dialect="duckdb")}')
        derived[stored] = list(expr.columns)


def attach_sql(snapshot: Snapshot, alias: str) -> str:
    p = str(path(snapshot)).replace("'", "''")
    return f"ATTACH IF NOT EXISTS '{p}' AS \"{alias}\" (READ_ONLY)"


def check_sql(alias: str) -> str:
    """One row: what the copy says of itself (a copy of format /1 has only its snapshot id)."""
    return f'SELECT * FROM "{alias}"."{_META}"'


def made_for(row: dict, snapshot: Snapshot) -> bool:
    """The copy (its :func:`check_sql` row) was made from ``snapshot`` by this code's format."""
    return row.get("snapshot_id") == snapshot.id and row.get("format") == format_version()
