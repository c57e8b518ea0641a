"""Use cases of entering a health examination (健康体检表) and an elderly TCM constitution questionnaire (老年人中医
体质辨识), with the rule applied at entry — the pattern of :mod:`gongwei.service.encounters` (ADR 024, ADR 030).

Health examination:

* both-arm blood pressure: a systolic gap over ``spec.entry.ARM_GAP_REVIEW`` is shown, over
  ``ARM_GAP_REMEASURE`` the doctor is asked to re-measure and may save only after ticking 已复测 (the gap stands
  on a second reading; the QC rules F-03/F-03b count such exams afterwards);
* the completeness of the annual package — the ONE definition ``spec.programs.elderly.PACKAGE`` read by E1/E2 and
  QC C-03 — shown live per section for a resident of the elderly age; saving is refused without 健康评价 and 健康指导
  (an exam is not finished before the doctor has evaluated it), missing tests are shown but do not block (results
  come back days later and the exam is edited then);
* an emergency blood pressure (the hypertension program's thresholds) on either arm is flagged with the referral
  the specification requires.

TCM questionnaire: the 33 answers (1–5) are scored by ``spec.constitution`` as they are typed; the stored
``recorded_result`` is the scored one, never typed, so "中医体质辨识有偏差" cannot arise from the form.

Every entry is scope-checked, audited when opened, written through ``records.entry.submit_instance`` (one
transaction, history kept, an edit from an older version refused with what changed).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import models as djm
from django.utils import timezone

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import access, audit
from gongwei.service.access import Actor
from gongwei.service.encounters import Invalid, Stale, _date, _fmt, _resident, editable_encounter
from gongwei.service.errors import BadRequest
from gongwei.spec import constitution
from gongwei.spec import entry as rules
from gongwei.spec import vocab as v
from gongwei.spec.programs import elderly, hypertension, tcm
from gongwei.spec.vocab import AccessKind

__all__ = ["Invalid", "Stale"]

Exam = m.HealthExamination

# The form's layout: its sections as printed on the 健康体检表, each with the fields entered there.
EXAM_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("assessment", "健康状况评估", ("self_rated_health", "adl_score", "cognition", "affect", "symptoms",
                                  "exercise_frequency", "smoking_status", "cigarettes_per_day", "drinking_frequency")),
    ("physical", "体格检查", ("temperature", "pulse", "respiration", "height", "weight", "waist", "heart_rate")),
    ("tests", "辅助检查", ("fasting_glucose", "hemoglobin", "wbc", "platelets", "urine_protein", "urine_glucose",
                          "alt", "ast", "total_bilirubin", "creatinine", "urea", "total_cholesterol",
                          "triglycerides", "ldl", "hdl", "ecg", "abdominal_ultrasound")),
    ("guidance", "健康评价与指导", ("health_problems", "health_evaluation", "health_guidance",
                                 "risk_factor_control")),
)
BP_FIELDS = ("sbp_left", "dbp_left", "sbp_right", "dbp_right")
EXAM_FIELDS = ("trigger", *BP_FIELDS, *(f for _, _, fs in EXAM_SECTIONS for f in fs))


def _model_field(name: str) -> djm.Field:
    return Exam._meta.get_field(name)


def _label(name: str) -> str:
    return str(_model_field(name).verbose_name)


def _codes(name: str) -> tuple[tuple[str, str], ...]:
    """The coded answers of a box: the model's vocabulary, or the exam form's codes in the rulebook."""
    f = _model_field(name)
    if f.choices:
        return tuple((str(c), str(z)) for c, z in f.choices)
    return rules.EXAM_CODES.get(name, ())


def _bounds(name: str) -> tuple[float, float] | None:
    return rules.HARD_BOUNDS.get(f"health_examinations.{name}") or rules.HARD_BOUNDS.get(name)


@dataclass
class ExamValues:
    service_date: dt.date | None = None
    values: dict[str, object] = field(default_factory=dict)
    remeasured: bool = False
    errors: dict[str, str] = field(default_factory=dict)


def read_exam(values: Mapping[str, str]) -> ExamValues:
    """Parse the posted exam (strings) into typed values, each field's problem named in Chinese."""
    out = ExamValues()
    errors = out.errors
    out.service_date = _date(values.get("service_date", ""), "体检日期", errors, "service_date")
    if out.service_date is None and "service_date" not in errors:
        errors["service_date"] = "体检日期为必填项，不能为空"
    elif out.service_date and out.service_date > timezone.localdate():
        errors["service_date"] = f"体检日期 {out.service_date} 晚于今天"
    for name in EXAM_FIELDS:
        text = str(values.get(name, "") or "").strip()
        out.values[name] = _parse(name, text, errors)
    if not out.values["trigger"]:
        errors.setdefault("trigger", "体检类型为必填项，不能为空")
    for first, second in rules.ORDERED_PAIRS:
        a, b = out.values.get(first), out.values.get(second)
        if a is not None and b is not None and first in out.values and not a > b:
            errors[second] = f"{_label(second)}（{b}）必须小于{_label(first)}（{a}）"
    for side in ("left", "right"):
        s, d = out.values[f"sbp_{side}"], out.values[f"dbp_{side}"]
        if (s is None) != (d is None) and f"sbp_{side}" not in errors and f"dbp_{side}" not in errors:
            missing = f"dbp_{side}" if d is None else f"sbp_{side}"
            errors[missing] = f"血压应同时填写收缩压和舒张压，缺少{_label(missing)}"
    out.remeasured = str(values.get("remeasured", "")).strip() in ("1", "on", "true")
    return out


def _parse(name: str, text: str, errors: dict[str, str]) -> object:
    f = _model_field(name)
    label = _label(name)
    if not text:
        return None if not isinstance(f, djm.CharField) else ""
    if isinstance(f, djm.CharField):
        codes = _codes(name)
        if codes and text not in {c for c, _ in codes}:
            errors[name] = f"{label}“{text}”不在值域代码中（可选：{'、'.join(z for _, z in codes)}）"
            return ""
        if len(text) > f.max_length:
            errors[name] = f"{label}长度超过 {f.max_length} 个字符"
            return text[:f.max_length]
        return text
    try:
        if isinstance(f, djm.DecimalField):
            value: int | Decimal = Decimal(text)
            step = Decimal(1).scaleb(-f.decimal_places)
            if not value.is_finite() or value != value.quantize(step):
                raise InvalidOperation
        else:
            value = int(text)
    except (ValueError, InvalidOperation):
        kind = f"数字（最多 {f.decimal_places} 位小数）" if isinstance(f, djm.DecimalField) else "整数"
        errors[name] = f"{label}应为{kind}，实际为“{text}”"
        return None
    limits = _bounds(name)
    if limits and not (limits[0] <= value <= limits[1]):
        errors[name] = f"{label}的值 {text} 超出可能范围 {_fmt(limits[0])}–{_fmt(limits[1])}"
        return None
    if isinstance(f, djm.DecimalField):
        biggest = Decimal(10) ** (f.max_digits - f.decimal_places)
        if abs(value) >= biggest:
            errors[name] = f"{label}的值 {text} 超出可登记的位数"
            return None
    elif value < 0:
        errors[name] = f"{label}不能为负数"
        return None
    return value


@dataclass
class ExamCheck:
    """What the rulebook answers as an exam is typed."""

    arm_gap: rules.ArmGap | None
    emergency: tuple[str, ...]
    emergency_referral: str
    missing: dict[str, list[str]]  # section key → item labels (only for the elderly package)
    elderly: bool  # aged 65+ on the exam day: the annual package applies
    age: int | None
    bmi: Decimal | None
    errors: dict[str, str]
    needs_remeasure: bool  # gap over the re-measure threshold and 已复测 not ticked

    @property
    def complete(self) -> bool:
        return self.elderly and not self.missing

    @property
    def min_age(self) -> int:
        return elderly.MIN_AGE

    @property
    def missing_sections(self) -> list[tuple[str, list[str]]]:
        return [(elderly.SECTION_LABELS[k], items) for k, items in self.missing.items()]


def _bmi(values: dict[str, object]) -> Decimal | None:
    """体质指数 = weight (kg) / height (m)²: the form's own definition, stored rounded to 0.1 [exam-form-2017]."""
    h, w = values.get("height"), values.get("weight")
    if not h or not w:
        return None
    bmi = (Decimal(w) / (Decimal(h) / 100) ** 2).quantize(Decimal("0.1"))
    limits = _bounds("bmi")
    return bmi if not limits or limits[0] <= bmi <= limits[1] else None


def _exam_check(r: m.Resident, got: ExamValues) -> ExamCheck:
    values = got.values
    gap = rules.arm_gap(values["sbp_left"], values["sbp_right"])
    emergency = rules.exam_emergency(((values["sbp_left"], values["dbp_left"]),
                                      (values["sbp_right"], values["dbp_right"])))
    on = got.service_date or timezone.localdate()
    age = rules.service_age(r.birth_date, on)
    is_elderly = age is not None and age >= elderly.MIN_AGE
    missing = rules.exam_missing(values, on.year) if is_elderly else {}
    return ExamCheck(gap, emergency, hypertension.EMERGENCY_REFERRAL, missing, is_elderly, age, _bmi(values),
                     got.errors, bool(gap and gap.remeasure and not got.remeasured))


@dataclass
class ExamPage:
    record_no: str
    name: str
    sex: str
    age: int
    unit_code: str
    encounter_no: str
    version: int | None
    initial: dict[str, object]
    sections: list[dict]  # [{key, title, fields: [{name, label, codes, bounds, kind, step}]}]
    triggers: tuple[tuple[str, str], ...]
    bounds: dict[str, tuple[float, float] | None]
    check: ExamCheck | None
    recent: list[m.HealthExamination]


@dataclass(frozen=True)
class Saved:
    encounter_no: str
    record_no: str
    created: bool
    version: int
    summary: str


def _field_info(name: str) -> dict:
    f = _model_field(name)
    kind = "code" if _codes(name) else ("text" if isinstance(f, djm.CharField) else "number")
    step = str(Decimal(1).scaleb(-f.decimal_places)) if isinstance(f, djm.DecimalField) else "1"
    return {"name": name, "label": _label(name), "codes": _codes(name), "bounds": _bounds(name), "kind": kind,
            "step": step, "max_length": getattr(f, "max_length", None)}


def _exam(r: m.Resident, encounter_no: str) -> m.HealthExamination:
    return editable_encounter(Exam, r, encounter_no, "体检记录")


def _as_text(x: object) -> str:
    return "" if x is None else (x.isoformat() if isinstance(x, dt.date) else str(x))


def exam_form(actor: Actor, record_no: str, encounter_no: str = "") -> ExamPage:
    """The exam form of one person: a new exam, or ``encounter_no`` to edit. Audited as a service-record view."""
    r = _resident(actor, record_no)
    ex = _exam(r, encounter_no) if encounter_no else None
    today = timezone.localdate()
    age = rules.service_age(r.birth_date, today) or 0
    trigger = v.ExamTrigger.ELDERLY.value if age >= elderly.MIN_AGE else v.ExamTrigger.OTHER.value
    initial: dict[str, object] = {"service_date": today.isoformat(), "trigger": trigger}
    check = None
    if ex is not None:
        initial = {"service_date": ex.service_date.isoformat(),
                   **{f: _as_text(getattr(ex, f)) for f in EXAM_FIELDS}}
        check = _exam_check(r, read_exam({**initial, "remeasured": "1"}))
    audit.viewed(actor, AccessKind.SERVICE, scope=r.managing_unit.code,
                 purpose="健康体检表" + (f" {ex.encounter_no}" if ex else "（新增）"), residents=[r.pk])
    recent = list(Exam.objects.filter(resident=r, is_void=False).order_by("-service_date", "-id")[:4])
    return ExamPage(
        record_no=r.record_no, name=r.name, sex=v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex, age=age,
        unit_code=r.managing_unit.code, encounter_no=ex.encounter_no if ex else "",
        version=ex.version if ex else None, initial=initial,
        sections=[{"key": k, "title": t, "fields": [_field_info(f) for f in fs]} for k, t, fs in EXAM_SECTIONS],
        triggers=_codes("trigger"), bounds={f: _bounds(f) for f in BP_FIELDS}, check=check, recent=recent)


def propose_exam(actor: Actor, record_no: str, values: Mapping[str, str]) -> ExamCheck:
    """The rulebook's answer to an exam as typed so far; writes nothing."""
    r = _resident(actor, record_no)
    return _exam_check(r, read_exam(values))


def save_exam(actor: Actor, record_no: str, values: Mapping[str, str], *, encounter_no: str = "",
              expected_version: int | None = None) -> Saved:
    """Write one exam (new, or ``encounter_no`` at ``expected_version``). Raises :class:`Invalid` naming each field
    (out of range, an arm gap to re-measure, no evaluation or guidance), :class:`Stale` on a changed exam."""
    r = _resident(actor, record_no)
    access.check_write(actor, m.HealthExamination, "健康体检记录", change=bool(encounter_no))
    ex = _exam(r, encounter_no) if encounter_no else None
    if ex is not None and expected_version is None:
        raise BadRequest("修改体检记录须带上打开表单时的版本号（version）")
    got = read_exam(values)
    check = _exam_check(r, got)
    errors = dict(got.errors)
    if check.needs_remeasure:
        errors["sbp_right"] = (f"{check.arm_gap.message}；复测后仍相差超过 {rules.ARM_GAP_REMEASURE} mmHg 的，"
                               "请勾选“已复测”后保存")
    if not got.values["health_evaluation"]:
        errors.setdefault("health_evaluation", "健康评价为必填项：完整的体检须有健康评价（体检无异常/有异常）")
    if not (got.values["health_guidance"] or got.values["risk_factor_control"]):
        errors.setdefault("health_guidance", "健康指导为必填项：完整的体检须有健康指导或危险因素控制建议")
    if errors:
        raise Invalid(errors)
    assert got.service_date is not None
    staff = m.Staff.objects.filter(user=actor.user).select_related("org_unit").first() if actor.user else None
    created = ex is None
    if ex is None:
        ex = Exam(encounter_no=f"HE{got.service_date:%Y%m%d}-{uuid.uuid4().hex[:12]}", resident=r,
                  org_unit=staff.org_unit if staff and actor.sees_path(staff.org_unit.path) else r.managing_unit,
                  provider=staff, entered_at=timezone.now())
    ex.service_date = got.service_date
    for name in EXAM_FIELDS:
        setattr(ex, name, got.values[name])
    ex.bmi = check.bmi
    why = "健康体检表录入" + (f"；{check.arm_gap.message}，已复测" if check.arm_gap and check.arm_gap.remeasure else "")
    try:
        entry.submit_instance(ex, actor_user=actor.user, reason=why,
                              expected_version=None if created else int(expected_version))
    except entry.StaleVersion as exc:
        raise Stale(exc.describe(actor.user), exc.change_lines(actor.user)) from None
    except entry.Rejected as exc:
        raise Invalid({i.field: i.message for i in exc.issues}) from None
    stored = Exam.objects.get(encounter_no=ex.encounter_no)
    if check.elderly:
        summary = "年度体检项目完整" if check.complete else "体检项目不完整：" + "；".join(
            f"{t}缺{'、'.join(items)}" for t, items in check.missing_sections)
    else:
        summary = ""
    return Saved(stored.encounter_no, r.record_no, created, stored.version, summary)


# --- 老年人中医体质辨识 ------------------------------------------------------------------------------------------------
@dataclass
class TcmCheck:
    answers: list[int | None]
    missing: list[int]  # question numbers not answered
    scores: tuple[constitution.Score, ...]  # empty until all 33 are answered
    errors: dict[str, str]
    guidance_given: bool
    recorded_differs: str = ""  # an older record whose stored result differs from the scored one

    @property
    def answered(self) -> int:
        return sum(a is not None for a in self.answers)

    @property
    def identified(self) -> list[constitution.Score]:
        return [s for s in self.scores if s.result is not constitution.Result.NO]

    @property
    def balanced(self) -> bool:
        return any(s.constitution is constitution.Constitution.BALANCED for s in self.identified) and \
            all(s.constitution is constitution.Constitution.BALANCED for s in self.identified)


def read_tcm(values: Mapping[str, str]) -> tuple[dt.date | None, list[int | None], bool, dict[str, str]]:
    errors: dict[str, str] = {}
    on = _date(values.get("service_date", ""), "辨识日期", errors, "service_date")
    if on is None and "service_date" not in errors:
        errors["service_date"] = "辨识日期为必填项，不能为空"
    elif on and on > timezone.localdate():
        errors["service_date"] = f"辨识日期 {on} 晚于今天"
    answers: list[int | None] = []
    low, high = constitution.MIN_ANSWER, constitution.MAX_ANSWER
    for i in range(1, constitution.QUESTION_COUNT + 1):
        text = str(values.get(f"q{i}", "") or "").strip()
        if not text:
            answers.append(None)
            continue
        if not text.isdigit() or not low <= int(text) <= high:
            errors[f"q{i}"] = f"第 {i} 题答案“{text}”无效（应为 {low}～{high}）"
            answers.append(None)
            continue
        answers.append(int(text))
    guidance = str(values.get("guidance_given", "")).strip() in ("1", "on", "true")
    return on, answers, guidance, errors


def _tcm_check(answers: list[int | None], guidance: bool, errors: dict[str, str]) -> TcmCheck:
    missing = [i for i, a in enumerate(answers, start=1) if a is None and f"q{i}" not in errors]
    scores = constitution.score([a for a in answers if a is not None]) if not missing and not errors else ()
    return TcmCheck(answers, missing, scores, errors, guidance)


@dataclass
class TcmPage:
    record_no: str
    name: str
    sex: str
    age: int
    unit_code: str
    encounter_no: str
    version: int | None
    service_date: str
    questions: list[tuple[int, str]]
    answer_labels: tuple[tuple[int, str], ...]
    check: TcmCheck
    recent: list[m.TcmConstitution]


def _tcm(r: m.Resident, encounter_no: str) -> m.TcmConstitution:
    return editable_encounter(m.TcmConstitution, r, encounter_no, "中医体质辨识记录")


def tcm_form(actor: Actor, record_no: str, encounter_no: str = "") -> TcmPage:
    """The questionnaire of one person: new, or ``encounter_no`` to edit (its stored result checked against the
    score). Audited."""
    r = _resident(actor, record_no)
    x = _tcm(r, encounter_no) if encounter_no else None
    today = timezone.localdate()
    if x is not None:
        answers: list[int | None] = [int(c) if c.isdigit() else None for c in x.answers.ljust(
            constitution.QUESTION_COUNT)[:constitution.QUESTION_COUNT]]
        check = _tcm_check(answers, x.guidance_given, {})
        if check.scores and x.recorded_result and x.recorded_result != constitution.stored_result(
                [a for a in answers if a is not None]):
            check.recorded_differs = x.recorded_result
    else:
        check = _tcm_check([None] * constitution.QUESTION_COUNT, True, {})
    audit.viewed(actor, AccessKind.SERVICE, scope=r.managing_unit.code,
                 purpose="老年人中医体质辨识" + (f" {x.encounter_no}" if x else "（新增）"), residents=[r.pk])
    return TcmPage(
        record_no=r.record_no, name=r.name, sex=v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex,
        age=rules.service_age(r.birth_date, today) or 0, unit_code=r.managing_unit.code,
        encounter_no=x.encounter_no if x else "", version=x.version if x else None,
        service_date=(x.service_date if x else today).isoformat(),
        questions=list(enumerate(constitution.QUESTIONS, start=1)), answer_labels=constitution.ANSWERS,
        check=check,
        recent=list(m.TcmConstitution.objects.filter(resident=r, is_void=False).order_by("-service_date")[:4]))


def propose_tcm(actor: Actor, record_no: str, values: Mapping[str, str]) -> TcmCheck:
    """The constitution scored from the answers typed so far; writes nothing."""
    _resident(actor, record_no)
    _, answers, guidance, errors = read_tcm(values)
    return _tcm_check(answers, guidance, errors)


def save_tcm(actor: Actor, record_no: str, values: Mapping[str, str], *, encounter_no: str = "",
             expected_version: int | None = None) -> Saved:
    """Write one questionnaire with the result the rulebook scores (never a typed one). Refused while a question
    is unanswered or, as the service requires, without TCM health guidance."""
    r = _resident(actor, record_no)
    access.check_write(actor, m.TcmConstitution, "中医体质辨识记录", change=bool(encounter_no))
    x = _tcm(r, encounter_no) if encounter_no else None
    if x is not None and expected_version is None:
        raise BadRequest("修改中医体质辨识记录须带上打开表单时的版本号（version）")
    on, answers, guidance, errors = read_tcm(values)
    check = _tcm_check(answers, guidance, errors)
    errors = dict(errors)
    if check.missing:
        errors["answers"] = (f"问卷应答满 {constitution.QUESTION_COUNT} 题：第 "
                             f"{'、'.join(str(i) for i in check.missing)} 题未回答")
    if tcm.GUIDANCE_REQUIRED and not guidance:
        errors["guidance_given"] = "老年人中医药健康管理须按体质进行中医药保健指导：请在指导后勾选“已进行中医药保健指导”"
    if errors:
        raise Invalid(errors)
    assert on is not None
    text = "".join(str(a) for a in answers)
    staff = m.Staff.objects.filter(user=actor.user).select_related("org_unit").first() if actor.user else None
    created = x is None
    if x is None:
        x = m.TcmConstitution(encounter_no=f"TCM{on:%Y%m%d}-{uuid.uuid4().hex[:12]}", resident=r,
                              org_unit=staff.org_unit if staff and actor.sees_path(staff.org_unit.path)
                              else r.managing_unit, provider=staff, entered_at=timezone.now())
    x.service_date = on
    x.answers = text
    x.recorded_result = constitution.stored_result(text)
    x.guidance_given = guidance
    try:
        entry.submit_instance(x, actor_user=actor.user, reason="老年人中医体质辨识录入",
                              expected_version=None if created else int(expected_version))
    except entry.StaleVersion as exc:
        raise Stale(exc.describe(actor.user), exc.change_lines(actor.user)) from None
    except entry.Rejected as exc:
        raise Invalid({i.field: i.message for i in exc.issues}) from None
    stored = m.TcmConstitution.objects.get(encounter_no=x.encounter_no)
    summary = "、".join(f"{s.constitution.zh}（{s.result.value}）" for s in check.identified) or "未判定"
    return Saved(stored.encounter_no, r.record_no, created, stored.version, summary)
