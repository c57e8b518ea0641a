"""Model constraints and history: org tree moves, closing residents, database-level checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from gongwei.records import entry
from gongwei.records import models as m
from gongwei.spec.vocab import ChangeAction, ResidentStatus
from tests.regions import load_tiny_region

pytestmark = pytest.mark.django_db


def test_subtree_is_one_prefix_query():
    load_tiny_region()
    township = m.OrgUnit.objects.get(code="360426100000")
    assert set(township.subtree().values_list("code", flat=True)) == {"360426100000", "360426100201", "360426100202"}
    assert m.Resident.objects.filter(managing_unit__path__startswith=township.path).count() == 3


def test_moving_a_unit_moves_its_subtree_and_keeps_history():
    load_tiny_region()
    village = m.OrgUnit.objects.get(code="360426100202")
    other_township = m.OrgUnit.objects.get(code="360426200000")
    entry.move_org_unit(village, other_township, reason="行政区划调整")
    village.refresh_from_db()
    assert village.parent == other_township and village.path.startswith(other_township.path)
    assert m.Resident.objects.filter(managing_unit__path__startswith=other_township.path).count() == 2
    log = m.ChangeLog.objects.get(model="records.OrgUnit", action=ChangeAction.MOVE)
    assert log.before["path"] != log.after["path"] and log.reason == "行政区划调整"
    with pytest.raises(ValueError):
        entry.move_org_unit(other_township, village)  # into its own subtree


def test_renaming_a_unit_keeps_the_old_name_in_history():
    load_tiny_region()
    unit = m.OrgUnit.objects.get(code="360426100201")
    unit.name = "城东社区卫生服务站"
    entry.submit_instance(unit)
    log = m.ChangeLog.objects.get(model="records.OrgUnit")
    assert log.before == {"name": "城东村卫生室"} and log.after == {"name": "城东社区卫生服务站"}


def test_closing_a_resident_never_deletes():
    load_tiny_region()
    r = m.Resident.objects.get(record_no="R002")
    entry.close_resident(r, ResidentStatus.DEAD, dt.date(2025, 6, 1), "脑卒中")
    r.refresh_from_db()
    assert (r.status, r.status_date) == (ResidentStatus.DEAD, dt.date(2025, 6, 1))
    assert m.Resident.objects.filter(record_no="R002").exists()
    log = m.ChangeLog.objects.get(action=ChangeAction.CLOSE)
    assert log.before["status"] == "active" and log.after["status"] == "dead"
    with pytest.raises(ValueError):
        entry.close_resident(r, "active", dt.date(2025, 6, 1), "")


def test_database_refuses_closed_resident_without_date():
    load_tiny_region()
    with pytest.raises(IntegrityError), transaction.atomic():
        m.Resident.objects.filter(record_no="R001").update(status="dead", status_date=None)


def test_database_refuses_enrollment_ending_before_start():
    load_tiny_region()
    r = m.Resident.objects.get(record_no="R001")
    with pytest.raises(IntegrityError), transaction.atomic():
        m.Enrollment.objects.create(enrollment_no="E1", resident=r, program="hypertension", org_unit=r.managing_unit,
                                    start_date=dt.date(2025, 5, 1), end_date=dt.date(2025, 1, 1))


def test_protected_references_prevent_deleting_a_unit_with_residents():
    load_tiny_region()
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        m.OrgUnit.objects.get(code="360426100201").delete()
