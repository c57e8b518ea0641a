"""What is written inside forms, vectorised on Ibis: the medication section of a follow-up (C-06, [shangdang-2023]'s
"用药情况填写不规范") and the constitution questionnaire against the waist measured that year (L-11, [shangdang-2023]'s
"中医体质辨识有偏差").

The follow-up form's 用药情况 is kept as one text. Its entries (one per drug) are split apart, every entry is judged
on its own — drug name, dose per time, times per day — with the rule's regular expressions, and the verdicts are
gathered back per follow-up: one GROUP BY, no per-row Python. The patterns use only what RE2 (DuckDB) and Java
regular expressions (PySpark) read alike: no look-around, no ``\\b`` (Java counts Chinese characters as word
characters, RE2 does not).
"""

from __future__ import annotations

import ibis

from gongwei.engine.programs.records import missing_list
from gongwei.engine.quality import Check, Evaluator
from gongwei.engine.quality.identity import encounter_findings, tenths
from gongwei.spec import constitution
from gongwei.spec.vocab import Adherence

TAKES_DRUGS = (Adherence.REGULAR.value, Adherence.INTERMITTENT.value)
ENTRY_BREAK = "\x1f"  # no regex meaning on either backend (PySpark's split takes a pattern)
# what is left of an entry once dose, frequency and usage words are gone must hold a name: two letters or
# Chinese characters
NAME = "[A-Za-z一-龥]{2,}"
# spaces and punctuation dropped before a whole text is compared with the boilerplate and "none" phrases
NOISE = r"[\s，,。．.；;、/:：()（）]"


def medication_entries(check: Check) -> ibis.Table:
    """C-06: hypertension and diabetes follow-ups in the period whose 用药情况 is not written drug by drug.

    * a patient taking drugs (adherence 规律 or 间断) with nothing, or "无", written;
    * the whole text a boilerplate phrase such as "按医嘱服药" (``generic_phrases``): no drug named;
    * otherwise, for each entry: no drug name (nothing but dose, frequency and usage words), no dose per time
      (``dose_pattern``), no times per day (``frequency_pattern``).

    A "none" text with adherence 不服药, or a blank one without an adherence (C-04 names that), is not judged.
    """
    p = check.params
    fu = check.services("chronic_follow_ups")
    fu = fu.filter(fu.program.isin(list(p["programs"])))  # type: ignore[call-overload]
    text = fu.medication.fill_null("").strip()
    norm = text.re_replace(NOISE, "")
    fu = fu.mutate(text=text, norm=norm)
    none_said = (fu.norm == "") | fu.norm.isin(list(p["none_phrases"]))  # type: ignore[call-overload]
    generic = fu.norm.isin(list(p["generic_phrases"]))  # type: ignore[call-overload]
    fu = fu.mutate(takes=fu.adherence.isin(TAKES_DRUGS).fill_null(False), none_said=none_said, generic=generic)

    listed = fu.filter(~fu.none_said & ~fu.generic)
    parts = listed.text.re_replace(f"[{p['separators']}]", ENTRY_BREAK).split(ENTRY_BREAK)
    entries = listed.select(eid=listed.id, entry=parts.unnest())
    entries = entries.mutate(entry=entries.entry.strip())
    entries = entries.filter(entries.entry != "")
    rest = (entries.entry.re_replace(str(p["dose_pattern"]), " ").re_replace(str(p["frequency_pattern"]), " ")
            .re_replace(str(p["usage_pattern"]), " "))
    entry_norm = entries.entry.re_replace(NOISE, "")
    no_name = ~rest.re_search(NAME) | entry_norm.isin(list(p["generic_phrases"]))  # type: ignore[call-overload]
    entries = entries.mutate(no_name=no_name.cast("int64"),
                             no_dose=(~entries.entry.re_search(str(p["dose_pattern"]))).cast("int64"),
                             no_freq=(~entries.entry.re_search(str(p["frequency_pattern"]))).cast("int64"))
    verdict = entries.group_by("eid").aggregate(no_name=entries.no_name.max(), no_dose=entries.no_dose.max(),
                                                no_freq=entries.no_freq.max())
    fu = fu.left_join(verdict, fu.id == verdict.eid)
    flags = {c: (fu[c].fill_null(0) == 1) for c in ("no_name", "no_dose", "no_freq")}
    text_zh, count = missing_list([
        ("服药依从性为规律或间断，但未写所服药物", fu.takes & fu.none_said),
        ("只写了笼统的服药说法，未写药物名称", fu.generic),
        ("有药物未写名称", flags["no_name"]),
        ("未写每次剂量", flags["no_dose"]),
        ("未写每日次数", flags["no_freq"]),
    ])
    fu = fu.mutate(problems=text_zh, problem_count=count)
    fu = fu.filter(fu.problem_count > 0)
    shown = ibis.cases((fu.text == "", "（空）"), else_=fu.text)
    return encounter_findings(fu, "chronic_follow_ups", medication=shown, adherence=fu.adherence,
                              problems=fu.problems)


def waist_item_score(waist: ibis.ir.NumericValue) -> ibis.ir.IntegerValue:
    """Item 32's score for a waist in cm, by :data:`gongwei.spec.constitution.WAIST_BANDS` (in whole tenths, so
    85.0 is still band 2 on every backend)."""
    t = tenths(waist)
    (lower, first), *bands = constitution.WAIST_BANDS
    cases = [(t < round(lower * 10), first)] + [(t <= round(bound * 10), score) for bound, score in bands]
    return ibis.cases(*cases, else_=constitution.WAIST_TOP_SCORE)


def identified_constitutions(answers: ibis.ir.StringValue) -> ibis.ir.StringValue:
    """The constitutions a complete questionnaire scores to (every result other than 否), as their codes joined
    with "," in the form's order — :func:`gongwei.spec.constitution.identified` in Ibis.

    L-12 compares it with the form's recorded result ([shangdang-2023] "中医体质辨识有偏差")."""
    def item(n: int, reverse: bool = False) -> ibis.ir.IntegerValue:
        a = answers.substr(n - 1, 1).cast("int64")
        return (constitution.MIN_ANSWER + constitution.MAX_ANSWER - a) if reverse else a

    sums = {c: sum((item(n, c is constitution.Constitution.BALANCED and n in constitution.BALANCED_REVERSED_ITEMS)
                    for n in items), ibis.literal(0))
            for c, items in constitution.ITEMS.items()}
    biased = [sums[c] for c in constitution.BIASED]
    max_biased = ibis.greatest(*biased)
    parts = [ibis.cases((sums[c] >= constitution.BIASED_TENDS_MIN, "," + c.value), else_="")
             for c in constitution.BIASED]
    balanced = (sums[constitution.Constitution.BALANCED] >= constitution.BALANCED_MIN) \
        & (max_biased < constitution.BALANCED_BASIC_BIASED_BELOW)
    parts.append(ibis.cases((balanced, "," + constitution.Constitution.BALANCED.value), else_=""))
    return ibis.literal("").concat(*parts).substr(1)


def tcm_waist_item(check: Check) -> ibis.Table:
    """L-11: complete questionnaires in the period whose item 32 (腹部肥满) matches the waist of none of the
    person's examinations in the same calendar year. Shown: the examination nearest in date (then the later
    one). Without an examination that year nothing is judged."""
    item = constitution.WAIST_ITEM
    complete = (f"^[{constitution.MIN_ANSWER}-{constitution.MAX_ANSWER}]"
                f"{{{constitution.QUESTION_COUNT}}}$")
    tc = check.services("tcm_constitutions")
    tc = tc.filter(tc.answers.re_search(complete))
    tc = tc.select("id", "resident_id", "org_unit_id", "service_date",
                   answer=tc.answers.substr(item - 1, 1).cast("int64"), year=tc.service_date.year())
    ex = check.eng.table("health_examinations")
    ex = ex.filter(~ex.is_void & ex.waist.notnull())
    ex = ex.select(xid=ex.id, xr=ex.resident_id, exam_date=ex.service_date, xyear=ex.service_date.year(),
                   waist=ex.waist.cast("float64"), expected=waist_item_score(ex.waist))
    j = tc.join(ex, (tc.resident_id == ex.xr) & (tc.year == ex.xyear))
    j = j.mutate(matches=(j.expected == j.answer).cast("int64"),
                 gap=j.service_date.delta(j.exam_date, unit="day").abs())
    j = j.mutate(any_match=j.matches.max().over(group_by=j.id),
                 rn=ibis.row_number().over(group_by=j.id, order_by=[j.gap, ibis.desc(j.exam_date), ibis.desc(j.xid)]))
    j = j.filter((j.rn == 0) & (j.any_match == 0))
    return encounter_findings(j, "tcm_constitutions", answer=j.answer, waist=j.waist, exam_date=j.exam_date,
                              expected=j.expected.cast("int64"))


def _code_set(codes: ibis.ir.StringValue) -> ibis.ir.StringValue:
    """A comma-separated code list in a canonical order (sorted, blanks dropped), so two lists compare as sets."""
    parts = codes.replace(" ", "").split(",").filter(lambda c: c != "").sort()
    return parts.join(",")


def _zh_names(codes: ibis.ir.StringValue) -> ibis.ir.StringValue:
    """Constitution codes as the form's names (气虚质、…), for the message."""
    out = codes
    for c in constitution.Constitution:
        out = out.replace(c.value, c.zh)
    return ibis.cases((out == "", "无"), else_=out.replace(",", "、"))


def tcm_recorded_result(check: Check) -> ibis.Table:
    """L-12: complete questionnaires in the period whose recorded 体质辨识结果 is not the set of constitutions the
    33 answers score to (是 / 倾向是, and 平和质 when 是 or 基本是). Forms without a recorded result (older data)
    are not judged."""
    complete = (f"^[{constitution.MIN_ANSWER}-{constitution.MAX_ANSWER}]"
                f"{{{constitution.QUESTION_COUNT}}}$")
    tc = check.services("tcm_constitutions")
    tc = tc.filter(tc.answers.re_search(complete) & (tc.recorded_result.fill_null("").strip() != ""))
    tc = tc.mutate(recorded_set=_code_set(tc.recorded_result),
                   # padded: a backend may score rows before the filter drops incomplete ones
                   identified_set=_code_set(identified_constitutions(
                       tc.answers.rpad(constitution.QUESTION_COUNT, str(constitution.MIN_ANSWER)))))
    tc = tc.filter(tc.recorded_set != tc.identified_set)
    return encounter_findings(tc, "tcm_constitutions", recorded=_zh_names(tc.recorded_set),
                              identified=_zh_names(tc.identified_set))


EVALUATORS: dict[str, Evaluator] = {
    "C-06": medication_entries,
    "L-11": tcm_waist_item,
    "L-12": tcm_recorded_result,
}
