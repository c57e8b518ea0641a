"""中医体质辨识 — constitution scoring of the 老年人中医药健康管理服务记录表 ([spec2017]).

The first 33 questions of the form are answered 1–5 (没有/很少/有时/经常/总是, about the past year);
item 32 (腹部肥满) is scored from the waist circumference instead of asked. Each constitution's score is
the plain sum of its items (the elderly form uses raw sums, not the 0–100 transformed scores of the
general 中医体质分类与判定 standard) [tcm-constitution]:

* the eight biased constitutions: sum ≥ 11 → 是, 9–10 → 倾向是, ≤ 8 → 否;
* 平和质 (balanced): items 2, 4, 5 and 13 are reverse-scored (1↔5, 2↔4, 3=3); sum ≥ 17 and every biased
  sum < 8 → 是; sum ≥ 17 and every biased sum < 10 → 基本是; otherwise 否.

A person can carry several results at once; every result is kept with its score. Pure Python: the engine
only checks that a questionnaire is complete, the UI and reports score it here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from gongwei.spec.rules import Source

SOURCE = Source("[spec2017] 老年人中医体质辨识判定 [tcm-constitution]; 第32题按腰围计分 [tcm-constitution]", "V")

QUESTION_COUNT = 33
MIN_ANSWER, MAX_ANSWER = 1, 5


class Constitution(StrEnum):
    """The nine constitutions; the value is a stable code, ``zh`` the label on the form."""

    zh: str

    def __new__(cls, value: str, zh: str) -> Constitution:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.zh = zh
        return obj

    QI_DEFICIENCY = "qi_deficiency", "气虚质"
    YANG_DEFICIENCY = "yang_deficiency", "阳虚质"
    YIN_DEFICIENCY = "yin_deficiency", "阴虚质"
    PHLEGM_DAMPNESS = "phlegm_dampness", "痰湿质"
    DAMP_HEAT = "damp_heat", "湿热质"
    BLOOD_STASIS = "blood_stasis", "血瘀质"
    QI_STAGNATION = "qi_stagnation", "气郁质"
    SPECIAL = "special", "特禀质"
    BALANCED = "balanced", "平和质"


class Result(StrEnum):
    YES = "是"
    TENDS = "倾向是"
    BASICALLY = "基本是"
    NO = "否"


# Questionnaire item numbers (1-based, as printed on the form) summed for each constitution [tcm-constitution].
ITEMS: dict[Constitution, tuple[int, ...]] = {
    Constitution.QI_DEFICIENCY: (2, 3, 4, 14),
    Constitution.YANG_DEFICIENCY: (11, 12, 13, 29),
    Constitution.YIN_DEFICIENCY: (10, 21, 26, 31),
    Constitution.PHLEGM_DAMPNESS: (9, 16, 28, 32),
    Constitution.DAMP_HEAT: (23, 25, 27, 30),
    Constitution.BLOOD_STASIS: (19, 22, 24, 33),
    Constitution.QI_STAGNATION: (5, 6, 7, 8),
    Constitution.SPECIAL: (15, 17, 18, 20),
    Constitution.BALANCED: (1, 2, 4, 5, 13),
}
BALANCED_REVERSED_ITEMS = frozenset({2, 4, 5, 13})
BIASED = tuple(c for c in Constitution if c is not Constitution.BALANCED)

# Thresholds on the raw sums [tcm-constitution].
BIASED_YES_MIN = 11        # ≥ 11 → 是
BIASED_TENDS_MIN = 9       # 9–10 → 倾向是 (≤ 8 → 否)
BALANCED_MIN = 17          # 平和质 needs a sum ≥ 17 ...
BALANCED_YES_BIASED_BELOW = 8     # ... and every biased sum < 8 for 是
BALANCED_BASIC_BIASED_BELOW = 10  # ... or every biased sum < 10 for 基本是

# Item 32 (腹部肥满) from the waist in cm [tcm-constitution]: < 80 → 1, 80–85 → 2, 86–90 → 3, 91–105 → 4, > 105 → 5.
# Upper bounds are inclusive; a fractional waist above a band's upper bound (85.5) takes the next band.
WAIST_ITEM = 32
WAIST_BANDS: tuple[tuple[float, int], ...] = ((80, 1), (85, 2), (90, 3), (105, 4))  # (bound, score)
WAIST_TOP_SCORE = 5


@dataclass(frozen=True)
class Score:
    constitution: Constitution
    score: int
    result: Result

    def __str__(self) -> str:
        return f"{self.constitution.zh} {self.score} 分：{self.result.value}"


def waist_item_score(waist_cm: float) -> int:
    """Score of item 32 from the waist circumference."""
    lower, first_score = WAIST_BANDS[0]
    if waist_cm < lower:
        return first_score
    for bound, score in WAIST_BANDS[1:]:
        if waist_cm <= bound:
            return score
    return WAIST_TOP_SCORE


def parse_answers(text: str) -> tuple[int, ...]:
    """The 33 answers of a stored questionnaire (one digit 1–5 per item); raises ValueError otherwise."""
    text = (text or "").strip()
    if len(text) != QUESTION_COUNT:
        raise ValueError(f"问卷应有 {QUESTION_COUNT} 题答案，实际 {len(text)} 个")
    answers = []
    for i, ch in enumerate(text, start=1):
        if not ch.isdigit() or not MIN_ANSWER <= int(ch) <= MAX_ANSWER:
            raise ValueError(f"第 {i} 题答案“{ch}”无效（应为 {MIN_ANSWER}～{MAX_ANSWER}）")
        answers.append(int(ch))
    return tuple(answers)


def is_complete(text: str | None) -> bool:
    """Whether a stored questionnaire has 33 valid answers (the engine checks the same with a pattern)."""
    try:
        parse_answers(text or "")
    except ValueError:
        return False
    return True


def _item_value(answers: Sequence[int], item: int, reverse: bool) -> int:
    a = answers[item - 1]
    return MIN_ANSWER + MAX_ANSWER - a if reverse else a


def sums(answers: Sequence[int] | str) -> dict[Constitution, int]:
    """Raw sum of each constitution's items (平和质 with its reversed items)."""
    values = parse_answers(answers) if isinstance(answers, str) else tuple(answers)
    if len(values) != QUESTION_COUNT or any(not MIN_ANSWER <= a <= MAX_ANSWER for a in values):
        raise ValueError(f"问卷应有 {QUESTION_COUNT} 题、每题 {MIN_ANSWER}～{MAX_ANSWER} 分")
    out = {}
    for c, items in ITEMS.items():
        reversed_items = BALANCED_REVERSED_ITEMS if c is Constitution.BALANCED else frozenset()
        out[c] = sum(_item_value(values, i, i in reversed_items) for i in items)
    return out


def _biased_result(total: int) -> Result:
    if total >= BIASED_YES_MIN:
        return Result.YES
    if total >= BIASED_TENDS_MIN:
        return Result.TENDS
    return Result.NO


def _balanced_result(total: int, biased: Iterable[int]) -> Result:
    biased = list(biased)
    if total >= BALANCED_MIN and all(b < BALANCED_YES_BIASED_BELOW for b in biased):
        return Result.YES
    if total >= BALANCED_MIN and all(b < BALANCED_BASIC_BIASED_BELOW for b in biased):
        return Result.BASICALLY
    return Result.NO


def score(answers: Sequence[int] | str) -> tuple[Score, ...]:
    """Every constitution's score and result, in the form's order (the eight biased ones, then 平和质)."""
    s = sums(answers)
    out = [Score(c, s[c], _biased_result(s[c])) for c in BIASED]
    out.append(Score(Constitution.BALANCED, s[Constitution.BALANCED],
                     _balanced_result(s[Constitution.BALANCED], (s[c] for c in BIASED))))
    return tuple(out)


def identified(answers: Sequence[int] | str) -> tuple[Score, ...]:
    """The constitutions the person has or tends to have (every result other than 否)."""
    return tuple(x for x in score(answers) if x.result is not Result.NO)


# --- the questionnaire as printed (issue 11 §5, i11adult) ---------------------------------------------------------
# The 33 questions of the 老年人中医药健康管理服务记录表, asked about the past year, and the five answers with their
# scores [spec2017-tcm-elderly][tcm-constitution]. The form shows them; scoring stays with ITEMS above.
ANSWERS: tuple[tuple[int, str, str], ...] = (
    (1, "没有", "根本不/从来没有"), (2, "很少", "有一点/偶尔"), (3, "有时", "有些/少数时间"),
    (4, "经常", "相当/多数时间"), (5, "总是", "非常/每天"),
)
QUESTIONS: tuple[str, ...] = (
    "您精力充沛吗？（指精神头足，乐于做事）",
    "您容易疲乏吗？（指体力如何，是否稍微活动一下或做一点家务劳动就感到累）",
    "您容易气短，呼吸短促，接不上气吗？",
    "您说话声音低弱无力吗？（指说话没有力气）",
    "您感到闷闷不乐、情绪低沉吗？（指心情不愉快，情绪低落）",
    "您容易精神紧张、焦虑不安吗？（指遇事是否心情紧张）",
    "您因为生活状态改变而感到孤独、失落吗？",
    "您容易感到害怕或受到惊吓吗？",
    "您感到身体超重不轻松吗？（感觉身体沉重）",
    "您眼睛干涩吗？",
    "您手脚发凉吗？（不包含因周围温度低或穿的少导致的手脚发冷）",
    "您胃脘部、背部或腰膝部怕冷吗？（指上腹部、背部、腰部或膝关节等，有一处或多处怕冷）",
    "您比一般人耐受不了寒冷吗？（指比别人容易害怕冬天或是夏天的冷空调、电扇等）",
    "您容易患感冒吗？（指每年感冒的次数）",
    "您没有感冒时也会鼻塞、流鼻涕吗？",
    "您有口粘口腻，或睡眠打鼾吗？",
    "您容易过敏（对药物、食物、气味、花粉或在季节交替、气候变化时）吗？",
    "您的皮肤容易起荨麻疹吗？（包括风团、风疹块、风疙瘩）",
    "您的皮肤在不知不觉中会出现青紫瘀斑、皮下出血吗？（指皮肤在没有外伤的情况下出现青一块紫一块的情况）",
    "您的皮肤一抓就红，并出现抓痕吗？（指被指甲或钝物划过后皮肤的反应）",
    "您皮肤或口唇干吗？",
    "您有肢体麻木或固定部位疼痛的感觉吗？",
    "您面部或鼻部有油腻感或者油亮发光吗？（指脸上或鼻子）",
    "您面色或目眶晦黯，或出现褐色斑块/斑点吗？",
    "您有皮肤湿疹、疮疖吗？",
    "您感到口干咽燥、总想喝水吗？",
    "您感到口苦或嘴里有异味吗？（指口苦或口臭）",
    "您腹部肥大吗？（指腹部脂肪肥厚）",
    "您吃（喝）凉的东西会感到不舒服或者怕吃（喝）凉的东西吗？",
    "您有大便黏滞不爽、解不尽的感觉吗？（大便容易粘在马桶或便坑壁上）",
    "您容易大便干燥吗？",
    "您舌苔厚腻或有舌苔厚厚的感觉吗？（如果自我感觉不清楚可由调查员观察后填写）",
    "您舌下静脉瘀紫或增粗吗？（可由调查员辅助观察后填写）",
)
assert len(QUESTIONS) == QUESTION_COUNT


def stored_result(answers: Sequence[int] | str) -> str:
    """The ``recorded_result`` a questionnaire must carry: the codes of the constitutions the rulebook identifies
    (是 / 倾向是 / 基本是), comma-separated in the form's order — seed faults "中医体质辨识有偏差" otherwise."""
    return ",".join(x.constitution.value for x in identified(answers))
