"""Use cases of one resident: find a resident, and the record's home page (健康档案首页).

Both read the system of record (the database), scoped to the actor's subtree by the managing unit's
materialised path, masked per role and audited (SEARCH with the people on the page; RECORD for the person).

Pinyin search: names are matched by their pinyin initials (``zsf`` → 张三丰) or full pinyin (``zhangsanf``)
through a small search table, ``gongwei_name_pinyin`` (resident id, the name it was computed from, initials,
full pinyin — one row per reading of the surname, 曾 ceng/zeng; indexed on both), kept by this module: before a pinyin search, the residents in the actor's scope
whose name is not in the table (new, or renamed since) get their pinyin computed once and upserted. A row whose
name no longer matches the resident's is never used, so the table cannot answer with a stale name. It is kept
outside the models because it is derived data that can be rebuilt at any time (dropping it costs one slow
search). The nightly refresh brings the whole table up to date (:func:`sync_all_pinyin`); a process remembers when
it last synced a scope, and its later searches there compute only the residents written since (less
:data:`SYNC_MARGIN` for transactions still open then), found by the index on ``updated_at`` — the whole scope is
read once per process, not on every search (issue 11: at a 200,000-resident county that read was 0.6 s).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cache

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from gongwei.records import models as m
from gongwei.records.searchindex import ends_with, name_contains
from gongwei.service import audit, snapshots
from gongwei.service.access import Actor, check_resident
from gongwei.service.analysis import stored_worklist
from gongwei.service.errors import BadRequest, NotFound, ServiceError
from gongwei.service.memo import ProcessMemo
from gongwei.spec import vocab as v
from gongwei.spec.vocab import AccessKind

PAGE_SIZE = 20
MIN_TAIL_DIGITS = 4  # "last 4+ digits of the identity number"
TIMELINE_DAYS = 365
PINYIN_TABLE = "gongwei_name_pinyin"

_ID_FULL = re.compile(r"^\d{17}[\dX]$|^\d{15}$")
_ID_TAIL = re.compile(r"^\d{3,}X$")
_LATIN = re.compile(r"^[a-z]+$")


# --- search ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hit:
    record_no: str
    name: str
    sex: str
    birth: object  # date for unmasked roles, "67岁" otherwise
    id_number: str
    phone: str
    unit_code: str
    unit_name: str
    status: str
    status_name: str
    programs: tuple[str, ...]  # Chinese names of current enrolments


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass
class SearchResult:
    query: str
    how: str  # what the query was read as, in Chinese ("姓名", "拼音首字母", "身份证号后几位"...)
    village: str
    program: str
    status: str
    page: int
    pages: int
    total: int
    size: int
    hits: list[Hit]
    villages: list[Option]
    programs: list[Option] = field(default_factory=lambda: [Option(p.value, p.zh) for p in v.Program])
    statuses: list[Option] = field(default_factory=lambda: [Option(s.value, s.zh) for s in v.ResidentStatus])


def scoped_residents(actor: Actor):
    """Residents whose managing unit is in the actor's subtree (the one scope filter of this module)."""
    qs = m.Resident.objects.all()
    if actor.scope.everything:
        return qs
    if actor.scope.nothing:
        return qs.none()
    return qs.filter(managing_unit__path__startswith=actor.scope.path)


def units_in_scope(actor: Actor, levels=("township", "village")) -> list[Option]:
    qs = m.OrgUnit.objects.filter(level__in=levels, is_active=True)
    if not actor.scope.everything:
        qs = qs.filter(path__startswith=actor.scope.path or "\0")
    return [Option(u.code, u.name) for u in qs.order_by("path", "code").only("code", "name")]


def read_query(text: str) -> tuple[str, Q | None, str]:
    """What a search text means: (normalised text, filter, how it was read). Latin letters → pinyin (the filter
    is built by :func:`_pinyin_filter`, which needs the scope), digits → identity number / phone / record
    number, anything else → name."""
    q = "".join((text or "").split())
    if not q:
        return "", None, ""
    upper = q.upper()
    if _ID_FULL.match(upper):
        from gongwei.records.identity import normalize

        number = normalize(upper)
        return upper, Q(id_number=number) | Q(id_number_raw=q) | Q(record_no=q), "身份证号"
    if q.isdigit():
        if len(q) >= MIN_TAIL_DIGITS:  # a number ends with itself: the exact matches are among these
            return q, ends_with(q), "身份证号、电话或档案编号（含后几位）"
        return q, Q(record_no=q) | Q(phone=q), "档案编号或电话"
    if _ID_TAIL.match(upper) and len(upper) >= MIN_TAIL_DIGITS:
        return upper, ends_with(upper, ("id_number",)), "身份证号后几位"
    lower = q.lower()
    if _LATIN.match(lower):
        return lower, None, "拼音"
    if len(q) > 50:
        raise BadRequest("查询内容过长：姓名不超过50个字")
    return q, name_contains(q), "姓名"


@cache
def _syllable(ch: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return (lazy_pinyin(ch, style=Style.NORMAL, errors=lambda x: x.lower()) or [ch.lower()])[0]


@cache
def _readings(ch: str) -> tuple[str, ...]:
    """Every reading of a character, the most common first: a surname often takes a rarer one (曾 zeng, 单 shan)."""
    from pypinyin import Style, pinyin

    found = pinyin(ch, style=Style.NORMAL, heteronym=True, errors=lambda x: [x.lower()])
    first = _syllable(ch)
    return tuple(dict.fromkeys([first, *(r for r in (found[0] if found else []) if r.isascii() and r)]))


def pinyin_of(name: str) -> tuple[str, str]:
    """(initials, full pinyin) of a name by each character's most common reading: 张三丰 → ("zsf", "zhangsanfeng");
    characters memoised, so a name costs a few dictionary look-ups."""
    return pinyin_variants(name)[0]


def pinyin_variants(name: str) -> list[tuple[str, str]]:
    """(initials, full pinyin) for each reading of the surname (first character), the most common first:
    曾小明 → [("cxm", "cengxiaoming"), ("zxm", "zengxiaoming")]."""
    chars = [ch for ch in name if not ch.isspace()]
    if not chars:
        return [("", "")]
    rest = [s for s in (_syllable(ch) for ch in chars[1:]) if s]
    out = []
    for first in _readings(chars[0])[:4]:
        syllables = [first, *rest]
        out.append(("".join(x[0] for x in syllables).lower(), "".join(syllables).lower()))
    return list(dict.fromkeys(out))


def sync_pinyin(residents) -> int:
    """Compute and store the pinyin of the residents in ``residents`` (a queryset) whose name is not yet in the
    search table; returns how many residents were written. Each name is computed once, not on every search."""
    # NOT EXISTS per resident (the unique index leads with resident_id): "pk NOT IN (the fresh ids)" was planned
    # as a hashed subplan, which builds the whole table's join the moment one candidate row is found — seconds on
    # a city, on the search of whoever first met a resident renamed or saved in the last minutes (issue 11)
    fresh = m.NamePinyin.objects.filter(resident_id=OuterRef("pk"), name=OuterRef("name"))
    stale = list(residents.filter(~Exists(fresh)).values_list("pk", "name"))
    if not stale:
        return 0
    rows = [(pk, name, initials, full) for pk, name in stale for initials, full in pinyin_variants(name)]
    ids = [pk for pk, _ in stale]
    with transaction.atomic(), connection.cursor() as cur:
        # rows of a former name (the search table is derived from the names: no record is lost), in one statement.
        # One per 900 ids made the nightly's first sync of a 2 M city scan the growing table 2,282 times (no
        # statistics yet, so no index scan): 2.9 billion rows read, a quarter of an hour
        m.NamePinyin.objects.filter(resident_id__among=ids).delete()
        _insert_pinyin(cur, rows)
    return len(stale)


_PINYIN_COLUMNS = "resident_id, name, initials, full_pinyin"


def _insert_pinyin(cur, rows: list[tuple[int, str, str, str]]) -> None:
    """Insert search rows; two searches racing compute the same rows, and the second one's are skipped (ON
    CONFLICT: SQLite ≥ 3.24, PostgreSQL). On PostgreSQL the rows are copied into a temporary table first and
    inserted from it in one statement: a statement per row took most of the nightly's first sync of a city
    (2.7 M rows; docs/benchmarks.md §9.7)."""
    insert = f"INSERT INTO {PINYIN_TABLE} ({_PINYIN_COLUMNS}) "
    skip = " ON CONFLICT (resident_id, full_pinyin) DO NOTHING"
    if connection.vendor != "postgresql":
        cur.executemany(insert + "VALUES (%s, %s, %s, %s)" + skip, rows)
        return
    # private to this connection; made again after a rollback undid its creation
    cur.execute("CREATE TEMP TABLE IF NOT EXISTS gongwei_pinyin_in (resident_id bigint, name text, initials text, "
                "full_pinyin text)")
    with cur.cursor.copy(f"COPY gongwei_pinyin_in ({_PINYIN_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    cur.execute(insert + f"SELECT {_PINYIN_COLUMNS} FROM gongwei_pinyin_in" + skip)
    cur.execute("TRUNCATE gongwei_pinyin_in")  # empty for the next call, whether or not this transaction commits


SYNC_MARGIN = dt.timedelta(minutes=15)
_SYNCED: OrderedDict[str, dt.datetime] = OrderedDict()  # scope and filters (their SQL) → when its last sync began
_SYNCED_KEEP = 512
_SYNCED_LOCK = threading.Lock()  # a worker's threads share it


def _sync_for_search(qs) -> int:
    """Bring the search table up to date for ``qs`` before a pinyin search: all of it the first time this process
    searches that scope, afterwards only the residents written since the last sync began."""
    key = str(qs.query)
    began = timezone.now()
    with _SYNCED_LOCK:
        since = _SYNCED.get(key)
    written = sync_pinyin(qs if since is None else qs.filter(updated_at__gte=since - SYNC_MARGIN))
    with _SYNCED_LOCK:
        _SYNCED[key] = began
        _SYNCED.move_to_end(key)
        while len(_SYNCED) > _SYNCED_KEEP:
            _SYNCED.popitem(last=False)
    return written


def sync_all_pinyin(chunk: int = 100_000) -> int:
    """The nightly step: every resident's pinyin in the search table, by id ranges so memory stays bounded."""
    top = m.Resident.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    written = 0
    for low in range(0, top + 1, chunk):
        written += sync_pinyin(m.Resident.objects.filter(pk__gte=low, pk__lt=low + chunk))
    if written:
        from gongwei.records.bulk import analyze

        analyze(m.NamePinyin)
    return written


def _pinyin_filter(text: str) -> Q:
    # a prefix as a range, which a plain b-tree index serves on both databases (LIKE needs pattern ops on
    # PostgreSQL and NOCASE columns on SQLite); for strings of a–z the range is exactly "starts with"
    low, high = text, text + "z" * 300
    # a row of the search table for this resident under the current name (fresh), whose reading starts with the
    # text: correlated to the resident searched, so the name is compared on the row already read, not by a second
    # join of every candidate back to the residents table (a county's "dl" matched 9,500 rows of the city)
    return Q(Exists(m.NamePinyin.objects.filter(resident_id=OuterRef("pk"), name=OuterRef("name")).filter(
        Q(initials__gte=low, initials__lte=high) | Q(full_pinyin__gte=low, full_pinyin__lte=high))))


def search(actor: Actor, text: str = "", *, village: str = "", program: str = "", status: str = "",
           page: int = 1, size: int = PAGE_SIZE) -> SearchResult:
    """Residents in the actor's scope matching ``text`` (name, pinyin or initials, identity number in full or its
    last digits, phone, record number) and the filters; one page, masked, audited with the people shown."""
    if page < 1:
        raise BadRequest("页码应为正整数")
    if program and program not in v.Program.codes():
        raise BadRequest(f"项目“{program}”无效")
    if status and status not in v.ResidentStatus.codes():
        raise BadRequest(f"档案状态“{status}”无效")
    qs = scoped_residents(actor)
    if village:
        unit = m.OrgUnit.objects.filter(code=village).first()
        if unit is None:
            raise NotFound(f"机构代码 {village} 不存在")
        actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
        qs = qs.filter(managing_unit__path__startswith=unit.path)
    # a merged record is a duplicate folded into another: shown only when asked for
    qs = qs.filter(status=status) if status else qs.exclude(status=v.ResidentStatus.MERGED)
    if program:
        qs = qs.filter(Exists(m.Enrollment.objects.filter(resident=OuterRef("pk"), program=program,
                                                          end_date__isnull=True)))
    q, found, how = read_query(text)
    if how == "拼音":
        _sync_for_search(qs)  # only the rows already narrowed by scope and filters
        found = _pinyin_filter(q)
    if found is not None:
        qs = qs.filter(found)
    ordered = qs.select_related("managing_unit").order_by("record_no")
    if page == 1:
        # a search that finds no more than a page needs no count: most searches look for one person, and counting
        # the matches of a name over a county's records costs as much as finding them
        rows = list(ordered[:size + 1])
        total = len(rows) if len(rows) <= size else qs.count()
    else:
        total = qs.count()
        page = min(page, max(1, -(-total // size)))
        rows = list(ordered[(page - 1) * size: page * size])
    rows = rows[:size]
    pages = max(1, -(-total // size))
    current = _current_programs([r.pk for r in rows])
    hits = [Hit(r.record_no, r.name, v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex,
                actor.shown_birth(r.birth_date), actor.mask_id(r.id_number) or "", actor.mask_phone(r.phone) or "",
                r.managing_unit.code, r.managing_unit.name, r.status, v.ResidentStatus(r.status).zh,
                tuple(current.get(r.pk, ()))) for r in rows]
    filters = "，".join(x for x in (how and f"按{how}", village and f"机构 {village}",
                                    program and f"项目 {program}", status and f"状态 {status}") if x)
    audit.viewed(actor, AccessKind.SEARCH, scope=village or _actor_unit_code(actor),
                 purpose=f"查找居民：{filters or '全部'}", residents=[r.pk for r in rows])
    return SearchResult(q, how, village, program, status, page, pages, total, size, hits, units_in_scope(actor))


def _actor_unit_code(actor: Actor) -> str:
    if not actor.scope.path:
        return ""
    unit_id = int(actor.scope.path.strip("/").split("/")[-1])
    return m.OrgUnit.objects.filter(pk=unit_id).values_list("code", flat=True).first() or ""


def _current_programs(ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for rid, prog in (m.Enrollment.objects.filter(resident_id__in=ids, end_date__isnull=True)
                      .order_by("program").values_list("resident_id", "program")):
        out.setdefault(rid, []).append(v.Program(prog).zh if prog in v.Program.codes() else prog)
    return out


# --- the record's home page -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Service:
    date: dt.date
    kind: str  # the form's Chinese name
    unit: str
    provider: str
    summary: str
    program: str = ""  # engine program code where the encounter belongs to one
    classification: str = ""
    tone: str = ""  # met | far: a classification that is good news or needs action


@dataclass(frozen=True)
class ProgramState:
    program: str
    name: str
    enrollment_no: str
    start_date: dt.date
    end_date: dt.date | None
    end_reason: str
    last_date: dt.date | None
    last_summary: str
    classification: str
    next_visit_date: dt.date | None

    @property
    def tone(self) -> str:
        return _tone(self.classification)


@dataclass(frozen=True)
class Due:
    program: str
    service: str
    due_date: dt.date
    status: str  # overdue | due_soon | upcoming
    status_name: str
    days_overdue: int
    source: str = "engine"  # engine | recorded (the next-visit date written on the last follow-up) | live
    days_left: int = 0
    key: str = ""  # ScheduledService.key, for live rows
    gap: str = ""


@dataclass(frozen=True)
class Member:
    record_no: str
    name: str
    sex: str
    birth: object
    status_name: str


@dataclass
class RecordPage:
    record_no: str
    name: str
    sex: str
    birth: object
    age: int
    id_number: str
    id_status: str
    phone: str
    address: str
    ethnicity: str
    residence: str
    unit_code: str
    unit_name: str
    unit_path: str
    doctor: str
    status: str
    status_name: str
    status_date: dt.date | None
    status_reason: str
    merged_into: str
    household_no: str
    household_address: str
    members: list[Member]
    record: dict[str, object]  # 个人基本信息表 fields shown (created_on, contact...)
    programs: list[ProgramState]
    timeline: list[Service]
    due: list[Due]
    due_basis: str  # where the due list came from (snapshot and its time), or why it is missing
    due_ms: float | None
    as_of: dt.date


DUE_STATUS = {"overdue": "已逾期", "due_soon": "一周内到期", "upcoming": "待完成"}


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def record(actor: Actor, record_no: str, *, today: dt.date | None = None, with_due: bool = True) -> RecordPage:
    """The record's home page for one person: identity, household, status, programs with their current state,
    the last year's services and what is due. Refused outside the actor's scope; audited (RECORD)."""
    today = today or dt.date.today()
    r = (m.Resident.objects.select_related("managing_unit", "household", "responsible_doctor", "merged_into")
         .filter(record_no=(record_no or "").strip()).first())
    if r is None:
        raise NotFound(f"健康档案 {record_no} 不存在")
    check_resident(actor, r)
    hr = m.HealthRecord.objects.filter(resident=r).select_related("created_by_unit").first()
    members = []
    if r.household_id:
        members = list(scoped_residents(actor).filter(household_id=r.household_id).exclude(pk=r.pk)
                       .order_by("record_no"))
    encounters = _encounters(r)
    enrollments = list(m.Enrollment.objects.filter(resident=r).order_by("-end_date", "program", "start_date"))
    since = today - dt.timedelta(days=TIMELINE_DAYS)
    timeline = [e.service for e in sorted((e for e in encounters if e.date >= since), key=lambda e: e.date,
                                          reverse=True)]
    programs = _program_states(enrollments, encounters)
    live, live_programs = _live_due(r, enrollments, today)
    due, basis, ms = _due(r, today) if with_due else ([], "", None)
    if ms is None:
        due = _recorded_due(programs, today)
    # the chronic programs' due dates come from this person's own rows (saved a second ago included), by the
    # engine's rules (engine.person); the other programs' from the snapshot's worklist, or the recorded dates
    due = sorted([*live, *(d for d in due if d.program not in live_programs)], key=lambda d: (d.due_date, d.service))
    if live_programs:
        names = "、".join(v.Program(p).zh for p in sorted(live_programs))
        basis = (f"{basis}。" if basis else "") + f"{names}的待办按本人档案实时计算（含刚保存的随访）"
    page = RecordPage(
        record_no=r.record_no, name=r.name, sex=v.Sex(r.sex).zh if r.sex in v.Sex.codes() else r.sex,
        birth=actor.shown_birth(r.birth_date), age=_age(r.birth_date, today),
        id_number=actor.mask_id(r.id_number) or actor.mask_id(r.id_number_raw) or "",
        id_status=v.IdStatus(r.id_status).zh if r.id_status in v.IdStatus.codes() else r.id_status,
        phone=actor.mask_phone(r.phone) or "", address=r.address, ethnicity=r.ethnicity,
        residence=(v.ResidenceType(r.residence_type).zh if r.residence_type in v.ResidenceType.codes() else "")
        + ("" if r.usual_resident else "（非常住）"),
        unit_code=r.managing_unit.code, unit_name=r.managing_unit.name, unit_path=r.managing_unit.path,
        doctor=r.responsible_doctor.name if r.responsible_doctor else "",
        status=r.status, status_name=v.ResidentStatus(r.status).zh, status_date=r.status_date,
        status_reason=r.status_reason, merged_into=r.merged_into.record_no if r.merged_into else "",
        household_no=r.household.household_no if r.household else "",
        household_address=r.household.address if r.household else "",
        members=[Member(x.record_no, x.name, v.Sex(x.sex).zh if x.sex in v.Sex.codes() else x.sex,
                        actor.shown_birth(x.birth_date), v.ResidentStatus(x.status).zh) for x in members],
        record=_record_fields(actor, hr), programs=programs, timeline=timeline,
        due=due, due_basis=basis, due_ms=ms, as_of=today)
    own = actor.resident_id is not None  # the resident themselves (ADR 021)
    with transaction.atomic():  # both views in one commit: a page is one access, and a commit waits for the disk
        audit.viewed(actor, AccessKind.OWN_RECORD if own else AccessKind.RECORD, scope=r.managing_unit.code,
                     purpose="居民本人查看健康档案" if own else "健康档案首页", residents=[r.pk])
        if members:
            audit.viewed(actor, AccessKind.LIST, scope=r.managing_unit.code, purpose=f"家庭成员（{r.record_no}）",
                         residents=[x.pk for x in members])
    return page


def _record_fields(actor: Actor, hr) -> dict[str, object]:
    if hr is None:
        return {}
    return {"建档日期": hr.created_on, "建档机构": hr.created_by_unit.name,
            "联系人": hr.contact_name, "联系人电话": actor.mask_phone(hr.contact_phone) or "",
            "药物过敏史": hr.drug_allergy, "既往史": hr.past_history, "家族史": hr.family_history}


def _choice(model, field_name: str, value) -> str:
    if value in (None, ""):
        return ""
    return str(dict(model._meta.get_field(field_name).choices or ()).get(value, value))


def _bp(s, d) -> str:
    return f"血压 {s}/{d} mmHg" if s and d else ""


def _summary(e) -> tuple[str, str, str]:
    """(summary, classification, program) of one encounter, in the form's own words."""
    parts: list[str] = []
    cls = ""
    prog = ""
    if isinstance(e, m.ChronicFollowUp):
        prog = e.program
        parts += [_bp(e.sbp, e.dbp), f"空腹血糖 {e.fasting_glucose} mmol/L" if e.fasting_glucose else "",
                  f"糖化血红蛋白 {e.hba1c}%" if e.hba1c else ""]
        cls = _choice(m.ChronicFollowUp, "classification", e.classification)
    elif isinstance(e, m.SmiFollowUp):
        prog = v.Program.SMI
        parts += [f"危险性 {e.risk_grade} 级" if e.risk_grade is not None else "",
                  "" if e.living_at_home else "不在家居住"]
        cls = _choice(m.SmiFollowUp, "classification", e.classification)
    elif isinstance(e, m.TbFollowUp):
        prog = v.Program.TB
        parts += [_choice(m.TbFollowUp, "visit_type", e.visit_type), _choice(m.TbFollowUp, "phase", e.phase),
                  f"服药 {e.doses_taken}/{e.doses_due} 次" if e.doses_due else ""]
    elif isinstance(e, m.HealthExamination):
        prog = v.Program.ELDERLY if e.trigger == "elderly" else ""
        parts += [_choice(m.HealthExamination, "trigger", e.trigger),
                  _bp(e.sbp_left, e.dbp_left) and f"左臂{_bp(e.sbp_left, e.dbp_left)}",
                  _bp(e.sbp_right, e.dbp_right) and f"右臂{_bp(e.sbp_right, e.dbp_right)}",
                  f"空腹血糖 {e.fasting_glucose} mmol/L" if e.fasting_glucose else ""]
        cls = _choice(m.HealthExamination, "health_evaluation", e.health_evaluation)
    elif isinstance(e, m.ChildCheck):
        prog = v.Program.CHILD
        parts += [f"{e.age_months}月龄", f"体重 {e.weight} kg" if e.weight else "",
                  f"身高 {e.height} cm" if e.height else ""]
    elif isinstance(e, m.NewbornVisit):
        prog = v.Program.CHILD
        parts += [f"体重 {e.weight} kg" if e.weight else "", "黄疸" if e.jaundice else ""]
    elif isinstance(e, m.PrenatalVisit):
        prog = v.Program.PREGNANCY
        parts += [f"孕 {e.gestational_weeks} 周", "早孕建册" if e.is_registration else "",
                  _bp(e.sbp, e.dbp), "高危" if e.high_risk else ""]
    elif isinstance(e, m.PostpartumVisit):
        prog = v.Program.PREGNANCY
        parts += [_choice(m.PostpartumVisit, "visit_type", e.visit_type), _bp(e.sbp, e.dbp)]
    elif isinstance(e, m.Vaccination):
        parts += [f"{_choice(m.Vaccination, 'vaccine', e.vaccine)} 第{e.dose_no}剂"]
    elif isinstance(e, m.TcmConstitution):
        prog = v.Program.ELDERLY
        parts += [f"辨识结果 {e.recorded_result}" if e.recorded_result else ""]
    elif isinstance(e, m.ChildTcmGuidance):
        prog = v.Program.CHILD
        parts += [f"{e.age_months}月龄"]
    elif isinstance(e, m.Consultation):
        parts += [_bp(e.sbp, e.dbp), f"血糖 {e.blood_glucose} mmol/L" if e.blood_glucose else "", e.complaint]
    if getattr(e, "referral", False):
        parts.append("已转诊")
    return "，".join(p for p in parts if p), cls, str(prog)


GOOD_CLASSES = frozenset({v.FollowUpClass.CONTROLLED.zh, v.SmiClass.STABLE.zh})


def _tone(cls: str) -> str:
    if not cls:
        return ""
    return "met" if cls in GOOD_CLASSES or cls.startswith("体检无异常") else "far"


def _encounters(r) -> list[_Enc]:
    """Every non-void service of this person: one query says which encounter tables hold any (a person has rows
    in two or three of the thirteen), then one query per such table (issue 11: the record page made 33 queries)."""
    from django.db.models import IntegerField, Value

    parts = [model.objects.filter(resident=r, is_void=False).order_by().values_list(Value(i, output_field=IntegerField()))
             for i, model in enumerate(m.ENCOUNTER_MODELS)]
    present = {i for (i,) in parts[0].union(*parts[1:], all=True)}
    out = []
    for model in (model for i, model in enumerate(m.ENCOUNTER_MODELS) if i in present):
        for e in model.objects.filter(resident=r, is_void=False).select_related("org_unit", "provider"):
            summary, cls, prog = _summary(e)
            out.append((Service(e.service_date, str(model._meta.verbose_name), e.org_unit.name,
                                e.provider.name if e.provider else "", summary, prog, cls, _tone(cls)),
                        cls, getattr(e, "next_visit_date", None)))
    return [_Enc(*x) for x in out]


@dataclass(frozen=True)
class _Enc:
    service: Service
    classification: str
    next_visit_date: dt.date | None

    @property
    def date(self) -> dt.date:
        return self.service.date


def _program_states(enrollments, encounters: list[_Enc]) -> list[ProgramState]:
    last: dict[str, _Enc] = {}
    for e in sorted(encounters, key=lambda e: e.date):
        if e.service.program:
            last[e.service.program] = e
    out = []
    for en in enrollments:
        e = last.get(en.program)
        out.append(ProgramState(
            en.program, v.Program(en.program).zh if en.program in v.Program.codes() else en.program,
            en.enrollment_no, en.start_date, en.end_date, _choice(m.Enrollment, "end_reason", en.end_reason),
            e.date if e else None, e.service.summary if e else "", e.classification if e else "",
            e.next_visit_date if e else None))
    return out


def _recorded_due(programs: list[ProgramState], today: dt.date) -> list[Due]:
    """Until the engine's list is ready: the next-visit dates written on the last follow-up of each open
    program (what the doctor agreed with the patient, not the rulebook's schedule)."""
    from gongwei.engine import registry

    evaluators = registry.evaluators()
    out = []
    for p in programs:
        if p.end_date is None and p.next_visit_date is not None:
            late = (today - p.next_visit_date).days
            status = "overdue" if late > 0 else "due_soon" if late >= -7 else "upcoming"
            schedule = getattr(evaluators.get(p.program, (None, None))[1], "SCHEDULE", ())
            what = schedule[0].name if schedule else f"{p.name}随访"
            out.append(Due(p.program, f"{what}（上次随访约定）", p.next_visit_date, status,
                           DUE_STATUS[status], max(late, 0), source="recorded", days_left=max(-late, 0)))
    return sorted(out, key=lambda d: d.due_date)


LIVE_PROGRAMS = ("hypertension", "diabetes", "copd")  # engine.programs.chronic: evaluated per person by engine.person


def _live_due(r, enrollments, today: dt.date) -> tuple[list[Due], set[str]]:
    """What the chronic programs owe today, computed from this person's enrolments, follow-ups and exams by the
    rules the worklist uses (engine.person mirrors engine.programs.chronic): one query per table, no snapshot,
    so the list follows a save at once. Returns the rows and the programs computed this way (all chronic
    programs the person was ever enrolled in, so a finished obligation also replaces the snapshot's row)."""
    mine = {e.program for e in enrollments if e.program in LIVE_PROGRAMS}
    rows = live_due_many([r], enrollments, today).get(r.pk, [])
    return rows, mine


_CHRONIC_DUE = ProcessMemo(keep=20_000)  # engine.person.chronic_due's answers by their inputs


def _chronic_due(evaluators, program, today, spans, visits, exams, birth_date, closed_on) -> tuple:
    from gongwei.engine import person

    return tuple(person.chronic_due(
        evaluators[program][1], today, enrolments=[person.Enrolment(*e) for e in spans],
        visits=[person.Visit(*row) for row in visits], exam_dates=list(exams), birth_date=birth_date,
        closed_on=closed_on))


def live_due_many(people, enrollments, today: dt.date) -> dict[int, list[Due]]:
    """:func:`_live_due` for several residents at once (the worklist refreshes the people saved since its
    snapshot): three queries whatever their number, then each person's rows by engine.person."""
    from gongwei.engine import registry
    from gongwei.engine.worklist import DUE_SOON_DAYS
    from gongwei.spec.periods import parse

    ids = [r.pk for r in people]
    spans: dict[tuple[int, str], list[tuple]] = {}
    for e in enrollments:
        if e.program in LIVE_PROGRAMS:
            spans.setdefault((e.resident_id, e.program), []).append((e.start_date, e.end_date))
    # the rules read the visits and exams of the year to today only (person.chronic_due): earlier years' rows are
    # not fetched (a patient under management for years has dozens). Plain tuples (person.Visit's fields in
    # order): they are the key of the answers kept, and objects are built only for a person not yet computed
    since = parse(today.isoformat()).start
    visits: dict[tuple[int, str], list[tuple]] = {}
    for rid, program, *visit in (
            m.ChronicFollowUp.objects.filter(resident_id__among=ids, is_void=False, program__in=LIVE_PROGRAMS,
                                             service_date__gte=since).order_by("pk")
            .values_list("resident_id", "program", "service_date", "mode", "classification", "sbp", "dbp",
                         "fasting_glucose", "pk")):
        visits.setdefault((rid, program), []).append(tuple(visit))
    exams: dict[int, list[dt.date]] = {}
    for rid, day in m.HealthExamination.objects.filter(resident_id__among=ids, is_void=False,
                                                       service_date__gte=since).values_list(
            "resident_id", "service_date"):
        exams.setdefault(rid, []).append(day)
    evaluators = registry.evaluators()
    closed = {s.value for s in v.CLOSED_STATUSES}
    out: dict[int, list[Due]] = {}
    for r in people:
        if r.status == v.ResidentStatus.MERGED or r.merged_into_id:
            continue
        closed_on = r.status_date if r.status in closed else None
        for program in LIVE_PROGRAMS:
            if (r.pk, program) not in spans:
                continue
            # the rules are a pure function of these values: a person listed again with nothing changed (every
            # worklist view lists everyone saved since the snapshot) is not computed again
            inputs = (program, today, tuple(spans[(r.pk, program)]), tuple(visits.get((r.pk, program), ())),
                      tuple(sorted(exams.get(r.pk, ()))), r.birth_date, closed_on)
            for item in _CHRONIC_DUE.get_or_make(inputs, lambda i=inputs: _chronic_due(evaluators, *i)):
                late = (today - item.due_date).days
                status = "overdue" if late >= 0 else "due_soon" if late >= -DUE_SOON_DAYS else "upcoming"
                out.setdefault(r.pk, []).append(Due(
                    program, item.name, item.due_date, status, DUE_STATUS[status], max(late, 0), source="live",
                    days_left=max(-late, 0), key=item.service, gap=item.gap))
    return out


def _due(r, today: dt.date) -> tuple[list[Due], str, float | None]:
    """What is due for this person, by the engine's worklist rules run on the latest snapshot for the person's
    village (the same rules the indicators use), read from the state tables already materialised for today.
    A page never materialises them (22 s for every program on the small test region): the worklist job or the
    first worklist view of the day does; until then the page says so and the programs table shows the last
    service and next-visit dates. The snapshot lags the database, which the page also says."""
    import pyarrow.compute as pc

    from gongwei.engine import materialize, registry
    from gongwei.engine.orgs import OrgTree
    from gongwei.spec.periods import parse

    started = time.perf_counter()
    try:
        eng = snapshots.engine(None, take_if_missing=False)
    except ServiceError as exc:
        return [], f"暂无待办：{exc}", None
    period = parse(today.isoformat())
    scheduled = [p for p, (_, spec) in registry.evaluators().items() if getattr(spec, "SCHEDULE", ())]
    missing = [p for p in scheduled if not materialize.state_path(eng, p, period).exists()]
    if missing:
        return [], (f"按规范计算的今日（{today.isoformat()}）待办尚未计算，由待办任务按快照 {eng.snapshot.id} "
                    "生成后显示；此处暂列上次随访约定的下次随访日期"), None
    tree = OrgTree.load(eng.snapshot)
    try:  # the village's list of the day, kept per process like the worklist page's (ADR 029 addendum)
        table = stored_worklist(eng, tree, r.managing_unit.code, today, None, True)
    except KeyError:  # a unit created after the snapshot was taken
        return [], f"管理机构 {r.managing_unit.code} 不在快照 {eng.snapshot.id} 中，待办在下一次快照后显示", None
    rows = table.filter(pc.equal(table.column("record_no"), r.record_no)).to_pylist()
    ms = (time.perf_counter() - started) * 1000
    due = [Due(x["program"], x["service_name"], x["due_date"], x["status"], DUE_STATUS.get(x["status"], x["status"]),
               x["days_overdue"], days_left=max((x["due_date"] - today).days, 0)) for x in rows]
    due.sort(key=lambda d: (d.due_date, d.service))
    return due, f"按快照 {eng.snapshot.id}（{eng.snapshot.taken_at}）计算；快照之后录入的服务尚未计入", ms


def prepare_due(actor: Actor, today: dt.date | None = None) -> float:
    """Materialise today's worklist state on the latest snapshot (the job the record page relies on; system
    administrators and the operator only, as it reads the whole region). Returns the seconds it took."""
    from gongwei.engine import materialize, registry
    from gongwei.spec.periods import parse

    if not actor.scope.everything:
        from gongwei.service.errors import Refused

        raise Refused("只有系统管理员可以生成待办（涉及全部机构）")
    started = time.perf_counter()
    eng = snapshots.engine(None, take_if_missing=False)
    period = parse((today or dt.date.today()).isoformat())
    for program, (_, spec) in registry.evaluators().items():
        if getattr(spec, "SCHEDULE", ()) and not materialize.state_path(eng, program, period).exists():
            materialize.materialize(eng, program, period)
    return time.perf_counter() - started
