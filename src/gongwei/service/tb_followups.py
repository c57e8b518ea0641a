"""Use cases of entering a tuberculosis follow-up (肺结核患者随访服务记录表) with the rule at entry — the pattern of
:mod:`gongwei.service.smi_followups` (ADR 030).

The next-visit date follows the supervision of the enrolment and the treatment phase (``spec.programs.tb``:
family-member supervision in the intensive phase → every ``INTENSIVE_VISIT_DAYS``, otherwise
``MONTHLY_VISIT_DAYS``), on a working day; the doses taken against the doses due are judged by
``REGULAR_MEDICATION_PERCENT`` (规则服药) as they are typed. More doses taken than due is refused.
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
    _resident,
    editable_encounter,
    form_text,
)
from gongwei.service.errors import BadRequest
from gongwei.spec import entry as rules
from gongwei.spec import vocab as v
from gongwei.spec.followup import next_visit_on
from gongwei.spec.programs import tb
from gongwei.spec.vocab import AccessKind

__all__ = ["Invalid", "Stale"]

PROGRAM = v.Program.TB.value
FLAGS = ("adverse_reaction", "referral")
DOSE_LIMIT = 32767  # the column type's limit (PositiveSmallIntegerField), not a rule of the specification


@dataclass
class TbValues:
    service_date: dt.date | None = None
    visit_type: str = v.TbVisitType.FOLLOW_UP.value
    mode: str = v.FollowUpMode.HOME.value
    phase: str = ""
    doses_due: int | None = None
    doses_taken: int | None = None
    adverse_reaction: bool = False
    referral: bool = False
    outcome: str = ""
    next_visit_date: dt.date | None = None
    errors: dict[str, str] = field(default_factory=dict)


@dataclass
class TbCheck:
    next_visit_date: dt.date | None
    next_visit_days: int | None
    regular: bool | None  # None: doses not typed
    percent: int | None
    errors: dict[str, str]
    warnings: list[str]
    regular_percent: int = tb.REGULAR_MEDICATION_PERCENT


def _code(values: Mapping[str, str], name: str, label: str, vocab, errors: dict[str, str], default: str = "") -> str:
    code = str(values.get(name, "") or default).strip()
    if code and code not in vocab.codes():
        errors[name] = f"{label}“{code}”不在值域代码中（可选：{'、'.join(x.zh for x in vocab)}）"
        return default
    return code


def _count(values: Mapping[str, str], name: str, label: str, errors: dict[str, str]) -> int | None:
    text = str(values.get(name, "") or "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) > DOSE_LIMIT:
        errors[name] = f"{label}应为 0–{DOSE_LIMIT} 的整数，实际为“{text}”"
        return None
    return int(text)


def read(values: Mapping[str, str]) -> TbValues:
    out = TbValues()
    errors = out.errors
    out.service_date = _date(values.get("service_date", ""), "随访日期", errors, "service_date")
    if out.service_date is None and "service_date" not in errors:
        errors["service_date"] = "随访日期为必填项，不能为空"
    elif out.service_date and out.service_date > timezone.localdate():
        errors["service_date"] = f"随访日期 {out.service_date} 晚于今天"
    out.visit_type = _code(values, "visit_type", "随访类型", v.TbVisitType, errors, v.TbVisitType.FOLLOW_UP.value)
    out.mode = _code(values, "mode", "随访方式", v.FollowUpMode, errors, v.FollowUpMode.HOME.value)
    out.phase = _code(values, "phase", "治疗阶段", v.TbPhase, errors)
    out.doses_due = _count(values, "doses_due", "应服药次数", errors)
    out.doses_taken = _count(values, "doses_taken", "实际服药次数", errors)
    if out.doses_due is not None and out.doses_taken is not None and out.doses_taken > out.doses_due:
        errors["doses_taken"] = f"实际服药次数（{out.doses_taken}）不能多于应服药次数（{out.doses_due}）"
    for name in FLAGS:
        setattr(out, name, str(values.get(name, "")).strip() in ("1", "on", "true"))
    out.outcome = str(values.get("outcome", "") or "").strip()[:30]
    out.next_visit_date = _date(values.get("next_visit_date", ""), "下次随访日期", errors, "next_visit_date")
    if out.next_visit_date and out.service_date and out.next_visit_date <= out.service_date:
        errors["next_visit_date"] = f"下次随访日期（{out.next_visit_date}）应晚于随访日期（{out.service_date}）"
    return out


def _check(got: TbValues, supervisor: str) -> TbCheck:
    warnings: list[str] = []
    due = days = None
    if got.visit_type != v.TbVisitType.CLOSING.value:
        ten_day = supervisor in {s.value for s in tb.TEN_DAY_SUPERVISORS} and got.phase != tb.CONTINUATION.value
        days = tb.INTENSIVE_VISIT_DAYS if ten_day else tb.MONTHLY_VISIT_DAYS
        if got.service_date:
            due = next_visit_on(got.service_date, days)
    regular = percent = None
    if got.doses_due and got.doses_taken is not None and "doses_taken" not in got.errors:
        regular = got.doses_taken * 100 >= got.doses_due * tb.REGULAR_MEDICATION_PERCENT
        percent = got.doses_taken * 100 // got.doses_due
    if got.next_visit_date and due and got.next_visit_date > due:
        warnings.append(f"填写的下次随访日期晚于规范建议的 {due}（{days} 天内）")
    return TbCheck(due, days, regular, percent, got.errors, warnings)


@dataclass
class TbPage:
    record_no: str
    name: str
    sex: str
    age: int
    unit_code: str
    enrollment_no: str
    supervisor: str
    encounter_no: str
    version: int | None
    initial: dict[str, object]
    check: TbCheck | None
    choices: dict[str, list[tuple[str, str]]]
    recent: list[m.TbFollowUp]
    program: str = PROGRAM
    program_name: str = v.Program.TB.zh


@dataclass(frozen=True)
class Saved:
    encounter_no: str
    record_no: str
    created: bool
    version: int
    next_visit_date: dt.date | None


def _visit(r: m.Resident, encounter_no: str) -> m.TbFollowUp:
    return editable_encounter(m.TbFollowUp, r, encounter_no)


_as_text = form_text


def form(actor: Actor, record_no: str, encounter_no: str = "") -> TbPage:
    """The TB follow-up form of one patient (an open 肺结核 enrolment needed). Audited."""
    r = _resident(actor, record_no)
    fu = _visit(r, encounter_no) if encounter_no else None
    enrollment = _enrollment(r, PROGRAM, fu.service_date if fu else None)
    today = timezone.localdate()
    initial: dict[str, object] = {"service_date": today.isoformat(), "visit_type": v.TbVisitType.FOLLOW_UP.value,
                                  "mode": v.FollowUpMode.HOME.value}
    check = None
    if fu is not None:
        initial = {k: _as_text(getattr(fu, k)) for k in ("service_date", "visit_type", "mode", "phase", "doses_due",
                                                          "doses_taken", "outcome", "next_visit_date", *FLAGS)}
        check = _check(read(initial), enrollment.tb_supervisor)
    audit.viewed(actor, AccessKind.SERVICE, scope=r.managing_unit.code,
                 purpose="肺结核患者随访表" + (f" {fu.encounter_no}" if fu else "（新增）"), residents=[r.pk])
    supervisor = v.TbSupervisor(enrollment.tb_supervisor).zh if enrollment.tb_supervisor in v.TbSupervisor.codes() \
        else ""
    return TbPage(
        record_no=r.record_no, name=r.name, sex=v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex,
        age=rules.service_age(r.birth_date, today) or 0, unit_code=r.managing_unit.code,
        enrollment_no=enrollment.enrollment_no, supervisor=supervisor, encounter_no=fu.encounter_no if fu else "",
        version=fu.version if fu else None, initial=initial, check=check,
        choices={"visit_type": [(x.value, x.zh) for x in v.TbVisitType], "mode": [(x.value, x.zh) for x in
                 v.FollowUpMode], "phase": [(x.value, x.zh) for x in v.TbPhase]},
        recent=list(m.TbFollowUp.objects.filter(resident=r, is_void=False).order_by("-service_date")[:4]))


def _supervisor(r: m.Resident, on: dt.date | None) -> str:
    try:
        return _enrollment(r, PROGRAM, on).tb_supervisor
    except BadRequest:
        return ""


def propose(actor: Actor, record_no: str, values: Mapping[str, str]) -> TbCheck:
    """The next-visit date and the regular-medication judgement of the values typed so far; writes nothing."""
    r = _resident(actor, record_no)
    got = read(values)
    return _check(got, _supervisor(r, got.service_date))


def save(actor: Actor, record_no: str, values: Mapping[str, str], *, encounter_no: str = "",
         expected_version: int | None = None) -> Saved:
    """Write one TB follow-up with the rulebook's next-visit date (the doctor may set another)."""
    r = _resident(actor, record_no)
    access.check_write(actor, m.TbFollowUp, "肺结核患者随访记录", change=bool(encounter_no))
    fu = _visit(r, encounter_no) if encounter_no else None
    if fu is not None and expected_version is None:
        raise BadRequest("修改随访须带上打开表单时的版本号（version）")
    got = read(values)
    if got.errors:
        raise Invalid(dict(got.errors))
    assert got.service_date is not None
    try:
        enrollment = _enrollment(r, PROGRAM, got.service_date)
    except BadRequest as exc:
        raise Invalid({"service_date": str(exc)}) from None
    check = _check(got, enrollment.tb_supervisor)
    staff = m.Staff.objects.filter(user=actor.user).select_related("org_unit").first() if actor.user else None
    created = fu is None
    if fu is None:
        fu = m.TbFollowUp(encounter_no=f"TB{got.service_date:%Y%m%d}-{uuid.uuid4().hex[:12]}", resident=r,
                          org_unit=staff.org_unit if staff and actor.sees_path(staff.org_unit.path)
                          else r.managing_unit, provider=staff, entered_at=timezone.now())
    fu.enrollment = enrollment
    fu.service_date = got.service_date
    for name in ("visit_type", "mode", "phase", "doses_due", "doses_taken", "outcome", *FLAGS):
        setattr(fu, name, getattr(got, name))
    fu.next_visit_date = got.next_visit_date or check.next_visit_date
    try:
        entry.submit_instance(fu, actor_user=actor.user, reason="肺结核患者随访录入",
                              expected_version=None if created else int(expected_version))
    except entry.StaleVersion as exc:
        raise Stale(exc.describe(actor.user), exc.change_lines(actor.user)) from None
    except entry.Rejected as exc:
        raise Invalid({i.field: i.message for i in exc.issues}) from None
    stored = m.TbFollowUp.objects.get(encounter_no=fu.encounter_no)
    return Saved(stored.encounter_no, r.record_no, created, stored.version, stored.next_visit_date)
