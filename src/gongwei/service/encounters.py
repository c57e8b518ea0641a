"""Use cases of entering a chronic follow-up (高血压 / 2型糖尿病患者随访服务记录表) with the rule applied at entry.

* :func:`form` — what the form shows for one person and program (a new visit, or an existing one to edit, with
  its version for optimistic locking); audited as a view of a service record.
* :func:`propose` — as the values are typed: the class, the next-visit date, an emergency with the referral the
  specification requires, and the problems of each field; writes nothing (and is not audited: it shows back only
  what was typed and the rulebook's answer).
* :func:`save_follow_up` — scope-checked, values outside ``spec.entry.HARD_BOUNDS`` refused naming the field and
  the range, an uncontrolled or emergency visit without guidance, drug adjustment or referral refused unless a
  reason is given, written through ``records.entry.submit_instance`` (one transaction; an edit from an older
  version is refused with what changed).

Every rule comes from the rulebook: ``spec.entry.follow_up_rules(program).propose`` (class, date, emergency),
``spec.entry.HARD_BOUNDS`` and ``ORDERED_PAIRS``, the medication format of ``spec.entry``.

Structured medication: each drug is entered as (name, dose, unit, frequency) and stored in the existing
``ChronicFollowUp.medication`` text as ``"name doseunit frequency"`` joined by ``"；"`` (spec.entry), e.g.
``"硝苯地平缓释片 20mg 每日2次；二甲双胍 0.5g 每日3次"``: no new table (the exchange layout, the engine and QC rule
C-06 keep reading one column), and :func:`medication_lines` reads it back for editing.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import access, audit
from gongwei.service.access import Actor, check_resident
from gongwei.service.errors import BadRequest, NotFound
from gongwei.spec import entry as rules
from gongwei.spec import vocab as v
from gongwei.spec.followup import VisitProposal
from gongwei.spec.vocab import AccessKind

RECENT_VISITS = 4

LABELS = {
    "service_date": "随访日期", "mode": "随访方式", "sbp": "收缩压", "dbp": "舒张压", "weight": "体重",
    "heart_rate": "心率", "fasting_glucose": "空腹血糖", "adherence": "服药依从性",
    "adverse_reaction_text": "不良反应描述", "guidance": "健康指导", "referral_reason": "转诊原因",
    "referral_institution": "转诊机构及科别", "next_visit_date": "下次随访日期", "medication": "用药情况",
    "reason": "未处理的原因", "symptoms": "症状",
}
INTEGERS = ("sbp", "dbp", "heart_rate")
DECIMALS = ("weight", "fasting_glucose")
TEXTS = {"adverse_reaction_text": 100, "guidance": 200, "referral_reason": 100, "referral_institution": 100,
         "symptoms": 40}
FLAGS = ("adverse_reaction", "complication", "medication_adjusted", "referral")


class Invalid(BadRequest):
    """Values the form must correct: ``fields`` maps a field to its Chinese message (shown beside it)."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__("；".join(fields.values()))


class Stale(BadRequest):
    """The visit was changed by someone else since the form was opened; ``lines`` say what changed."""

    def __init__(self, message: str, lines: list[str]):
        self.lines = lines
        super().__init__(message)


@dataclass(frozen=True)
class Medication:
    drug: str
    dose: str
    unit: str
    frequency: str

    @property
    def text(self) -> str:
        return f"{self.drug} {self.dose}{self.unit} {self.frequency}"


@dataclass
class Values:
    """The parsed form: typed values, and what is wrong with each field."""

    program: str
    service_date: dt.date | None = None
    mode: str = v.FollowUpMode.CLINIC.value
    sbp: int | None = None
    dbp: int | None = None
    weight: Decimal | None = None
    heart_rate: int | None = None
    fasting_glucose: Decimal | None = None
    adherence: str = ""
    adverse_reaction: bool = False
    adverse_reaction_text: str = ""
    complication: bool = False
    symptoms: str = ""
    medication: list[Medication] = field(default_factory=list)
    medication_adjusted: bool = False
    guidance: str = ""
    referral: bool = False
    referral_reason: str = ""
    referral_institution: str = ""
    next_visit_date: dt.date | None = None  # typed by the doctor; None: the rulebook's date
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def answered(self) -> bool:
        """Guidance written, drugs adjusted or a referral: the form answers an uncontrolled visit."""
        return bool(self.guidance.strip()) or self.medication_adjusted or self.referral

    @property
    def medication_text(self) -> str:
        return rules.MEDICATION_SEPARATOR.join(x.text for x in self.medication)


@dataclass
class Check:
    """What :func:`propose` answers: the rulebook's proposal (None until a date is typed), field problems,
    warnings, and whether the visit may be saved as it stands."""

    proposal: VisitProposal | None
    errors: dict[str, str]
    warnings: list[str]
    needs_answer: bool
    answered: bool
    program_name: str
    age: int | None

    @property
    def class_name(self) -> str:
        p = self.proposal
        return v.FollowUpClass(p.classification).zh if p and p.classification else ""


@dataclass(frozen=True)
class PastVisit:
    encounter_no: str
    date: dt.date
    mode: str
    reading: str
    classification: str
    next_visit_date: dt.date | None


@dataclass
class FormPage:
    record_no: str
    name: str
    sex: str
    age: int
    unit_code: str
    unit_name: str
    program: str
    program_name: str
    enrollment_no: str
    encounter_no: str  # "" for a new visit
    version: int | None
    initial: dict[str, object]
    medication: list[Medication]
    recent: list[PastVisit]
    check: Check | None
    modes: list[tuple[str, str]]
    adherences: list[tuple[str, str]]
    frequencies: tuple[str, ...] = rules.MEDICATION_FREQUENCIES
    units: tuple[str, ...] = rules.MEDICATION_UNITS
    max_lines: int = rules.MEDICATION_MAX_LINES
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Saved:
    encounter_no: str
    record_no: str
    created: bool
    proposal: VisitProposal
    next_visit_date: dt.date
    version: int


# --- reading the form ------------------------------------------------------------------------------------------
def _bounds(name: str) -> tuple[float, float] | None:
    return rules.HARD_BOUNDS.get(f"chronic_follow_ups.{name}") or rules.HARD_BOUNDS.get(name)


def _fmt(x: float) -> str:
    return f"{x:g}"


def _date(text: str, what: str, errors: dict[str, str], key: str) -> dt.date | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[key] = f"{what}应为日期（YYYY-MM-DD），实际为“{text}”"
        return None


def _number(name: str, text: str, errors: dict[str, str]) -> int | Decimal | None:
    text = (text or "").strip()
    if not text:
        return None
    label = LABELS[name]
    try:
        value = int(text) if name in INTEGERS else Decimal(text)
        if name in DECIMALS and (not value.is_finite() or value != value.quantize(Decimal("0.1"))):
            raise InvalidOperation
    except (ValueError, InvalidOperation):
        kind = "整数" if name in INTEGERS else "数字（最多一位小数）"
        errors[name] = f"{label}应为{kind}，实际为“{text}”"
        return None
    limits = _bounds(name)
    if limits and not (limits[0] <= value <= limits[1]):
        errors[name] = f"{label}的值 {text} 超出可能范围 {_fmt(limits[0])}–{_fmt(limits[1])}"
        return None
    return value


def _flag(values: Mapping[str, str], name: str) -> bool:
    return str(values.get(name, "")).strip() in ("1", "on", "true", "是")


def read(program: str, values: Mapping[str, str]) -> Values:
    """Parse a form's values (strings, as posted) into :class:`Values`, collecting each field's problem."""
    out = Values(program=program)
    errors = out.errors
    out.service_date = _date(values.get("service_date", ""), "随访日期", errors, "service_date")
    if out.service_date is None and "service_date" not in errors:
        errors["service_date"] = "随访日期为必填项，不能为空"
    mode = str(values.get("mode", "") or v.FollowUpMode.CLINIC.value)
    if mode not in v.FollowUpMode.codes():
        errors["mode"] = f"随访方式“{mode}”不在值域代码中"
    out.mode = mode
    for name in (*INTEGERS, *DECIMALS):
        setattr(out, name, _number(name, str(values.get(name, "")), errors))
    for first, second in rules.ORDERED_PAIRS:
        a, b = getattr(out, first, None), getattr(out, second, None)
        if a is not None and b is not None and not a > b:
            errors[second] = f"{LABELS[second]}（{b}）必须小于{LABELS[first]}（{a}）"
    if (out.sbp is None) != (out.dbp is None) and "sbp" not in errors and "dbp" not in errors:
        missing = "dbp" if out.dbp is None else "sbp"
        errors[missing] = f"血压应同时填写收缩压和舒张压，缺少{LABELS[missing]}"
    adherence = str(values.get("adherence", "")).strip()
    if adherence and adherence not in v.Adherence.codes():
        errors["adherence"] = f"服药依从性“{adherence}”不在值域代码中"
    out.adherence = adherence
    for name in FLAGS:
        setattr(out, name, _flag(values, name))
    for name, limit in TEXTS.items():
        text = str(values.get(name, "")).strip()
        if len(text) > limit:
            errors[name] = f"{LABELS[name]}长度超过 {limit} 个字符"
        setattr(out, name, text[:limit])
    out.next_visit_date = _date(values.get("next_visit_date", ""), "下次随访日期", errors, "next_visit_date")
    if out.next_visit_date and out.service_date and out.next_visit_date <= out.service_date:
        errors["next_visit_date"] = f"下次随访日期（{out.next_visit_date}）应晚于随访日期（{out.service_date}）"
    out.medication = _medication(values, errors)
    if out.medication and len(out.medication_text) > m.ChronicFollowUp._meta.get_field("medication").max_length:
        errors["medication"] = "用药情况合计超过 200 个字符，请精简药名"
    if out.adverse_reaction and not out.adverse_reaction_text:
        errors["adverse_reaction_text"] = "勾选了药物不良反应，请填写不良反应描述"
    return out


_DOSE = re.compile(r"^\d+(\.\d+)?$")


def _medication(values: Mapping[str, str], errors: dict[str, str]) -> list[Medication]:
    lines = []
    for i in range(rules.MEDICATION_MAX_LINES):
        drug = str(values.get(f"drug_{i}", "")).strip()
        dose = str(values.get(f"dose_{i}", "")).strip()
        unit = str(values.get(f"unit_{i}", "")).strip()
        freq = str(values.get(f"freq_{i}", "")).strip()
        if not (drug or dose):
            continue
        n = i + 1
        if not drug:
            errors[f"drug_{i}"] = f"第 {n} 种药物缺少药物名称"
        elif any(ch in drug for ch in rules.MEDICATION_SEPARATOR + ";\n"):
            errors[f"drug_{i}"] = f"第 {n} 种药物名称不能含分号"
        if not _DOSE.match(dose):
            errors[f"dose_{i}"] = f"第 {n} 种药物的每次剂量应为数字，实际为“{dose}”"
        if unit not in rules.MEDICATION_UNITS:
            errors[f"unit_{i}"] = f"第 {n} 种药物的剂量单位“{unit}”无效（可选：{'、'.join(rules.MEDICATION_UNITS)}）"
        if freq not in rules.MEDICATION_FREQUENCIES:
            errors[f"freq_{i}"] = f"第 {n} 种药物的用法“{freq}”无效（可选：{'、'.join(rules.MEDICATION_FREQUENCIES)}）"
        lines.append(Medication(drug, dose, unit, freq))
    return lines


_LINE = re.compile(r"^(?P<drug>.+?)\s+(?P<dose>\d+(?:\.\d+)?)(?P<unit>\S+?)\s+(?P<freq>\S+)$")


def medication_lines(text: str) -> tuple[list[Medication], str]:
    """The structured lines of a stored ``medication`` text, and what could not be read as such (an older
    free-text entry, kept for the doctor to retype)."""
    lines, rest = [], []
    for part in (text or "").split(rules.MEDICATION_SEPARATOR):
        part = part.strip()
        if not part:
            continue
        found = _LINE.match(part)
        if found and found["unit"] in rules.MEDICATION_UNITS and found["freq"] in rules.MEDICATION_FREQUENCIES:
            lines.append(Medication(found["drug"], found["dose"], found["unit"], found["freq"]))
        else:
            rest.append(part)
    return lines, rules.MEDICATION_SEPARATOR.join(rest)


# --- the person, the program, the visit ----------------------------------------------------------------------------
def _resident(actor: Actor, record_no: str) -> m.Resident:
    r = m.Resident.objects.select_related("managing_unit").filter(record_no=(record_no or "").strip()).first()
    if r is None:
        raise NotFound(f"健康档案 {record_no} 不存在")
    check_resident(actor, r)
    return r


def _program(program: str) -> str:
    if program not in rules.FOLLOW_UP_FORMS:
        names = "、".join(v.Program(p).zh for p in rules.FOLLOW_UP_FORMS)
        raise BadRequest(f"随访项目“{program}”无效：可录入 {names} 的随访")
    return program


def _enrollment(r: m.Resident, program: str, on: dt.date | None = None) -> m.Enrollment:
    qs = m.Enrollment.objects.filter(resident=r, program=program).order_by("-start_date")
    open_now = qs.filter(end_date__isnull=True).first()
    if open_now is not None:
        return open_now
    if on is not None:
        during = qs.filter(start_date__lte=on, end_date__gte=on).first()
        if during is not None:
            return during
    raise BadRequest(f"该居民未纳入{v.Program(program).zh}（无在管专案），不能录入随访")


def editable_encounter(model, r: m.Resident, encounter_no: str, what: str = "随访记录", **filters):
    """The resident's record ``encounter_no`` of ``model`` for a form to edit (every service form): not found, or
    refused when it was voided."""
    obj = model.objects.filter(encounter_no=encounter_no, resident=r, **filters).first()
    if obj is None:
        raise NotFound(f"{what} {encounter_no} 不存在")
    if obj.is_void:
        raise BadRequest(f"{what} {encounter_no} 已作废，不能修改")
    return obj


def form_text(x: object) -> str:
    """A stored value as a form shows it: a flag as "1" or "", a date in ISO, nothing as ""."""
    if x is True:
        return "1"
    if x is False or x is None:
        return ""
    return x.isoformat() if isinstance(x, dt.date) else str(x)


def _visit(r: m.Resident, program: str, encounter_no: str) -> m.ChronicFollowUp:
    return editable_encounter(m.ChronicFollowUp, r, encounter_no, program=program)


def _history(r: m.Resident, program: str, before: dt.date | None, exclude: str = "") -> list[m.ChronicFollowUp]:
    qs = m.ChronicFollowUp.objects.filter(resident=r, program=program, is_void=False).exclude(encounter_no=exclude)
    if before is not None:
        qs = qs.filter(service_date__lte=before)
    return list(qs.order_by("-service_date", "-id")[:RECENT_VISITS])


def _uncontrolled_run(history: list[m.ChronicFollowUp]) -> int:
    """How many visits in a row, latest first, were classed 控制不满意."""
    run = 0
    for fu in history:
        if fu.classification != v.FollowUpClass.UNCONTROLLED.value:
            break
        run += 1
    return run


def _check(r: m.Resident, values: Values, exclude: str = "") -> Check:
    program = values.program
    age = rules.service_age(r.birth_date, values.service_date) if values.service_date else None
    warnings: list[str] = []
    proposal = None
    if values.service_date is not None:
        history = _history(r, program, values.service_date, exclude)
        proposal = rules.follow_up_rules(program).propose(
            values.service_date, age=age, sbp=values.sbp, dbp=values.dbp, fasting_glucose=values.fasting_glucose,
            adverse_reaction=values.adverse_reaction, complication=values.complication,
            previous_uncontrolled=_uncontrolled_run(history), region_code=_region_code(r))
        if values.service_date > timezone.localdate():
            values.errors.setdefault("service_date", f"随访日期 {values.service_date} 晚于今天")
        what = rules.MEASURED_FOLLOW_UPS.get(program)
        if what and proposal.classification is None and values.mode != v.FollowUpMode.PHONE.value:
            warnings.append(f"面对面随访应测量{what}，未测量时无法判断控制情况")
        if proposal.refer and not values.referral:
            warnings.append("按规范应转诊：请勾选转诊并填写转诊原因和机构")
        if values.next_visit_date and values.next_visit_date > proposal.next_visit_date:
            warnings.append(f"填写的下次随访日期晚于规范建议的 {proposal.next_visit_date}（{proposal.next_visit_days} 天内）")
    needs = bool(proposal and proposal.needs_answer)
    return Check(proposal, values.errors, warnings, needs, values.answered, v.Program(program).zh, age)


def _region_code(r: m.Resident) -> str:
    """The code of the root of the resident's org tree (the region whose rule overrides apply)."""
    root = (r.managing_unit.path or "").strip("/").split("/")[0]
    return m.OrgUnit.objects.filter(pk=int(root)).values_list("code", flat=True).first() or "" if root else ""


# --- use cases -----------------------------------------------------------------------------------------------------
def form(actor: Actor, record_no: str, program: str, encounter_no: str = "") -> FormPage:
    """The follow-up form of one person and program: a new visit, or ``encounter_no`` to edit. Audited."""
    program = _program(program)
    r = _resident(actor, record_no)
    fu = _visit(r, program, encounter_no) if encounter_no else None
    enrollment = _enrollment(r, program, fu.service_date if fu else None)
    today = timezone.localdate()
    initial: dict[str, object] = {"service_date": today.isoformat(), "mode": v.FollowUpMode.CLINIC.value}
    medication: list[Medication] = []
    check = None
    if fu is not None:
        initial = {f: ("" if getattr(fu, f) is None else getattr(fu, f)) for f in
                   ("service_date", "mode", "sbp", "dbp", "weight", "heart_rate", "fasting_glucose", "adherence",
                    "adverse_reaction", "adverse_reaction_text", "symptoms", "medication_adjusted", "guidance",
                    "referral", "referral_reason", "referral_institution", "next_visit_date")}
        initial["complication"] = fu.classification == v.FollowUpClass.COMPLICATION.value
        medication, rest = medication_lines(fu.medication)
        initial["medication_rest"] = rest
        for k in ("service_date", "next_visit_date"):
            if initial[k]:
                initial[k] = initial[k].isoformat()
        check = _check(r, read(program, {k: _str(x) for k, x in initial.items()}), exclude=fu.encounter_no)
    history = _history(r, program, None)
    recent = [PastVisit(x.encounter_no, x.service_date, _choice(v.FollowUpMode, x.mode),
                        _reading(x), _choice(v.FollowUpClass, x.classification), x.next_visit_date)
              for x in history]
    age = rules.service_age(r.birth_date, today) or 0
    audit.viewed(actor, AccessKind.SERVICE, scope=r.managing_unit.code,
                 purpose=f"{v.Program(program).zh}随访表" + (f" {fu.encounter_no}" if fu else "（新增）"),
                 residents=[r.pk])
    return FormPage(
        record_no=r.record_no, name=r.name, sex=_choice(v.Sex, r.sex), age=age, unit_code=r.managing_unit.code,
        unit_name=r.managing_unit.name,
        program=program, program_name=v.Program(program).zh, enrollment_no=enrollment.enrollment_no,
        encounter_no=fu.encounter_no if fu else "", version=fu.version if fu else None, initial=initial,
        medication=medication, recent=recent, check=check,
        modes=[(x.value, x.zh) for x in v.FollowUpMode], adherences=[(x.value, x.zh) for x in v.Adherence],
        bounds={k: _bounds(k) for k in (*INTEGERS, *DECIMALS)})


_str = form_text


def _choice(vocab, code: str) -> str:
    return vocab(code).zh if code in vocab.codes() else (code or "")


def _reading(fu: m.ChronicFollowUp) -> str:
    parts = [f"{fu.sbp}/{fu.dbp} mmHg" if fu.sbp and fu.dbp else "",
             f"空腹血糖 {fu.fasting_glucose}" if fu.fasting_glucose is not None else ""]
    return "，".join(p for p in parts if p) or "未测量"


def propose(actor: Actor, record_no: str, program: str, values: Mapping[str, str], *, encounter_no: str = "") -> Check:
    """The rulebook's answer to the values typed so far; writes nothing."""
    program = _program(program)
    r = _resident(actor, record_no)
    return _check(r, read(program, values), exclude=encounter_no)


def save_follow_up(actor: Actor, record_no: str, program: str, values: Mapping[str, str], *, encounter_no: str = "",
                   expected_version: int | None = None, reason: str = "") -> Saved:
    """Write one follow-up (new, or ``encounter_no`` at ``expected_version``) with the rulebook's class and
    next-visit date (the doctor may set an earlier or later date). Raises :class:`Invalid` naming each field,
    :class:`Stale` when the visit changed since the form was opened."""
    program = _program(program)
    r = _resident(actor, record_no)
    access.check_write(actor, m.ChronicFollowUp, "随访记录", change=bool(encounter_no))
    fu = _visit(r, program, encounter_no) if encounter_no else None
    if fu is not None and expected_version is None:
        raise BadRequest("修改随访须带上打开表单时的版本号（version）")
    got = read(program, values)
    check = _check(r, got, exclude=encounter_no)
    errors = dict(got.errors)
    reason = (reason or "").strip()
    if len(reason) > 200:
        errors["reason"] = "未处理的原因长度超过 200 个字符"
    if check.needs_answer and not got.answered and not reason:
        what = "达急症水平" if check.proposal and check.proposal.emergency else "控制不满意"
        errors["guidance"] = (f"此次随访{what}：须填写健康指导、勾选调整用药或转诊；"
                              "确实未处理的，请在“未处理的原因”中说明")
    if errors:
        raise Invalid(errors)
    proposal = check.proposal
    assert proposal is not None and got.service_date is not None
    try:
        enrollment = _enrollment(r, program, got.service_date)
    except BadRequest as exc:
        raise Invalid({"service_date": str(exc)}) from None
    staff = m.Staff.objects.filter(user=actor.user).select_related("org_unit").first() if actor.user else None
    created = fu is None
    if fu is None:
        fu = m.ChronicFollowUp(
            encounter_no=f"FU{got.service_date:%Y%m%d}-{uuid.uuid4().hex[:12]}", resident=r, program=program,
            org_unit=staff.org_unit if staff and actor.sees_path(staff.org_unit.path) else r.managing_unit,
            provider=staff, entered_at=timezone.now())
    fu.enrollment = enrollment
    fu.service_date = got.service_date
    for name in ("mode", "sbp", "dbp", "weight", "heart_rate", "fasting_glucose", "adherence", "adverse_reaction",
                 "adverse_reaction_text", "symptoms", "medication_adjusted", "guidance", "referral",
                 "referral_reason", "referral_institution"):
        setattr(fu, name, getattr(got, name))
    if got.referral and not got.referral_reason and proposal.emergency:
        fu.referral_reason = "；".join(proposal.emergency)[:100]
    fu.medication = got.medication_text if got.medication else str(values.get("medication_rest", "")).strip()[:200]
    fu.classification = proposal.classification or ""
    fu.next_visit_date = got.next_visit_date or proposal.next_visit_date
    why = f"{v.Program(program).zh}随访录入" + (f"；未处理原因：{reason}" if reason else "")
    try:
        entry.submit_instance(fu, actor_user=actor.user, reason=why,
                              expected_version=None if created else int(expected_version))
    except entry.StaleVersion as exc:
        raise Stale(exc.describe(actor.user), exc.change_lines(actor.user)) from None
    except entry.Rejected as exc:
        raise Invalid({i.field: i.message for i in exc.issues}) from None
    stored = m.ChronicFollowUp.objects.get(encounter_no=fu.encounter_no)
    return Saved(stored.encounter_no, r.record_no, created, proposal, stored.next_visit_date, stored.version)
