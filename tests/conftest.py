"""Test configuration: the suite runs once per database.

``GONGWEI_TEST_DB=sqlite`` (default) uses an in-memory SQLite database; ``GONGWEI_TEST_DB=postgres`` uses
PostgreSQL at ``GONGWEI_TEST_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``). When CI=true
and PostgreSQL is unreachable, the run fails instead of skipping.
"""

from __future__ import annotations

import os
import sys
import tempfile

import pytest

pytest_plugins = ["tests.ci_policy", "pytester"]

# logs and any file a test writes through settings.DATA_DIR stay out of the working tree
os.environ.setdefault("GONGWEI_DATA_DIR", tempfile.mkdtemp(prefix="gongwei-test-data-"))

TEST_DB = os.environ.get("GONGWEI_TEST_DB", "sqlite")
PG_URL = os.environ.get("GONGWEI_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/test")

if TEST_DB == "postgres":
    os.environ["DATABASE_URL"] = PG_URL
    os.environ.setdefault("GONGWEI_TEST_DB_NAME", f"test_gongwei_{os.getpid()}")
elif TEST_DB == "sqlite":
    os.environ.pop("DATABASE_URL", None)
else:
    raise SystemExit(f"GONGWEI_TEST_DB must be sqlite or postgres, not {TEST_DB!r}")


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


def pytest_report_header(config: pytest.Config) -> str:
    return f"gongwei test database: {TEST_DB}"
