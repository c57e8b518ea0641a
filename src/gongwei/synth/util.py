"""Vectorised helpers shared by the synthetic-region builders (dates, numbered keys, string columns)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

D = "datetime64[D]"


def to_day(d) -> np.datetime64:
    return np.datetime64(d, "D")


def ymd(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month (1–12), day (1–31) of a datetime64[D] array."""
    y = dates.astype("datetime64[Y]")
    m = dates.astype("datetime64[M]")
    return (y.astype(np.int64) + 1970, (m - y.astype("datetime64[M]")).astype(np.int64) + 1,
            (dates - m.astype(D)).astype(np.int64) + 1)


def age_years(birth: np.ndarray, at: np.ndarray | np.datetime64) -> np.ndarray:
    """Completed years at ``at`` (scalar or array)."""
    by, bm, bd = ymd(np.asarray(birth, dtype=D))
    at_arr = np.broadcast_to(np.asarray(at, dtype=D), np.shape(birth))
    ay, am, ad = ymd(at_arr)
    return ay - by - ((am * 100 + ad) < (bm * 100 + bd))


def add_months(dates: np.ndarray, months: int | np.ndarray) -> np.ndarray:
    """Calendar month arithmetic; the day is clipped to the end of the target month."""
    dates = np.asarray(dates, dtype=D)
    m = dates.astype("datetime64[M]")
    day = (dates - m.astype(D)).astype(np.int64)
    target = m + np.asarray(months, dtype=np.int64)
    last = (target + 1).astype(D) - 1
    return np.minimum(target.astype(D) + day, last)


def year_start(year: int) -> np.datetime64:
    return np.datetime64(f"{year:04d}-01-01", "D")


def numbered(prefix: str | pa.Array, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + zero-padded numbers, as an Arrow string array (prefix may be an array)."""
    nums = pc.utf8_lpad(pa.array(np.asarray(numbers, dtype=np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, nums, "")


def concat(*parts: str | pa.Array) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def pick(words: list[str] | pa.Array, idx: np.ndarray) -> pa.Array:
    arr = words if isinstance(words, pa.Array) else pa.array(words, pa.string())
    return arr.take(pa.array(np.asarray(idx, dtype=np.int64)))


def strs(values: np.ndarray) -> pa.Array:
    arr = np.asarray(values)
    if arr.dtype.kind in "iub":
        return pa.array(arr).cast(pa.string())  # Arrow's integer formatting, no Python objects
    if arr.dtype.kind == "U":
        return pa.array(arr, pa.string())
    return pa.array(arr.astype(str), pa.string())


def choose(rng: np.random.Generator, values: list[str], n: int, p: list[float] | None = None) -> pa.Array:
    """n codes drawn from ``values`` (optionally weighted), built by index so no per-row strings are made."""
    return pick(values, rng.choice(len(values), n, p=p))


def where(mask: np.ndarray, a: str, b: str) -> pa.Array:
    return pick([b, a], np.asarray(mask, dtype=np.int64))


def const(value: str, n: int) -> pa.Array:
    return pa.array([value], pa.string()).take(pa.array(np.zeros(n, dtype=np.int64)))


def dates(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=D), pa.date32())


def timestamps(values: np.ndarray) -> pa.Array:
    """UTC timestamps in whole seconds (the exchange format carries seconds)."""
    secs = np.asarray(values).astype("datetime64[s]").astype("datetime64[us]")
    return pa.array(secs, pa.timestamp("us", tz="UTC"))


def dec(values: np.ndarray, places: int) -> pa.Array:
    return pa.array(np.round(np.asarray(values, dtype=np.float64), places), pa.float64(), from_pandas=True)


def ints(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=np.int64), pa.int64())


def bools(values: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(values, dtype=bool), pa.bool_())


def group_starts(sorted_keys: np.ndarray, n_groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Start offset and size of each group 0..n_groups-1 in an array sorted by key."""
    counts = np.bincount(sorted_keys, minlength=n_groups)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    return starts, counts


def rank_in_group(sorted_keys: np.ndarray, n_groups: int) -> np.ndarray:
    """0-based position of each element within its group (array sorted by key)."""
    starts, _ = group_starts(sorted_keys, n_groups)
    return np.arange(len(sorted_keys)) - starts[sorted_keys]


def pick_in_group(rng: np.random.Generator, groups: np.ndarray, member_group_sorted: np.ndarray,
                  n_groups: int) -> np.ndarray:
    """For each entry of ``groups``, a random index into members sorted by group (-1 if the group is empty)."""
    starts, counts = group_starts(member_group_sorted, n_groups)
    c = counts[groups]
    off = np.floor(rng.random(len(groups)) * np.maximum(c, 1)).astype(np.int64)
    return np.where(c > 0, starts[groups] + off, -1)
