"""Reproducible samples from an ordered frame: equal-interval (等间距) and stratified random, and the frame's hash.

Pure functions of (ordered frame keys, size, seed): the same inputs give the same sample on any machine and any
Python version. Randomness comes only from ``random.Random(seed).random()``, the one part of the standard
library whose sequence Python promises to keep for a given seed (``randrange``, ``sample`` and ``shuffle`` may
change between versions); sampling without replacement inside a stratum is Floyd's algorithm, which draws as
many numbers as the stratum's sample size, never one per member of the frame. Method and formulas:
``gongwei.spec.sampling``.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from gongwei.engine.backends import Engine
from gongwei.engine.catalogue import effective_period
from gongwei.engine.materialize import load_state
from gongwei.engine.orgs import OrgTree
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period


def frame_hash(keys: Sequence[str]) -> str:
    """SHA-256 of the ordered frame keys (record numbers), one per line: a changed frame changes the hash."""
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IntervalDraw:
    interval: float  # k = N / n
    start: float  # random start r in [0, k)
    positions: list[int]  # 0-based frame positions floor(r + i·k), i = 0 … n − 1


def equal_interval(frame_size: int, n: int, seed: int) -> IntervalDraw:
    """Positions of an equal-interval sample of ``n`` from a frame of ``frame_size`` ordered items."""
    if not 0 < n <= frame_size:
        raise ValueError("样本量应大于 0 且不超过抽样框人数")
    k = frame_size / n
    r = random.Random(seed).random() * k
    positions = np.floor(r + np.arange(n, dtype=np.float64) * k).astype(np.int64)
    positions = np.minimum(positions, frame_size - 1)  # r + (n−1)k < N always; guards float rounding only
    return IntervalDraw(k, r, positions.tolist())


def stratum_seed(seed: int, stratum: str) -> int:
    """A stratum's own seed, derived from the sample's: strata drawn independently, each reproducible."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{stratum}".encode()).digest()[:8], "big")


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` over strata of ``sizes`` (largest remainder; ties by stratum key)."""
    total = sum(sizes.values())
    if not 0 < n <= total:
        raise ValueError("样本量应大于 0 且不超过抽样框人数")
    exact = {s: n * size / total for s, size in sizes.items()}
    out = {s: math.floor(x) for s, x in exact.items()}
    left = n - sum(out.values())
    for s in sorted(exact, key=lambda s: (-(exact[s] - out[s]), s))[:left]:
        out[s] += 1
    return out


def _floyd(population: int, k: int, rng: random.Random) -> list[int]:
    """``k`` distinct indices of ``range(population)`` (Floyd's algorithm: k draws of random())."""
    chosen: set[int] = set()
    for j in range(population - k, population):
        t = int(rng.random() * (j + 1))
        chosen.add(j if t in chosen else t)
    return sorted(chosen)


@dataclass(frozen=True)
class StratifiedDraw:
    allocation: dict[str, int]  # stratum → sample size
    positions: list[int]  # 0-based frame positions, strata in key order, frame order inside each


def stratified(strata: Sequence[str], n: int, seed: int) -> StratifiedDraw:
    """A stratified random sample of ``n`` positions; ``strata[i]`` is the stratum of frame position ``i``."""
    labels = np.asarray(strata, dtype=object)
    keys, inverse = np.unique(labels.astype(str), return_inverse=True)
    members = {str(k): np.flatnonzero(inverse == i) for i, k in enumerate(keys)}
    allocation = allocate({k: len(v) for k, v in members.items()}, n)
    positions: list[int] = []
    for key in sorted(members):
        idx = _floyd(len(members[key]), allocation[key], random.Random(stratum_seed(seed, key)))
        positions.extend(members[key][idx].tolist())
    return StratifiedDraw(allocation, positions)


# --- the frame: the people of an indicator's numerator or denominator in a unit's subtree, from a snapshot -------
PARTS = ("numerator", "denominator")


def frame(eng: Engine, code: str, unit: int, period: Period, tree: OrgTree, part: str = "numerator"
          ) -> tuple[pa.Table, Period]:
    """The ordered frame of ``unit``'s subtree for indicator ``code``: one row per person of the part, columns
    ``record_no``, ``resident_id``, ``managing_unit_id``, ``stratum`` (the code of the child unit of ``unit``
    the person is managed under, or ``unit``'s own code), sorted by record number. Returns (table, the period
    the indicator is counted over). ``ValueError`` for an indicator whose denominator is not people."""
    if part not in PARTS:
        raise ValueError(f"抽样人群“{part}”无效，应为 numerator（分子）或 denominator（分母）")
    ind = spec_catalogue.indicators()[code]
    counted = effective_period(ind, period, tree.code[unit])
    if ind.cohort_flag is None:
        raise ValueError(f"指标 {code} 的分母为人口基数或任务数，不是档案中的人员，无法逐人抽样")
    state = load_state(eng, ind.program_code, counted, tree.subtree(unit))
    den = pc.fill_null(state.column(ind.cohort_flag), False)
    mask = pc.and_(den, pc.fill_null(state.column(ind.numerator_flag), False)) if part == "numerator" else den
    chosen = state.filter(mask).select(["record_no", "resident_id", "managing_unit_id"])
    chosen = chosen.take(pc.sort_indices(chosen, [("record_no", "ascending")]))
    # stratum of each person: the child of ``unit`` whose subtree holds the managing unit (or ``unit`` itself)
    stratum_of = {unit: tree.code[unit]}
    for child in tree.children(unit):
        for u in tree.subtree(child):
            stratum_of[u] = tree.code[child]
    keys = pa.array(list(stratum_of), pa.int64())
    labels = pa.array(list(stratum_of.values()), pa.string())
    strata = labels.take(pc.index_in(pc.cast(chosen.column("managing_unit_id"), pa.int64()), value_set=keys))
    return chosen.append_column("stratum", strata), counted
