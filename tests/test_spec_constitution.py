"""Constitution scoring ([spec2017]) on questionnaires scored by hand.

Items: 气虚 2 3 4 14 · 阳虚 11 12 13 29 · 阴虚 10 21 26 31 · 痰湿 9 16 28 32 · 湿热 23 25 27 30 · 血瘀 19 22 24 33 ·
气郁 5 6 7 8 · 特禀 15 17 18 20 · 平和 1 2 4 5 13 (2, 4, 5, 13 reversed: 6 − answer).
"""

from __future__ import annotations

import pytest

from gongwei.spec import constitution as c
from gongwei.spec.constitution import Constitution as C
from gongwei.spec.constitution import Result as R


def form(default: int, **items: int) -> str:
    """A stored questionnaire: every answer ``default`` except the items given as q<number>=answer."""
    answers = [default] * 33
    for key, value in items.items():
        answers[int(key[1:]) - 1] = value
    return "".join(str(a) for a in answers)


def results(text: str) -> dict[C, tuple[int, R]]:
    return {s.constitution: (s.score, s.result) for s in c.score(text)}


def test_all_ones_is_balanced():
    """Every biased sum 4×1 = 4 → 否; 平和 = item 1 (1) + four reversed items (6−1 = 5 each) = 21 ≥ 17 and all
    biased sums < 8 → 是."""
    got = results(form(1))
    assert got[C.BALANCED] == (21, R.YES)
    assert all(got[k] == (4, R.NO) for k in c.BIASED)
    assert [(s.constitution, s.score, s.result) for s in c.identified(form(1))] == [(C.BALANCED, 21, R.YES)]


def test_all_threes_is_every_biased_type():
    """Biased sums 4×3 = 12 ≥ 11 → 是 (all eight); 平和 = 3 + 4×3 = 15 < 17 → 否."""
    got = results(form(3))
    assert all(got[k] == (12, R.YES) for k in c.BIASED)
    assert got[C.BALANCED] == (15, R.NO)
    assert len(c.identified(form(3))) == 8


def test_mixed_questionnaire_scored_by_hand():
    """Default 2, with: q2=4 q3=4 q4=3 q14=2 (气虚 4+4+3+2 = 13 是); q11=3 q12=3 q13=2 q29=2 (阳虚 10 倾向是);
    阴虚 2×4 = 8 否; q32 from a waist of 88 cm = 3 (痰湿 2+2+2+3 = 9 倾向是); 湿热 8 否; q19=1 q22=1 (血瘀
    1+1+2+2 = 6 否); q5=1 (气郁 1+2+2+2 = 7 否); q15=5 q17=5 q18=1 q20=1 (特禀 12 是);
    平和 = q1 2 + (6−4) + (6−3) + (6−1) + (6−2) = 2+2+3+5+4 = 16 < 17 → 否."""
    text = form(2, q2=4, q3=4, q4=3, q14=2, q11=3, q12=3, q13=2, q29=2, q32=c.waist_item_score(88), q19=1, q22=1,
                q5=1, q15=5, q17=5, q18=1, q20=1)
    assert results(text) == {
        C.QI_DEFICIENCY: (13, R.YES), C.YANG_DEFICIENCY: (10, R.TENDS), C.YIN_DEFICIENCY: (8, R.NO),
        C.PHLEGM_DAMPNESS: (9, R.TENDS), C.DAMP_HEAT: (8, R.NO), C.BLOOD_STASIS: (6, R.NO),
        C.QI_STAGNATION: (7, R.NO), C.SPECIAL: (12, R.YES), C.BALANCED: (16, R.NO),
    }
    assert [str(s) for s in c.identified(text)] == ["气虚质 13 分：是", "阳虚质 10 分：倾向是", "痰湿质 9 分：倾向是",
                                                  "特禀质 12 分：是"]


def test_balanced_basically_and_its_limits():
    """From all ones (平和 21): 阴虚 items at 2 → 阴虚 8, not < 8 but < 10 → 平和 基本是 (阴虚 itself 否);
    q10=3 → 阴虚 9 倾向是, still < 10 → 基本是; q10=4 → 阴虚 10 → 平和 否."""
    base = {"q10": 2, "q21": 2, "q26": 2, "q31": 2}
    assert results(form(1, **base))[C.BALANCED] == (21, R.BASICALLY)
    assert results(form(1, **base))[C.YIN_DEFICIENCY] == (8, R.NO)
    assert results(form(1, **{**base, "q10": 3}))[C.BALANCED] == (21, R.BASICALLY)
    assert results(form(1, **{**base, "q10": 3}))[C.YIN_DEFICIENCY] == (9, R.TENDS)
    assert results(form(1, **{**base, "q10": 4}))[C.BALANCED] == (21, R.NO)
    assert results(form(1, **{**base, "q10": 4}))[C.YIN_DEFICIENCY] == (10, R.TENDS)


def test_balanced_threshold_17():
    """q2 = q4 = q5 = q13 = 2 (reversed 4 each) with q1 = 1 → 17 → 是 (气虚 2+1+2+1 = 6, 阳虚 5, 气郁 5, all < 8);
    q2 = 3 instead (reversed 3) → 16 → 否."""
    assert results(form(1, q2=2, q4=2, q5=2, q13=2))[C.BALANCED] == (17, R.YES)
    assert results(form(1, q2=3, q4=2, q5=2, q13=2))[C.BALANCED] == (16, R.NO)


@pytest.mark.parametrize(("waist", "score"), [(60, 1), (79.9, 1), (80, 2), (85, 2), (85.5, 3), (86, 3), (90, 3),
                                              (91, 4), (105, 4), (105.1, 5), (120, 5)])
def test_item_32_from_waist(waist, score):
    assert c.waist_item_score(waist) == score


@pytest.mark.parametrize("text", ["1" * 32, "1" * 34, "1" * 32 + "6", "1" * 32 + "0", "1" * 32 + "x", "", None])
def test_incomplete_questionnaires_are_rejected(text):
    assert not c.is_complete(text)
    with pytest.raises(ValueError):
        c.score(text or "")


def test_scores_accept_answer_sequences():
    assert c.sums([1] * 33)[C.BALANCED] == 21
    with pytest.raises(ValueError):
        c.sums([1] * 32)
