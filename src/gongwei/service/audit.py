"""Every view of personal data leaves a row: who, when, from where, what scope and which people.

One :class:`~gongwei.records.models.AccessLog` row per view, and one ``AccessedResident`` row per person it
showed (written in one bulk insert, so a 10,000-row export is one statement, not 10,000). People arrive either
as resident ids (pages built from the database) or as record numbers (pages built from a snapshot), which are
resolved in one query per chunk.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from gongwei.records import models as m
from gongwei.records.lookups import array_literal
from gongwei.service.access import Actor
from gongwei.spec.vocab import AccessKind

_CHUNK = 900  # SQLite's variable limit is generous today, but older builds stop at 999


def viewed(actor: Actor, kind: AccessKind, *, scope: str = "", purpose: str = "",
           residents: Iterable[int] = (), record_nos: Iterable[str] = (), count: int | None = None) -> m.AccessLog:
    """Record that ``actor`` was shown these people (``count`` defaults to how many were named)."""
    ids = list(dict.fromkeys(residents))
    nos = list(dict.fromkeys(n for n in record_nos if n))
    for i in range(0, len(nos), _CHUNK):
        ids.extend(m.Resident.objects.filter(record_no__in=nos[i:i + _CHUNK]).values_list("pk", flat=True))
    ids = list(dict.fromkeys(ids))
    user = actor.user if actor.user is not None and getattr(actor.user, "pk", None) else None
    with transaction.atomic():
        log = m.AccessLog.objects.create(
            user=user, resident_id=ids[0] if len(ids) == 1 and kind == AccessKind.RECORD else None,
            kind=kind, purpose=purpose[:100], path=actor.path[:300], address=actor.address[:100],
            os_user=actor.os_user[:150], scope=scope[:40], count=len(ids) if count is None else count)
        _insert_people(log.pk, ids)
    return log


def _insert_people(log_id: int, ids: list[int]) -> None:
    if not ids:
        return
    if connection.vendor == "postgresql":
        # one array parameter: a worklist names hundreds of people, and building a model object for each was a
        # tenth of the page's time (issue 11); the rows and the statement's effect are bulk_create's
        table = connection.ops.quote_name(m.AccessedResident._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(f"INSERT INTO {table} (log_id, resident_id) SELECT %s, unnest(%s::bigint[])",  # noqa: S608
                        [log_id, array_literal(ids)])
        return
    m.AccessedResident.objects.bulk_create([m.AccessedResident(log_id=log_id, resident_id=r) for r in ids],
                                           batch_size=_CHUNK)


def who_viewed(resident_id: int, since=None):
    """Views that showed this resident, newest first (an auditor's question, one query)."""
    qs = m.AccessLog.objects.filter(people__resident_id=resident_id).select_related("user").distinct()
    if since is not None:
        qs = qs.filter(at__gte=since)
    return qs.order_by("-at")
