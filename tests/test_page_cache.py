"""The dashboard's bulletin table is rendered once per version of what it shows and then kept (issue 10,
ADR 029): a stored result written or replaced is a new version (the page changes at once, no expiry by time),
and two logins whose answers may differ (masking, unit) never get each other's kept HTML.

The region (tests.web_fixtures.make_dashboard_region): 德安县 with two townships; H3 2025 蒲亭镇 3/6, 高塘乡 0/6.
"""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import caches

from gongwei.service import access, results, snapshots
from gongwei.service import dashboard as service
from gongwei.spec.periods import parse
from tests.web_fixtures import COUNTY, client_for, make_dashboard_region

PAGE = f"/unit/{COUNTY}/indicators/?period=2025"


@pytest.fixture
def renders(monkeypatch):
    """How many times the bulletin table was built (service.dashboard called by the page)."""
    calls: list[str] = []
    real = service.dashboard

    def counting(actor, org, period=None, **kw):
        calls.append(org)
        return real(actor, org, period, **kw)

    monkeypatch.setattr(service, "dashboard", counting)
    return calls


def _tbodies(page: str) -> list[str]:
    return re.findall(r'<tbody id="ind-([\w.]+)">', page)


def _table(page: str) -> str:
    return page[page.index('<p class="data-time">'):page.index("</table>")]


def test_a_kept_table_changes_when_a_result_is_stored(db, fast_passwords, renders):
    made = make_dashboard_region(periods=("2025",))  # 2024 not stored yet: no comparison
    c = client_for("sup")
    first = c.get(PAGE).content.decode()
    assert _tbodies(first) == ["H1", "H2", "H3"]
    assert "（该期间尚未计算，不作比较）" in first
    assert f"快照 {made['snapshot'].id}" in first and "数据时间：" in first  # the kept table still dates its data
    again = c.get(PAGE).content.decode()
    assert len(renders) == 1, "the second request is served the kept table, not built again"
    assert _table(again) == _table(first)  # the page around it differs (each response masks its CSRF token anew)

    # the period compared with is stored (its own file): the same table now shows 较上期 figures and links 2024
    eng = snapshots.engine(made["snapshot"].folder)
    results.indicators(eng, parse("2024"), ["H1", "H2", "H3"])
    compared = c.get(PAGE).content.decode()
    assert len(renders) == 2
    assert "（该期间尚未计算，不作比较）" not in compared and 'href="?period=2024"' in compared

    # one more indicator stored for 2025: its file is replaced, the kept table is not shown any more
    results.indicators(eng, parse("2025"), ["H4"])
    grown = c.get(PAGE).content.decode()
    assert len(renders) == 3
    assert _tbodies(grown) == ["H1", "H2", "H3", "H4"]
    assert "本期已计算 4 项指标" in grown  # was 3: H1–H3


def test_a_new_snapshot_is_a_new_version(db, fast_passwords):
    made = make_dashboard_region(periods=("2025",))
    sup = access.for_user(get_user_model().objects.get(username="sup"))
    before = service.dashboard_version(sup, COUNTY, "2025")
    assert service.dashboard_version(sup, COUNTY, "2025").key == before.key  # nothing changed: same key
    newer = snapshots.take()
    assert newer.id != made["snapshot"].id
    # the newest snapshot has nothing stored for 2025 yet: the page says so instead of showing the old table
    from gongwei.service.errors import NotReady

    with pytest.raises(NotReady):
        service.dashboard_version(sup, COUNTY, "2025")
    results.indicators(snapshots.engine(newer.folder), parse("2025"), ["H1", "H2", "H3"])
    assert service.dashboard_version(sup, COUNTY, "2025").key != before.key


def test_two_roles_with_different_masking_never_share_a_kept_table(dashboard_region, renders):
    users = get_user_model().objects
    sup = access.for_user(users.get(username="sup"))  # supervisor: identities masked
    sa = access.for_user(users.get(username="sa"))  # system administrator: unmasked
    assert not sup.unmasked and sa.unmasked
    assert service.dashboard_version(sup, COUNTY, "2025").key != service.dashboard_version(sa, COUNTY, "2025").key

    sup_page = client_for("sup").get(PAGE).content.decode()
    sa_page = client_for("sa").get(PAGE).content.decode()
    assert renders == [COUNTY, COUNTY], "each masking renders its own table"
    # the same figures for both (aggregates), each page with its own login around the table
    assert _tbodies(sup_page) == _tbodies(sa_page) == ["H1", "H2", "H3"]
    assert "<span>sup</span>" in sup_page and "<span>sa</span>" not in sup_page
    assert "<span>sa</span>" in sa_page and "<span>sup</span>" not in sa_page
    # what is kept holds nothing of a login: no user name, no CSRF token
    kept = list(caches["pages"]._cache.values())  # LocMemCache's store, pickled (tests run without Redis)
    assert len(kept) == 2
    for value in kept:
        html = pickle.loads(value)
        assert "<span>sup</span>" not in html and "<span>sa</span>" not in html
        assert "csrfmiddlewaretoken" not in html and '<tbody id="ind-H3">' in html

    # a township's table is another key again (another unit), whoever asks
    assert service.dashboard_version(sup, "360426100000", "2025").key != \
        service.dashboard_version(sup, COUNTY, "2025").key


def test_warm_reads_the_latest_stored_results_and_computes_nothing(dashboard_region):
    snap = dashboard_region["snapshot"]
    results._tables.clear()
    service.warm()
    # 2025 is the latest stored period; 2024 (the one it is compared with) is stored too: both read, nothing else
    read = sorted(Path(path).parent.name for path, *_ in results._tables)
    assert read == ["2024", "2025"]
    assert all(f"/{snap.id}/" in path for path, *_ in results._tables)

    # a newer snapshot with nothing stored yet: nothing read, and no result computed for it
    newer = snapshots.take()
    results._tables.clear()
    service.warm()
    assert not results._tables
    assert service.stored_periods(newer.id) == []
