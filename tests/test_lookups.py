"""``field__among=[...]`` (gongwei.records.lookups): the same rows as ``__in``, with the list sent as one parameter,
on both databases — integers, texts with the characters an array or JSON literal would have to escape, a
relation, an empty list, and a list longer than SQLite's variable limit."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongwei.records import models as m

NAMES = ['甲村', 'say "hi"', "it's", "back\\slash", "{braces,comma}", " spaced ", "NULL", ""]


@pytest.fixture
def units(db):
    root = m.OrgUnit.objects.create(code="620000000000", name="甘肃省", level="province", kind="health_bureau",
                                    path="/")
    made = [m.OrgUnit.objects.create(code=f"6200000000{i:02d}", name=name, level="county", kind="health_bureau",
                                     parent=root, path=f"/x{i}/") for i, name in enumerate(NAMES, 1)]
    return root, made


def test_among_finds_the_same_rows_as_in_for_integers_texts_and_a_relation(units):
    root, made = units
    some = [u.pk for u in made[::2]] + [10**12]  # one that no row has
    assert set(m.OrgUnit.objects.filter(pk__among=some).values_list("pk", flat=True)) == {u.pk for u in made[::2]}
    for name in NAMES:
        assert list(m.OrgUnit.objects.filter(name__among=[name, "无此名"]).values_list("name", flat=True)) == [name]
    assert m.OrgUnit.objects.filter(name__among=NAMES).count() == len(NAMES)
    assert m.OrgUnit.objects.filter(parent_id__among=[root.pk]).count() == len(NAMES)
    assert m.OrgUnit.objects.filter(parent__among=[root.pk]).count() == len(NAMES)
    assert m.OrgUnit.objects.exclude(pk__among=[root.pk]).count() == len(NAMES)


def test_among_an_empty_list_matches_nothing_without_a_query(units):
    with CaptureQueriesContext(connection) as queries:
        assert list(m.OrgUnit.objects.filter(pk__among=[])) == []
        assert list(m.OrgUnit.objects.filter(name__among=[])) == []
    assert len(queries) == 0


def test_among_sends_a_long_list_as_one_parameter(units):
    root, made = units
    ids = [u.pk for u in made] + list(range(10**9, 10**9 + 5000))  # beyond SQLite's 999 variables of old
    with CaptureQueriesContext(connection) as queries:
        assert m.OrgUnit.objects.filter(pk__among=ids).count() == len(made)
    assert len(queries) == 1


def test_among_refuses_a_mixed_list(units):
    with pytest.raises(TypeError, match="among"):
        list(m.OrgUnit.objects.filter(pk__among=[1, "2"]))
