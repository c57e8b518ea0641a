"""Which part of the org tree a login may see: the one place every admin query is scoped.

A staff login sees the subtree of its own org unit (``Staff.org_unit.path``, a materialised path such
as ``/1/7/42/``); a superuser or a ``system_admin`` sees everything; a login without a staff profile
sees nothing. Every model of :mod:`gongwei.records` is mapped to the lookup that leads from it to the
org unit it belongs to (:data:`SCOPE_LOOKUPS`), so scoping a queryset is one ``path__startswith``
filter on an indexed column.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db import models

from gongwei.records import models as m
from gongwei.spec import vocab as v


@dataclass(frozen=True)
class Scope:
    """What one login may see: everything, nothing, or the subtree under ``path``."""

    everything: bool = False
    path: str | None = None  # materialised path of the login's org unit; None with everything=False → nothing
    role: str = ""

    @property
    def nothing(self) -> bool:
        return not self.everything and not self.path

    def ancestor_paths(self) -> list[str]:
        """Paths of the strict ancestors of the login's unit (``/1/``, ``/1/7/`` for ``/1/7/42/``)."""
        if not self.path:
            return []
        parts = [p for p in self.path.split("/") if p]
        return ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]


NOTHING = Scope()
EVERYTHING = Scope(everything=True, role=v.Role.SYSTEM_ADMIN)

# model → lookup from the model to the materialised path of the org unit that scopes it.
SCOPE_LOOKUPS: dict[type[models.Model], str] = {
    m.OrgUnit: "path",
    m.Staff: "org_unit__path",
    m.Team: "org_unit__path",
    m.TeamMembership: "team__org_unit__path",
    m.Household: "org_unit__path",
    m.Resident: "managing_unit__path",
    m.HealthRecord: "resident__managing_unit__path",
    m.Enrollment: "resident__managing_unit__path",
    m.Contract: "resident__managing_unit__path",
    m.ContractService: "contract__resident__managing_unit__path",
    m.AccessLog: "resident__managing_unit__path",
    m.AccessedResident: "resident__managing_unit__path",
    m.NamePinyin: "resident__managing_unit__path",
    m.ResidentCredential: "resident__managing_unit__path",
    m.HealthEducationActivity: "org_unit__path",
    m.InfectiousDiseaseReport: "org_unit__path",
    m.EmergencyEventReport: "org_unit__path",
    m.LoadTally: "org_unit__path",
    m.SupervisionReport: "org_unit__path",
    m.PopulationBase: "org_unit__path",
    **{model: "resident__managing_unit__path" for model in m.ENCOUNTER_MODELS},
}

# Models that carry no org unit (audit trail, load batches, synthetic-data labels): system admins only.
UNSCOPED_ADMIN_ONLY = "system-admin-only"

_CACHE_ATTR = "_gongwei_scope"


def scope_for(user) -> Scope:
    """The scope of ``user`` (cached on the user object for the rest of the request)."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    scope = _compute(user)
    with contextlib.suppress(AttributeError):  # AnonymousUser and friends
        setattr(user, _CACHE_ATTR, scope)
    return scope


def _compute(user) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NOTHING
    if user.is_superuser:
        return EVERYTHING
    staff = m.Staff.objects.select_related("org_unit").filter(user=user).first()
    if staff is None:
        return NOTHING
    if staff.role == v.Role.SYSTEM_ADMIN:
        return Scope(everything=True, path=staff.org_unit.path, role=staff.role)
    if not staff.org_unit.path or not staff.org_unit.is_active:
        return Scope(role=staff.role)
    return Scope(path=staff.org_unit.path, role=staff.role)


def forget(user) -> None:
    """Drop the cached scope (after the user's staff profile changed)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def lookup_for(model: type[models.Model]) -> str | None:
    return SCOPE_LOOKUPS.get(model)


def scope_queryset(qs: models.QuerySet, user, lookup: str | None = None) -> models.QuerySet:
    """``qs`` restricted to what ``user`` may see. Models without a scope lookup: system admins only."""
    scope = scope_for(user)
    if scope.everything:
        return qs
    lookup = lookup or lookup_for(qs.model)
    if scope.nothing or lookup is None:
        return qs.none()
    return qs.filter(**{f"{lookup}__startswith": scope.path})


def visible_units(user) -> models.QuerySet[m.OrgUnit]:
    """Org units in the user's subtree."""
    return scope_queryset(m.OrgUnit.objects.all(), user)


def serving_units(user) -> models.QuerySet[m.OrgUnit]:
    """Units whose staff and teams may serve the user's residents: the subtree plus its ancestors.

    A village's residents are signed by the township's family-doctor team and seen by township doctors,
    so the staff and team choice lists of a village login include the units above it (but never a
    sibling's). Listing pages still show only the subtree.
    """
    scope = scope_for(user)
    if scope.everything:
        return m.OrgUnit.objects.all()
    if scope.nothing:
        return m.OrgUnit.objects.none()
    return m.OrgUnit.objects.filter(models.Q(path__startswith=scope.path) | models.Q(path__in=scope.ancestor_paths()))


def can_see(user, obj: models.Model) -> bool:
    """Whether one object lies in the user's scope (one query)."""
    if obj.pk is None:
        return False
    return scope_queryset(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


def unit_in_scope(user, unit: m.OrgUnit | None) -> bool:
    if unit is None:
        return False
    scope = scope_for(user)
    return scope.everything or (bool(scope.path) and unit.path.startswith(scope.path))
