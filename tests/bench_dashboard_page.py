"""Time a county dashboard page with and without the per-snapshot engine cache (median of 20 requests, ms).

Not collected by the suite (no ``test_`` prefix); run it by name:
    PYTHONPATH=src pytest -q -s -p no:cacheprovider tests/bench_dashboard_page.py
"""

from __future__ import annotations

import statistics
import time

from tests.web_fixtures import COUNTY, client_for

ROUNDS = 20


def _median_ms(client, url: str) -> float:
    assert client.get(url).status_code == 200  # warm: templates, stored results read once
    took = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = client.get(url)
        took.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(took)


def test_dashboard_page_with_and_without_the_engine_cache(web_region_with_results, monkeypatch):
    from gongwei.engine.backends import Engine
    from gongwei.service import snapshots

    url = f"/unit/{COUNTY}/indicators/?period=2025"
    client = client_for("sup")
    cached = _median_ms(client, url)
    opened = snapshots.ENGINES.opened
    monkeypatch.setattr(snapshots.ENGINES, "engine", lambda snap, latest=False: Engine(snap, "duckdb"))
    uncached = _median_ms(client, url)
    print(f"\ncounty dashboard, median of {ROUNDS}: {uncached:.1f} ms with a new DuckDB connection per page, "
          f"{cached:.1f} ms with the per-snapshot engine cache (databases opened meanwhile: {opened})")
