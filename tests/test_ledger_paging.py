"""The findings list's pages, read one rule at a time (service/ledger.py ``_page_by_rule``), list every finding once
and in the list's order (rule, unit code, record number), whatever the page size and filters: the oracle is one
query over the whole ledger in that order."""

from __future__ import annotations

import pytest

from gongwei.quality.models import Finding
from gongwei.records import models as rm
from tests.test_web_quality import build_quality_region
from tests.web_fixtures import COUNTY, TOWNSHIP


@pytest.fixture
def quality_region(db, fast_passwords):
    return build_quality_region()


def _expected(org: str, **kw) -> list[int]:
    ids = list(rm.OrgUnit.objects.filter(path__startswith=rm.OrgUnit.objects.get(code=org).path)
               .values_list("pk", flat=True))
    qs = Finding.objects.filter(org_unit_id__in=ids, **kw) | Finding.objects.filter(assigned_to_id__in=ids, **kw)
    return list(qs.order_by("rule", "org_unit__code", "record_no", "id").values_list("pk", flat=True))


def _listed(actor, org: str, size: int, **filters) -> list[int]:
    from gongwei.service import ledger

    first = ledger.findings(actor, org, size=size, **filters)
    got = [r.id for r in first.rows]
    for page in range(2, first.pages + 1):
        got += [r.id for r in ledger.findings(actor, org, size=size, page=page, **filters).rows]
    assert first.total == len(got)
    return got


def test_every_page_size_lists_each_finding_once_in_order(quality_region):
    from gongwei.service import access

    operator = access.operator()
    everything = _expected(COUNTY)
    rules = {f.rule for f in Finding.objects.all()}
    assert len(everything) > 5 and len(rules) >= 2  # the pages must cross from one rule to the next
    for size in (1, 2, 3, 7, len(everything) + 1):
        assert _listed(operator, COUNTY, size, status="") == everything
        assert _listed(operator, COUNTY, size, status="open") == _expected(COUNTY, status="open")
    assert _listed(operator, COUNTY, 2, status="", rule="C-01") == _expected(COUNTY, rule="C-01")
    assert _listed(operator, COUNTY, 2, status="", period="2024") == _expected(COUNTY, period="2024")
    assert _listed(operator, COUNTY, 3, status="", unit=TOWNSHIP) == _expected(TOWNSHIP)
    # a page past the last shows the last page
    from gongwei.service import ledger

    last = ledger.findings(operator, COUNTY, size=2, status="", page=999)
    assert [r.id for r in last.rows] == everything[(last.pages - 1) * 2:]
