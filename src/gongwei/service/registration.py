"""Register, edit and close residents (issue 11 §3): the use cases behind the forms of a village doctor or township
staff — a resident with their household and 个人基本信息表 created in one entry-layer transaction, duplicates
suggested before, edits refused when the record moved on meanwhile, closing and reopening with history.

Every function takes an :class:`~gongwei.service.access.Actor` first; the village, the record and the household
are checked against its scope here (a village doctor: their village; township staff: a village of their township),
writes need the role's permission (``records.add_resident`` / ``records.change_resident``), and every person shown
— a duplicate candidate, a household's members, a record opened for editing — is audited.

A refused value is reported in :class:`Invalid` as field → one Chinese sentence naming the field and the rule
("身份证号：校验位错误，应为 X"); nothing is written. A save from a form loaded at an older version is
:class:`Stale`, worded by the entry layer (who changed what since).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace

import pyarrow as pa
from django.db import connection, transaction
from django.db.models import Max, Q
from django.db.models.functions import Length
from django.utils import timezone

from gongwei.records import entry, roles
from gongwei.records import identity as ids
from gongwei.records import models as m
from gongwei.service import audit
from gongwei.service.access import Actor, check_resident
from gongwei.service.errors import BadRequest, NotFound, Refused, ServiceError
from gongwei.service.residents import Option, units_in_scope
from gongwei.spec import identity as id_rules
from gongwei.spec import records as record_rules
from gongwei.spec import vocab as v
from gongwei.spec.vocab import AccessKind

# the form's fields: the resident's (table residents) and the 个人基本信息表's (table health_records)
RESIDENT_FIELDS = ("name", "sex", "birth_date", "id_type", "id_number", "phone", "address", "residence_type",
                   "usual_resident", "residence_since", "ethnicity")
RECORD_FIELDS = ("contact_name", "contact_phone", "work_unit", "drug_allergy", "past_history", "family_history",
                 "disability")
# entry-layer columns → form fields, where the names differ
_ISSUE_FIELDS = {("households", "address"): "household_address", ("households", "household_no"): "household_no",
                 ("residents", "household"): "household_no", ("residents", "managing_unit"): "village"}
_PHONE = re.compile(r"^[0-9][0-9-]*$")
_FIELD_LABELS = {f.name: str(f.verbose_name) for model in (m.Resident, m.HealthRecord)
                 for f in model._meta.concrete_fields}


class Invalid(BadRequest):
    """Refused values, field → message; nothing was written. ``duplicates`` when the check found any."""

    def __init__(self, errors: dict[str, str], duplicates: Duplicates | None = None):
        self.errors, self.duplicates = errors, duplicates
        super().__init__("；".join(errors.values()))


class Stale(ServiceError):
    """The record changed after the form was loaded; the message says who changed what. Nothing was written.

    ``changed``: field → (value at the form's version, value now), from the change log, so :meth:`merged` can carry
    the other person's changes into the form without losing the user's own."""

    def __init__(self, message: str, changed: dict[str, tuple[object, object]] | None = None):
        super().__init__(message)
        self.changed = changed or {}

    def merged(self, posted: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
        """The posted form with every field the user left as it was but someone else changed set to its value now;
        and the labels of fields both changed (the user's value kept, to be checked)."""
        values = {k: posted.get(k, "") for k in posted}
        both = []
        for name, (before, after) in self.changed.items():
            if name not in values:
                continue
            if values[name] == _form_value(before):
                values[name] = _form_value(after)
            elif values[name] != _form_value(after):
                both.append(_FIELD_LABELS.get(name, name))
        return values, both


def _form_value(x: object) -> str:
    if x is None:
        return ""
    if isinstance(x, bool):
        return "1" if x else "0"
    return str(x)


def _label(model, name: str) -> str:
    return str(model._meta.get_field(name).verbose_name)


def _max_length(model, name: str) -> int | None:
    return model._meta.get_field(name).max_length


# --- who may write ------------------------------------------------------------------------------------------
def may_write(actor: Actor, action: str = "change") -> bool:
    return actor.user is None or actor.user.has_perm(f"records.{action}_resident")


def _check_may_write(actor: Actor, action: str) -> None:
    if not may_write(actor, action):
        what = "新建" if action == "add" else "修改或结案"
        raise Refused(f"您的角色（{v.Role(actor.role).zh if actor.role in v.Role.codes() else '未分配'}）"
                      f"只能查看档案，不能{what}居民档案")


def _village(actor: Actor, code: str) -> m.OrgUnit:
    code = (code or "").strip()
    if not code:
        raise Invalid({"village": "所属村：必填，请选择档案归属的村（社区）"})
    unit = m.OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise NotFound(f"机构代码 {code} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    if unit.level != v.OrgLevel.VILLAGE:
        raise Invalid({"village": f"所属村：{unit.name}不是村（社区）一级的机构，档案须建在村卫生室或社区卫生服务站"})
    return unit


def _resident(actor: Actor, record_no: str) -> m.Resident:
    r = (m.Resident.objects.select_related("managing_unit", "household")
         .filter(record_no=(record_no or "").strip()).first())
    if r is None:
        raise NotFound(f"健康档案 {record_no} 不存在")
    check_resident(actor, r)
    return r


# --- the identity number, as it is typed --------------------------------------------------------------------
@dataclass(frozen=True)
class IdentityCheck:
    number: str  # normalised
    status: str
    status_name: str
    ok: bool  # may be saved
    message: str  # "身份证号：校验位错误，应为 X"; "" when nothing to say
    birth_date: dt.date | None = None  # read from the number
    sex: str = ""  # code read from the number
    sex_name: str = ""


def check_identity(raw: str, id_type: str = v.IdType.RESIDENT_ID, *, today: dt.date | None = None) -> IdentityCheck:
    """The verdict on one typed number (GB 11643 via :mod:`gongwei.records.identity`) with the birth date and sex
    it encodes; a pure check, nothing read or written."""
    id_type = id_type or v.IdType.RESIDENT_ID
    got = ids.check_one(raw, id_type=id_type, today=today)
    status = v.IdStatus(got.status)
    message = ""
    number = got.number
    if status in id_rules.FORM_REFUSED_STATUSES:
        if status == v.IdStatus.MALFORMED:
            message = f"身份证号：格式错误，应为18位（前17位为数字，末位为数字或X）或15位数字，实际为 {len(number)} 位"
        elif status == v.IdStatus.BAD_CHECKSUM:
            message = f"身份证号：校验位错误，应为 {ids.check_digit(number)}（按 GB 11643 由前17位计算）"
        elif status == v.IdStatus.BAD_BIRTH_DATE:
            message = (f"身份证号：第7–14位的出生日期“{number[6:14]}”无效（不存在的日期、晚于今天或超过"
                       f"{id_rules.MAX_AGE_YEARS}岁）")
        elif status == v.IdStatus.BAD_REGION:
            message = f"身份证号：前6位地址码 {number[:6]} 不是有效的行政区划代码（GB/T 2260）"
        else:
            message = "身份证号：疑似虚假号码（全部相同数字、顺序码000或示例号码），请核对证件"
    elif status == v.IdStatus.UPGRADED:
        message = f"身份证号：15位旧号码，将按 GB 11643 升级保存为 {number}"
    elif status == v.IdStatus.NOT_CHECKED:
        message = ""
    sex = got.sex.value if got.sex is not None else ""
    return IdentityCheck(number, status.value, status.zh, status not in id_rules.FORM_REFUSED_STATUSES, message,
                         got.birth_date, sex, v.Sex(sex).zh if sex else "")


# --- duplicates ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    record_no: str
    name: str
    sex: str
    birth: object  # date, or "67岁" for a masked role
    id_number: str
    unit_name: str
    status_name: str


@dataclass
class Duplicates:
    exact: list[Candidate] = field(default_factory=list)  # same identity number, in the actor's scope
    exact_elsewhere: int = 0  # same identity number outside the actor's scope: counted, never shown
    probable: list[Candidate] = field(default_factory=list)  # same name, birth date and village
    messages: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> bool:
        return bool(self.exact or self.exact_elsewhere)

    @property
    def found(self) -> bool:
        return self.blocking or bool(self.probable)


def _candidate(actor: Actor, r: m.Resident) -> Candidate:
    return Candidate(r.record_no, r.name, v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex,
                     actor.shown_birth(r.birth_date), actor.mask_id(r.id_number) or "", r.managing_unit.name,
                     v.ResidentStatus(r.status).zh)


def find_duplicates(actor: Actor, *, id_number: str = "", id_type: str = v.IdType.RESIDENT_ID, name: str = "",
                    birth_date: dt.date | None = None, village: m.OrgUnit | None = None,
                    exclude: int | None = None) -> Duplicates:
    """Records that may be this person: the same identity number anywhere (outside the actor's scope only
    counted: "a record exists in another unit", nothing of it shown), and the same name and birth date in the same
    village. Merged records are left out (their survivor is found). Audited: the candidates shown, and separately
    the records outside the scope whose existence was told."""
    out = Duplicates()
    base = m.Resident.objects.exclude(status=v.ResidentStatus.MERGED).select_related("managing_unit")
    if exclude is not None:
        base = base.exclude(pk=exclude)
    number = ids.normalize(id_number) if (id_type or v.IdType.RESIDENT_ID) == v.IdType.RESIDENT_ID else ""
    exact, elsewhere = [], []
    if number:
        for r in base.filter(id_number=number).order_by("record_no")[:20]:
            (exact if actor.sees_path(r.managing_unit.path) else elsewhere).append(r)
    probable = []
    if name and birth_date and village is not None:
        probable = list(base.filter(name=name.strip(), birth_date=birth_date, managing_unit=village)
                        .exclude(pk__in=[r.pk for r in exact]).order_by("record_no")[:20])
    out.exact = [_candidate(actor, r) for r in exact]
    out.exact_elsewhere = len(elsewhere)
    out.probable = [_candidate(actor, r) for r in probable]
    for c in out.exact:
        out.messages.append(f"已存在同一身份证号的档案：{c.record_no}（{c.unit_name}）")
    if elsewhere:
        out.messages.append("其他机构已有同一身份证号的档案（不在您的权限范围内，不显示其内容）；请勿重复建档，"
                            "居民迁入本村的请联系原管理机构办理迁转")
    if out.probable:
        out.messages.append(f"本村已有 {len(out.probable)} 份姓名、出生日期相同的档案，可能是同一人，请核对")
    scope = village.code if village is not None else ""
    shown = [r.pk for r in exact] + [r.pk for r in probable]
    if shown:
        audit.viewed(actor, AccessKind.DUPLICATES, scope=scope, purpose="建档查重：可能重复的档案", residents=shown)
    if elsewhere:
        audit.viewed(actor, AccessKind.DUPLICATES, scope=scope, purpose="建档查重：范围外同号档案（未显示内容）",
                     residents=[r.pk for r in elsewhere])
    return out


# --- validating a form -----------------------------------------------------------------------------------------
def _text(data: Mapping[str, str], name: str) -> str:
    return (data.get(name) or "").strip()


def _date(errors: dict[str, str], data: Mapping[str, str], name: str, label: str, *, required: bool = False):
    text = _text(data, name)
    if not text:
        if required:
            errors[name] = f"{label}：必填"
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        errors[name] = f"{label}：应为日期（年-月-日，如 1958-04-12），实际为“{text}”"
        return None


@dataclass
class Person:
    """The cleaned values of a resident form, as strings in the exchange layout."""

    resident: dict[str, str]
    record: dict[str, str]
    birth_date: dt.date | None
    identity: IdentityCheck | None


def _validate(data: Mapping[str, str], today: dt.date) -> tuple[Person, dict[str, str]]:
    errors: dict[str, str] = {}
    R, H = m.Resident, m.HealthRecord
    name = _text(data, "name")
    if not name:
        errors["name"] = "姓名：必填"
    elif len(name) > _max_length(R, "name"):
        errors["name"] = f"姓名：不超过 {_max_length(R, 'name')} 个字"
    sex = _text(data, "sex")
    if sex not in v.Sex.codes():
        errors["sex"] = "性别：必填，请选择"
    birth = _date(errors, data, "birth_date", "出生日期", required=True)
    if birth is not None and birth > today:
        errors["birth_date"] = f"出生日期：{birth.isoformat()} 晚于今天"
    elif birth is not None and today.year - birth.year > id_rules.MAX_AGE_YEARS:
        errors["birth_date"] = f"出生日期：{birth.isoformat()} 超过 {id_rules.MAX_AGE_YEARS} 岁，请核对"
    id_type = _text(data, "id_type") or v.IdType.RESIDENT_ID
    if id_type not in v.IdType.codes():
        errors["id_type"] = "证件类型：请从列表中选择"
    raw = _text(data, "id_number")
    check = None
    if raw and id_type == v.IdType.RESIDENT_ID:
        check = check_identity(raw, id_type, today=today)
        if not check.ok:
            errors["id_number"] = check.message
        else:
            if birth is not None and check.birth_date is not None and birth != check.birth_date \
                    and "birth_date" not in errors:
                errors["birth_date"] = (f"出生日期：与身份证号不符，身份证号中为 {check.birth_date.isoformat()}")
            if sex in (v.Sex.MALE, v.Sex.FEMALE) and check.sex and sex != check.sex:
                errors["sex"] = f"性别：与身份证号不符，身份证号第17位表示{check.sex_name}"
    elif raw and len(raw) > _max_length(R, "id_number"):
        errors["id_number"] = f"证件号码：不超过 {_max_length(R, 'id_number')} 位"
    for f, label in (("phone", "本人电话"), ("contact_phone", "联系人电话")):
        text = _text(data, f)
        if text and (not _PHONE.match(text) or len(text) > _max_length(R if f == "phone" else H, f)):
            errors[f] = f"{label}：只能填数字和“-”，不超过 {_max_length(R if f == 'phone' else H, f)} 位"
    residence = _text(data, "residence_type")
    if residence not in v.ResidenceType.codes():
        errors["residence_type"] = "常住类型：必填，请选择户籍或非户籍"
    since = _date(errors, data, "residence_since", "本地居住起始日期")
    if since is not None and since > today:
        errors["residence_since"] = "本地居住起始日期：晚于今天"
    elif since is not None and birth is not None and since < birth:
        errors["residence_since"] = "本地居住起始日期：早于出生日期"
    for model, names in ((R, ("address", "ethnicity")), (H, RECORD_FIELDS)):
        for f in names:
            limit = _max_length(model, f)
            if f not in errors and limit and len(_text(data, f)) > limit:
                errors[f] = f"{_label(model, f)}：不超过 {limit} 个字"
    usual = (data.get("usual_resident") or "") in ("1", "on", "true")
    resident = {"name": name, "sex": sex, "birth_date": birth.isoformat() if birth else "", "id_type": id_type,
                "id_number": raw, "phone": _text(data, "phone"), "address": _text(data, "address"),
                "residence_type": residence, "usual_resident": "1" if usual else "0",
                "residence_since": since.isoformat() if since else "", "ethnicity": _text(data, "ethnicity")}
    record = {f: _text(data, f) for f in RECORD_FIELDS}
    return Person(resident, record, birth, check), errors


def _issues_to_errors(exc: entry.Rejected) -> dict[str, str]:
    out: dict[str, str] = {}
    for issue in exc.issues:
        name = _ISSUE_FIELDS.get((issue.table, issue.field), issue.field)
        out.setdefault(name, issue.message)
    return out


def _arrow(rows: list[dict[str, str]]) -> pa.Table:
    return pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]})


def _next_number(model, field_name: str, prefix: str, digits: int) -> str:
    """The next free number ``prefix`` + a ``digits``-long sequence: one after the largest of that layout."""
    width = len(prefix) + digits
    top = (model.objects.filter(**{f"{field_name}__startswith": prefix}).annotate(_w=Length(field_name))
           .filter(_w=width).aggregate(x=Max(field_name))["x"])
    seq = int(top[len(prefix):]) + 1 if top and top[len(prefix):].isdigit() else 1
    while model.objects.filter(**{field_name: f"{prefix}{seq:0{digits}d}"}).exists():
        seq += 1
    if seq >= 10 ** digits:
        raise BadRequest(f"{prefix} 下的{_label(model, field_name)}已用尽，请联系系统管理员")
    return f"{prefix}{seq:0{digits}d}"


def _lock_village(village: m.OrgUnit) -> None:
    """Serialise number assignment per village: the row lock the entry layer also takes (PostgreSQL); SQLite's
    transaction already holds the one writer lock (transaction_mode IMMEDIATE)."""
    if connection.vendor == "postgresql":
        list(m.OrgUnit.objects.select_for_update(no_key=True).filter(pk=village.pk).values_list("pk", flat=True))


# --- create -----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FormOptions:
    villages: list[Option]
    sexes: list[Option]
    id_types: list[Option]
    residence_types: list[Option]
    close_statuses: list[Option]


def form_options(actor: Actor) -> FormOptions:
    """What the forms offer: the villages of the actor's scope and the vocabularies (spec/vocab.py)."""
    return FormOptions(
        villages=units_in_scope(actor, levels=("village",)),
        sexes=[Option(s.value, s.zh) for s in v.Sex],
        id_types=[Option(s.value, s.zh) for s in v.IdType],
        residence_types=[Option(s.value, s.zh) for s in v.ResidenceType],
        close_statuses=[Option(s.value, s.zh) for s in v.ResidentStatus if s in v.CLOSED_STATUSES])


def new_form(actor: Actor, village: str = "") -> FormOptions:
    """The empty registration form (refused to a role that may not register residents, and for a village outside
    the actor's scope)."""
    _check_may_write(actor, "add")
    if village:
        _village(actor, village)
    return form_options(actor)


@dataclass(frozen=True)
class HouseholdOption:
    household_no: str
    address: str
    members: str  # names of the members in management


def households(actor: Actor, village: str, text: str = "", limit: int = 20) -> list[HouseholdOption]:
    """Households of one village in the actor's scope found by their number or a member's name (the head's name
    is what a doctor knows); audited, since members are named."""
    _check_may_write(actor, "add")
    unit = _village(actor, village)
    text = (text or "").strip()
    qs = m.Household.objects.filter(org_unit=unit)
    if text:
        named = m.Resident.objects.filter(household__org_unit=unit, name__contains=text).values("household_id")
        qs = qs.filter(Q(household_no__contains=text) | Q(pk__in=named))
    found = list(qs.order_by("household_no")[:limit])
    members: dict[int, list[tuple[int, str]]] = {}
    for pk, hh, nm in (m.Resident.objects.filter(household_id__in=[h.pk for h in found])
                       .exclude(status=v.ResidentStatus.MERGED).order_by("record_no")
                       .values_list("pk", "household_id", "name")):
        members.setdefault(hh, []).append((pk, nm))
    shown = [pk for h in found for pk, _ in members.get(h.pk, [])]
    if shown:
        audit.viewed(actor, AccessKind.LIST, scope=unit.code, purpose="建档：查找家庭", residents=shown)
    return [HouseholdOption(h.household_no, h.address, "、".join(nm for _, nm in members.get(h.pk, [])))
            for h in found]


@dataclass(frozen=True)
class Checked:
    identity: IdentityCheck | None
    duplicates: Duplicates
    errors: dict[str, str]


def check(actor: Actor, data: Mapping[str, str], *, record_no: str = "", today: dt.date | None = None) -> Checked:
    """What the form says while it is filled in: the identity number's verdict (and the birth date and sex it
    encodes), the other refused values, and the records that may be the same person. Writes nothing but the audit
    of the candidates shown. ``record_no``: the record being edited (left out of its own duplicates)."""
    today = today or timezone.localdate()
    _check_may_write(actor, "change" if record_no else "add")
    exclude = None
    village = None
    if record_no:
        r = _resident(actor, record_no)
        exclude, village = r.pk, r.managing_unit
    elif _text(data, "village"):
        village = _village(actor, _text(data, "village"))
    person, errors = _validate(data, today)
    dups = find_duplicates(actor, id_number=_text(data, "id_number"), id_type=_text(data, "id_type"),
                           name=_text(data, "name"), birth_date=person.birth_date,
                           village=None if record_no else village, exclude=exclude)
    return Checked(person.identity, dups, errors)


@dataclass(frozen=True)
class Created:
    record_no: str
    household_no: str
    name: str
    message: str


def create(actor: Actor, data: Mapping[str, str], *, today: dt.date | None = None) -> Created:
    """A new resident with their household (new, or one of the same village) and 个人基本信息表, in one entry-layer
    transaction. Refused values → :class:`Invalid` (nothing written); a record with the same identity number blocks
    the creation; a probable duplicate (same name, birth date, village) needs "不是同一人" and a reason, which the
    change log keeps."""
    today = today or timezone.localdate()
    _check_may_write(actor, "add")
    village = _village(actor, _text(data, "village"))
    person, errors = _validate(data, today)
    mode = _text(data, "household_mode") or "new"
    household = None
    if mode == "join":
        number = _text(data, "household_no")
        household = m.Household.objects.filter(household_no=number).first() if number else None
        if not number:
            errors["household_no"] = "家庭编号：加入已有家庭时必填，请先查找并选择家庭"
        elif household is None:
            errors["household_no"] = f"家庭编号：{number} 不存在"
        elif household.org_unit_id != village.pk:
            errors["household_no"] = f"家庭编号：只能加入本村（{village.name}）的家庭，{number} 不属于本村"
    elif mode != "new":
        errors["household_mode"] = "家庭：请选择新建家庭或加入已有家庭"
    dups = find_duplicates(actor, id_number=person.resident["id_number"], id_type=person.resident["id_type"],
                           name=person.resident["name"], birth_date=person.birth_date, village=village)
    if dups.blocking and "id_number" not in errors:
        errors["id_number"] = f"身份证号：{dups.messages[0]}，不能重复建档"
    not_same = (data.get("not_same") or "") in ("1", "on", "true")
    reason = _text(data, "not_same_reason")
    if dups.probable and not (not_same and reason):
        errors["not_same"] = ("可能重复：本村已有姓名、出生日期相同的档案；请打开核对，确不是同一人时勾选"
                              "“不是同一人”并填写原因")
    if len(reason) > 200:
        errors["not_same_reason"] = "不是同一人的原因：不超过 200 个字"
    if errors:
        raise Invalid(errors, dups)
    user = actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None
    doctor = m.Staff.objects.filter(user=user, org_unit=village).values_list("code", flat=True).first() \
        if user is not None else None
    with transaction.atomic():
        _lock_village(village)
        record_no = _next_number(m.Resident, "record_no", village.code, record_rules.RECORD_NO_SEQUENCE_DIGITS)
        batch: dict[str, pa.Table] = {}
        if household is None:
            household_no = _next_number(m.Household, "household_no", village.code + record_rules.HOUSEHOLD_NO_LETTER,
                                        record_rules.HOUSEHOLD_NO_SEQUENCE_DIGITS)
            batch["households"] = _arrow([{"household_no": household_no, "org_unit": village.code,
                                           "address": _text(data, "household_address") or person.resident["address"]}])
        else:
            household_no = household.household_no
        batch["residents"] = _arrow([{**person.resident, "record_no": record_no, "household": household_no,
                                      "managing_unit": village.code, "status": v.ResidentStatus.ACTIVE,
                                      "responsible_doctor": doctor or ""}])
        batch["health_records"] = _arrow([{**person.record, "resident": record_no, "created_on": today.isoformat(),
                                           "created_by_unit": village.code, "is_electronic": "1"}])
        who = getattr(user, "username", "") or actor.label
        try:
            entry.submit(batch, actor=who, actor_user=user, kind="entry", source=f"新建档案 {record_no}")
        except entry.Rejected as exc:
            raise Invalid(_issues_to_errors(exc), dups) from None
        resident = m.Resident.objects.get(record_no=record_no)
        note = ""
        if dups.probable:
            note = (f"不是同一人：{reason}（核对过的可能重复档案："
                    f"{'、'.join(c.record_no for c in dups.probable)}）")
        entry.record_change(resident, action=v.ChangeAction.CREATE, actor_user=user, actor=who,
                            after={"record_no": record_no, "household": household_no, "managing_unit": village.code},
                            reason=note or "新建档案")
    text = f"已新建 {person.resident['name']} 的健康档案 {record_no}（家庭 {household_no}）"
    return Created(record_no, household_no, person.resident["name"], text)


# --- edit -------------------------------------------------------------------------------------------------------
@dataclass
class EditForm:
    record_no: str
    name: str
    unit_code: str
    village_name: str
    household_no: str
    status: str
    status_name: str
    values: dict[str, str]
    resident_version: int
    record_version: int  # 0: no 个人基本信息表 yet (saving creates it)
    options: FormOptions


def _values(r: m.Resident, hr: m.HealthRecord | None) -> dict[str, str]:
    row = entry.instance_row(r)
    out = {f: row.get(f, "") for f in RESIDENT_FIELDS}
    out["id_number"] = r.id_number or r.id_number_raw
    out["usual_resident"] = "1" if r.usual_resident else "0"
    for f in RECORD_FIELDS:
        out[f] = getattr(hr, f) if hr is not None else ""
    return out


def edit_form(actor: Actor, record_no: str) -> EditForm:
    """The record's current values and versions, for the edit form; audited (the form shows the identifiers)."""
    _check_may_write(actor, "change")
    r = _resident(actor, record_no)
    hr = m.HealthRecord.objects.filter(resident=r).first()
    audit.viewed(actor, AccessKind.RECORD, scope=r.managing_unit.code, purpose="修改档案", residents=[r.pk])
    return EditForm(r.record_no, r.name, r.managing_unit.code, r.managing_unit.name, r.household.household_no if r.household else "",
                    r.status, v.ResidentStatus(r.status).zh, _values(r, hr), r.version, hr.version if hr else 0,
                    form_options(actor))


def _version(data: Mapping[str, str], name: str) -> int:
    try:
        return int(_text(data, name))
    except ValueError:
        raise BadRequest("表单缺少版本号，请重新打开修改页面") from None


def update(actor: Actor, record_no: str, data: Mapping[str, str], *, today: dt.date | None = None) -> str:
    """Save an edited resident and 个人基本信息表 in one transaction, refused (:class:`Stale`) if either changed
    since the form's versions (``resident_version``, ``record_version``) — the message says who changed what."""
    today = today or timezone.localdate()
    _check_may_write(actor, "change")
    r = _resident(actor, record_no)
    if r.status == v.ResidentStatus.MERGED:
        raise Refused(f"档案 {r.record_no} 已合并至 {r.merged_into.record_no if r.merged_into else '其他档案'}，"
                      "请修改合并后的档案")
    rv, hv = _version(data, "resident_version"), _version(data, "record_version")
    hr = m.HealthRecord.objects.filter(resident=r).first()
    try:
        entry.check_version(m.Resident, r.pk, rv)
        if hr is not None:
            entry.check_version(m.HealthRecord, hr.pk, hv)
    except entry.StaleVersion as exc:
        raise _stale(actor, exc) from None
    person, errors = _validate(data, today)
    dups = find_duplicates(actor, id_number=person.resident["id_number"], id_type=person.resident["id_type"],
                           exclude=r.pk)
    if dups.blocking and "id_number" not in errors:
        errors["id_number"] = f"身份证号：{dups.messages[0]}"
    if errors:
        raise Invalid(errors, dups)
    row = {**entry.instance_row(r), **person.resident}
    record_row = {**(entry.instance_row(hr) if hr is not None else
                     {"resident": r.record_no, "created_on": today.isoformat(),
                      "created_by_unit": r.managing_unit.code, "is_electronic": "1"}), **person.record}
    expected = {"residents": {r.pk: rv}}
    if hr is not None:
        expected["health_records"] = {hr.pk: hv}
    user = actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None
    who = getattr(user, "username", "") or actor.label
    reason = _text(data, "edit_reason")[:200]
    try:
        result = entry.submit({"residents": _arrow([row]), "health_records": _arrow([record_row])}, actor=who,
                              actor_user=user, kind="entry", source=f"修改档案 {r.record_no}" +
                              (f"：{reason}" if reason else ""), expected_versions=expected)
    except entry.StaleVersion as exc:
        raise _stale(actor, exc) from None
    except entry.Rejected as exc:
        raise Invalid(_issues_to_errors(exc), dups) from None
    if not result.written:
        return f"档案 {r.record_no} 没有改动"
    return f"已保存 {person.resident['name']} 的档案 {r.record_no}"


# the operator at the command line sees identifiers in full (access.operator); describe() asks only these two
_OPERATOR = SimpleNamespace(is_authenticated=True, is_superuser=True)


def _stale(actor: Actor, exc: entry.StaleVersion) -> Stale:
    """The entry layer's account of what changed since the form's version, masked as the actor sees it."""
    changed: dict[str, list[object]] = {}
    for row in exc.changes:  # oldest first
        for name, after in (row.after or {}).items():
            if name in changed:
                changed[name][1] = after
            else:
                changed[name] = [(row.before or {}).get(name), after]
    return Stale(exc.describe(actor.user if actor.user is not None else _OPERATOR),
                 {k: (b, a) for k, (b, a) in changed.items()})


# --- close and reopen -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HistoryLine:
    at: dt.datetime
    who: str
    action: str
    changes: str
    reason: str


@dataclass
class CloseForm:
    record_no: str
    name: str
    unit_code: str
    status: str
    status_name: str
    status_date: dt.date | None
    status_reason: str
    version: int
    closed: bool  # closed for death, moving out, loss or refusal: may be reopened
    merged_into: str
    statuses: list[Option]
    history: list[HistoryLine]


def _history(actor: Actor, r: m.Resident) -> list[HistoryLine]:
    """Every logged change of the resident and their 个人基本信息表, newest first, identifiers masked per role."""
    labels = {}
    for model in (m.Resident, m.HealthRecord):
        for f in model._meta.concrete_fields:
            labels[f.name] = labels[f.attname] = str(f.verbose_name)
    rows = (m.ChangeLog.objects.filter(model__in=[m.Resident._meta.label, m.HealthRecord._meta.label],
                                       object_pk=str(r.pk)).select_related("actor").order_by("-at", "-id")[:100])
    out = []
    for row in rows:
        before, after = row.before or {}, row.after or {}
        if not actor.unmasked:
            before, after = roles.mask_mapping(before, None) or {}, roles.mask_mapping(after, None) or {}
        parts = [f"{labels.get(k, k)}：{_shown(before.get(k))} → {_shown(after.get(k))}"
                 for k in dict.fromkeys([*before, *after])]
        action = v.ChangeAction(row.action).zh if row.action in v.ChangeAction.codes() else row.action
        out.append(HistoryLine(row.at, row.actor_label or (row.actor.username if row.actor_id else ""), action,
                               "；".join(parts), row.reason))
    return out


def _shown(x: object) -> str:
    if x in (None, ""):
        return "（空）"
    if x in v.ResidentStatus.codes():
        return v.ResidentStatus(x).zh
    return str(x)


def close_form(actor: Actor, record_no: str) -> CloseForm:
    """The closing form of one record with its history; audited."""
    _check_may_write(actor, "change")
    r = _resident(actor, record_no)
    audit.viewed(actor, AccessKind.RECORD, scope=r.managing_unit.code, purpose="结案或恢复档案", residents=[r.pk])
    return CloseForm(r.record_no, r.name, r.managing_unit.code, r.status, v.ResidentStatus(r.status).zh, r.status_date, r.status_reason,
                     r.version, r.status in v.CLOSED_STATUSES,
                     r.merged_into.record_no if r.merged_into_id else "", form_options(actor).close_statuses,
                     _history(actor, r))


def _resident_at_version(actor: Actor, record_no: str, data: Mapping[str, str]) -> tuple[m.Resident, int]:
    """The resident in scope and the version its form was opened at, refused at once when that is stale."""
    r = _resident(actor, record_no)
    version = _version(data, "version")
    try:
        entry.check_version(m.Resident, r.pk, version)
    except entry.StaleVersion as exc:
        raise _stale(actor, exc) from None
    return r, version


def close(actor: Actor, record_no: str, data: Mapping[str, str], *, today: dt.date | None = None) -> str:
    """Close a record in management for death, moving out, loss to follow-up or refusal (spec/vocab.py) on a date
    with a reason, through :func:`gongwei.records.entry.close_resident`; nothing is deleted."""
    today = today or timezone.localdate()
    _check_may_write(actor, "change")
    r, version = _resident_at_version(actor, record_no, data)
    if r.status != v.ResidentStatus.ACTIVE:
        raise Invalid({"status": f"结案原因：档案状态为“{v.ResidentStatus(r.status).zh}”，只有在管档案可以结案"})
    errors: dict[str, str] = {}
    status = _text(data, "status")
    if status not in {s.value for s in v.CLOSED_STATUSES}:
        errors["status"] = "结案原因：请选择" + "、".join(s.zh for s in v.ResidentStatus if s in v.CLOSED_STATUSES)
    on = _date(errors, data, "date", "结案日期", required=True)
    if on is not None and on > today:
        errors["date"] = f"结案日期：{on.isoformat()} 晚于今天"
    elif on is not None and on < r.birth_date:
        errors["date"] = f"结案日期：{on.isoformat()} 早于出生日期"
    reason = _text(data, "reason")
    if not reason:
        errors["reason"] = "说明：必填，请写明结案的依据（如死亡证明、迁往何处、失访经过）"
    elif len(reason) > _max_length(m.Resident, "status_reason"):
        errors["reason"] = f"说明：不超过 {_max_length(m.Resident, 'status_reason')} 个字"
    if errors:
        raise Invalid(errors)
    r.version = version
    try:
        entry.close_resident(r, status, on, reason, actor_user=_user(actor))
    except entry.StaleVersion as exc:
        raise _stale(actor, exc) from None
    return f"档案 {r.record_no} 已结案：{v.ResidentStatus(status).zh}（{on.isoformat()}）"


def reopen(actor: Actor, record_no: str, data: Mapping[str, str]) -> str:
    """Undo a closing: the record is in management again, the closing stays in the history."""
    _check_may_write(actor, "change")
    r, version = _resident_at_version(actor, record_no, data)
    if r.status == v.ResidentStatus.MERGED:
        raise Invalid({"reopen_reason": "恢复：已合并的档案须在重复档案审核中撤销合并，不能在此恢复"})
    if r.status not in v.CLOSED_STATUSES:
        raise Invalid({"reopen_reason": "恢复：档案在管，无需恢复"})
    reason = _text(data, "reopen_reason")
    if not reason:
        raise Invalid({"reopen_reason": "恢复原因：必填（如结案登记有误、居民迁回）"})
    r.version = version
    try:
        entry.reopen_resident(r, reason[:500], actor_user=_user(actor))
    except entry.StaleVersion as exc:
        raise _stale(actor, exc) from None
    return f"档案 {r.record_no} 已恢复为在管"


def _user(actor: Actor):
    return actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None
