"""Awareness (知晓率) and satisfaction (满意度) surveys on a sample (issue 13 §3, ADR 033): start a survey on a
drawn sample, enter one questionnaire per respondent, rates per unit with Wilson intervals and the change since
the last survey of the same questionnaire covering the unit, and what the evaluation and bulletins read.

A survey is put to the people of a :class:`~gongwei.verification.models.Sample` (drawn equal-interval or
stratified, so the respondents can be proved later). The questionnaire comes from the rulebook
(``spec/surveys.py``) and is copied into the survey, so the answers keep their meaning whatever the rulebook
becomes. Same contract as the rest of :mod:`gongwei.service`: the actor's subtree, audited views, all or nothing.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from gongwei.records import models as rm
from gongwei.service import audit
from gongwei.service.access import Actor
from gongwei.service.analysis import period_of
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.service.verification import _check_may_sample, _sample, _user, _verifier_sees, may_sample
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec import sampling as spec_sampling
from gongwei.spec import surveys as spec
from gongwei.spec.surveys import RespondentStatus, SurveyMode
from gongwei.spec.vocab import AccessKind
from gongwei.verification.models import Survey, SurveyResponse, SurveyResponseEntry


# --- the questionnaire as stored with a survey ------------------------------------------------------------------------
def definition(q: spec.Questionnaire) -> dict:
    """The questionnaire as data to keep with a survey (what the answers meant when they were given)."""
    return {"code": q.code, "name": q.name, "rate_name": q.rate_name, "positive_name": q.positive_name,
            "deciding": q.deciding, "positive": sorted(q.positive), "source": str(q.source),
            "questions": [{"code": x.code, "text": x.text, "required": x.required,
                           "answers": [[a.code, a.text] for a in x.answers]} for x in q.questions]}


def questionnaire_options() -> list[tuple[str, str]]:
    return [(q.code, q.name) for q in spec.QUESTIONNAIRES.values()]


def _questionnaire(code: str) -> spec.Questionnaire:
    q = spec.QUESTIONNAIRES.get((code or "").strip())
    if q is None:
        raise BadRequest(f"问卷“{code}”无效：应为 "
                         + "、".join(f"{x.code}（{x.name}）" for x in spec.QUESTIONNAIRES.values()) + " 之一")
    return q


# --- results ------------------------------------------------------------------------------------------------------------
@dataclass
class SurveyRate:
    """One unit's figures in a survey (or over a period's surveys)."""

    unit_code: str
    unit_name: str
    drawn: int = 0
    valid: int = 0  # 有效问卷
    positive: int = 0  # 知晓 / 满意
    refused: int = 0
    unreachable: int = 0
    proxy: int = 0
    pending: int = 0
    previous: SurveyRate | None = None  # the last earlier survey of the same questionnaire covering this unit
    previous_ref: str = ""  # its survey number (or period)

    @property
    def rate(self) -> float | None:
        return self.positive / self.valid if self.valid else None

    @property
    def interval(self) -> tuple[float, float] | None:
        return spec_sampling.wilson(self.positive, self.valid)

    @property
    def change(self) -> float | None:
        """Change of the rate since the previous survey, as a fraction (0.05 = five percentage points)."""
        if self.rate is None or self.previous is None or self.previous.rate is None:
            return None
        return self.rate - self.previous.rate


def _tally(rate: SurveyRate, status: str, positive: bool | None) -> None:
    rate.drawn += 1
    if not status:
        rate.pending += 1
    elif status == RespondentStatus.ANSWERED:
        rate.valid += 1
        rate.positive += bool(positive)
    elif status == RespondentStatus.REFUSED:
        rate.refused += 1
    elif status == RespondentStatus.UNREACHABLE:
        rate.unreachable += 1
    else:
        rate.proxy += 1


@dataclass
class RespondentRow:
    position: int
    record_no: str
    name: str
    phone: str
    unit_code: str
    unit_name: str
    stratum: str
    status: str
    status_name: str
    positive: bool | None
    answers: dict
    deciding_answer: str  # the text of the deciding question's answer
    note: str
    recorded_by: str
    recorded_at: dt.datetime | None
    version: int


@dataclass
class SurveyView:
    survey_no: str
    questionnaire: str
    definition: dict
    sample_no: str
    unit_code: str
    unit_name: str
    period: str
    mode: str
    mode_name: str
    created_by: str
    created_at: dt.datetime
    rows: list[RespondentRow] = field(default_factory=list)
    may_answer: bool = False


@dataclass
class SurveyReport:
    survey: SurveyView
    total: SurveyRate
    units: list[SurveyRate]  # one per stratum (child unit of the surveyed unit), by code


# --- start ------------------------------------------------------------------------------------------------------------------
def start(actor: Actor, sample_no: str, questionnaire: str, *, mode: str = SurveyMode.PHONE) -> SurveyView:
    """Start a survey with ``questionnaire`` on the people of a drawn sample: one empty questionnaire per
    respondent. A sample carries each questionnaire once."""
    _check_may_sample(actor)
    q = _questionnaire(questionnaire)
    if mode not in SurveyMode.codes():
        raise BadRequest(f"调查方式“{mode}”无效：应为 {'、'.join(f'{m.value}（{m.zh}）' for m in SurveyMode)} 之一")
    with transaction.atomic():
        s = _sample(actor, sample_no, lock=True)
        done = Survey.objects.filter(sample=s, questionnaire=q.code).first()
        if done is not None:
            raise BadRequest(f"样本 {s.sample_no} 已开展{q.name}（{done.survey_no}）：同一样本每种问卷只调查一次")
        now = timezone.now()
        survey = Survey.objects.create(
            survey_no=f"DC{now:%Y%m%d}{secrets.token_hex(3).upper()}", questionnaire=q.code, definition=definition(q),
            sample=s, org_unit=s.org_unit, period=s.period, mode=mode, rulebook=spec_catalogue.rulebook_version(),
            created_by=_user(actor), created_by_label=actor.label)
        SurveyResponse.objects.bulk_create([SurveyResponse(survey=survey, item=it) for it in s.items.all()])
    return show(actor, survey.survey_no, purpose="发起调查")


def _survey(actor: Actor, survey_no: str) -> Survey:
    s = Survey.objects.select_related("org_unit", "sample").filter(survey_no=(survey_no or "").strip()).first()
    if s is None:
        raise NotFound(f"调查 {survey_no} 不存在")
    actor.check_path(s.org_unit.path, f"调查 {s.survey_no}（{s.org_unit.name}）")
    return s


def _answer_text(d: dict, answers: dict) -> str:
    q = next((x for x in d["questions"] if x["code"] == d["deciding"]), None)
    code = answers.get(d["deciding"], "")
    return next((t for c, t in (q or {}).get("answers", []) if c == code), "")


def _rows(actor: Actor, s: Survey, position: int | None = None, *, full_phone: bool = False) -> list[RespondentRow]:
    qs = SurveyResponse.objects.filter(survey=s).select_related("item__org_unit", "item__resident")
    if position is not None:
        qs = qs.filter(item__position=position)
    out = []
    for r in qs.order_by("item__position"):
        it, res = r.item, r.item.resident
        phone = (res.phone if full_phone else actor.mask_phone(res.phone)) if res is not None else ""
        out.append(RespondentRow(
            it.position, it.record_no, res.name if res else "", phone or "", it.org_unit.code, it.org_unit.name,
            it.stratum, r.status, RespondentStatus(r.status).zh if r.status else "", r.positive, r.answers,
            _answer_text(s.definition, r.answers), r.note, r.recorded_by, r.recorded_at, r.version))
    return out


def _view(actor: Actor, s: Survey, rows: list[RespondentRow]) -> SurveyView:
    return SurveyView(s.survey_no, s.questionnaire, s.definition, s.sample.sample_no, s.org_unit.code,
                      s.org_unit.name, s.period, s.mode, SurveyMode(s.mode).zh, s.created_by_label, s.created_at,
                      rows, may_sample(actor))


def show(actor: Actor, survey_no: str, *, purpose: str = "查看调查") -> SurveyView:
    """A survey with its respondents and their answers (audited: it names people)."""
    s = _survey(actor, survey_no)
    rows = _rows(actor, s)
    audit.viewed(actor, AccessKind.LIST, scope=s.org_unit.code, purpose=f"调查 {s.survey_no} {purpose}"[:100],
                 record_nos=[r.record_no for r in rows])
    return _view(actor, s, rows)


def _may_interview(actor: Actor, unit_path: str) -> bool:
    """Separation of duties: the interviewer works above the respondent's unit (nobody surveys the satisfaction
    with their own service), or is the operator or system-wide."""
    if not may_sample(actor):
        return False
    return actor.user is None or _verifier_sees(actor.user, unit_path)


def respondent(actor: Actor, survey_no: str, position: int) -> tuple[SurveyView, RespondentRow]:
    """One respondent's questionnaire. The interviewer sees the phone number in full while the questionnaire is
    still to be entered (they have to call); everyone else as their role does. Audited as a record view."""
    s = _survey(actor, survey_no)
    r = SurveyResponse.objects.select_related("item__org_unit").filter(survey=s, item__position=position).first()
    if r is None:
        raise NotFound(f"调查 {s.survey_no} 中没有序号 {position}")
    actor.check_path(r.item.org_unit.path, f"序号 {position}（{r.item.org_unit.name}）")
    full = not r.status and _may_interview(actor, r.item.org_unit.path)
    row = _rows(actor, s, position, full_phone=full)[0]
    audit.viewed(actor, AccessKind.RECORD, scope=s.org_unit.code,
                 purpose=f"调查 {s.survey_no} 序号 {position}"[:100], record_nos=[row.record_no])
    return _view(actor, s, [row]), row


# --- answer -------------------------------------------------------------------------------------------------------------------
def _check_answers(d: dict, status: str, answers: dict) -> dict:
    given = {str(k).strip(): str(v).strip() for k, v in (answers or {}).items() if str(v or "").strip()}
    questions = {x["code"]: x for x in d["questions"]}
    unknown = sorted(set(given) - set(questions))
    if unknown:
        raise BadRequest(f"问题“{'、'.join(unknown)}”不在{d['name']}中")
    if status != RespondentStatus.ANSWERED:
        if given:
            raise BadRequest(f"调查结果为“{RespondentStatus(status).zh}”时不应填写答案：只有有效问卷记录答案")
        return {}
    for code, x in questions.items():
        got = given.get(code, "")
        if not got:
            if x["required"]:
                raise BadRequest(f"问题 {code}“{x['text']}”必须回答：有效问卷应回答全部必答题")
            continue
        if got not in {c for c, _ in x["answers"]}:
            raise BadRequest(f"问题 {code} 的答案“{got}”无效：应为 "
                             + "、".join(f"{c}（{t}）" for c, t in x["answers"]) + " 之一")
    return {k: given[k] for k in questions if k in given}


def answer(actor: Actor, survey_no: str, position: int, status: str, answers: dict | None = None, *,
           note: str = "", version: int | None = None) -> RespondentRow:
    """Enter (or correct) the questionnaire of the respondent at ``position``: a valid questionnaire answers every
    required question with one of its codes; a refusal, an unreachable person or a proxy answer is coded without
    answers. Whether the respondent counts as aware or satisfied is decided here from the survey's own copy of
    the questionnaire. A correction keeps the earlier entry."""
    if status not in RespondentStatus.codes():
        raise BadRequest(f"调查结果“{status}”无效：应为 "
                         + "、".join(f"{x.value}（{x.zh}）" for x in RespondentStatus) + " 之一")
    note = (note or "").strip()
    if len(note) > spec.NOTE_MAX:
        raise BadRequest(f"说明过长：最多 {spec.NOTE_MAX} 字")
    with transaction.atomic():
        s = _survey(actor, survey_no)
        d = s.definition
        clean = _check_answers(d, status, answers or {})
        r = (SurveyResponse.objects.select_for_update(of=("self",)).select_related("item__org_unit")
             .filter(survey=s, item__position=position).first())
        if r is None:
            raise NotFound(f"调查 {s.survey_no} 中没有序号 {position}")
        actor.check_path(r.item.org_unit.path, f"序号 {position}（{r.item.org_unit.name}）")
        if not _may_interview(actor, r.item.org_unit.path):
            raise Refused(f"不能调查序号 {position}（{r.item.org_unit.name}的居民）：调查员应为乡镇及以上公卫人员、"
                          f"督导员或绩效评价员，且属于被调查机构的上级单位（职责分离）")
        if version is not None and version != r.version:
            raise BadRequest(f"序号 {position} 的问卷已被他人修改（版本 {version} → {r.version}）：请刷新后再录入")
        r.status, r.answers, r.note = status, clean, note
        r.positive = clean.get(d["deciding"]) in set(d["positive"]) if status == RespondentStatus.ANSWERED else None
        r.recorded_by, r.recorded_at, r.version = actor.label, timezone.now(), r.version + 1
        r.save(update_fields=["status", "answers", "positive", "note", "recorded_by", "recorded_at", "version"])
        SurveyResponseEntry.objects.create(response=r, status=status, answers=clean, note=note, actor=_user(actor),
                                           actor_label=actor.label)
    return _rows(actor, s, position)[0]


# --- rates ----------------------------------------------------------------------------------------------------------------------
def surveys(actor: Actor, org: str, *, period: str = "") -> list[Survey]:
    """Surveys in ``org``'s subtree (newest first), without their people."""
    place = rm.OrgUnit.objects.filter(code=org).first()
    if place is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(place.path, f"机构 {place.name}（{place.code}）")
    qs = Survey.objects.filter(org_unit__path__startswith=place.path).select_related("org_unit", "sample")
    if period:
        qs = qs.filter(period=period_of(period).code)
    return [s for s in qs.order_by("-created_at", "-id") if actor.sees_path(s.org_unit.path)]


def _ancestors(path: str) -> list[str]:
    parts = [x for x in path.split("/") if x]
    return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)]


def _previous(s: Survey, units: dict[str, rm.OrgUnit]) -> dict[str, tuple[str, SurveyRate]]:
    """Per unit code: the last survey of the same questionnaire started before ``s`` that covered the whole unit
    (drawn at the unit or above it), counted over that unit's respondents. One query."""
    paths = {u.path for u in units.values()}
    covering = {p for path in paths for p in _ancestors(path)}
    rows = (SurveyResponse.objects
            .filter(survey__questionnaire=s.questionnaire, survey__org_unit__path__in=covering,
                    survey__created_at__lte=s.created_at)
            .exclude(survey=s)
            .values_list("survey_id", "survey__survey_no", "survey__created_at", "survey__org_unit__path",
                         "item__org_unit__path", "status", "positive"))
    by: dict[tuple[str, int], SurveyRate] = {}
    when: dict[int, tuple] = {}
    for sid, no, at, survey_path, item_path, status, positive in rows:
        when[sid] = (at, sid, no)
        for code, u in units.items():
            if survey_path in _ancestors(u.path) and item_path.startswith(u.path):
                _tally(by.setdefault((code, sid), SurveyRate(code, u.name)), status, positive)
    out: dict[str, tuple[str, SurveyRate]] = {}
    for (code, sid), rate in sorted(by.items(), key=lambda kv: when[kv[0][1]][:2]):
        if rate.valid:
            out[code] = (when[sid][2], rate)  # later surveys overwrite earlier ones
    return out


def rates(actor: Actor, survey_no: str) -> SurveyReport:
    """The survey's rate (知晓率 or 满意度) overall and per stratum (child unit), each with its 95 % Wilson
    interval and the change since the last survey of the same questionnaire covering that unit."""
    view = show(actor, survey_no, purpose="调查结果")
    s = Survey.objects.select_related("org_unit").get(survey_no=view.survey_no)
    total = SurveyRate(s.org_unit.code, s.org_unit.name)
    units = {r.stratum: r for r in view.rows}
    found = {u.code: u for u in rm.OrgUnit.objects.filter(code__in=[s.org_unit.code, *units])}
    by_code: dict[str, SurveyRate] = {}
    for r in view.rows:
        _tally(total, r.status, r.positive)
        u = found.get(r.stratum)
        _tally(by_code.setdefault(r.stratum, SurveyRate(r.stratum, u.name if u else r.stratum)), r.status, r.positive)
    previous = _previous(s, {c: u for c, u in found.items() if c in by_code or c == s.org_unit.code})
    for rate in [total, *by_code.values()]:
        if rate.unit_code in previous:
            rate.previous_ref, rate.previous = previous[rate.unit_code]
    return SurveyReport(view, total, [by_code[c] for c in sorted(by_code)])


# --- what the evaluation and the bulletins read ---------------------------------------------------------------------------
def survey_rates_by_unit(actor: Actor, period: str, *, questionnaire: str | None = None,
                         units: list[str] | None = None) -> dict[str, dict[str, SurveyRate]]:
    """Survey rates per unit code and questionnaire code for a period, over every survey of that period — each
    respondent counted at their managing unit and at every unit above it in the actor's scope — with the same
    unit's figures of the latest earlier period that had valid questionnaires as ``previous`` (its period code in
    ``previous_ref``). ``units``: only these unit codes. One query over the responses."""
    asked = period_of(period)
    wanted = set(units) if units else None
    if wanted:
        found = dict(rm.OrgUnit.objects.filter(code__in=wanted).values_list("code", "path"))
        missing = sorted(wanted - set(found))
        if missing:
            raise NotFound(f"机构代码 {'、'.join(missing)} 不存在")
        for c, path in found.items():
            actor.check_path(path, f"机构 {c}")
    qs = SurveyResponse.objects.filter(survey__period__lte=asked.code).values_list(
        "survey__period", "survey__questionnaire", "item__org_unit__path", "status", "positive")
    if questionnaire:
        qs = qs.filter(survey__questionnaire=_questionnaire(questionnaire).code)
    rows = list(qs)
    ids = {int(x) for r in rows for x in r[2].strip("/").split("/") if x}
    by_id = {u.pk: u for u in rm.OrgUnit.objects.filter(pk__in=ids)}
    tallies: dict[tuple[str, str, str], SurveyRate] = {}
    for period_code, q, path, status, positive in rows:
        for x in path.strip("/").split("/"):
            u = by_id.get(int(x)) if x else None
            if u is None or not actor.sees_path(u.path) or (wanted is not None and u.code not in wanted):
                continue
            _tally(tallies.setdefault((period_code, u.code, q), SurveyRate(u.code, u.name)), status, positive)
    out: dict[str, dict[str, SurveyRate]] = {}
    for (period_code, code, q), rate in tallies.items():
        if period_code == asked.code:
            out.setdefault(code, {})[q] = rate
    for (period_code, code, q), rate in sorted(tallies.items()):
        current = out.get(code, {}).get(q)
        if current is not None and period_code < asked.code and rate.valid:
            current.previous, current.previous_ref = rate, period_code  # sorted: the latest earlier period wins
    return out
