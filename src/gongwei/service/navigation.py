"""The org tree as a login walks it: where it lands, the breadcrumb above a unit, the units below it.

Read from the database's org units (small: a city has a few thousand), scoped like everything else: a unit
outside the actor's subtree is refused, and the breadcrumb starts at the actor's own unit (a village doctor
sees no link to the county).
"""

from __future__ import annotations

from dataclasses import dataclass

from gongwei.records import models as m
from gongwei.service.access import Actor
from gongwei.service.errors import NotFound, Refused


@dataclass(frozen=True)
class Place:
    id: int
    code: str
    name: str
    level: str
    path: str

    @classmethod
    def of(cls, unit: m.OrgUnit) -> Place:
        return cls(unit.pk, unit.code, unit.name, unit.level, unit.path)

    @property
    def label(self) -> str:
        return f"{self.name}（{self.code}）"


def landing(actor: Actor) -> Place:
    """The unit a login starts from: its own; for a system-wide login, the top of the tree."""
    if actor.scope.nothing:
        raise Refused("您的登录未分配机构，请联系系统管理员")
    if actor.scope.path:
        unit_id = int(actor.scope.path.strip("/").split("/")[-1])
        unit = m.OrgUnit.objects.filter(pk=unit_id).first()
    else:
        unit = m.OrgUnit.objects.filter(parent__isnull=True, is_active=True).order_by("code").first()
    if unit is None:
        raise NotFound("尚无机构数据：请先导入或生成机构")
    return Place.of(unit)


def place(actor: Actor, code: str) -> Place:
    """The unit with ``code``, refused outside the actor's subtree."""
    unit = m.OrgUnit.objects.filter(code=code).first()
    if unit is None:
        raise NotFound(f"机构代码 {code} 不存在")
    actor.check_path(unit.path, f"机构 {unit.name}（{unit.code}）")
    return Place.of(unit)


def breadcrumb(actor: Actor, at: Place) -> list[Place]:
    """From the highest unit the actor may see down to ``at`` (inclusive)."""
    ids = [int(x) for x in at.path.strip("/").split("/") if x]
    units = {u.pk: u for u in m.OrgUnit.objects.filter(pk__in=ids)}
    return [Place.of(units[i]) for i in ids if i in units and actor.sees_path(units[i].path)]


def children(actor: Actor, at: Place) -> list[Place]:
    actor.check_path(at.path, f"机构 {at.label}")
    return [Place.of(u) for u in m.OrgUnit.objects.filter(parent_id=at.id, is_active=True).order_by("code")]
