"""The catalogue computed a second, deliberately plain way: straightforward Python over the snapshot's rows.

Each module defines ``PROGRAMS`` (program codes it covers) and ``state(tables, program, period)`` returning
``{flag: Counter(managing_unit_id → people)}``. ``tests/test_engine_crosscheck.py`` compares these counts with
the engine's on a synthetic county. Written from the rulebook's text, not from the engine's code.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pyarrow.parquet as pq


def load_tables(folder: Path, names: list[str]) -> dict[str, list[dict]]:
    return {n: pq.read_table(folder / f"{n}.parquet").to_pylist() for n in names}


def modules():
    here = Path(__file__).parent
    return [importlib.import_module(f"tests.plain.{m.name}") for m in pkgutil.iter_modules([str(here)])]
