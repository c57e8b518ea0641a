"""A pytest plugin: the test suite's environment, set before Django reads its settings.

Loaded with ``-p gongwei.testing`` (pyproject addopts), which pytest imports while it parses its arguments —
before pytest-django configures Django. It lives in the package so that it is importable that early. A conftest.py is imported too late for that: settings read their
environment once, so a database chosen there would silently stay SQLite.

``GONGWEI_TEST_DB=sqlite`` (default) uses an in-memory SQLite database; ``GONGWEI_TEST_DB=postgres`` uses
PostgreSQL at ``GONGWEI_TEST_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432/test``), in a test database
of this process's own.
"""

from __future__ import annotations

import os
import tempfile

TEST_DB = os.environ.get("GONGWEI_TEST_DB", "sqlite")
PG_URL = os.environ.get("GONGWEI_TEST_PG_URL", "postgres://postgres@127.0.0.1:5432/test")

if TEST_DB == "postgres":
    os.environ["DATABASE_URL"] = PG_URL
    os.environ.setdefault("GONGWEI_TEST_DB_NAME", f"test_gongwei_{os.getpid()}")
elif TEST_DB == "sqlite":
    os.environ.pop("DATABASE_URL", None)
else:
    raise SystemExit(f"GONGWEI_TEST_DB must be sqlite or postgres, not {TEST_DB!r}")

# pytest-xdist (make test runs one process per core): a worker inherits the controller's environment, so it
# takes a database name and a data folder of its own here — two workers sharing a data folder would read each
# other's "latest snapshot"
if os.environ.get("PYTEST_XDIST_WORKER"):
    worker = os.environ["PYTEST_XDIST_WORKER"]
    if TEST_DB == "postgres":
        os.environ["GONGWEI_TEST_DB_NAME"] = f"test_gongwei_{os.getpid()}"  # pytest-django adds _gwN
    os.environ["GONGWEI_DATA_DIR"] = tempfile.mkdtemp(prefix=f"gongwei-test-data-{worker}-")

# PySpark (the second backend of the *_pyspark_agree tests): the driver JVM compiles with the client compiler only
# (C1) and collects with the serial collector. Its Spark jobs run on a few dozen rows and the JVM lives for one
# test process: the server compiler's (C2) and G1's background threads spent more CPU than they gave back,
# beside the other worker on a 2-core machine (tests/test_engine_hypertension.py -k pyspark: JVM CPU 46 → 25 s).
# JIT and GC choices only: the same bytecode, the same Spark configuration, the same results.
os.environ.setdefault("PYSPARK_SUBMIT_ARGS",
                      "--driver-java-options '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC' pyspark-shell")
# a key of the test run's own: snapshots refuse the published development key outside a demo database
os.environ.setdefault("GONGWEI_SECRET_KEY", "test-run-key-" + "k" * 50)
# compiled SQL (engine.catalogue, ADR 016) kept for the whole run in one folder that every worker shares (set here
# in the controlling process, before the workers start, and inherited by them). Its key names all the SQL depends
# on — the rulebook's values, the snapshot's schema, the region, the program and the period — so a test that finds
# another test's SQL there is what a long-running server does. A test's data folder is put back after it, and the
# default place, beside the snapshots, went with it: every test compiled every program again.
# The tests of that default place unset this (tests/test_engine_catalogue.py, tests/test_engine_crosscheck.py).
os.environ.setdefault("GONGWEI_SQL_CACHE", tempfile.mkdtemp(prefix="gongwei-test-sql-cache-"))
# logs and any file a test writes through settings.DATA_DIR stay out of the working tree
os.environ.setdefault("GONGWEI_DATA_DIR", tempfile.mkdtemp(prefix="gongwei-test-data-"))
