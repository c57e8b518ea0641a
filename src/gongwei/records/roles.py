"""Roles ([netsec-2022]) → Django groups and permissions, and the masking policy ([pipl-2021]).

Each :class:`~gongwei.spec.vocab.Role` has one Django group, named by its Chinese label, holding the
model permissions in :data:`ROLE_PERMISSIONS`. :func:`ensure_groups` creates or updates the groups
(idempotent: run it as often as you like); :func:`sync_user_groups` puts a login in the group of its
staff role and in no other role group. *Which rows* a login sees is decided separately, by
:mod:`gongwei.records.scoping`.

Nobody has a delete permission on anything: records are closed, voided or merged, never deleted.
"""

from __future__ import annotations

import datetime as dt

from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from gongwei.records import scoping
from gongwei.spec import vocab as v

R = v.Role

# --- model groups (app_label.model_name) -----------------------------------------------------------
ORGANISATION = ("records.orgunit",)
STAFFING = ("records.staff", "records.team", "records.teammembership")
PERSON_RECORDS = (
    "records.household", "records.resident", "records.healthrecord", "records.enrollment", "records.contract",
    "records.contractservice",
    "records.healthexamination", "records.chronicfollowup", "records.smifollowup", "records.tbfollowup",
    "records.newbornvisit", "records.childcheck", "records.prenatalvisit", "records.postpartumvisit",
    "records.vaccination", "records.tcmconstitution", "records.childtcmguidance",
)
UNIT_ACTIVITIES = ("records.healtheducationactivity", "records.infectiousdiseasereport", "records.supervisionreport")
BASE_DATA = ("records.populationbase",)
ACCESS_AUDIT = ("records.accesslog", "records.accessedresident")
SYSTEM_AUDIT = ("records.changelog", "records.loadbatch", "synth.injectedproblem")
USERS = ("auth.user",)
# the data-quality workflow (gongwei.quality): findings are worked by the front line and verified by supervisors
QUALITY_FINDINGS = ("quality.finding",)
QUALITY_MERGES = ("quality.merge",)

SCOPED_DATA = ORGANISATION + STAFFING + PERSON_RECORDS + UNIT_ACTIVITIES + BASE_DATA

# Models whose rows are never deleted (the admin also refuses deletes on every model).
NEVER_DELETED = PERSON_RECORDS


def _perms(actions: tuple[str, ...], models: tuple[str, ...]) -> set[str]:
    return {f"{label.split('.')[0]}.{action}_{label.split('.')[1]}" for label in models for action in actions}


VIEW = ("view",)
EDIT = ("view", "add", "change")

_FRONT_LINE = (_perms(VIEW, SCOPED_DATA + QUALITY_MERGES) | _perms(EDIT, PERSON_RECORDS + UNIT_ACTIVITIES)
               | _perms(("view", "change"), QUALITY_FINDINGS))

ROLE_PERMISSIONS: dict[R, frozenset[str]] = {
    # registers residents, runs follow-ups and exams in the village (subtree = the village clinic)
    R.VILLAGE_DOCTOR: frozenset(_FRONT_LINE),
    # enters and reviews data for the township and its villages
    R.TOWNSHIP_STAFF: frozenset(_FRONT_LINE),
    # plus staff, family-doctor teams and population bases of the township; sees who viewed which record
    R.TOWNSHIP_ADMIN: frozenset(_FRONT_LINE | _perms(EDIT, STAFFING + BASE_DATA) | _perms(VIEW, ACCESS_AUDIT)
                                | _perms(("change",), QUALITY_MERGES)),
    # county/city quality control: read only, identifiers masked; verifies rectified findings
    R.SUPERVISOR: frozenset(_perms(VIEW, SCOPED_DATA + ACCESS_AUDIT + QUALITY_MERGES)
                            | _perms(("view", "change"), QUALITY_FINDINGS)),
    # third-party evaluation: read only, identifiers masked
    R.EVALUATOR: frozenset(_perms(VIEW, SCOPED_DATA)),
    # everything, everywhere, except deleting
    R.SYSTEM_ADMIN: frozenset(_perms(EDIT, SCOPED_DATA + USERS) | _perms(VIEW, ACCESS_AUDIT + SYSTEM_AUDIT)
                              | _perms(("view", "change"), QUALITY_FINDINGS + QUALITY_MERGES)),
}

GROUP_NAMES: dict[R, str] = {role: role.zh for role in R}

# --- masking ([pipl-2021]) ----------------------------------------------------------------
# Roles that work with the person and need full identifiers; everybody else sees masked values.
UNMASKED_ROLES = frozenset({R.VILLAGE_DOCTOR, R.TOWNSHIP_STAFF, R.TOWNSHIP_ADMIN, R.SYSTEM_ADMIN})
MASKED_ROLES = frozenset(set(R) - UNMASKED_ROLES)  # supervisor, evaluator

# field name → masking function, for every model that has the field.
ID_FIELDS = ("id_number", "id_number_raw")
PHONE_FIELDS = ("phone", "contact_phone")


def mask_id_number(value: str | None) -> str:
    """Keep the first 6 and last 4 characters: ``360426********0071``."""
    if not value:
        return ""
    s = str(value)
    if len(s) <= 10:
        return s[:1] + "*" * (len(s) - 2) + s[-1:] if len(s) > 2 else "*" * len(s)
    return s[:6] + "*" * (len(s) - 10) + s[-4:]


def mask_phone(value: str | None) -> str:
    """Keep the first 3 and last 4 digits: ``138****1234``."""
    if not value:
        return ""
    s = str(value)
    if len(s) < 8:
        return "*" * (len(s) - 2) + s[-2:] if len(s) > 2 else "*" * len(s)
    return s[:3] + "*" * (len(s) - 7) + s[-4:]


def mask_birth_date(value) -> str:
    """The age in completed years instead of the date: a masked identity number hides its birth-date digits, and
    a full birth date beside it would give them back (region code + birth date + the 4 shown digits)."""
    if not value:
        return ""
    if isinstance(value, str):  # as kept in change logs
        try:
            value = dt.date.fromisoformat(value[:10])
        except ValueError:
            return "****-**-**"
    today = dt.date.today()
    age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
    return f"{age}岁"


BIRTH_FIELDS = ("birth_date",)
MASKERS = {**dict.fromkeys(ID_FIELDS, mask_id_number), **dict.fromkeys(PHONE_FIELDS, mask_phone),
           **dict.fromkeys(BIRTH_FIELDS, mask_birth_date)}


def sees_identifiers(user) -> bool:
    """Whether ``user`` sees full ID numbers and phone numbers (otherwise they are masked)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return scoping.scope_for(user).role in UNMASKED_ROLES


def mask_value(field: str, value, user) -> object:
    """``value`` of ``field`` as ``user`` may see it."""
    masker = MASKERS.get(field)
    if masker is None or sees_identifiers(user):
        return value
    return masker(value)


def mask_mapping(data: dict | None, user) -> dict | None:
    """A ChangeLog before/after dict with identifiers masked for ``user``."""
    if not data or sees_identifiers(user):
        return data
    return {k: (MASKERS[k](val) if k in MASKERS and isinstance(val, str) else val) for k, val in data.items()}


# --- groups -----------------------------------------------------------------------------------------
def _permission_objects(codes: frozenset[str]) -> list[Permission]:
    wanted: list[Permission] = []
    for code in sorted(codes):
        app_label, codename = code.split(".")
        model_name = codename.split("_", 1)[1]
        model = apps.get_model(app_label, model_name)
        ct = ContentType.objects.get_for_model(model, for_concrete_model=True)
        perm, _ = Permission.objects.get_or_create(
            content_type=ct, codename=codename,
            defaults={"name": f"Can {codename.split('_', 1)[0]} {model._meta.verbose_name_raw}"},
        )
        wanted.append(perm)
    return wanted


@transaction.atomic
def ensure_groups() -> dict[R, Group]:
    """Create or update one group per role with exactly its permissions. Idempotent."""
    out: dict[R, Group] = {}
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=GROUP_NAMES[role])
        group.permissions.set(_permission_objects(codes))
        out[role] = group
    return out


def role_groups() -> list[Group]:
    return list(Group.objects.filter(name__in=GROUP_NAMES.values()))


def sync_user_groups(user) -> None:
    """Put ``user`` in the group of its staff role (creating groups if needed) and in no other role group."""
    from gongwei.records.models import Staff

    staff = Staff.objects.filter(user=user).first()
    role_group_names = set(GROUP_NAMES.values())
    if Group.objects.filter(name__in=role_group_names).count() != len(role_group_names):
        ensure_groups()
    current = set(user.groups.filter(name__in=role_group_names).values_list("name", flat=True))
    target = {GROUP_NAMES[R(staff.role)]} if staff is not None else set()
    if current != target:
        user.groups.remove(*Group.objects.filter(name__in=current - target))
        user.groups.add(*Group.objects.filter(name__in=target - current))
    # Django caches permissions on the user object
    for attr in ("_perm_cache", "_group_perm_cache", "_user_perm_cache"):
        if hasattr(user, attr):
            delattr(user, attr)
    scoping.forget(user)
