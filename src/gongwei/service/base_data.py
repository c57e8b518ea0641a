"""Base data per unit and date, with its source (基础数据, issue 13 §5, ADR 034): entry by the responsible level,
import from the XLSX template, and the figures rolled up to a unit with their change since the last period.

History: every value is a dated row with its source; a correction is a new row (the latest entry for a unit,
measure and date wins), nothing is overwritten. "As of" a date means each unit's latest value dated on or
before it. A unit's figure is the sum over its subtree (:func:`gongwei.engine.orgs.roll_up`); a ratio
(空编率, 培训覆盖率) is the ratio of the summed parts, never an average of rates.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
from django.db import transaction

from gongwei.engine.orgs import roll_up
from gongwei.files import append_text_safe, save_workbook
from gongwei.records import models as rm
from gongwei.service.access import Actor
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.spec.supervision import BOUNDS, MEASURES, RATIOS, SOURCE_MAX, VALUE_MAX, Kind, Measure
from gongwei.spec.vocab import ORG_LEVEL_DEPTH, OrgLevel, Role
from gongwei.supervision.models import BaseDataValue

# who reports base data: the administrators of a township and the bureau's supervisors (evaluators read it)
ENTRY_ROLES = frozenset({Role.TOWNSHIP_ADMIN, Role.SUPERVISOR, Role.SYSTEM_ADMIN})
TEMPLATE_FIXED = ("机构代码", "截至日期", "来源")


# --- results ------------------------------------------------------------------------------------------------
@dataclass
class Cell:
    """One measure (or ratio) of one unit: now, at the last period, and what the change reads like."""

    code: str
    name: str
    kind: str
    value: float | int | None = None  # COUNT: the sum; FLAG: institutions with it; ratio: 0–1
    of: int | None = None  # FLAG: institutions reporting
    previous: float | int | None = None
    counts: dict[str, int] = field(default_factory=dict)  # GRADE / STATUS: units per code
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def change(self) -> float | int | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def text(self) -> str:
        if self.kind == "ratio":
            return "—" if self.value is None else f"{self.value * 100:.2f}%"
        if self.kind == Kind.FLAG:
            return "—" if self.of is None else f"{self.of}家中{self.value}家"
        if self.kind in (Kind.GRADE, Kind.STATUS):
            return "；".join(f"{self.labels[c]}{n}" for c, n in self.counts.items() if n) or "—"
        return "—" if self.value is None else f"{int(self.value)}"

    @property
    def change_text(self) -> str:
        """较上期 as the bureau writes it: 上升0.04％ (percentage points, two decimals), 增加5个, 持平."""
        d = self.change
        if d is None:
            return ""
        if self.kind == "ratio":
            points = round(d * 100, 2)
            return "持平" if points == 0 else f"{'上升' if points > 0 else '下降'}{abs(points):.2f}％"
        d = int(d)
        return "持平" if d == 0 else f"{'增加' if d > 0 else '减少'}{abs(d)}个"


@dataclass
class UnitFigures:
    code: str
    name: str
    cells: dict[str, Cell]


@dataclass
class BaseDataReport:
    code: str
    name: str
    as_of: dt.date | None
    previous_as_of: dt.date | None
    rows: list[UnitFigures]  # the unit first, then its children
    sources: list[str]

    @property
    def unit(self) -> UnitFigures:
        return self.rows[0]


# --- helpers ------------------------------------------------------------------------------------------------
def _unit(actor: Actor, code: str) -> rm.OrgUnit:
    unit = rm.OrgUnit.objects.filter(code=(code or "").strip()).first()
    if unit is None:
        raise NotFound(f"机构代码 {code} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    return unit


def _own_depth(actor: Actor) -> int:
    """Depth of the actor's own unit (0 = province); the operator and system-wide logins stand at the top."""
    if actor.user is None or actor.scope.everything:
        return -1
    own = int(actor.scope.path.strip("/").split("/")[-1])
    level = rm.OrgUnit.objects.filter(pk=own).values_list("level", flat=True).first()
    return ORG_LEVEL_DEPTH.get(OrgLevel(level), 99) if level else 99


def may_enter(actor: Actor) -> bool:
    return actor.resident_id is None and (actor.user is None or actor.scope.everything
                                          or actor.role in ENTRY_ROLES)


def _check_entry(actor: Actor, measure: Measure, unit: rm.OrgUnit) -> None:
    if not may_enter(actor):
        raise Refused("只有乡镇管理员、县市督导员和系统管理员可以填报基础数据")
    if unit.level not in measure.levels:
        levels = "、".join(OrgLevel(x).zh for x in sorted(measure.levels, key=lambda x: ORG_LEVEL_DEPTH[OrgLevel(x)]))
        raise BadRequest(f"{measure.name}按{levels}填报，{unit.name}（{unit.code}）是{OrgLevel(unit.level).zh}")
    if _own_depth(actor) > ORG_LEVEL_DEPTH[measure.responsible]:
        raise Refused(f"{measure.name}由{measure.responsible.zh}及以上填报，您的机构层级较低")


def _date(value, what: str = "截至日期") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value or "").strip())
    except ValueError:
        raise BadRequest(f"{what}“{value}”无效：应为日期，如 2025-06-30") from None


def _parse(measure: Measure, raw) -> tuple[int | None, str]:
    """A typed cell as (number, code), refused with the measure's name and rule."""
    text = str(raw).strip() if raw is not None else ""
    if measure.kind in (Kind.GRADE, Kind.STATUS):
        by_label = {m.zh: m.value for m in measure.codes}
        code = by_label.get(text, text)
        if code not in measure.codes.codes():
            allowed = "、".join(m.zh for m in measure.codes)
            raise BadRequest(f"{measure.name}“{text}”无效：应为{allowed}之一")
        return None, code
    if measure.kind == Kind.FLAG:
        flag = {"是": 1, "1": 1, "已开通": 1, "否": 0, "0": 0, "未开通": 0}.get(text)
        if flag is None:
            raise BadRequest(f"{measure.name}“{text}”无效：应填 是 或 否")
        return flag, ""
    try:
        number = int(float(text)) if text and float(text) == int(float(text)) else None
    except ValueError:
        number = None
    if number is None or not 0 <= number <= VALUE_MAX:
        raise BadRequest(f"{measure.name}“{text}”无效：应为 0 至 {VALUE_MAX} 之间的整数")
    return number, ""


def _latest(units: list[int], as_of: dt.date) -> dict[tuple[int, str], BaseDataValue]:
    """Each unit's latest value of each measure dated on or before ``as_of`` (later entries win a tie)."""
    latest: dict[tuple[int, str], BaseDataValue] = {}
    qs = BaseDataValue.objects.filter(org_unit_id__in=units, as_of__lte=as_of).order_by("as_of", "id")
    for v in qs.iterator():
        latest[(v.org_unit_id, v.measure)] = v
    return latest


# --- entry --------------------------------------------------------------------------------------------------
def _validated(actor: Actor, unit: rm.OrgUnit, as_of: dt.date, values: dict[str, object], source: str,
               where: str = "") -> list[BaseDataValue]:
    source = (source or "").strip()
    if not source:
        raise BadRequest(f"{where}来源不能为空：请写明数据出处（如 编办核定文件、县卫健局统计表）")
    if len(source) > SOURCE_MAX:
        raise BadRequest(f"{where}来源过长：不超过 {SOURCE_MAX} 字")
    given = {k: v for k, v in values.items() if v is not None and str(v).strip() != ""}
    if not given:
        raise BadRequest(f"{where}没有填写任何数值")
    rows, numbers = [], {}
    for code, raw in given.items():
        measure = MEASURES.get(code)
        if measure is None:
            raise BadRequest(f"{where}未知的基础数据项目“{code}”")
        _check_entry(actor, measure, unit)
        try:
            number, text = _parse(measure, raw)
        except BadRequest as exc:
            raise BadRequest(f"{where}{exc}") from None
        numbers[code] = number
        rows.append(BaseDataValue(org_unit=unit, measure=code, as_of=as_of, number=number, code=text, source=source,
                                  entered_by=actor.user if getattr(actor.user, "pk", None) else None,
                                  entered_label=actor.label))
    stored = _latest([unit.pk], as_of)
    for part, whole in BOUNDS:
        p = numbers.get(part, getattr(stored.get((unit.pk, part)), "number", None))
        w = numbers.get(whole, getattr(stored.get((unit.pk, whole)), "number", None))
        if (part in numbers or whole in numbers) and p is not None and w is not None and p > w:
            pn, wn = MEASURES[part].name, MEASURES[whole].name
            raise BadRequest(f"{where}{pn} {p} 大于{wn} {w}：{pn}不能超过{wn}（{unit.name}，{as_of}）")
    return rows


def record(actor: Actor, org: str, as_of, values: dict[str, object], *, source: str) -> int:
    """Record base data of unit ``org`` as of a date (``values``: measure code → typed text). All or nothing;
    returns how many values were written."""
    unit = _unit(actor, org)
    rows = _validated(actor, unit, _date(as_of), values, source)
    with transaction.atomic():
        BaseDataValue.objects.bulk_create(rows)
    return len(rows)


def write_template(path: Path) -> Path:
    """The XLSX import template: one row per unit and date, one column per measure."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "基础数据"
    append_text_safe(ws, [*TEMPLATE_FIXED, *(m.name for m in MEASURES.values())])
    return save_workbook(wb, Path(path))


def import_xlsx(actor: Actor, path_or_file) -> int:
    """Import the template: every row checked first (scope, level, values, bounds); any error refuses the whole
    file naming the row, and nothing is written. Returns how many values were written."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path_or_file, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 — openpyxl raises many kinds on a file that is not XLSX
        raise BadRequest("文件无法读取：应为基础数据导入模板（.xlsx）") from None
    ws = wb.worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    wb.close()
    by_name = {m.name: m.code for m in MEASURES.values()}
    header = [str(h).strip() if h is not None else "" for h in (rows[0] if rows else [])]
    if tuple(header[:3]) != TEMPLATE_FIXED or not header[3:] or any(h and h not in by_name for h in header[3:]):
        raise BadRequest(f"文件不是基础数据导入模板：第1行应为 {'、'.join(TEMPLATE_FIXED)} 及项目名称")
    batch = f"IMP{dt.datetime.now():%Y%m%d%H%M%S}{secrets.token_hex(2).upper()}"
    written: list[BaseDataValue] = []
    for n, row in enumerate(rows[1:], start=2):
        if not row or all(c is None or str(c).strip() == "" for c in row):
            continue
        where = f"第{n}行："
        code = str(row[0] or "").strip()
        try:
            unit = _unit(actor, code)
            as_of = _date(row[1])
        except (BadRequest, NotFound, Refused) as exc:
            raise type(exc)(f"{where}{exc}") from None
        values = {by_name[h]: row[i] for i, h in enumerate(header) if i >= 3 and h and i < len(row)}
        try:
            found = _validated(actor, unit, as_of, values, str(row[2] or ""), where)
        except Refused as exc:
            raise Refused(f"{where}{exc}") from None
        for v in found:
            v.batch = batch
        written.extend(found)
    if not written:
        raise BadRequest("文件中没有数据行")
    with transaction.atomic():
        BaseDataValue.objects.bulk_create(written)
    return len(written)


# --- readers ------------------------------------------------------------------------------------------------
def _dates(subtree: list[int], before: dt.date | None = None) -> list[dt.date]:
    qs = BaseDataValue.objects.filter(org_unit_id__in=subtree)
    if before is not None:
        qs = qs.filter(as_of__lt=before)
    return list(qs.order_by("-as_of").values_list("as_of", flat=True).distinct()[:1])


def _figures(shown: list[rm.OrgUnit], subtree: list[rm.OrgUnit], as_of: dt.date | None) -> dict[int, dict]:
    """Per shown unit, per key (measure, or measure:code) the rolled-up (value, reporting units)."""
    if as_of is None:
        return {u.pk: {} for u in shown}
    latest = _latest([u.pk for u in subtree], as_of)
    ids, keys, values, reported = [], [], [], []
    for (unit, code), v in latest.items():
        kind = MEASURES[code].kind if code in MEASURES else None
        if kind is None:
            continue
        ids.append(unit)
        keys.append(f"{code}:{v.code}" if kind in (Kind.GRADE, Kind.STATUS) else code)
        values.append(1 if kind in (Kind.GRADE, Kind.STATUS) else v.number)
        reported.append(1)
    shown_ids = {u.pk for u in shown}
    pairs_u, pairs_a = [], []
    for u in subtree:  # metadata-sized: the units below the one asked for
        for a in (int(x) for x in u.path.strip("/").split("/")):
            if a in shown_ids:
                pairs_u.append(u.pk)
                pairs_a.append(a)
    per_unit = pa.table({"org_unit_id": pa.array(ids, pa.int64()), "key": pa.array(keys, pa.string()),
                         "value": pa.array(values, pa.int64()), "reported": pa.array(reported, pa.int64())})
    pairs = pa.table({"unit_id": pa.array(pairs_u, pa.int64()), "ancestor_id": pa.array(pairs_a, pa.int64())})
    up = roll_up(per_unit, pairs, ["value", "reported"], by=["key"])
    out: dict[int, dict] = {u.pk: {} for u in shown}
    for r in up.to_pylist():
        out[r["org_unit_id"]][r["key"]] = (r["value"], r["reported"])
    return out


def _cells(now: dict, before: dict) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    for code, m in MEASURES.items():
        c = Cell(code, m.name, m.kind)
        if m.kind in (Kind.GRADE, Kind.STATUS):
            c.labels = {x.value: x.zh for x in m.codes}
            c.counts = {x.value: now.get(f"{code}:{x.value}", (0, 0))[0] for x in m.codes}
        elif code in now:
            c.value, c.of = now[code]
            if m.kind == Kind.COUNT:
                c.of = None
            if code in before:
                c.previous = before[code][0]
        cells[code] = c
    for code, r in RATIOS.items():
        c = Cell(code, r.name, "ratio")
        for figures, attr in ((now, "value"), (before, "previous")):
            num, den = figures.get(r.numerator, (None, 0))[0], figures.get(r.denominator, (None, 0))[0]
            if num is not None and den:
                setattr(c, attr, num / den)
        cells[code] = c
    return cells


def base_data_by_unit(actor: Actor, org: str, as_of=None, *, previous=None) -> BaseDataReport:
    """The base data of ``org`` and each unit below it, as of ``as_of`` (default: the latest date entered in the
    subtree) with the change since ``previous`` (default: the latest date entered before it) — a bulletin's
    "空编率为34.67％、较上期上升0.04％"."""
    unit = _unit(actor, org)
    subtree = list(rm.OrgUnit.objects.filter(path__startswith=unit.path))
    ids = [u.pk for u in subtree]
    at = _date(as_of) if as_of else next(iter(_dates(ids)), None)
    before = _date(previous, "上期日期") if previous else (next(iter(_dates(ids, at)), None) if at else None)
    shown = [unit, *sorted((u for u in subtree if u.parent_id == unit.pk), key=lambda u: u.code)]
    now, then = _figures(shown, subtree, at), _figures(shown, subtree, before)
    rows = [UnitFigures(u.code, u.name, _cells(now[u.pk], then[u.pk])) for u in shown]
    sources = sorted(set(BaseDataValue.objects.filter(org_unit_id__in=ids, as_of__lte=at).values_list(
        "source", flat=True))) if at else []
    return BaseDataReport(unit.code, unit.name, at, before, rows, sources)


def history(actor: Actor, org: str, limit: int = 50) -> list[BaseDataValue]:
    """The values entered for ``org`` and the units below it, newest first (corrections included: nothing is
    overwritten)."""
    unit = _unit(actor, org)
    return list(BaseDataValue.objects.filter(org_unit__path__startswith=unit.path).select_related("org_unit")
                .order_by("-as_of", "-id")[:limit])


def measure_name(code: str) -> str:
    return MEASURES[code].name if code in MEASURES else code
