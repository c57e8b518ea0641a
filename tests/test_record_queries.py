"""The record page reads only the encounter tables that hold the person's services (issue 11: it made 33 queries,
thirteen of them one per encounter table whatever the person had)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongwei.records import models as m
from gongwei.service import access, residents


def test_record_reads_only_the_encounter_tables_the_person_has(dashboard_region):
    # a 北门村 resident: four hypertension follow-ups in 2025 (tests.web_fixtures._dashboard_data)
    person = m.ChronicFollowUp.objects.filter(org_unit__code="360426100201").first().resident
    has = [model for model in m.ENCOUNTER_MODELS if model.objects.filter(resident=person, is_void=False).exists()]
    assert m.ChronicFollowUp in has and len(has) < len(m.ENCOUNTER_MODELS)
    vd = access.for_user(get_user_model().objects.get(username="vd"))
    with CaptureQueriesContext(connection) as ctx:
        page = residents.record(vd, person.record_no, with_due=False)
    sql = [q["sql"] for q in ctx.captured_queries]
    unions = [s for s in sql if " UNION " in s.upper()]
    assert len(unions) == 1  # which tables hold the person's services: one query over the thirteen
    alone = {model for model in m.ENCOUNTER_MODELS for s in sql
             if s not in unions and f'FROM "{model._meta.db_table}"' in s and "resident_id" in s
             and "service_date" in s and "is_void" in s and "org_unit" in s}
    assert alone == set(has)  # then one query per table that has rows, none for the others
    # every service is still read: as many as the tables hold (four follow-ups of 2025 and what else the region has)
    expected = sum(model.objects.filter(resident=person, is_void=False).count() for model in has)
    assert expected >= 4 and len(residents._encounters(person)) == expected
    assert page.record_no == person.record_no
