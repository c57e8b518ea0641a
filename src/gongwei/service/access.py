"""Who is asking, and what they may see: the one place a face turns a login or an operator into a scope.

An :class:`Actor` carries the :class:`~gongwei.records.scoping.Scope` of its login (the org subtree by
materialised path, and the role) and where the request came from. Every use case takes an actor; the checks
below are the only scope checks in the layer, and they run on the database's org tree and on a snapshot's
org tree alike (both carry the same materialised paths).
"""

from __future__ import annotations

import datetime as dt
import getpass
from dataclasses import dataclass, field
from typing import Any

from gongwei.records import roles, scoping
from gongwei.service.errors import NotFound, Refused

COMMAND_LINE = "命令行"


@dataclass(frozen=True)
class Actor:
    """A login (web) or the operator at the command line (optionally running as a login)."""

    scope: scoping.Scope
    user: Any = None  # django.contrib.auth user, or None for the operator without a login
    address: str = ""  # IP address, or COMMAND_LINE
    os_user: str = ""
    path: str = ""  # the page or command, for the audit trail
    # a resident signed in to see their own record (ADR 021): no org scope, only this one person
    resident_id: int | None = None
    own_record: str = ""
    _unmasked: bool = field(default=False, repr=False)

    @property
    def unmasked(self) -> bool:
        """Whether identity numbers, phones and birth dates are shown in full to this actor."""
        return self._unmasked

    @property
    def label(self) -> str:
        if self.resident_id is not None:
            return f"居民本人 {self.own_record}@{self.address}"
        who = self.user.get_username() if self.user is not None else self.os_user or "?"
        return f"{who}@{self.address}" if self.address else who

    @property
    def role(self) -> str:
        return self.scope.role

    # --- scope checks ------------------------------------------------------------------------------------
    def sees_path(self, path: str) -> bool:
        """Whether a unit with this materialised path lies in the actor's subtree."""
        if self.scope.everything:
            return True
        return bool(self.scope.path) and bool(path) and path.startswith(self.scope.path)

    def check_path(self, path: str, what: str) -> None:
        if not self.sees_path(path):
            raise Refused(f"{what}不在您的权限范围内（{self.scope_text()}）")

    def scope_text(self) -> str:
        if self.scope.everything:
            return "全部机构"
        if self.scope.nothing:
            return "未分配机构，无查看权限"
        return f"本机构及下级，路径 {self.scope.path}"

    # --- masking -------------------------------------------------------------------------------------------
    def mask_id(self, value: str | None) -> str | None:
        return value if self.unmasked or not value else roles.mask_id_number(value)

    def mask_phone(self, value: str | None) -> str | None:
        return value if self.unmasked or not value else roles.mask_phone(value)

    def shown_birth(self, value: dt.date | None) -> dt.date | str | None:
        """The birth date for an unmasked role; the age (\"67岁\") otherwise — with a masked identity number a
        full birth date would give its hidden digits back."""
        return value if self.unmasked or value is None else roles.mask_birth_date(value)


def for_user(user, *, address: str = "", path: str = "") -> Actor:
    """The actor of a web request's login (``address``: the client IP)."""
    return Actor(scope=scoping.scope_for(user), user=user, address=address, path=path[:300],
                 _unmasked=roles.sees_identifiers(user))


def operator(username: str | None = None, *, command: str = "") -> Actor:
    """The person at the command line. Without ``username`` the operator holds the machine (and so the database
    file or its credentials) and sees everything, unmasked; with ``username`` the command runs in that login's
    scope and masking, which is how an administrator checks what a role would see. Both are audited with the
    OS user."""
    os_user = _os_user()
    if username is None:
        return Actor(scope=scoping.EVERYTHING, user=None, address=COMMAND_LINE, os_user=os_user, path=command[:300],
                     _unmasked=True)
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"登录名“{username}”不存在或已停用")
    return Actor(scope=scoping.scope_for(user), user=user, address=COMMAND_LINE, os_user=os_user,
                 path=command[:300], _unmasked=roles.sees_identifiers(user))


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container: the audit row still says it came from the command line
        return ""


def check_unit_in_tree(actor: Actor, tree, unit: int) -> None:
    """Refuse a unit of a snapshot's org tree outside the actor's subtree."""
    actor.check_path(tree.path[unit], f"机构 {tree.name[unit]}（{tree.code[unit]}）")


def unit_of_tree(actor: Actor, tree, code: str) -> int:
    """The unit with ``code`` in a snapshot's org tree, checked against the actor's scope."""
    try:
        unit = tree.by_code(code)
    except KeyError:
        raise NotFound(f"机构代码 {code} 不存在") from None
    check_unit_in_tree(actor, tree, unit)
    return unit


def check_resident(actor: Actor, resident) -> None:
    """Refuse a resident whose managing unit is outside the actor's subtree (a signed-in resident: anyone else)."""
    if actor.resident_id is not None:
        if resident.pk != actor.resident_id:
            raise Refused("只能查看本人的健康档案")
        return
    actor.check_path(resident.managing_unit.path, f"档案 {resident.record_no}")


def may_write(actor: Actor, model, *, change: bool = False) -> bool:
    """The role's permission to add (or change) rows of a records model: supervisors and evaluators only view
    (records.roles); an operator (CLI, jobs) has no user and may; a signed-in resident never writes."""
    if actor.resident_id is not None:
        return False
    meta = model._meta
    return actor.user is None or actor.user.has_perm(
        f"{meta.app_label}.{'change' if change else 'add'}_{meta.model_name}")


def check_write(actor: Actor, model, what: str, *, change: bool = False) -> None:
    """Refuse a save the role may not make, before anything is read from the form."""
    if not may_write(actor, model, change=change):
        raise Refused(f"您的角色只能查看{what}，不能录入或修改")
