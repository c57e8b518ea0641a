"""A resident sees their own record (居民查看本人健康档案, ADR 021).

The clinic that manages the resident issues a password on paper (:func:`issue_password`); the resident signs in
with their identity number and that password (:func:`sign_in`) and gets an :class:`~gongwei.service.access.Actor`
that sees one person — themselves — through the same record use case staff use, audited as ``OWN_RECORD``.
Failed attempts lock the password for the staff logins' cool-off (``AXES_FAILURE_LIMIT``,
``AXES_COOLOFF_TIME``); a new password ends every session of the old one (:func:`session_actor` checks a stamp
of the hash).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gongwei.records import entry, scoping
from gongwei.records import models as m
from gongwei.records.identity import normalize as normalise_id_number
from gongwei.service import audit, residents
from gongwei.service.access import Actor, check_resident
from gongwei.service.errors import BadRequest, NotFound, Refused
from gongwei.spec import vocab as v

# no 0/O, 1/l/I: read aloud or copied from paper without doubt
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 10
WRONG = "身份证号或查询口令不正确"  # one sentence for both: no hint whether the identity number has a record


@dataclass(frozen=True)
class Issued:
    record_no: str
    name: str
    password: str  # shown once, to be printed or written down for the resident; never stored
    issued_at: dt.datetime


def _may_issue(actor: Actor) -> bool:
    if actor.resident_id is not None:
        return False
    if actor.user is None:
        return actor.scope.everything
    return actor.user.has_perm("records.change_resident")


@dataclass(frozen=True)
class Preview:
    record_no: str
    name: str
    unit_code: str
    has_id_number: bool
    active_since: dt.datetime | None  # when the password in force was issued
    last_login: dt.datetime | None


def _resident_to_issue(actor: Actor, record_no: str) -> m.Resident:
    r = (m.Resident.objects.select_related("managing_unit", "merged_into")
         .filter(record_no=(record_no or "").strip()).first())
    if r is None:
        raise NotFound(f"健康档案 {record_no} 不存在")
    check_resident(actor, r)
    if not _may_issue(actor):
        raise Refused("只有管理该档案的医务人员可以发放或收回居民查询口令")
    return r


def issue_preview(actor: Actor, record_no: str) -> Preview:
    """What the clinic sees before issuing: whether a password is in force and when it was last used."""
    r = _resident_to_issue(actor, record_no)
    c = m.ResidentCredential.objects.filter(resident=r, active=True).first()
    return Preview(r.record_no, r.name, r.managing_unit.code, bool(r.id_number),
                   c.issued_at if c else None, c.last_login if c else None)


def issue_password(actor: Actor, record_no: str) -> Issued:
    """A new password for the resident with ``record_no`` (the old one, if any, stops working at once)."""
    r = _resident_to_issue(actor, record_no)
    if r.status == v.ResidentStatus.MERGED:
        kept = r.merged_into.record_no if r.merged_into_id else ""
        raise BadRequest(f"档案 {r.record_no} 已合并{f'至 {kept}' if kept else ''}，请为保留的档案发放查询口令")
    if not r.id_number:
        raise BadRequest(f"档案 {r.record_no} 没有有效的身份证号，居民无法凭身份证号登录：请先补全身份证号")
    password = "".join(secrets.choice(_ALPHABET) for _ in range(PASSWORD_LENGTH))
    now = timezone.now()
    with transaction.atomic():
        credential, created = m.ResidentCredential.objects.select_for_update().update_or_create(
            resident=r, defaults=dict(password=make_password(password), issued_by=actor.user, issued_at=now,
                                      active=True, failed_attempts=0, locked_until=None))
        entry.record_change(credential, action="issue" if created else "reissue", actor_user=actor.user,
                            actor=actor.label, reason="发放居民查询口令")
    audit.viewed(actor, v.AccessKind.RECORD, scope=r.managing_unit.code, purpose="发放居民查询口令",
                 residents=[r.pk])
    return Issued(r.record_no, r.name, password, now)


def _stamp(credential: m.ResidentCredential) -> str:
    """Changes whenever a new password is issued: a session carries it and dies with the old password."""
    return credential.password[-16:]


def _actor(credential: m.ResidentCredential, *, address: str, path: str) -> Actor:
    return Actor(scope=scoping.NOTHING, user=None, address=address, path=path[:300],
                 resident_id=credential.resident_id, own_record=credential.resident.record_no, _unmasked=True)


@dataclass(frozen=True)
class SignedIn:
    actor: Actor
    credential_id: int
    stamp: str


def sign_in(id_number: str, password: str, *, address: str = "", path: str = "") -> SignedIn:
    """The resident whose identity number and password match; Refused (one sentence for every wrong pair)."""
    number = normalise_id_number(id_number or "")
    if not number or not password:
        raise BadRequest("请填写身份证号和查询口令")
    credential = (m.ResidentCredential.objects.select_related("resident")
                  .filter(resident__id_number=number, active=True)
                  .exclude(resident__status=v.ResidentStatus.MERGED).order_by("-issued_at").first())
    if credential is None:
        make_password(password)  # as slow as a real check: the answer's timing tells nothing either
        raise Refused(WRONG)
    now = timezone.now()
    if credential.locked_until and credential.locked_until > now:
        until = timezone.localtime(credential.locked_until).strftime("%H:%M")
        raise Refused(f"尝试次数过多，查询口令已锁定至 {until}；请稍后再试，或请管理您档案的医生重新发放")
    if not check_password(password, credential.password):
        failures = credential.failed_attempts + 1
        locked = now + settings.AXES_COOLOFF_TIME if failures >= settings.AXES_FAILURE_LIMIT else None
        m.ResidentCredential.objects.filter(pk=credential.pk).update(
            failed_attempts=F("failed_attempts") + 1, **({"locked_until": locked} if locked else {}))
        raise Refused(WRONG)
    m.ResidentCredential.objects.filter(pk=credential.pk).update(failed_attempts=0, locked_until=None,
                                                                last_login=now)
    return SignedIn(_actor(credential, address=address, path=path), credential.pk, _stamp(credential))


def session_actor(credential_id: int | None, stamp: str | None, *, address: str = "", path: str = "") -> Actor | None:
    """The resident of a session, or None when the password was withdrawn or issued anew since."""
    if not credential_id or not stamp:
        return None
    credential = (m.ResidentCredential.objects.select_related("resident")
                  .filter(pk=credential_id, active=True).first())
    if credential is None or _stamp(credential) != stamp:
        return None
    return _actor(credential, address=address, path=path)


def own_record(actor: Actor, *, today: dt.date | None = None) -> residents.RecordPage:
    """The signed-in resident's record home page (the staff use case, scoped to this one person)."""
    if actor.resident_id is None:
        raise Refused("请以居民身份登录后查看本人健康档案")
    return residents.record(actor, actor.own_record, today=today)


def withdraw(actor: Actor, record_no: str) -> None:
    """Withdraw the resident's password (lost paper, on request); history kept."""
    r = _resident_to_issue(actor, record_no)
    with transaction.atomic():
        credential = m.ResidentCredential.objects.select_for_update().filter(resident=r, active=True).first()
        if credential is None:
            raise BadRequest(f"档案 {r.record_no} 没有有效的居民查询口令")
        credential.active = False
        credential.save(update_fields=["active"])
        entry.record_change(credential, action="withdraw", actor_user=actor.user, actor=actor.label,
                            reason="收回居民查询口令")
