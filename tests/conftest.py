"""Test configuration: the suite runs once per database.

``GONGWEI_TEST_DB=sqlite`` (default) uses an in-memory SQLite database; ``GONGWEI_TEST_DB=postgres`` uses
PostgreSQL at ``GONGWEI_TEST_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``). When CI=true
and PostgreSQL is unreachable, the run fails instead of skipping.
"""

from __future__ import annotations

import os
import sys

import pytest

from gongwei.testing import PG_URL, TEST_DB  # the environment itself is set by -p gongwei.testing (pyproject)

pytest_plugins = ["tests.ci_policy", "pytester", "tests.web_fixtures", "tests.shared_data"]


def pytest_configure(config: pytest.Config) -> None:
    if TEST_DB != "postgres":
        return
    import psycopg

    try:
        psycopg.connect(PG_URL, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        if os.environ.get("CI", "").lower() == "true":
            raise pytest.UsageError(f"CI=true but PostgreSQL is unreachable at {PG_URL}: {exc}") from exc
        # Outside CI a developer may have no PostgreSQL: say so loudly, on stderr and as the exit message.
        banner = f"NOT RUN — the PostgreSQL suite: unreachable at {PG_URL} ({exc}). CI=true makes this a failure."
        print("\n" + "!" * len(banner) + "\n" + banner + "\n" + "!" * len(banner), file=sys.stderr)
        pytest.exit(banner, returncode=0)


def pytest_sessionstart(session: pytest.Session) -> None:
    """The database asked for is the database the suite runs on (never a silent fallback to SQLite)."""
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    wanted = "postgresql" if TEST_DB == "postgres" else "sqlite3"
    if not engine.endswith(wanted):
        raise pytest.UsageError(f"GONGWEI_TEST_DB={TEST_DB} but Django is configured for {engine}: "
                                "run pytest with -p gongwei.testing (pyproject addopts) so the choice precedes Django")


# Fixtures through which a test reaches the database under test; a test with none of them (and no django_db mark)
# gives the same result on either database, so the PostgreSQL run skips it rather than repeat it.
_DATABASE_FIXTURES = frozenset({"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback",
                                "live_server", "django_db_setup"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, run only the tests that touch the database: the others ran in the SQLite run already.
    GONGWEI_TEST_ALL=1 runs every test on PostgreSQL too, but for those marked ``sqlite_only``."""
    if TEST_DB != "postgres":
        return
    everything = os.environ.get("GONGWEI_TEST_ALL") == "1"
    kept, once = [], []
    for item in items:
        if item.get_closest_marker("sqlite_only") is not None:  # a skip would fail CI; it is not a gap here
            once.append(item)
            continue
        if everything:
            kept.append(item)
            continue
        touches = item.get_closest_marker("django_db") is not None or bool(
            _DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ())))
        (kept if touches else once).append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = kept


def pytest_report_header(config: pytest.Config) -> str:
    only = " (only the tests that touch the database; GONGWEI_TEST_ALL=1 for all)" if TEST_DB == "postgres" else ""
    return f"gongwei test database: {TEST_DB}{only}"


@pytest.fixture(autouse=True)
def _fresh_page_fragments():
    """Issue 10: rendered fragments are kept per process (ADR 029); each test starts without any, so one test's
    region never answers another's page (their keys differ anyway — this makes it certain)."""
    from django.core.cache import caches

    caches["pages"].clear()
    # and the duplicate queues kept per process: their keys make them safe in a server, not across tests that roll
    # a decision back (service.ledger)
    from gongwei.service import ledger

    ledger._queues.clear()
    yield
