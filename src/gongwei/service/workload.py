"""Workload (工作量, issue 12): service equivalents per institution and per staff member over a period, from the
records — one grouped query per service type (count by unit path and provider), the weights of
:mod:`gongwei.spec.workload` applied to the grouped counts, never a loop over service records. Voided records do not
count. Scoped to the actor's subtree; staff are named (they are not residents) by their staff code and name."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal, InvalidOperation

from django.apps import apps
from django.db.models import Count

from gongwei.records import models as rm
from gongwei.service import navigation
from gongwei.service.access import Actor
from gongwei.service.analysis import period_of
from gongwei.service.errors import BadRequest
from gongwei.spec import workload as spec


@dataclass
class Line:
    """Counts per service type and their weighted sum."""

    label: str
    code: str
    counts: dict[str, int] = field(default_factory=dict)
    equivalents: float = 0.0

    def add(self, model: str, n: int, weight: float) -> None:
        self.counts[model] = self.counts.get(model, 0) + n
        self.equivalents = round(self.equivalents + n * weight, 4)


@dataclass
class Workload:
    unit: rm.OrgUnit
    period: str
    types: tuple[spec.Weight, ...]
    units: list[Line]  # the unit's own line first, then each unit just below it (its subtree), by equivalents
    staff: list[Line]  # staff of the subtree by equivalents, highest first; records without a provider: "未注明"


def _counts(root: rm.OrgUnit, period):
    """(model, unit path, provider id, n) for every service type: one grouped query each."""
    for w in spec.WEIGHTS:
        model = apps.get_model("records", w.model)
        rows = (model.objects.filter(is_void=False, service_date__gte=period.start, service_date__lte=period.end,
                                     org_unit__path__startswith=root.path)
                .values("org_unit__path", "provider_id").annotate(n=Count("id")))
        for r in rows:
            yield w, r["org_unit__path"], r["provider_id"], r["n"]


def workload(actor: Actor, code: str, period: str) -> Workload:
    here = navigation.place(actor, code)
    root = rm.OrgUnit.objects.get(code=here.code)
    asked = period_of(period, "统计期间")
    children = {c.path: c for c in rm.OrgUnit.objects.filter(parent=root)}
    depth = root.path.strip("/").count("/") + 1  # segments in the root's path
    own = Line(f"{root.name}（合计）", root.code)
    below = {p: Line(c.name, c.code) for p, c in children.items()}
    by_staff: dict[int | None, Line] = {}
    for w, path, provider, n in _counts(root, asked):  # grouped rows: units × providers × types
        own.add(w.model, n, w.weight)
        head = "/" + "/".join(path.strip("/").split("/")[:depth + 1]) + "/"
        if head in below:
            below[head].add(w.model, n, w.weight)
        by_staff.setdefault(provider, Line("", "")).add(w.model, n, w.weight)
    staff = {s.pk: s for s in rm.Staff.objects.filter(pk__in=[k for k in by_staff if k is not None])}
    for pk, line in by_staff.items():
        s = staff.get(pk)
        line.label, line.code = (s.name, s.code) if s is not None else ("未注明服务医生", "")
    units = sorted(below.values(), key=lambda x: (-x.equivalents, x.code))
    return Workload(root, asked.code, spec.WEIGHTS, [own, *units],
                    sorted(by_staff.values(), key=lambda x: (-x.equivalents, x.code)))


FEN = Decimal("0.01")


@dataclass(frozen=True)
class Share:
    line: Line
    share: float  # of the pool, 0–1
    amount: Decimal  # yuan, to the fen


def parse_pool(text: str) -> Decimal | None:
    """A pool typed on the page (yuan); empty → None. Refused in Chinese when not a positive amount."""
    text = (text or "").strip().replace(",", "").replace("，", "")
    if not text:
        return None
    try:
        pool = Decimal(text)
    except InvalidOperation:
        raise BadRequest(f"分配金额“{text}”不是数字（单位：元）") from None
    if not pool.is_finite() or pool <= 0 or pool != pool.quantize(FEN) or pool >= Decimal("1e12"):
        raise BadRequest(f"分配金额“{text}”应为大于 0、最多两位小数的金额（单位：元）")
    return pool


def allocate(pool: Decimal, lines: list[Line]) -> list[Share]:
    """Split ``pool`` among ``lines`` in proportion to their service equivalents (按工作量分配, pay for performance
    [shangdang-2023]): each amount rounded down to the fen, the fen left over given one each to the largest
    remainders, so the amounts add up to the pool exactly. Lines without equivalents get nothing; so does
    work no staff member is named on (``code`` empty) — it is shown, not paid."""
    paid = [i for i, x in enumerate(lines) if x.code and x.equivalents > 0]
    weights = {i: Decimal(str(lines[i].equivalents)) for i in paid}
    total = sum(weights.values())
    if not paid or total <= 0:
        return [Share(x, 0.0, Decimal("0.00")) for x in lines]
    exact = {i: pool * w / total for i, w in weights.items()}
    amount = {i: v.quantize(FEN, rounding=ROUND_DOWN) for i, v in exact.items()}
    left = int((pool - sum(amount.values())) / FEN)  # fewer fen than lines paid
    for i in sorted(paid, key=lambda i: (amount[i] - exact[i], lines[i].code))[:left]:
        amount[i] += FEN
    zero = Decimal("0.00")
    return [Share(x, float(amount.get(i, zero) / pool), amount.get(i, zero)) for i, x in enumerate(lines)]


__all__ = ["Line", "Share", "Workload", "allocate", "parse_pool", "workload"]
