"""Household coverage (村不漏户、户不漏人, issue 13 §6, ADR 033): import a household or population list from another
authority (public security, civil affairs), match its people to the register, and report per village the listed
people missing from the register, the registered residents not on the list, and the coverage rate.

Matching is one read of the register for the unit's subtree and a join in memory (no query per row): first the
identity number, validated by its GB 11643 check digit with python-stdnum, exactly; then, for listed people not
found that way, the same name and birth date among the active residents of the same village (a probable match).
The list is sensitive: identity numbers are masked as the role requires and every view of its people is audited.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import secrets
from dataclasses import dataclass, field

import numpy as np
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from gongwei.records import identity
from gongwei.records import models as rm
from gongwei.service import audit
from gongwei.service.access import Actor
from gongwei.service.errors import BadRequest, NotFound
from gongwei.service.verification import _check_may_sample, _user
from gongwei.spec import coverage as spec
from gongwei.spec.coverage import ListAuthority, Match
from gongwei.spec.vocab import AccessKind, IdStatus, OrgLevel, ResidentStatus
from gongwei.verification.models import CoverageEntry, CoverageImport

USABLE_ID = frozenset({IdStatus.VALID, IdStatus.UPGRADED})
TEMPLATE_TEXT = "、".join([*spec.TEMPLATE_COLUMNS, *(f"{c}（可选）" for c in spec.OPTIONAL_COLUMNS)])


# --- reading the file ------------------------------------------------------------------------------------------------
def _table(file_name: str, content: bytes) -> list[list[str]]:
    name = (file_name or "").lower()
    if name.endswith(".csv"):
        for encoding in ("utf-8-sig", "gb18030"):  # WPS and Excel on Chinese Windows save CSV as GB18030
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise BadRequest(f"文件“{file_name}”无法读取：CSV 应为 UTF-8 或 GB18030 编码")
        return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds on a file that is not a workbook
            raise BadRequest(f"文件“{file_name}”不是有效的 XLSX 工作簿") from None
        ws = wb.worksheets[0]
        rows = [["" if c is None else (c.isoformat() if isinstance(c, dt.date) else str(c)).strip() for c in row]
                for row in ws.iter_rows(values_only=True)]
        wb.close()
        return rows
    raise BadRequest(f"文件“{file_name}”的类型不对：应为户籍人口名单模板（.xlsx 或 .csv）")


def _birth(text: str, row_no: int) -> dt.date | None:
    text = (text or "").strip()[:10]
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        raise BadRequest(f"第 {row_no} 行：出生日期“{text}”无效，应为 YYYY-MM-DD") from None


@dataclass
class _Row:
    row_no: int
    id_number: str
    id_valid: bool
    name: str
    household_no: str
    village_code: str
    birth_date: dt.date | None


def _rows(file_name: str, content: bytes) -> list[_Row]:
    table = [r for r in _table(file_name, content) if any(r)]
    if not table:
        raise BadRequest(f"文件“{file_name}”是空的：应为户籍人口名单模板，列为 {TEMPLATE_TEXT}")
    header = table[0]
    missing = [c for c in spec.TEMPLATE_COLUMNS if c not in header]
    if missing:
        raise BadRequest(f"文件“{file_name}”不是户籍人口名单模板：缺少列 {'、'.join(missing)}（模板列为 {TEMPLATE_TEXT}）")
    if len(table) - 1 > spec.MAX_ROWS:
        raise BadRequest(f"名单过大：{len(table) - 1} 行，最多 {spec.MAX_ROWS} 行，请按乡镇分开导入")
    at = {spec.TEMPLATE_COLUMNS.get(c) or spec.OPTIONAL_COLUMNS.get(c): i for i, c in enumerate(header)
          if c in spec.TEMPLATE_COLUMNS or c in spec.OPTIONAL_COLUMNS}

    def cell(r: list[str], key: str) -> str:
        i = at.get(key)
        return r[i].strip() if i is not None and i < len(r) else ""

    body = table[1:]
    # the whole column at once: the per-number check costs milliseconds, a county's list has tens of thousands
    numbers, statuses = identity.check_many(np.array([cell(r, "id_number") for r in body], dtype=object))
    out = []
    for n, (r, number, status) in enumerate(zip(body, numbers, statuses, strict=True), start=2):  # 1: the header
        name = cell(r, "name")
        if not name:
            raise BadRequest(f"第 {n} 行：姓名不能为空")
        village = cell(r, "village_code")
        if not village:
            raise BadRequest(f"第 {n} 行：村（社区）代码不能为空")
        valid = status in USABLE_ID
        born = _birth(cell(r, "birth_date"), n) or (
            dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])) if valid else None)
        out.append(_Row(n, str(number), valid, name, cell(r, "household_no"), village, born))
    return out


# --- import ----------------------------------------------------------------------------------------------------------
@dataclass
class VillageCoverage:
    village_code: str
    village_name: str
    listed: int = 0
    exact: int = 0
    probable: int = 0
    missing: int = 0  # on the list, not in the register (漏人)
    households: int = 0
    households_missing: int = 0  # households none of whose listed people is in the register (漏户)
    not_on_list: int = 0  # active residents managed by the village whom the list does not name

    @property
    def found(self) -> int:
        return self.exact + self.probable

    @property
    def coverage(self) -> float | None:
        return self.found / self.listed if self.listed else None


@dataclass
class PersonRow:
    kind: str  # missing (on the list only) / not_on_list (in the register only)
    village_code: str
    village_name: str
    name: str
    id_number: str  # masked as the role requires
    household_no: str
    record_no: str


@dataclass
class CoverageReport:
    import_no: str
    authority: str
    authority_name: str
    unit_code: str
    unit_name: str
    file_name: str
    file_hash: str
    rows: int
    created_by: str
    created_at: dt.datetime
    villages: list[VillageCoverage] = field(default_factory=list)
    people: list[PersonRow] = field(default_factory=list)
    total: VillageCoverage | None = None


def import_list(actor: Actor, org: str, authority: str, file_name: str, content: bytes) -> CoverageReport:
    """Import a household or population list of ``org``'s villages from ``authority`` and match it to the
    register. A file that is not the template, or a row naming a village outside ``org``, refuses the whole file:
    nothing is written."""
    _check_may_sample(actor)
    if authority not in ListAuthority.codes():
        raise BadRequest(f"名单来源“{authority}”无效：应为 "
                         + "、".join(f"{a.value}（{a.zh}）" for a in ListAuthority) + " 之一")
    place = rm.OrgUnit.objects.filter(code=(org or "").strip()).first()
    if place is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(place.path, f"机构 {place.name}（{place.code}）")
    rows = _rows(file_name, content)
    villages = {u.code: u for u in rm.OrgUnit.objects.filter(path__startswith=place.path, level=OrgLevel.VILLAGE)}
    for r in rows:
        if r.village_code not in villages:
            raise BadRequest(f"第 {r.row_no} 行：村（社区）代码 {r.village_code} 不是{place.name}（{place.code}）下属的村（社区）")
    # one read of the register for the subtree, then joins in memory
    residents = list(rm.Resident.objects.filter(managing_unit__path__startswith=place.path,
                                                status=ResidentStatus.ACTIVE)
                     .values_list("pk", "id_number", "name", "birth_date", "managing_unit_id"))
    by_id = {}
    for pk, number, *_ in residents:
        if number:
            by_id.setdefault(number, pk)
    by_person: dict[tuple, list[int]] = {}
    for pk, _number, name, born, unit in residents:
        by_person.setdefault((unit, name, born), []).append(pk)
    used: set[int] = set()
    matched: list[tuple[_Row, str, int | None]] = []
    for r in rows:  # exact matches first, so a probable match never takes a resident an exact one names
        pk = by_id.get(r.id_number) if r.id_valid else None
        if pk is not None and pk not in used:
            used.add(pk)
            matched.append((r, Match.EXACT, pk))
        else:
            matched.append((r, "", None))
    for i, (r, how, _) in enumerate(matched):
        if how:
            continue
        candidates = [pk for pk in by_person.get((villages[r.village_code].pk, r.name, r.birth_date), [])
                      if pk not in used] if r.birth_date else []
        if candidates:
            used.add(candidates[0])
            matched[i] = (r, Match.PROBABLE, candidates[0])
        else:
            matched[i] = (r, Match.MISSING, None)
    now_no = f"HJ{timezone.now():%Y%m%d}{secrets.token_hex(3).upper()}"
    with transaction.atomic():
        imp = CoverageImport.objects.create(
            import_no=now_no, authority=authority, org_unit=place, file_name=(file_name or "")[:200],
            file_hash=hashlib.sha256(content).hexdigest(), rows=len(rows), created_by=_user(actor),
            created_by_label=actor.label)
        CoverageEntry.objects.bulk_create([
            CoverageEntry(coverage_import=imp, row_no=r.row_no, village=villages[r.village_code],
                          id_number=r.id_number[:40], id_valid=r.id_valid, name=r.name[:50],
                          household_no=r.household_no[:40], birth_date=r.birth_date, match=how, resident_id=pk)
            for r, how, pk in matched], batch_size=2000)
    return report(actor, imp.import_no)


# --- report ----------------------------------------------------------------------------------------------------------
def imports(actor: Actor, org: str) -> list[CoverageImport]:
    """Lists imported for ``org``'s subtree (newest first), without their people."""
    place = rm.OrgUnit.objects.filter(code=org).first()
    if place is None:
        raise NotFound(f"机构代码 {org} 不存在")
    actor.check_path(place.path, f"机构 {place.name}（{place.code}）")
    qs = CoverageImport.objects.filter(org_unit__path__startswith=place.path).select_related("org_unit")
    return [i for i in qs.order_by("-created_at", "-id") if actor.sees_path(i.org_unit.path)]


def report(actor: Actor, import_no: str, *, village: str = "", people_limit: int = 500) -> CoverageReport:
    """Per village of an import: listed, matched exactly or probably, missing from the register (漏人), households
    none of whose people is registered (漏户), and active residents the list does not name — from grouped queries.
    With the people behind the gaps (``village``: only that village's), identity numbers masked as the role
    requires; the view is audited."""
    imp = CoverageImport.objects.select_related("org_unit").filter(import_no=(import_no or "").strip()).first()
    if imp is None:
        raise NotFound(f"名单导入 {import_no} 不存在")
    actor.check_path(imp.org_unit.path, f"名单导入 {imp.import_no}（{imp.org_unit.name}）")
    entries = CoverageEntry.objects.filter(coverage_import=imp)
    counts = entries.values("village_id", "match").annotate(n=Count("id"))
    households = (entries.exclude(household_no="").values("village_id", "household_no")
                  .annotate(n=Count("id"), found=Count("resident_id")))
    village_ids = set(entries.values_list("village_id", flat=True).distinct())
    matched_ids = entries.filter(resident__isnull=False).values("resident_id")
    outside = (rm.Resident.objects.filter(managing_unit_id__in=village_ids, status=ResidentStatus.ACTIVE)
               .exclude(pk__in=matched_ids))
    not_on_list = dict(outside.values_list("managing_unit_id").annotate(n=Count("id")))
    units = {u.pk: u for u in rm.OrgUnit.objects.filter(pk__in=village_ids)}
    by: dict[int, VillageCoverage] = {pk: VillageCoverage(u.code, u.name) for pk, u in units.items()}
    for c in counts:
        v = by[c["village_id"]]
        v.listed += c["n"]
        setattr(v, c["match"], getattr(v, c["match"]) + c["n"])  # the match codes name the counters
    for h in households:
        v = by[h["village_id"]]
        v.households += 1
        v.households_missing += h["found"] == 0
    for pk, n in not_on_list.items():
        by[pk].not_on_list = n
    villages = sorted(by.values(), key=lambda v: v.village_code)
    total = VillageCoverage(imp.org_unit.code, imp.org_unit.name)
    for v in villages:
        for f in ("listed", "exact", "probable", "missing", "households", "households_missing", "not_on_list"):
            setattr(total, f, getattr(total, f) + getattr(v, f))
    wanted = [pk for pk, u in units.items() if not village or u.code == village]
    people = [PersonRow("missing", units[e.village_id].code, units[e.village_id].name, e.name,
                        actor.mask_id(e.id_number) or "", e.household_no, "")
              for e in entries.filter(match=Match.MISSING, village_id__in=wanted).order_by("village_id", "row_no")
              [:people_limit]]
    people += [PersonRow("not_on_list", units[r.managing_unit_id].code, units[r.managing_unit_id].name, r.name,
                         actor.mask_id(r.id_number) or "", "", r.record_no)
               for r in outside.filter(managing_unit_id__in=wanted).order_by("managing_unit_id", "record_no")
               [:people_limit]]
    audit.viewed(actor, AccessKind.LIST, scope=imp.org_unit.code,
                 purpose=f"户籍名单核对 {imp.import_no}"[:100], record_nos=[p.record_no for p in people],
                 count=len(people))
    return CoverageReport(imp.import_no, imp.authority, ListAuthority(imp.authority).zh, imp.org_unit.code,
                          imp.org_unit.name, imp.file_name, imp.file_hash, imp.rows, imp.created_by_label,
                          imp.created_at, villages, people, total)
