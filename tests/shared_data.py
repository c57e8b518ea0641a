"""Data built once for the tests of a module that share it, each test still starting from exactly what was built.

A region with a snapshot and stored results takes seconds to build; a file whose every test built its own spent
most of its time doing so. ``@shared_data`` turns a builder into a function-scoped fixture of the same name whose
value is built once per module (``django.test.TestCase.setUpTestData``, for pytest):

- the builder runs inside a transaction opened for the module; each test then runs in pytest-django's own
  transaction nested in it (a savepoint) and rolled back after the test, so every test sees the data as built,
  whatever the tests before it wrote;
- files the builder wrote under the data folder (snapshots, stored results, job outputs, supervision uploads)
  are put back after each test: a file a test added is removed, one it changed is restored;
- each test gets its own deep copy of the builder's dict (model instances included), and starts with empty
  caches, as with a fresh build.

A database test of the module that does not use the shared data (another region, a live server) ends the
module's transaction first, so it never sees that data; tests are grouped by the shared fixture they use
(``pytest_collection_modifyitems`` below) so that each module builds each shared fixture once. Should a test
still ask for data whose transaction was ended, the builder runs again inside that test's own transaction.
"""

from __future__ import annotations

import copy
import filecmp
import inspect
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

# the data folder's parts a test can write into (gongwei.service.snapshots, settings.JOB_DIR, supervision files)
_WRITABLE = ("snapshots", "results", "jobs", "supervision")


class _Shared:
    """One build of a shared fixture: its value, the open transaction holding its rows, its files."""

    def __init__(self, blocker) -> None:
        self.blocker = blocker
        self.atomic = None
        self.value = None
        self.backup: Path | None = None
        self.root = _data_dir()  # as at the build: a test may point settings.DATA_DIR elsewhere for itself
        self.files: dict[str, tuple[int, int]] = {}

    def open(self, build) -> None:
        from django.db import transaction
        from django.test import override_settings

        with self.blocker.unblock():
            self.atomic = transaction.atomic()
            self.atomic._from_testcase = True  # as TestCase's own: a durable block inside is still allowed
            self.atomic.__enter__()
            try:
                with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
                    self.value = build()
            except BaseException:
                self.close()
                raise
        _OPEN.append(self)
        self.backup = Path(tempfile.mkdtemp(prefix="gongwei-shared-"))
        root = self.root = _data_dir()
        for part in _WRITABLE:
            # snapshots are never changed once written: only their names are kept
            if part != "snapshots" and (root / part).exists():
                shutil.copytree(root / part, self.backup / part, symlinks=True)
        self.files = _listing(root)

    @property
    def is_open(self) -> bool:
        return self.atomic is not None

    def close(self) -> None:
        if self.atomic is None:
            return
        from django.db import transaction

        with self.blocker.unblock():
            transaction.set_rollback(True)
            self.atomic.__exit__(None, None, None)
        self.atomic = None
        if self in _OPEN:
            _OPEN.remove(self)
        if self.backup is not None:
            shutil.rmtree(self.backup, ignore_errors=True)
            self.backup = None

    def restore_files(self) -> None:
        """The data folder's writable parts as they were after the build."""
        root = self.root
        now = _listing(root)
        for rel in sorted(set(now) - set(self.files), reverse=True):
            path = root / rel
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        for rel, stat in self.files.items():
            if rel.endswith("/"):
                (root / rel).mkdir(parents=True, exist_ok=True)
                continue
            if now.get(rel) == stat:
                continue
            if rel.startswith("snapshots/"):
                raise AssertionError(f"a test changed or removed the shared snapshot file {rel}")
            source = self.backup / rel
            if now.get(rel) is None or not filecmp.cmp(source, root / rel, shallow=False):
                (root / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, root / rel)
        self.files = _listing(root)


_OPEN: list[_Shared] = []


def _data_dir() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR)


def _listing(root: Path) -> dict[str, tuple[int, int]]:
    """relative path → (size, mtime) of every file, and every folder (with a trailing /), of the writable parts."""
    out: dict[str, tuple[int, int]] = {}
    for part in _WRITABLE:
        base = root / part
        if not base.exists():
            continue
        out[part + "/"] = (0, 0)
        for p in base.rglob("*"):
            rel = p.relative_to(root).as_posix()
            if p.is_dir() and not p.is_symlink():
                out[rel + "/"] = (0, 0)
            else:
                st = p.lstat()
                out[rel] = (st.st_size, st.st_mtime_ns)
    return out


def shared_data(build):
    """A fixture named as ``build`` whose value ``build()`` makes once per module (see the module docstring).
    Assign it to the builder's name in the test module: ``region = shared_data(region)`` (a decorator)."""
    name = build.__name__
    once_name = f"_{name}_shared_once"

    def once(request, django_db_setup, django_db_blocker):
        shared = _Shared(django_db_blocker)
        shared.open(build)
        _BY_MODULE[(request.module.__name__, name)] = shared
        yield shared
        shared.close()
        _BY_MODULE.pop((request.module.__name__, name), None)

    def fixture(**kw):
        from django.core.cache import caches

        shared = kw[once_name]
        if not shared.is_open:  # ended by a test that did not use it: built again in this test's transaction
            yield build()
            return
        for c in caches.all():
            c.clear()
        yield copy.deepcopy(shared.value)
        shared.restore_files()

    # the module fixture is a parameter of the test's: pytest sets it up (opening its transaction) before any
    # function fixture, pytest-django's transaction of the test (db) included
    fixture.__signature__ = inspect.Signature([inspect.Parameter(p, inspect.Parameter.POSITIONAL_OR_KEYWORD)
                                               for p in (once_name, "db", "fast_passwords")])
    fixture._gongwei_shared = name  # for the grouping below
    # both fixtures become the calling module's, where pytest finds fixtures
    sys._getframe(1).f_globals[once_name] = pytest.fixture(scope="module", name=once_name)(once)
    return pytest.fixture(name=name)(fixture)


_BY_MODULE: dict[tuple[str, str], _Shared] = {}


def _shared_names(item: pytest.Item) -> tuple[str, ...]:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return ()
    out = []
    for name in info.names_closure:
        defs = info.name2fixturedefs.get(name) or ()
        if defs and getattr(defs[-1].func, "_gongwei_shared", None) == name:
            out.append(name)
    return tuple(out)


def _django_order(item: pytest.Item) -> int:
    names = set(getattr(item, "fixturenames", ()))
    marker = item.get_closest_marker("django_db")
    if names & {"transactional_db", "live_server", "django_db_reset_sequences"} or (
            marker is not None and (marker.kwargs.get("transaction") or marker.kwargs.get("reset_sequences"))):
        return 1
    return 0 if _touches_db(item) else 2


def _touches_db(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(
        names & {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"})


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Within each run of one module's tests (pytest-django has already put the database tests before the
    transactional ones), the tests of one shared fixture run together: each is built once."""
    start = 0
    while start < len(items):
        end = start
        while end < len(items) and getattr(items[end], "module", None) is getattr(items[start], "module", None):
            end += 1
        run = items[start:end]
        if any(_shared_names(i) for i in run):
            order: dict[tuple[str, ...], int] = {}
            for i in run:
                order.setdefault(_shared_names(i), len(order))
            # pytest-django's order first (database tests, transactional ones, the others), then by shared fixture
            items[start:end] = sorted(run, key=lambda i: (_django_order(i), order[_shared_names(i)]))
        start = end


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Before a test's fixtures: end every shared transaction this test does not use, if it touches the database."""
    if not _OPEN or not _touches_db(item):
        return
    module = getattr(getattr(item, "module", None), "__name__", None)
    keep = [_BY_MODULE.get((module, n)) for n in _shared_names(item)]
    for shared in list(_OPEN):
        if not any(shared is k for k in keep):
            shared.close()
