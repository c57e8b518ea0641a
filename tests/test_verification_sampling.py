"""Sampling as pure functions (no database): the equal-interval property, stratified allocation, reproducibility
from a seed, the frame hash, Cochran's sample size and Wilson's interval (issue 13 §1, ADR 027)."""

from __future__ import annotations

import math

import pytest

from gongwei.engine import sampling
from gongwei.spec.sampling import DEFAULT_PRECISION, Precision, sample_size, wilson


@pytest.mark.parametrize(("n_frame", "n", "seed"), [(1000, 278, 7), (12, 5, 0), (187, 187, 3), (50, 1, 99),
                                                   (10007, 370, 123456789), (30, 10, 5)])
def test_equal_interval_property(n_frame, n, seed):
    d = sampling.equal_interval(n_frame, n, seed)
    k = n_frame / n
    assert d.interval == pytest.approx(k)
    assert 0 <= d.start < k
    assert len(d.positions) == n == len(set(d.positions))
    assert all(0 <= p < n_frame for p in d.positions)
    # position i is floor(r + i·k): every step is ⌊k⌋ or ⌈k⌉, and exactly k when k is a whole number
    assert d.positions == [math.floor(d.start + i * k) for i in range(n)]
    steps = {b - a for a, b in zip(d.positions, d.positions[1:], strict=False)}
    assert steps <= {math.floor(k), math.ceil(k)}
    if n_frame % n == 0 and n > 1:
        assert steps == {n_frame // n}


def test_same_seed_same_sample_other_seed_other_start():
    assert sampling.equal_interval(1000, 100, 42) == sampling.equal_interval(1000, 100, 42)
    assert sampling.equal_interval(1000, 100, 42).start != sampling.equal_interval(1000, 100, 43).start
    strata = ["A"] * 40 + ["B"] * 25 + ["C"] * 35
    assert sampling.stratified(strata, 20, 5) == sampling.stratified(strata, 20, 5)
    assert sampling.stratified(strata, 20, 5).positions != sampling.stratified(strata, 20, 6).positions


def test_known_values_pin_the_algorithm():
    """The first positions for a published seed: a change of algorithm (or of Python's generator) fails here."""
    d = sampling.equal_interval(1000, 278, 42)
    assert d.positions[:5] == [2, 5, 9, 13, 16]
    assert round(d.start, 6) == round(0.6394267984578837 * 1000 / 278, 6)


def test_stratified_allocation_is_proportional_and_inside_each_stratum():
    strata = ["360426100201"] * 60 + ["360426100202"] * 30 + ["360426200201"] * 10
    d = sampling.stratified(strata, 20, 11)
    assert d.allocation == {"360426100201": 12, "360426100202": 6, "360426200201": 2}
    assert len(d.positions) == 20 == len(set(d.positions))
    for key, n in d.allocation.items():
        assert sum(1 for p in d.positions if strata[p] == key) == n
    # largest remainder: 7 over 3/3/1 gives 3, 3, 1
    assert sampling.allocate({"a": 30, "b": 30, "c": 10}, 7) == {"a": 3, "b": 3, "c": 1}
    assert sum(sampling.allocate({"a": 1, "b": 1, "c": 1}, 2).values()) == 2


def test_frame_hash_sees_any_change():
    keys = [f"R{i:05d}" for i in range(500)]
    h = sampling.frame_hash(keys)
    assert h == sampling.frame_hash(list(keys)) and len(h) == 64
    assert sampling.frame_hash(keys[:-1]) != h  # one person fewer
    assert sampling.frame_hash([*keys[:10], "R99999", *keys[11:]]) != h  # one person replaced
    assert sampling.frame_hash([keys[1], keys[0], *keys[2:]]) != h  # order matters: positions are drawn by order


def test_bad_sizes_are_refused():
    with pytest.raises(ValueError, match="样本量"):
        sampling.equal_interval(10, 11, 1)
    with pytest.raises(ValueError, match="样本量"):
        sampling.equal_interval(0, 0, 1)


def test_sample_size_from_precision():
    assert sample_size(1000) == 278  # ± 5 % at 95 %, p = 0.5, finite population correction
    assert sample_size(10**9) == 385  # the familiar 384.16 rounded up
    assert sample_size(100) == 80
    assert sample_size(12) == 12 and sample_size(0) == 0
    assert sample_size(1000, Precision(0.8, 0.05, DEFAULT_PRECISION.z)) == 198
    with pytest.raises(ValueError):
        sample_size(100, Precision(1.2, 0.05, 1.96))


def test_wilson_interval():
    low, high = wilson(152, 187)  # a district's satisfaction survey: 152 satisfied of 187 valid questionnaires
    assert low < 152 / 187 < high
    assert (round(low, 3), round(high, 3)) == (0.751, 0.862)
    low, high = wilson(10, 10)
    assert high == 1.0 and 0.69 < low < 0.73  # all genuine: still an interval, not [1, 1]
    assert wilson(0, 0) is None
    assert wilson(0, 5)[0] == 0.0
