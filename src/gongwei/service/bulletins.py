"""Use cases of bulletins (通报, ADR 026): draft one from STORED results, regenerate it from the same snapshot,
edit its paragraphs, publish it (locked), read it back.

A bulletin never computes: the indicators and QC tallies of its period must be in the results store for the
snapshot it is drafted from (:class:`NotReady` names the command that computes them). Its facts — every figure
it cites — are frozen with it, so regenerating from the same snapshot and rulebook gives the same figures.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from gongwei.bulletins import narrative, sections
from gongwei.bulletins import template as templates
from gongwei.bulletins.models import Bulletin
from gongwei.engine import scorecard
from gongwei.engine.orgs import OrgTree
from gongwei.engine.scorecard import place_label, place_name
from gongwei.service import analysis, results, snapshots
from gongwei.service.access import Actor, unit_of_tree
from gongwei.service.errors import BadRequest, NotFound, NotReady, Refused
from gongwei.spec import catalogue as spec_catalogue
from gongwei.spec.periods import Period, PeriodKind


def _template(kind: str) -> templates.Template:
    try:
        return templates.load(kind)
    except templates.TemplateError as exc:
        raise BadRequest(str(exc)) from None


def _quarter(period: str) -> Period:
    asked = analysis.period_of(period)
    if asked.kind is not PeriodKind.QUARTER_TO_DATE:
        raise BadRequest(f"期间“{period}”不是季度：季度通报的期间应写作 2025Q2（当年1月1日至该季度末）")
    return asked


def _period(t: templates.Template, period: str) -> Period:
    """The period a bulletin of the template's type covers: a quarter to date, or (the work report) a year."""
    if t.period == "quarter":
        return _quarter(period)
    asked = analysis.period_of(period)
    if asked.kind is not PeriodKind.YEAR:
        raise BadRequest(f"期间“{period}”不是年度：{t.name}的期间应写作 2025（当年1月1日至12月31日）")
    return asked


def _stored_codes(snapshot_id: str, period: Period) -> set[str]:
    t = results.stored_indicators(snapshot_id, period)
    return set() if t is None else set(pc.unique(t.column("indicator")).to_pylist())


def facts(actor: Actor, kind: str, org: str, period: str, *, snapshot: str | None = None,
          template: templates.Template | None = None, issue: int = 0,
          pinned: dict | None = None) -> tuple[templates.Template, narrative.Facts, object]:
    """The bulletin's facts from the results store: figures of ``org`` and its child units, QC tallies, and the
    sentences of the template's section providers. ``template``: the one a bulletin was drafted with
    (regenerating), else the type's current template; ``issue``: a rectification report's number (第N期)."""
    t = template or _template(kind)
    asked = _period(t, period)
    before = scorecard.previous_period(asked)
    snap = snapshots.open_snapshot(snapshot, take_if_missing=False)
    tree = OrgTree.load(snap)
    unit = unit_of_tree(actor, tree, org)  # scope first
    label = f"{tree.name[unit]}（{tree.code[unit]}）"
    missing = [c for c in t.indicators if c not in _stored_codes(snap.id, asked)]
    if missing:
        raise NotReady(f"{label}{asked.code}的指标结果尚未计算（快照 {snap.id}，缺 {'、'.join(missing)}）。"
                       f"请先运行计算任务：gongwei indicators --org {tree.code[unit]} --period {asked.code}")
    report = analysis.indicators(actor, org, asked.code, compare=before.code, codes=t.indicators,
                                 snapshot=str(snap.folder), compute=False)
    rows = [_row(f, unit) for f in report.figures]
    qc, qc_previous = _qc(t, snap.id, asked, before, tree, unit, label)
    f = narrative.Facts(
        place=place_name(tree.name[unit]), unit_code=tree.code[unit], level=tree.level[unit], year=asked.year,
        quarter=int(asked.code[-1]) if t.period == "quarter" else 0, period=asked.code, previous=before.code,
        cutoff=asked.end.isoformat(), previous_stored=report.previous_stored and qc_previous, figures=rows, qc=qc,
        issue=issue, period_kind=t.period)
    providers = list(dict.fromkeys(p.provider for s in t.sections for p in s.parts if p.provider))
    ctx = sections.Context(actor, snap, tree, unit, asked, before, pinned=dict(pinned or {}))
    if "evaluation" in providers:  # read the round once: the attachments, and the provider's sentences from them
        f.evaluation = _evaluation_attachments(actor, tree.code[unit], asked.year, ctx.pinned.get("evaluation_round"))
        ctx.pinned["evaluation"] = f.evaluation
    f.sections = {name: sections.provide(name, ctx) for name in providers}
    return t, f, snap


def _row(f, unit: int) -> narrative.FigureRow:
    t = f.target
    return narrative.FigureRow(
        indicator=f.indicator, name=f.name, unit_code=f.unit_code, unit_name=f.unit_name,
        place=place_name(f.unit_name), own=f.unit_id == unit, numerator=f.numerator, denominator=f.denominator,
        rate=f.rate, target=None if t is None else narrative.target_words(t.value, t.comparator.value, t.unit),
        target_value=t.value if t is not None and t.unit == "rate" else None,
        target_level="" if t is None else narrative.target_level(t.region), met=f.met,
        previous_rate=f.previous_rate, change=f.change, rank=f.rank, siblings=f.siblings)


def _qc(t: templates.Template, snapshot_id: str, asked: Period, before: Period, tree: OrgTree, unit: int,
        label: str) -> tuple[list[narrative.QcRow], bool]:
    codes = t.qc_rules
    if not codes:
        return [], True
    try:
        current = results.stored_qc_tally(snapshot_id, asked, codes)
    except NotReady:
        raise NotReady(f"{label}{asked.code}的质控结果尚未计算（快照 {snapshot_id}，规则 {'、'.join(codes)}）。"
                       f"请先运行质控评估任务：gongwei qc --org {tree.code[unit]} --period {asked.code}") from None
    try:
        previous = results.stored_qc_tally(snapshot_id, before, codes)
    except NotReady:
        previous = None
    units = pa.array(tree.subtree(unit), pa.int64())

    def sub(x: pa.Table) -> pa.Table:
        return x.filter(pc.is_in(x.column("org_unit_id"), units))

    card = scorecard.build(tree, unit, asked, sub(current), codes=codes,
                           previous=None if previous is None else sub(previous), previous_period_=before)
    # where findings cluster: the townships with most findings, or the villages where the subtree has one
    # township only (the scorecard ranks a level only where it has at least two units)
    clusters = sorted((c for c in card.clusters.to_pylist() if c["by"] == "count"), key=lambda c: c["position"])
    out = []
    for code in codes:
        r = card.figure(unit, "rule", code)
        mine = [c for c in clusters if c["rule"] == code]
        places = [c for c in mine if c["level"] == "township"] or [c for c in mine if c["level"] == "village"]
        out.append(narrative.QcRow(code, r["group_name"], int(r["findings"]),
                                   None if previous is None or r["change"] is None else int(r["change"]),
                                   [place_label(tree, unit, c["org_unit_id"]) for c in places]))
    return out, previous is not None


def _get(actor: Actor, pk: int, *, lock: bool = False) -> Bulletin:
    qs = Bulletin.objects.select_for_update() if lock else Bulletin.objects
    b = qs.filter(pk=pk).first()
    if b is None:
        raise NotFound(f"通报 {pk} 不存在")
    from gongwei.records.models import OrgUnit

    unit = OrgUnit.objects.filter(code=b.org_code).first()
    if unit is None or not actor.sees_path(unit.path):
        raise Refused(f"通报 {pk}（{b.org_name}）不在您的权限范围内")
    return b


def get(actor: Actor, pk: int) -> Bulletin:
    return _get(actor, pk)


def _user(actor: Actor):
    return actor.user if actor.user is not None and actor.user.pk else None


@transaction.atomic
def draft(actor: Actor, kind: str, org: str, period: str, *, snapshot: str | None = None,
          issued_on: dt.date | None = None) -> Bulletin:
    """A new draft bulletin of ``kind`` for ``org`` and ``period`` from the stored results of the snapshot
    (default: the latest); numbered 〔year〕N号 in the order drafted for that unit and year."""
    issue = 0
    if kind == "rectification":
        # 第N期: the rectification reports of this unit for the same year, in the order drafted
        issue = Bulletin.objects.filter(kind=kind, org_code=_org_code(actor, org), period__startswith=period[:4]
                                        ).count() + 1
    t, f, snap = facts(actor, kind, org, period, snapshot=snapshot, issue=issue)
    issued = issued_on or timezone.localdate()
    seq = (Bulletin.objects.select_for_update().filter(org_code=f.unit_code, year=issued.year)
           .aggregate(n=Max("sequence"))["n"] or 0) + 1
    words = f.words()
    b = Bulletin.objects.create(
        kind=kind, org_code=f.unit_code, org_name=f.place, period=f.period, snapshot_id=snap.id,
        snapshot_folder=str(snap.folder), snapshot_taken_at=snap.taken_at, rulebook=spec_catalogue.rulebook_version(),
        data_cutoff=dt.date.fromisoformat(f.cutoff), year=issued.year, sequence=seq,
        document_number=f"{t.text['number_prefix']}〔{issued.year}〕{seq}号",
        title=t.text["title"].format(**words), issuer=t.text["issuer"].format(**words), issued_on=issued,
        template=t.source, facts=f.to_json(), paragraphs=narrative.compose(t, f),
        history=[_event(actor, "draft")], created_by=_user(actor), created_by_label=actor.label)
    return b


def _event(actor: Actor, action: str, **more) -> dict:
    return {"at": timezone.now().isoformat(timespec="seconds"), "by": actor.label, "action": action, **more}


def _editable(b: Bulletin, expected_version: int | None) -> None:
    if b.status == Bulletin.Status.PUBLISHED:
        raise Refused(f"通报 {b.document_number} 已于 {b.published_at:%Y-%m-%d} 发布，不能再修改")
    if expected_version is not None and expected_version != b.version:
        last = b.history[-1] if b.history else {}
        raise BadRequest(f"通报 {b.document_number} 已被修改（版本 {expected_version} → {b.version}，"
                         f"{last.get('by', '?')} 于 {last.get('at', '?')} {last.get('action', '')}），请重新打开后再修改")


@transaction.atomic
def regenerate(actor: Actor, pk: int, *, expected_version: int | None = None) -> Bulletin:
    """Recompute a draft's facts and paragraphs from its recorded snapshot and template (the rulebook must be the
    recorded one): the same stored results give the same figures. Edits to paragraphs are replaced; a changed
    template takes a new draft."""
    b = _get(actor, pk, lock=True)
    _editable(b, expected_version)
    if b.rulebook != spec_catalogue.rulebook_version():
        raise Refused(f"通报 {b.document_number} 依据规则库版本 {b.rulebook}，当前为 {spec_catalogue.rulebook_version()}："
                      "不能按原口径重新生成，请起草新的通报")
    if not Path(b.snapshot_folder).is_dir():
        raise NotFound(f"通报 {b.document_number} 的快照 {b.snapshot_id}（{b.snapshot_folder}）已不存在")
    # the template frozen with the bulletin: the same indicators and rules, so the same figures
    drafted_round = (b.facts.get("evaluation") or {}).get("round")
    t, f, _ = facts(actor, b.kind, b.org_code, b.period, snapshot=b.snapshot_folder, template=templates.parse(b.template),
                    issue=int(b.facts.get("issue", 0)),
                    pinned={"evaluation_round": drafted_round} if drafted_round else None)
    b.facts, b.paragraphs, b.template = f.to_json(), narrative.compose(t, f), t.source
    b.version += 1
    b.history = [*b.history, _event(actor, "regenerate")]
    b.save()
    return b


@transaction.atomic
def edit(actor: Actor, pk: int, index: int, text: str, *, expected_version: int) -> Bulletin:
    """Revise one paragraph of a draft (optimistic locking on ``version``); kept in the history."""
    b = _get(actor, pk, lock=True)
    _editable(b, expected_version)
    if not 0 <= index < len(b.paragraphs):
        raise BadRequest(f"段落序号 {index} 超出范围（0～{len(b.paragraphs) - 1}）")
    text = text.strip()
    if not text:
        raise BadRequest("段落内容不能为空；不需要的段落请改写为“（略）”")
    before = b.paragraphs[index]["text"]
    b.paragraphs[index] = {**b.paragraphs[index], "text": text, "edited": True,
                           "links": narrative.relink(text, b.paragraphs[index].get("links", []))}
    b.version += 1
    b.history = [*b.history, _event(actor, "edit", index=index, before=before, after=text)]
    b.save()
    return b


@transaction.atomic
def publish(actor: Actor, pk: int, *, expected_version: int | None = None, folder: Path | None = None) -> Bulletin:
    """Publish a draft: its files are written once (DOCX, XLSX, and PDF when LibreOffice is present) with their
    SHA-256 and the bulletin is locked."""
    from gongwei.bulletins import render

    b = _get(actor, pk, lock=True)
    _editable(b, expected_version)
    out = Path(folder or snapshots.data_dir() / "bulletins" / str(b.pk))
    written = render.write_all(b, out / f"{b.kind}-{b.org_code}-{b.period}.docx")
    b.files = {kind: {"path": str(p), "sha256": hashlib.sha256(p.read_bytes()).hexdigest()}
               for kind, p in written.items()}
    b.status = Bulletin.Status.PUBLISHED
    b.published_by, b.published_by_label, b.published_at = _user(actor), actor.label, timezone.now()
    b.version += 1
    b.history = [*b.history, _event(actor, "publish")]
    b.save()
    return b


__all__ = ["draft", "edit", "facts", "get", "publish", "regenerate"]


# --- for the web pages -----------------------------------------------------------------------------------------
def for_unit(actor: Actor, org: str) -> list[Bulletin]:
    """The bulletins of one unit, newest first (the unit must be in the actor's scope)."""
    from gongwei.service import navigation

    navigation.place(actor, org)  # Refused / NotFound
    return list(Bulletin.objects.filter(org_code=org).order_by("-created_at", "-pk"))


FORMATS = {"docx": "DOCX", "xlsx": "XLSX", "pdf": "PDF"}


def file(actor: Actor, pk: int, fmt: str) -> Path:
    """A bulletin's file: a published one's stored file, or a draft's current version written once per version
    (DOCX and XLSX; a draft's PDF is not made in a request — publishing makes it when LibreOffice is present)."""
    from gongwei.bulletins import render

    if fmt not in FORMATS:
        raise NotFound(f"文件格式“{fmt}”不存在（可选：{'、'.join(FORMATS)}）")
    b = _get(actor, pk)
    if b.status == Bulletin.Status.PUBLISHED:
        stored = b.files.get(fmt)
        if stored is None or not Path(stored["path"]).is_file():
            raise NotFound(f"通报 {b.document_number} 没有 {FORMATS[fmt]} 文件")
        return Path(stored["path"])
    if fmt == "pdf":
        raise NotFound(f"草稿没有 PDF：发布通报 {b.document_number} 时生成")
    out = Path(snapshots.data_dir()) / "bulletins" / "drafts" / f"{b.pk}-v{b.version}" / f"{b.kind}-{b.org_code}-{b.period}.docx"
    target = out.with_suffix(f".{fmt}")
    if not target.is_file():
        render.write_all(b, out, with_pdf=False)
    return target


__all__ += ["file", "for_unit"]


def _org_code(actor: Actor, org: str) -> str:
    from gongwei.service import navigation

    return navigation.place(actor, org).code


# --- section providers wired now (ADR 035; funds, staffing and supervision are wired by their apps) -------------
def _subtree_path(ctx: sections.Context) -> str:
    from gongwei.records.models import OrgUnit

    return OrgUnit.objects.values_list("path", flat=True).get(code=ctx.tree.code[ctx.unit])


@sections.register("qc_rectification")
def _qc_rectification(ctx: sections.Context) -> list[dict] | None:
    """The rectification ledger of QC findings in the unit's subtree for the bulletin's year: how many were
    found, rectified (已整改 or 已核实) and still open, and the child units with most open findings."""
    from django.db.models import Count

    from gongwei.quality.models import Finding, FindingStatus

    qs = (Finding.objects.filter(org_unit__path__startswith=_subtree_path(ctx),
                                 period__in=[ctx.period.code, str(ctx.period.year)])
          .exclude(status=FindingStatus.DISMISSED))  # dismissed: not a problem after all
    by_status = dict(qs.values_list("status").annotate(n=Count("id")))
    total = sum(by_status.values())
    if not total:
        return None
    done = by_status.get(FindingStatus.RECTIFIED, 0) + by_status.get(FindingStatus.VERIFIED, 0)
    open_ = by_status.get(FindingStatus.OPEN, 0)
    from gongwei.bulletins import numbers

    text = (f"质控发现问题{numbers.count(total, '条')}，已整改{numbers.count(done, '条')}，"
            f"整改率{numbers.percent(done / total)}，尚待整改{numbers.count(open_, '条')}。")
    if open_:
        paths = {ctx.tree.code[c]: ctx.tree.name[c] for c in ctx.tree.children(ctx.unit)}
        from gongwei.records.models import OrgUnit

        kid_paths = dict(OrgUnit.objects.filter(code__in=paths).values_list("path", "code"))
        # one grouped query: open findings per unit, each added to the child whose subtree holds it
        open_by_path = qs.filter(status=FindingStatus.OPEN).values_list("org_unit__path").annotate(n=Count("id"))
        counts: dict[str, int] = {}
        for path, n in open_by_path:
            kid = next((k for k in kid_paths if path.startswith(k)), None)
            if kid is not None:
                counts[kid] = counts.get(kid, 0) + n
        per = []
        for path, code in kid_paths.items():
            n = counts.get(path, 0)
            if n:
                per.append((-n, code, place_name(paths[code]), n))
        per.sort()
        if per:
            text += "待整改问题较多的有：" + "、".join(f"{p}{numbers.count(n, '条')}" for _, _, p, n in per[:5]) + "。"
    return [{"text": text, "refs": []}]


@sections.register("verification")
def _verification(ctx: sections.Context) -> list[dict] | None:
    """Samples verified in the unit's subtree (抽样核查, ADR 027) for the bulletin's period, else its year: people
    verified and found genuine, the verified-genuine rate, and the people the verification could not find."""
    from gongwei.bulletins import numbers
    from gongwei.service import verification

    code = ctx.tree.code[ctx.unit]
    for period in dict.fromkeys([ctx.period.code, str(ctx.period.year)]):
        v = verification.verified_by_unit(ctx.actor, period, units=[code]).get(code)
        if v is None or v.all is None or not v.all.drawn:
            continue
        r = v.all
        text = f"抽样核查{numbers.count(r.drawn, '人')}，已核实{numbers.count(r.verified, '人')}"
        if r.rate is not None:
            text += f"，核实为真实服务{numbers.count(r.genuine, '人')}，真实率{numbers.percent(r.rate)}"
        if r.fabrication:
            text += f"，查无此人或未接受服务{numbers.count(r.fabrication, '人')}"
        if r.pending:
            text += f"，尚未核实{numbers.count(r.pending, '人')}"
        return [{"text": text + "。", "refs": []}]
    return None


def _as_of(ctx: sections.Context) -> dt.date:
    """The day a provider reads the ledgers at: the period's last day, or today while the period runs."""
    from django.utils import timezone

    return min(ctx.period.end, timezone.localdate())


@sections.register("funds")
def _funds(ctx: sections.Context) -> list[dict] | None:
    """The funds ledger (gongwei.funds, ADR 032) of the unit for the bulletin's year as of the period's end: its
    到位率, 拨付率 and 支出率, then the units below it with the lowest 拨付率 ([city-rectification-2023] lists counties so)."""
    from gongwei.bulletins import numbers
    from gongwei.service import funds

    code, day = ctx.tree.code[ctx.unit], _as_of(ctx)
    got = funds.table(ctx.actor, code, year=ctx.period.year, as_of=day)
    if not got.total.figures.allocated:
        return None
    names = {r.code: r.name for r in got.rates}
    rates = got.total.figures.rates
    shown = "、".join(f"{names[c]}{numbers.percent(v)}" for c, v in rates.items() if v is not None)
    text = f"截至{numbers.date(day)}，{place_name(ctx.tree.name[ctx.unit])}基本公共卫生服务资金{shown}。"
    low = [(r.figures.rate("disbursement_rate"), r.unit.name) for r in got.rows if r.figures.allocated]
    low = sorted((v, n) for v, n in low if v is not None)
    if len(low) > 1:
        text += "拨付率较低的有：" + "、".join(f"{place_name(n)}{numbers.percent(v)}" for v, n in low[:3]) + "。"
    return [{"text": text, "refs": []}]


@sections.register("staffing")
def _staffing(ctx: sections.Context) -> list[dict] | None:
    """Base data (gongwei.supervision, ADR 034) of the unit's subtree as of the period's end, each measure with
    its change since the last entry before it (较上期上升0.04％ as the bureau writes it)."""
    from gongwei.service import base_data

    report = base_data.base_data_by_unit(ctx.actor, ctx.tree.code[ctx.unit], _as_of(ctx))
    if report.as_of is None or not report.rows:
        return None
    parts = []
    for cell in report.unit.cells.values():
        if cell.text == "—":
            continue
        change = f"（较上期{cell.change_text}）" if cell.change_text else ""
        parts.append(f"{cell.name}{cell.text}{change}")
    if not parts:
        return None
    return [{"text": "；".join(parts) + "。", "refs": []}]


@sections.register("supervision")
def _supervision(ctx: sections.Context) -> list[dict] | None:
    """The latest rectification period (第N期) of the bulletin's year in the unit's subtree (gongwei.supervision):
    items found, fixed, overdue and still within their deadline, and the units with overdue items."""
    from gongwei.bulletins import numbers
    from gongwei.service import supervision
    from gongwei.supervision.models import RectificationItem

    code, day = ctx.tree.code[ctx.unit], _as_of(ctx)
    latest = (RectificationItem.objects.filter(org_unit__path__startswith=_subtree_path(ctx),
                                               round__start_date__year=ctx.period.year, round__start_date__lte=day)
              .order_by("-period_no").values_list("period_no", flat=True).first())
    if latest is None:
        return None
    got = supervision.period_report(ctx.actor, code, latest, as_of=day)
    if not got.total:
        return None
    text = (f"第{numbers.chinese(latest)}期督导发现问题{numbers.count(got.total, '个')}，"
            f"已整改{numbers.count(len(got.fixed), '个')}，逾期未整改{numbers.count(len(got.overdue), '个')}，"
            f"尚在整改期限内{numbers.count(len(got.open), '个')}。")
    late = sorted({place_name(r.item.org_unit.name) for r in got.overdue})
    if late:
        text += "存在逾期未整改问题的有：" + "、".join(late[:5]) + "。"
    return [{"text": text, "refs": []}]


# --- the annual evaluation bulletin (issue 14 §1, [shangdang-2023]): its evaluation round, sentences and attachments ----
def _annual_round(code: str, year: int, pinned: int | None = None):
    """The evaluation round a unit ran over the units below it for the year: the latest published one, else the
    latest scored draft (None: no round, so the bulletin's evaluation part says so); ``pinned``: the round a
    bulletin was drafted from (regenerating keeps it)."""
    from gongwei.evaluation import models as em

    rounds = em.Round.objects.filter(root__code=code, year=year, run__gt=0).order_by("-published_at", "-pk")
    if pinned:
        return rounds.filter(pk=pinned).first()
    return rounds.filter(status=em.RoundStatus.PUBLISHED).first() or rounds.first()


def _evaluation_attachments(actor: Actor, code: str, year: int, pinned: int | None = None) -> dict | None:
    """The frozen content of 附件1 绩效评价情况表 (units, score, rank, veto) and 附件2 各单位问题列表 (each lost point with
    its reason) from the year's round."""
    from gongwei.service import evaluation as sev

    rnd = _annual_round(code, year, pinned)
    if rnd is None:
        return None
    got = sev.round_report(actor, rnd.pk)
    return {
        "round": rnd.pk, "title": str(rnd), "status": rnd.status, "scheme": got.scheme.name,
        "units": [{"code": r.code, "name": r.name, "score": round(r.score.score, 2), "rank": r.score.rank,
                   "vetoed": r.score.vetoed} for r in got.rows],
        "problems": [{"unit": row.name, "item": f"{item.code} {item.name}", "lost": round(s.max_points - s.points, 2),
                      "reason": s.reason} for row, item, s in got.lost()],
    }


@sections.register("evaluation")
def _evaluation(ctx: sections.Context) -> list[dict] | None:
    """The year's evaluation round of the units below the bulletin's unit: how many were scored, the average,
    how many at or above the full-funding line and below the no-funding line (spec.funds), the best and the
    lowest, and the items where most units lost points."""
    from gongwei.bulletins import numbers
    from gongwei.spec import funds as spec_funds

    got = ctx.pinned["evaluation"] if "evaluation" in ctx.pinned else _evaluation_attachments(
        ctx.actor, ctx.tree.code[ctx.unit], ctx.period.year, ctx.pinned.get("evaluation_round"))
    if not got or not got["units"]:
        return None
    units = got["units"]
    scores = [u["score"] for u in units]
    full, none_ = spec_funds.ALLOCATION.full_at, spec_funds.ALLOCATION.none_below
    high = sum(s >= full for s in scores)
    low = sum(s < none_ for s in scores)
    text = (f"{ctx.period.year}年按《{got['scheme']}》对{numbers.count(len(units), '个')}单位进行了绩效评价，"
            f"平均得分{numbers.score(sum(scores) / len(scores))}分；{numbers.score(full)}分及以上"
            f"{numbers.count(high, '个')}，{numbers.score(none_)}分以下{numbers.count(low, '个')}。")
    ranked = sorted(units, key=lambda u: (u["rank"], u["code"]))
    text += "得分最高的是" + "、".join(f"{place_name(u['name'])}（{numbers.score(u['score'])}分）" for u in ranked[:1])
    if len(ranked) > 1:
        text += "，最低的是" + f"{place_name(ranked[-1]['name'])}（{numbers.score(ranked[-1]['score'])}分）"
    text += "。"
    vetoed = [place_name(u["name"]) for u in units if u["vetoed"]]
    if vetoed:
        text += f"{'、'.join(vetoed)}因弄虚作假实行一票否决。"
    by_item: dict[str, int] = {}
    for p in got["problems"]:
        by_item[p["item"]] = by_item.get(p["item"], 0) + 1
    sentences = [{"text": text, "refs": []}]
    if by_item:
        top = sorted(by_item.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        sentences.append({"text": "失分较多的项目有：" + "；".join(
            f"{item.split(' ', 1)[-1]}（{numbers.count(n, '个')}单位失分）" for item, n in top)
            + "。各单位失分情况见附件2。", "refs": []})
    return sentences
