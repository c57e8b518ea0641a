"""Identity numbers: python-stdnum's verdicts, hand-made cases, 15→18 upgrade, record mismatches,
and agreement between the per-number path (stdnum) and the vectorised path used for bulk loads."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric

from gongwei.records.identity import check_many, check_one, make_number, normalize
from gongwei.spec.vocab import IdStatus, IdType

TODAY = dt.date(2026, 11, 24)
VALID = "360426199101010071"  # stdnum's own doctest example: Dean county, 1991-01-01, male


def test_stdnum_accepts_reference_number():
    assert ric.is_valid(VALID)
    assert check_one(VALID, dt.date(1991, 1, 1), "1", today=TODAY).status is IdStatus.VALID


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        ("", IdStatus.MISSING),
        (None, IdStatus.MISSING),
        ("   ", IdStatus.MISSING),
        ("36042619910101007", IdStatus.MALFORMED),  # 17 characters
        ("3604261991010100711", IdStatus.MALFORMED),  # 19 characters
        ("36042619910101007A", IdStatus.MALFORMED),  # illegal check character
        ("360426199101010072", IdStatus.BAD_CHECKSUM),
        ("990426199101010074", IdStatus.BAD_REGION),  # province 99 does not exist
        ("360426199102300075", IdStatus.BAD_BIRTH_DATE),  # 30 February
        ("11111111111111111" + "1", IdStatus.BAD_CHECKSUM),
        ("11010519491231002X", IdStatus.PLACEHOLDER),  # the textbook example number
    ],
)
def test_hand_made_cases(raw, status):
    if status in (IdStatus.BAD_REGION, IdStatus.BAD_BIRTH_DATE):
        raw = raw[:17] + ric.calc_check_digit(raw)  # correct check digit so the later rule is reached
    assert check_one(raw, today=TODAY).status is status
    assert check_many(np.array([raw], dtype=object), today=TODAY)[1][0] == status.value


def test_fifteen_digit_number_is_upgraded():
    assert normalize("360426910101007") == VALID
    result = check_one("360426910101007", dt.date(1991, 1, 1), "1", today=TODAY)
    assert result.status is IdStatus.UPGRADED and result.number == VALID
    numbers, statuses = check_many(np.array(["360426910101007"], dtype=object), today=TODAY)
    assert numbers[0] == VALID and statuses[0] == IdStatus.UPGRADED.value


def test_lowercase_x_is_normalised():
    number = "11010519491231002x"
    assert normalize(number) == "11010519491231002X"
    # a real-looking number with check character X
    body = "36042619800101123"
    full = body + ric.calc_check_digit(body + "0")
    if full.endswith("X"):
        assert check_one(full.lower(), today=TODAY).number == full


def test_birth_date_and_sex_mismatch():
    assert check_one(VALID, dt.date(1991, 1, 2), "1", today=TODAY).status is IdStatus.BIRTH_MISMATCH
    assert check_one(VALID, dt.date(1991, 1, 1), "2", today=TODAY).status is IdStatus.SEX_MISMATCH
    numbers = np.array([VALID, VALID], dtype=object)
    births = np.array(["1991-01-02", "1991-01-01"], dtype="datetime64[D]")
    sexes = np.array(["1", "2"], dtype=object)
    assert list(check_many(numbers, births, sexes, today=TODAY)[1]) == ["birth_mismatch", "sex_mismatch"]


def test_future_birth_date_is_rejected():
    body = "36042620300101007"
    future = body + ric.calc_check_digit(body + "0")
    assert check_one(future, today=TODAY).status is IdStatus.BAD_BIRTH_DATE


def test_other_document_types_are_not_checked():
    assert check_one("E12345678", id_type=IdType.PASSPORT).status is IdStatus.NOT_CHECKED
    _, statuses = check_many(np.array(["E12345678"], dtype=object), id_types=np.array(["03"]), today=TODAY)
    assert statuses[0] == IdStatus.NOT_CHECKED.value


def test_make_number_builds_valid_numbers():
    births = np.array(["1950-03-04", "2001-12-31"], dtype="datetime64[D]")
    numbers = make_number(np.array(["110105", "110105"]), births, np.array([7, 12]))  # valid since before 1950
    assert all(ric.is_valid(n) for n in numbers)
    assert check_one(numbers[0], dt.date(1950, 3, 4), "1", today=TODAY).status is IdStatus.VALID
    assert check_one(numbers[1], dt.date(2001, 12, 31), "2", today=TODAY).status is IdStatus.VALID


def _mutations():
    digit = st.sampled_from("0123456789")
    valid = st.builds(
        lambda y, m, d, seq: (lambda b: b + ric.calc_check_digit(b + "0"))(f"360426{y:04d}{m:02d}{d:02d}{seq:03d}"),
        st.integers(1900, 2030), st.integers(1, 12), st.integers(1, 31), st.integers(0, 999),
    )
    mutated = st.tuples(valid, st.integers(0, 17), digit).map(lambda t: t[0][: t[1]] + t[2] + t[0][t[1] + 1:])
    random = st.text(alphabet="0123456789Xx -", min_size=0, max_size=20)
    legacy = st.builds(lambda y, m, d, s: f"360426{y:02d}{m:02d}{d:02d}{s:03d}",
                       st.integers(0, 99), st.integers(1, 12), st.integers(1, 31), st.integers(0, 999))
    return st.one_of(valid, mutated, random, legacy)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_mutations(), st.sampled_from(["1", "2", "9"]),
                          st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31))), min_size=1, max_size=20))
def test_vectorised_path_agrees_with_stdnum_path(rows):
    raw = np.array([r[0] for r in rows], dtype=object)
    sexes = np.array([r[1] for r in rows], dtype=object)
    births = np.array([r[2] for r in rows], dtype="datetime64[D]")
    numbers, statuses = check_many(raw, births, sexes, today=TODAY)
    for i, (number, sex, born) in enumerate(rows):
        expected = check_one(number, born, sex, today=TODAY)
        assert statuses[i] == expected.status.value, (number, sex, born)
        assert numbers[i] == expected.number, number


def test_code_created_after_birth_year_is_still_valid():
    # 360426 (德安县) is in stdnum's table from 1983 on and stdnum rejects a 1950 birth under it; but
    # numbers were issued from 1984 with the code current at issue, so we accept it (ID-06).
    old = make_number(np.array(["360426"]), np.array(["1950-03-04"], dtype="datetime64[D]"), np.array([7]))[0]
    assert not ric.is_valid(old)
    assert check_one(old, dt.date(1950, 3, 4), "1", today=TODAY).status is IdStatus.VALID
    assert check_many(np.array([old], dtype=object), today=TODAY)[1][0] == IdStatus.VALID.value
