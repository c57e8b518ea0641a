"""Use cases of entering a severe-mental-illness follow-up (严重精神障碍患者随访服务记录表) with the rule at entry —
the pattern of :mod:`gongwei.service.encounters` (ADR 024, ADR 030).

The risk assessment (危险性评估 0–5) is required — only follow-ups with a grade count towards P1
(``spec.programs.smi.REQUIRE_RISK_GRADE``); the class (病情稳定 / 基本稳定 / 不稳定) follows from it by
``CLASS_BY_RISK_GRADE`` and the next-visit date from ``NEXT_VISIT_DAYS`` (on a working day, ``spec.followup``),
shown as typed and stored as proposed unless the doctor sets another date.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import timezone

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import access, audit
from gongwei.service.access import Actor
from gongwei.service.encounters import (
    Invalid,
    Stale,
    _date,
    _enrollment,
    _fmt,
    _resident,
    editable_encounter,
    form_text,
)
from gongwei.service.errors import BadRequest
from gongwei.spec import entry as rules
from gongwei.spec import vocab as v
from gongwei.spec.followup import next_visit_on
from gongwei.spec.programs import smi
from gongwei.spec.vocab import AccessKind

__all__ = ["Invalid", "Stale"]

PROGRAM = v.Program.SMI.value
LABELS = {"service_date": "随访日期", "mode": "随访方式", "risk_grade": "危险性评估", "insight": "自知力",
          "social_function": "社会功能", "adherence": "服药依从性", "next_visit_date": "下次随访日期"}
FLAGS = ("living_at_home", "on_medication", "adverse_reaction", "referral")


@dataclass
class SmiValues:
    service_date: dt.date | None = None
    mode: str = v.FollowUpMode.HOME.value
    risk_grade: int | None = None
    insight: str = ""
    social_function: str = ""
    adherence: str = ""
    living_at_home: bool = True
    on_medication: bool = False
    adverse_reaction: bool = False
    referral: bool = False
    next_visit_date: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class SmiCheck:
    classification: str  # a SmiClass code, "" until the risk grade is typed
    next_visit_date: dt.date | None
    next_visit_days: int | None
    errors: dict[str, str]
    warnings: list[str]

    @property
    def class_name(self) -> str:
        return v.SmiClass(self.classification).zh if self.classification else ""


def _flag(values: Mapping[str, str], name: str) -> bool:
    return str(values.get(name, "")).strip() in ("1", "on", "true")


def read(values: Mapping[str, str]) -> SmiValues:
    out = SmiValues()
    errors = out.errors
    out.service_date = _date(values.get("service_date", ""), "随访日期", errors, "service_date")
    if out.service_date is None and "service_date" not in errors:
        errors["service_date"] = "随访日期为必填项，不能为空"
    elif out.service_date and out.service_date > timezone.localdate():
        errors["service_date"] = f"随访日期 {out.service_date} 晚于今天"
    out.mode = str(values.get("mode", "") or v.FollowUpMode.HOME.value)
    if out.mode not in v.FollowUpMode.codes():
        errors["mode"] = f"随访方式“{out.mode}”不在值域代码中"
    text = str(values.get("risk_grade", "") or "").strip()
    low, high = rules.HARD_BOUNDS["risk_grade"]
    if text:
        if not text.isdigit() or not low <= int(text) <= high:
            errors["risk_grade"] = f"危险性评估应为 {_fmt(low)}–{_fmt(high)} 级，实际为“{text}”"
        else:
            out.risk_grade = int(text)
    for name, codes in (*rules.SMI_CODES.items(), ("adherence", tuple((x.value, x.zh) for x in v.Adherence))):
        code = str(values.get(name, "") or "").strip()
        if code and code not in {c for c, _ in codes}:
            errors[name] = f"{LABELS[name]}“{code}”不在值域代码中（可选：{'、'.join(z for _, z in codes)}）"
            code = ""
        setattr(out, name, code)
    # an unticked box is not posted: a new form posts living_at_home with its default ticked
    for name in FLAGS:
        setattr(out, name, _flag(values, name))
    out.next_visit_date = _date(values.get("next_visit_date", ""), "下次随访日期", errors, "next_visit_date")
    if out.next_visit_date and out.service_date and out.next_visit_date <= out.service_date:
        errors["next_visit_date"] = f"下次随访日期（{out.next_visit_date}）应晚于随访日期（{out.service_date}）"
    return out


def _check(got: SmiValues) -> SmiCheck:
    warnings: list[str] = []
    cls, due, days = "", None, None
    if got.risk_grade is not None:
        cls = smi.CLASS_BY_RISK_GRADE[got.risk_grade].value
        days = smi.NEXT_VISIT_DAYS[v.SmiClass(cls)]
        if got.service_date:
            due = next_visit_on(got.service_date, days)
    if got.next_visit_date and due and got.next_visit_date > due:
        warnings.append(f"填写的下次随访日期晚于规范建议的 {due}（{days} 天内）")
    if got.on_medication and not got.adherence:
        warnings.append("勾选了服药，请填写服药依从性")
    return SmiCheck(cls, due, days, got.errors, warnings)


@dataclass
class SmiPage:
    record_no: str
    name: str
    sex: str
    age: int
    unit_code: str
    enrollment_no: str
    encounter_no: str
    version: int | None
    initial: dict[str, object]
    check: SmiCheck | None
    modes: list[tuple[str, str]]
    codes: dict[str, tuple[tuple[str, str], ...]]
    risk_grades: list[int]
    recent: list[m.SmiFollowUp]
    program: str = PROGRAM
    program_name: str = v.Program.SMI.zh


@dataclass(frozen=True)
class Saved:
    encounter_no: str
    record_no: str
    created: bool
    version: int
    classification: str
    next_visit_date: dt.date


def _visit(r: m.Resident, encounter_no: str) -> m.SmiFollowUp:
    return editable_encounter(m.SmiFollowUp, r, encounter_no)


_as_text = form_text


def form(actor: Actor, record_no: str, encounter_no: str = "") -> SmiPage:
    """The SMI follow-up form of one patient (an open 严重精神障碍 enrolment needed). Audited."""
    r = _resident(actor, record_no)
    fu = _visit(r, encounter_no) if encounter_no else None
    enrollment = _enrollment(r, PROGRAM, fu.service_date if fu else None)
    today = timezone.localdate()
    initial: dict[str, object] = {"service_date": today.isoformat(), "mode": v.FollowUpMode.HOME.value,
                                  "living_at_home": "1"}
    check = None
    if fu is not None:
        initial = {k: _as_text(getattr(fu, k)) for k in ("service_date", "mode", "risk_grade", "insight",
                                                          "social_function", "adherence", "next_visit_date", *FLAGS)}
        check = _check(read(initial))
    audit.viewed(actor, AccessKind.SERVICE, scope=r.managing_unit.code,
                 purpose="严重精神障碍随访表" + (f" {fu.encounter_no}" if fu else "（新增）"), residents=[r.pk])
    low, high = rules.HARD_BOUNDS["risk_grade"]
    return SmiPage(
        record_no=r.record_no, name=r.name, sex=v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex,
        age=rules.service_age(r.birth_date, today) or 0, unit_code=r.managing_unit.code,
        enrollment_no=enrollment.enrollment_no, encounter_no=fu.encounter_no if fu else "",
        version=fu.version if fu else None, initial=initial, check=check,
        modes=[(x.value, x.zh) for x in v.FollowUpMode],
        codes={**rules.SMI_CODES, "adherence": tuple((x.value, x.zh) for x in v.Adherence)},
        risk_grades=list(range(int(low), int(high) + 1)),
        recent=list(m.SmiFollowUp.objects.filter(resident=r, is_void=False).order_by("-service_date")[:4]))


def propose(actor: Actor, record_no: str, values: Mapping[str, str]) -> SmiCheck:
    """The class and next-visit date the rulebook gives the values typed so far; writes nothing."""
    _resident(actor, record_no)
    return _check(read(values))


def save(actor: Actor, record_no: str, values: Mapping[str, str], *, encounter_no: str = "",
         expected_version: int | None = None) -> Saved:
    """Write one SMI follow-up with the rulebook's class and next-visit date (the doctor may set another date)."""
    r = _resident(actor, record_no)
    access.check_write(actor, m.SmiFollowUp, "严重精神障碍患者随访记录", change=bool(encounter_no))
    fu = _visit(r, encounter_no) if encounter_no else None
    if fu is not None and expected_version is None:
        raise BadRequest("修改随访须带上打开表单时的版本号（version）")
    got = read(values)
    check = _check(got)
    errors = dict(got.errors)
    if smi.REQUIRE_RISK_GRADE and got.risk_grade is None and "risk_grade" not in errors:
        errors["risk_grade"] = "危险性评估为必填项：没有危险性评估的随访不计入规范管理"
    if errors:
        raise Invalid(errors)
    assert got.service_date is not None and check.next_visit_date is not None
    try:
        enrollment = _enrollment(r, PROGRAM, got.service_date)
    except BadRequest as exc:
        raise Invalid({"service_date": str(exc)}) from None
    staff = m.Staff.objects.filter(user=actor.user).select_related("org_unit").first() if actor.user else None
    created = fu is None
    if fu is None:
        fu = m.SmiFollowUp(encounter_no=f"SMI{got.service_date:%Y%m%d}-{uuid.uuid4().hex[:12]}", resident=r,
                           org_unit=staff.org_unit if staff and actor.sees_path(staff.org_unit.path)
                           else r.managing_unit, provider=staff, entered_at=timezone.now())
    fu.enrollment = enrollment
    fu.service_date = got.service_date
    for name in ("mode", "risk_grade", "insight", "social_function", "adherence", *FLAGS):
        setattr(fu, name, getattr(got, name))
    fu.classification = check.classification
    fu.next_visit_date = got.next_visit_date or check.next_visit_date
    try:
        entry.submit_instance(fu, actor_user=actor.user, reason="严重精神障碍随访录入",
                              expected_version=None if created else int(expected_version))
    except entry.StaleVersion as exc:
        raise Stale(exc.describe(actor.user), exc.change_lines(actor.user)) from None
    except entry.Rejected as exc:
        raise Invalid({i.field: i.message for i in exc.issues}) from None
    stored = m.SmiFollowUp.objects.get(encounter_no=fu.encounter_no)
    return Saved(stored.encounter_no, r.record_no, created, stored.version, stored.classification,
                 stored.next_visit_date)
