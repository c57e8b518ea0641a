"""Use cases of entering the maternal, child and vaccination forms with the rule applied at entry (issue 11 §4,
ADR 031): 新生儿家庭访视, 儿童健康检查, 儿童中医药健康指导, 产前随访, 产后访视 / 产后42天健康检查, 预防接种.

The pattern of :mod:`gongwei.service.encounters` (ADR 024), for six forms described once in ``FORMS``:

* :func:`form` — what the form shows for one person (a new record, or ``encounter_no`` to edit with its version
  for optimistic locking); says why the person cannot have this form (not a child of the age, no pregnancy
  episode) instead of failing; audited as a view of a service record.
* :func:`propose` — as the values are typed: which check, contact or dose is due at this age, the next date, the
  findings that call for referral with the text the specification requires, and each field's problem; writes
  nothing.
* :func:`save` — scope-checked, values outside ``spec.entry_child_maternal.RANGES`` refused naming the field and
  the range, a dose before its minimum age or interval refused with the rule, a finding that requires a referral
  refused without one unless a reason is given, written through ``records.entry.submit_instance`` (one
  transaction; history in ChangeLog; an edit from an older version is refused with what changed).

Every rule comes from the rulebook (``spec.entry_child_maternal`` and the program modules it reads).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.utils import timezone

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.service import access, audit
from gongwei.service.access import Actor, check_resident
from gongwei.service.encounters import Invalid, Stale, editable_encounter, form_text
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.spec import entry_child_maternal as rules
from gongwei.spec import vocab as v
from gongwei.spec.programs import child, maternal
from gongwei.spec.vocab import AccessKind


def gettext_noop(message: str) -> str:
    """Marks a string for the catalogue (makemessages reads the name) without touching Django's settings at
    import: the command line imports this module before Django is configured."""
    return message

__all__ = ["FORMS", "Invalid", "Stale", "form", "propose", "save"]


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str  # int | dec | flag | text | choice
    unit: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 0
    required: bool = False


@dataclass(frozen=True)
class Form:
    slug: str
    title: str
    model: type
    table: str
    prefix: str
    subject: str  # child | pregnancy | delivered
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def has_referral(self) -> bool:
        return any(f.name == "referral" for f in self.fields)


_REFERRAL = (Field("guidance", gettext_noop("指导"), "text", max_length=100), Field("referral", gettext_noop("转诊"), "flag"))
_BP = (Field("sbp", gettext_noop("收缩压"), "int", "mmHg"), Field("dbp", gettext_noop("舒张压"), "int", "mmHg"))
_VACCINES = tuple((x.value, x.zh) for x in v.Vaccine)
_FEEDING = (("1", gettext_noop("纯母乳喂养")), ("2", gettext_noop("混合喂养")), ("3", gettext_noop("人工喂养")))
FORMS: dict[str, Form] = {f.slug: f for f in (
    Form("newborn-visit", gettext_noop("新生儿家庭访视"), m.NewbornVisit, "newborn_visits", "NB", "child", (
        Field("weight", gettext_noop("体重"), "dec", "kg"), Field("jaundice", gettext_noop("黄疸"), "flag"),
        Field("feeding", gettext_noop("喂养方式"), "choice", choices=_FEEDING), Field("eye_check", gettext_noop("眼保健和视力检查"), "flag"),
        *_REFERRAL)),
    Form("child-check", gettext_noop("儿童健康检查"), m.ChildCheck, "child_checks", "CC", "child", (
        Field("weight", gettext_noop("体重"), "dec", "kg"), Field("height", gettext_noop("身长/身高"), "dec", "cm"),
        Field("head_circumference", gettext_noop("头围"), "dec", "cm"), Field("hemoglobin", gettext_noop("血红蛋白"), "int", "g/L"),
        Field("development_ok", gettext_noop("发育评估通过"), "flag"), Field("eye_check", gettext_noop("眼保健和视力检查"), "flag"),
        Field("hearing_check", gettext_noop("听力筛查"), "flag"), *_REFERRAL)),
    Form("child-tcm", gettext_noop("儿童中医药健康指导"), m.ChildTcmGuidance, "child_tcm_guidance", "CT", "child", ()),
    Form("prenatal", gettext_noop("产前随访"), m.PrenatalVisit, "prenatal_visits", "PN", "pregnancy", (
        Field("gestational_weeks", gettext_noop("孕周"), "int", gettext_noop("周")), Field("weight", gettext_noop("体重"), "dec", "kg"), *_BP,
        Field("hemoglobin", gettext_noop("血红蛋白"), "int", "g/L"), *_REFERRAL)),
    Form("postpartum", gettext_noop("产后访视"), m.PostpartumVisit, "postpartum_visits", "PP", "delivered", (
        Field("visit_type", gettext_noop("类型"), "choice", choices=tuple((x.value, x.zh) for x in v.PostpartumVisitType)),
        *_BP, Field("recovered", gettext_noop("恢复正常"), "flag"), *_REFERRAL)),
    Form("vaccination", gettext_noop("预防接种"), m.Vaccination, "vaccinations", "VC", "child", (
        Field("vaccine", gettext_noop("疫苗"), "choice", choices=_VACCINES), Field("dose_no", gettext_noop("剂次"), "int"),
        Field("lot_no", gettext_noop("疫苗批号"), "text", max_length=30), Field("adverse_event", gettext_noop("疑似预防接种异常反应"), "flag"))),
)}
LABELS = {"service_date": "服务日期", "reason": "未转诊的原因"}
DEFAULT_TRUE = ("development_ok", "recovered")  # the record's default: ticked on a new form
RECENT = 6


@dataclass
class Check:
    """What :func:`propose` answers: facts of the schedule (label, value), the proposed next date, findings and
    whether a referral is required, warnings, field problems, and why the person cannot have the form."""

    form: str
    title: str
    errors: dict[str, str]
    facts: list[tuple[str, str]] = field(default_factory=list)
    next_name: str = ""
    next_date: dt.date | None = None
    findings: tuple[str, ...] = ()
    refer: bool = False
    referral: str = ""
    high_risk: bool = False
    warnings: list[str] = field(default_factory=list)
    answered: bool = False
    blocked: str = ""
    stored: dict[str, object] = field(default_factory=dict)  # values the rulebook sets on the record

    @property
    def needs_answer(self) -> bool:
        return self.refer


@dataclass(frozen=True)
class Past:
    encounter_no: str
    date: dt.date
    text: str


@dataclass
class FormPage:
    form: Form
    record_no: str
    name: str
    sex: str
    age_text: str
    unit_code: str
    encounter_no: str
    version: int | None
    initial: dict[str, object]
    recent: list[Past]
    check: Check | None
    blocked: str
    bounds: dict[str, tuple[float, float]]
    may_save: bool = True


@dataclass(frozen=True)
class Saved:
    encounter_no: str
    record_no: str
    created: bool
    check: Check
    version: int


# --- reading the form ------------------------------------------------------------------------------------------
def _fmt(x: float) -> str:
    return f"{x:g}"


def _read(form: Form, values: Mapping[str, str]) -> tuple[dict[str, object], dict[str, str]]:
    got: dict[str, object] = {}
    errors: dict[str, str] = {}
    text = str(values.get("service_date", "")).strip()
    got["service_date"] = None
    if not text:
        errors["service_date"] = "服务日期为必填项，不能为空"
    else:
        try:
            got["service_date"] = dt.date.fromisoformat(text)
        except ValueError:
            errors["service_date"] = f"服务日期应为日期（YYYY-MM-DD），实际为“{text}”"
    for f in form.fields:
        raw = str(values.get(f.name, "")).strip()
        if f.kind == "flag":
            got[f.name] = raw in ("1", "on", "true", "是")
        elif f.kind == "text":
            if len(raw) > f.max_length:
                errors[f.name] = f"{f.label}长度超过 {f.max_length} 个字符"
            got[f.name] = raw[:f.max_length]
        elif f.kind == "choice":
            if raw and raw not in dict(f.choices):
                errors[f.name] = f"{f.label}“{raw}”不在值域代码中"
            got[f.name] = raw
        else:
            got[f.name] = _number(form, f, raw, errors)
    if "sbp" in got and (got["sbp"] is None) != (got.get("dbp") is None) and not {"sbp", "dbp"} & set(errors):
        errors["dbp" if got["dbp"] is None else "sbp"] = "血压应同时填写收缩压和舒张压"
    if got.get("sbp") is not None and got.get("dbp") is not None and not got["sbp"] > got["dbp"]:
        errors["dbp"] = f"舒张压（{got['dbp']}）必须小于收缩压（{got['sbp']}）"
    return got, errors


def _number(form: Form, f: Field, raw: str, errors: dict[str, str]) -> int | Decimal | None:
    if not raw:
        return None
    try:
        value = int(raw) if f.kind == "int" else Decimal(raw)
        if f.kind == "dec" and (not value.is_finite() or value != value.quantize(Decimal("0.01"))):
            raise InvalidOperation
    except (ValueError, InvalidOperation):
        errors[f.name] = f"{f.label}应为{'整数' if f.kind == 'int' else '数字'}，实际为“{raw}”"
        return None
    limits = rules.RANGES.get(f"{form.table}.{f.name}")
    if limits and not (limits[0] <= value <= limits[1]):
        errors[f.name] = f"{f.label}的值 {raw} 超出可能范围 {_fmt(limits[0])}–{_fmt(limits[1])}"
        return None
    return value


# --- the person --------------------------------------------------------------------------------------------------
def _form(slug: str) -> Form:
    if slug not in FORMS:
        raise NotFound(f"表单“{slug}”不存在")
    return FORMS[slug]


def _resident(actor: Actor, record_no: str) -> m.Resident:
    r = m.Resident.objects.select_related("managing_unit").filter(record_no=(record_no or "").strip()).first()
    if r is None:
        raise NotFound(f"健康档案 {record_no} 不存在")
    check_resident(actor, r)
    return r


def _episode(r: m.Resident, form: Form, on: dt.date) -> m.Enrollment | None:
    """The pregnancy episode a prenatal or postpartum record of ``on`` belongs to."""
    qs = m.Enrollment.objects.filter(resident=r, program=v.Program.PREGNANCY).order_by("-start_date")
    if form.subject == "pregnancy":
        return qs.filter(start_date__lte=on, delivery_date__isnull=True).first() or \
            qs.filter(start_date__lte=on, delivery_date__gte=on).first()
    return qs.filter(delivery_date__isnull=False, delivery_date__lte=on).first()


def _blocked(r: m.Resident, form: Form, on: dt.date) -> str:
    """Why this person cannot have this form on ``on`` ("" when they can)."""
    if form.subject == "child":
        if r.birth_date is None:
            return "档案无出生日期，无法按月龄录入儿童服务"
        if on < r.birth_date:
            return f"服务日期 {on} 早于出生日期 {r.birth_date}"
        if form.slug == "newborn-visit" and (on - r.birth_date).days > child.NEWBORN_VISIT_WITHIN_DAYS:
            return f"新生儿家庭访视限出生后{child.NEWBORN_VISIT_WITHIN_DAYS}天内，该儿童此日已出生{(on - r.birth_date).days}天"
        if form.slug == "child-tcm" and on > rules.tcm_last_day(r.birth_date):
            return f"儿童中医药健康管理服务对象为0～{child.TCM_MAX_MONTHS}个月儿童，该儿童此日已超过"
        if rules.age_in_months(r.birth_date, on) >= (child.MAX_AGE_YEARS + 1) * 12:
            return f"该居民此日已满{child.MAX_AGE_YEARS + 1}岁，不属于0～{child.MAX_AGE_YEARS}岁儿童健康管理和预防接种对象"
        return ""
    if _episode(r, form, on) is None:
        if form.subject == "pregnancy":
            return "该居民无此日在管的孕产妇专案（未建孕期专案或已分娩），不能录入产前随访"
        return "该居民无此日以前已分娩的孕产妇专案（专案未填写分娩日期），不能录入产后访视"
    return ""


def _given(r: m.Resident, exclude: str = "") -> list[rules.Given]:
    rows = m.Vaccination.objects.filter(resident=r, is_void=False).exclude(encounter_no=exclude)
    return [rules.Given(x.vaccine, x.dose_no, x.service_date) for x in rows.order_by("service_date")]


def _age_text(birth: dt.date | None, on: dt.date) -> str:
    if birth is None:
        return "—"
    months = rules.age_in_months(birth, on)
    if months < 1:
        return f"{(on - birth).days}天"
    if months < 36:
        return f"{months}月龄"
    return f"{months // 12}岁" + (f"{months % 12}个月" if months < (child.MAX_AGE_YEARS + 1) * 12 else "")


# --- the rule at entry -------------------------------------------------------------------------------------------
def _check(r: m.Resident, form: Form, got: dict[str, object], errors: dict[str, str], exclude: str = "") -> Check:
    c = Check(form.slug, form.title, errors)
    on = got.get("service_date")
    if on is None:
        return c
    if on > timezone.localdate():
        errors.setdefault("service_date", f"服务日期 {on} 晚于今天")
    c.blocked = _blocked(r, form, on)
    if c.blocked:
        return c
    c.answered = bool(got.get("referral"))
    getattr(_RULES, form.slug.replace("-", "_"))(r, form, got, c, on, exclude)
    return c


class _RULES:
    """The rulebook's answer per form (static methods named after the form's slug)."""

    @staticmethod
    def newborn_visit(r, form, got, c: Check, on, exclude):
        by = rules.newborn_visit_by(r.birth_date)
        c.facts.append((gettext_noop("出生天数"), f"{(on - r.birth_date).days}天"))
        if on > by:
            c.warnings.append(f"规范要求出院后{child.NEWBORN_VISIT_SCHEDULE_DAYS}天内访视（以出生计为 {by} 前）")
        _findings(c, rules.child_findings(0, weight=got.get("weight"), newborn=True))
        first = rules.child_check_due(r.birth_date, on)
        nxt = first.current if first.current and first.current.months == 1 else first.next
        if nxt is not None:
            c.next_name, c.next_date = nxt.name, nxt.nominal

    @staticmethod
    def child_check(r, form, got, c: Check, on, exclude):
        due = rules.child_check_due(r.birth_date, on)
        months = rules.age_in_months(r.birth_date, on)
        if due.current is not None:
            c.facts.append((gettext_noop("此次检查"), f"{due.current.name}（{due.current.first}～{due.current.last}）"))
            c.stored["age_months"] = due.current.months
        else:
            c.facts.append((gettext_noop("此次检查"), f"{months}月龄，不在任何体检时间窗内"))
            c.warnings.append("此日不在规范的体检时间窗内，记录按实足月龄保存，不计入按月龄管理")
            c.stored["age_months"] = min(months, int(rules.HARD_BOUNDS["age_months"][1]))
        if due.next is not None:
            c.next_name, c.next_date = due.next.name, due.next.nominal
        _findings(c, rules.child_findings(months, hemoglobin=got.get("hemoglobin"),
                                          development_ok=bool(got.get("development_ok"))))

    @staticmethod
    def child_tcm(r, form, got, c: Check, on, exclude):
        due = rules.tcm_due(r.birth_date, on)
        if due.current is not None:
            c.facts.append((gettext_noop("此次指导"), f"{due.current.name}（{due.current.first}～{due.current.last}）"))
            c.stored["age_months"] = due.current.months
        else:
            months = rules.age_in_months(r.birth_date, on)
            c.facts.append((gettext_noop("此次指导"), f"{months}月龄，不在中医药健康指导的月龄时间窗内"))
            c.warnings.append(f"规范在 {'、'.join(map(str, child.TCM_MONTHS))} 月龄提供中医药健康指导，此日不在时间窗内")
            c.stored["age_months"] = months
        if due.next is not None:
            c.next_name, c.next_date = due.next.name, due.next.nominal

    @staticmethod
    def prenatal(r, form, got, c: Check, on, exclude):
        ep = _episode(r, form, on)
        lmp = ep.lmp_date if ep else None
        by_lmp = rules.gestational_weeks(lmp, on)
        weeks = got.get("gestational_weeks")
        if weeks is None:
            weeks = by_lmp
        elif by_lmp is not None and abs(int(weeks) - by_lmp) > rules.WEEKS_FROM_LMP_TOLERANCE:
            c.warnings.append(f"按末次月经（{lmp}）此日孕 {by_lmp} 周，与填写的孕 {weeks} 周不符")
        if weeks is None:
            c.errors.setdefault("gestational_weeks", "孕周为必填项（专案无末次月经日期，无法推算）")
            return
        earlier = m.PrenatalVisit.objects.filter(resident=r, enrollment=ep, is_void=False,
                                                 service_date__lt=on).exclude(encounter_no=exclude).exists()
        due = rules.prenatal_due(int(weeks), lmp, registration=not earlier)
        c.stored.update(gestational_weeks=int(weeks), is_registration=not earlier, enrollment=ep)
        c.facts.append((gettext_noop("孕周"), f"{weeks}周" + ("（按末次月经推算）" if got.get("gestational_weeks") is None else "")))
        c.facts.append((gettext_noop("此次随访"), due.contact.name if due.contact else "不在规范的产前检查孕周内"))
        if not earlier:
            c.facts.append((gettext_noop("早孕建册"), "是：孕13周前建册" if due.early_registration
                            else f"否：孕{weeks}周建册，未在孕{maternal.EARLY_REGISTRATION_BEFORE_WEEKS}周前"))
        f = rules.prenatal_findings(sbp=got.get("sbp"), dbp=got.get("dbp"), hemoglobin=got.get("hemoglobin"))
        _findings(c, f)
        c.stored["high_risk"] = f.high_risk
        if f.refer:
            c.next_name, c.next_date = "随访转诊结果", on + dt.timedelta(days=rules.REFERRAL_FOLLOW_UP_DAYS)
        elif due.next is not None:
            c.next_name, c.next_date = due.next.name, due.next_from

    @staticmethod
    def postpartum(r, form, got, c: Check, on, exclude):
        ep = _episode(r, form, on)
        c.stored["enrollment"] = ep
        dates = rules.postpartum_dates(ep.delivery_date, ep.discharge_date)
        kind = got.get("visit_type") or rules.postpartum_type(ep.delivery_date, on)
        c.stored["visit_type"] = kind
        c.facts.append((gettext_noop("产后天数"), f"{(on - ep.delivery_date).days}天（{ep.delivery_date} 分娩）"))
        c.facts.append((gettext_noop("此次服务"), v.PostpartumVisitType(kind).zh))
        if kind == v.PostpartumVisitType.HOME_VISIT:
            if on > dates["home_visit_by"]:
                c.warnings.append(f"规范要求出院后{maternal.POSTPARTUM_VISIT_SCHEDULE_DAYS}天内访视（{dates['home_visit_by']} 前）")
            c.next_name, c.next_date = "产后42天健康检查", dates["check_42d_from"]
        else:
            if on < dates["check_42d_from"]:
                c.warnings.append(f"产后42天健康检查应在 {dates['check_42d_from']} 以后")
            c.facts.append((gettext_noop("结案"), "产后42天健康检查后可结案"))
        _findings(c, rules.postpartum_findings(kind, sbp=got.get("sbp"), dbp=got.get("dbp"),
                                               recovered=bool(got.get("recovered"))))

    @staticmethod
    def vaccination(r, form, got, c: Check, on, exclude):
        given = _given(r, exclude)
        due = rules.vaccine_due(r.birth_date, on, given)
        now = [d for d in due if d.from_date <= on]
        c.facts.append((gettext_noop("月龄"), _age_text(r.birth_date, on)))
        c.facts.append((gettext_noop("此日应种"), "、".join(f"{d.dose.short}第{d.dose.dose}剂" + ("（已逾期）" if d.overdue else "")
                                          for d in now) or "无"))
        if now:
            c.stored["proposed"] = (now[0].vaccine, now[0].dose_no)
        vaccine, dose_no = got.get("vaccine"), got.get("dose_no")
        if vaccine and dose_no:
            for problem in rules.dose_problems(vaccine, int(dose_no), on, r.birth_date, given):
                c.errors.setdefault("dose_no", problem)
            given = [*given, rules.Given(vaccine, int(dose_no), on)]
        elif not vaccine:
            c.errors.setdefault("vaccine", "疫苗为必填项")
        else:
            c.errors.setdefault("dose_no", "剂次为必填项")
        later = [d for d in rules.vaccine_due(r.birth_date, on, given) if d.from_date > on]
        if later:
            c.next_name = f"{later[0].dose.short}第{later[0].dose.dose}剂"
            c.next_date = later[0].from_date


def _findings(c: Check, f: rules.Findings) -> None:
    c.findings, c.refer, c.referral, c.high_risk = f.found, f.refer, f.referral, f.high_risk
    if f.found and not f.refer:  # guidance is enough: shown as warnings, saving is not held up
        c.warnings.extend([*f.found, "按规范：" + f.referral])


# --- use cases -----------------------------------------------------------------------------------------------------
def _record(r: m.Resident, form: Form, encounter_no: str):
    return editable_encounter(form.model, r, encounter_no, f"{form.title}记录")


def _past_text(form: Form, x) -> str:
    if form.slug == "vaccination":
        return f"{v.Vaccine(x.vaccine).zh if x.vaccine in v.Vaccine.codes() else x.vaccine}第{x.dose_no}剂"
    if form.slug in ("child-check", "child-tcm"):
        return f"{x.age_months}月龄" + (f"，体重 {x.weight} kg" if getattr(x, "weight", None) else "")
    if form.slug == "prenatal":
        return f"孕{x.gestational_weeks}周" + ("，高危" if x.high_risk else "")
    if form.slug == "postpartum":
        return v.PostpartumVisitType(x.visit_type).zh if x.visit_type in v.PostpartumVisitType.codes() else x.visit_type
    return f"体重 {x.weight} kg" if x.weight is not None else "—"


_str = form_text


def may_save(actor: Actor, f: Form, action: str = "add") -> bool:
    """The role's permission on the record's model (supervisors and evaluators only view, records.roles)."""
    return access.may_write(actor, f.model, change=action == "change")


def form(actor: Actor, record_no: str, slug: str, encounter_no: str = "") -> FormPage:
    """The form of one person: a new record, or ``encounter_no`` to edit. Audited."""
    f = _form(slug)
    r = _resident(actor, record_no)
    obj = _record(r, f, encounter_no) if encounter_no else None
    today = timezone.localdate()
    initial: dict[str, object] = {"service_date": today.isoformat(), **{n: "1" for n in DEFAULT_TRUE}}
    check = None
    if obj is not None:
        initial = {"service_date": obj.service_date.isoformat(),
                   **{x.name: _str(getattr(obj, x.name)) for x in f.fields}}
        got, errors = _read(f, initial)
        check = _check(r, f, got, errors, exclude=obj.encounter_no)
    else:
        got, errors = _read(f, initial)
        check = _check(r, f, got, {}, exclude="")
        check.errors = {}
        if f.slug == "vaccination" and check.stored.get("proposed"):
            initial["vaccine"], initial["dose_no"] = check.stored["proposed"]
    rows = f.model.objects.filter(resident=r, is_void=False).order_by("-service_date", "-id")[:RECENT]
    audit.viewed(actor, AccessKind.SERVICE, scope=r.managing_unit.code,
                 purpose=f"{f.title}" + (f" {obj.encounter_no}" if obj else "（新增）"), residents=[r.pk])
    return FormPage(
        form=f, record_no=r.record_no, name=r.name, sex=v.Sex(r.sex).zh if r.sex in v.Sex.codes() else "",
        age_text=_age_text(r.birth_date, today), unit_code=r.managing_unit.code,
        encounter_no=obj.encounter_no if obj else "", version=obj.version if obj else None, initial=initial,
        recent=[Past(x.encounter_no, x.service_date, _past_text(f, x)) for x in rows], check=check,
        blocked=check.blocked if check else "",
        bounds={x.name: b for x in f.fields if (b := rules.RANGES.get(f"{f.table}.{x.name}"))},
        may_save=may_save(actor, f, "change" if obj else "add"))


def propose(actor: Actor, record_no: str, slug: str, values: Mapping[str, str], *, encounter_no: str = "") -> Check:
    """The rulebook's answer to the values typed so far; writes nothing."""
    f = _form(slug)
    r = _resident(actor, record_no)
    got, errors = _read(f, values)
    return _check(r, f, got, errors, exclude=encounter_no)


def save(actor: Actor, record_no: str, slug: str, values: Mapping[str, str], *, encounter_no: str = "",
         expected_version: int | None = None, reason: str = "") -> Saved:
    """Write one record (new, or ``encounter_no`` at ``expected_version``) with what the rulebook sets (age in
    months, registration, high risk, visit type). Raises :class:`Invalid` naming each field, :class:`Stale` when
    the record changed since the form was opened."""
    f = _form(slug)
    r = _resident(actor, record_no)
    obj = _record(r, f, encounter_no) if encounter_no else None
    if not may_save(actor, f, "add" if obj is None else "change"):
        raise Refused(f"您的角色只能查看{f.title}记录，不能录入或修改")
    if obj is not None and expected_version is None:
        raise BadRequest("修改记录须带上打开表单时的版本号（version）")
    got, errors = _read(f, values)
    check = _check(r, f, got, errors, exclude=encounter_no)
    errors = dict(check.errors)
    if check.blocked:
        errors["service_date"] = check.blocked
    reason = (reason or "").strip()
    if len(reason) > 200:
        errors["reason"] = "未转诊的原因长度超过 200 个字符"
    if check.refer and not got.get("referral") and not reason:
        errors["referral"] = (f"发现{'；'.join(check.findings)}：按规范应{check.referral}。请勾选转诊；"
                              "确实未转诊的，请在“未转诊的原因”中说明")
    if errors:
        raise Invalid(errors)
    on = got["service_date"]
    staff = m.Staff.objects.filter(user=actor.user).select_related("org_unit").first() if actor.user else None
    created = obj is None
    if obj is None:
        obj = f.model(encounter_no=f"{f.prefix}{on:%Y%m%d}-{uuid.uuid4().hex[:12]}", resident=r,
                      org_unit=staff.org_unit if staff and actor.sees_path(staff.org_unit.path) else r.managing_unit,
                      provider=staff, entered_at=timezone.now())
    obj.service_date = on
    for x in f.fields:
        setattr(obj, x.name, got[x.name] if got[x.name] is not None or x.kind in ("int", "dec") else "")
    for name, value in check.stored.items():
        if name != "proposed" and hasattr(obj, name if name != "enrollment" else "enrollment_id"):
            setattr(obj, name, value)
    if f.subject == "child" and hasattr(obj, "enrollment_id") and obj.enrollment_id is None:
        obj.enrollment = m.Enrollment.objects.filter(resident=r, program=v.Program.CHILD,
                                                     end_date__isnull=True).first()
    why = f"{f.title}录入" + (f"；未转诊原因：{reason}" if reason else "")
    try:
        entry.submit_instance(obj, actor_user=actor.user, reason=why,
                              expected_version=None if created else int(expected_version))
    except entry.StaleVersion as exc:
        raise Stale(exc.describe(actor.user), exc.change_lines(actor.user)) from None
    except entry.Rejected as exc:
        raise Invalid({i.field: i.message for i in exc.issues}) from None
    stored = f.model.objects.get(encounter_no=obj.encounter_no)
    return Saved(stored.encounter_no, r.record_no, created, check, stored.version)


def forms_for(age: int | None, programs) -> list[tuple[str, str]]:
    """The forms a record's page offers (slug, title): the child forms by age in completed years (the newborn
    visit in the first year, TCM guidance to 36 months), the pregnancy forms with an open pregnancy episode.
    ``programs``: the record's enrolments (``program``, ``end_date``)."""
    out = []
    if age is not None and 0 <= age <= child.MAX_AGE_YEARS:
        for slug in ("newborn-visit", "child-check", "child-tcm", "vaccination"):
            if (slug == "newborn-visit" and age > 0) or (slug == "child-tcm" and age * 12 >= child.TCM_MAX_MONTHS):
                continue
            out.append((slug, FORMS[slug].title))
    if any(p.program == v.Program.PREGNANCY and p.end_date is None for p in programs):
        out += [(s, FORMS[s].title) for s in ("prenatal", "postpartum")]
    return out
