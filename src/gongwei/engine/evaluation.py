"""Scoring a scheme's leaves for many units at once (NumPy arrays, one element per unit): the arithmetic of
:mod:`gongwei.spec.evaluation`'s methods, kept apart from where the figures come from so it can be tested by hand.

Each function returns ``(points, status)``: ``status`` is ``SCORED``, ``NO_DENOMINATOR`` or ``NO_TARGET`` (the leaf
is not applicable to that unit: left out of its maximum, 合理缺项) or ``PENDING`` (a manual entry not made yet).
"""

from __future__ import annotations

import numpy as np

from gongwei.spec.evaluation import EPSILON, Item, Method

SCORED, NO_DENOMINATOR, NO_TARGET, PENDING = "scored", "no_denominator", "no_target", "pending"
NOT_APPLICABLE = frozenset({NO_DENOMINATOR, NO_TARGET})


def _arr(values, n: int | None = None) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    return np.full(n, float(a)) if a.ndim == 0 and n is not None else a


def _round(points: np.ndarray) -> np.ndarray:
    return np.round(points + 0.0, 4)  # a score prints with 2 decimals; 4 keeps sums exact enough


def rate_leaf(item: Item, numerator, denominator, target) -> tuple[np.ndarray, np.ndarray]:
    """PROPORTIONAL_TO_TARGET, FULL_AT_TARGET, AT_OR_BELOW_LIMIT. ``target``: per-unit target (NaN: none); for
    AT_OR_BELOW_LIMIT the item's ``limit`` is used instead."""
    num = _arr(numerator)
    n = num.shape[0]
    den = _arr(denominator, n)
    tgt = _arr(target, n)
    status = np.full(n, SCORED, dtype=object)
    has_den = np.nan_to_num(den, nan=0.0) > 0
    rate = np.where(has_den, num / np.where(has_den, den, 1.0), np.nan)
    p = float(item.points)
    if item.method is Method.AT_OR_BELOW_LIMIT:
        limit = float(item.limit)  # validate() guarantees it
        within = rate <= limit + EPSILON
        ratio = np.where(rate > 0, limit / np.where(rate > 0, rate, 1.0), 1.0)
        points = np.where(within, p, p * np.minimum(ratio, 1.0))
    else:
        has_tgt = ~np.isnan(tgt) & (np.nan_to_num(tgt) > 0)
        status[~has_tgt] = NO_TARGET
        safe_t = np.where(has_tgt, tgt, 1.0)
        meets = rate >= safe_t - EPSILON
        if item.method is Method.FULL_AT_TARGET:
            points = np.where(meets, p, 0.0)
        else:
            points = np.where(meets, p, p * np.minimum(rate / safe_t, 1.0))
        points = np.where(has_tgt, points, 0.0)
    status[~has_den] = NO_DENOMINATOR
    points = np.where(has_den, np.nan_to_num(points, nan=0.0), 0.0)
    return _round(points), status


def yes_no_leaf(item: Item, yes) -> tuple[np.ndarray, np.ndarray]:
    """YES_NO: ``yes`` per unit (True/False, or NaN: not entered → pending)."""
    y = _arr(yes)
    status = np.where(np.isnan(y), PENDING, SCORED).astype(object)
    return _round(np.where(np.nan_to_num(y) >= 0.5, float(item.points), 0.0)), status


def deduct_leaf(item: Item, findings, examined=None) -> tuple[np.ndarray, np.ndarray]:
    """DEDUCT_PER_FINDING: points − per_finding × findings, not below the floor (NaN findings: not entered).
    ``per_thousand`` items count findings per 1,000 ``examined`` records (none examined: not applicable)."""
    f = _arr(findings)
    status = np.where(np.isnan(f), PENDING, SCORED).astype(object)
    if item.per_thousand:
        ex = np.nan_to_num(_arr(examined, f.shape[0]))
        status[ex <= 0] = NO_DENOMINATOR
        f = np.where(ex > 0, f / np.where(ex > 0, ex, 1.0) * 1000, 0.0)
    got = np.maximum(float(item.points) - float(item.per_finding) * np.nan_to_num(f), float(item.floor))
    return _round(np.where(np.isnan(f) | (status == NO_DENOMINATOR), 0.0, got)), status


def manual_leaf(item: Item, value) -> tuple[np.ndarray, np.ndarray]:
    """MANUAL: the evaluator's value (NaN: not entered → 0, pending). Ranges are checked when entered."""
    v = _arr(value)
    status = np.where(np.isnan(v), PENDING, SCORED).astype(object)
    return _round(np.nan_to_num(v)), status


def total(points: np.ndarray, maxima: np.ndarray, applicable: np.ndarray, scheme_points: float) -> np.ndarray:
    """A unit's total from its leaves (rows: units, columns: leaves): the points got over the points of the
    applicable leaves, rescaled to the scheme's points (合理缺项 leaves leave the maximum)."""
    got = (points * applicable).sum(axis=1)
    possible = (maxima * applicable).sum(axis=1)
    return np.round(np.where(possible > 0, got / np.where(possible > 0, possible, 1.0) * scheme_points, 0.0), 2)


def competition_rank(scores: np.ndarray) -> np.ndarray:
    """1 + the number of units with a strictly higher score (equal scores share a rank: 1, 2, 2, 4)."""
    s = np.asarray(scores, dtype=float)
    ordered = np.sort(s)[::-1]
    return (np.searchsorted(-ordered, -s, side="left") + 1).astype(int)
