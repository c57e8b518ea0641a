"""What the suite did not run is never silent: under CI it fails the run, locally it is printed loudly.

A skipped test is a gap in what CI proves (a missing browser, an evaluator not registered, an unreachable
database), so with ``CI=true`` any skip turns a green run red and names the reasons. Outside CI a developer may
lack Chromium or PostgreSQL; the run then ends with a banner listing what it did not run.
"""

from __future__ import annotations

import os

import pytest


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def not_available(what: str) -> None:
    """Skip locally, fail under CI: for a test whose prerequisite (browser, evaluator, service) is missing."""
    if under_ci():
        pytest.fail(f"CI=true 但{what}", pytrace=False)
    pytest.skip(what)


def _skip_reasons(terminalreporter) -> list[str]:
    reasons = []
    for report in terminalreporter.stats.get("skipped", []):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
        reasons.append(f"{report.nodeid}: {reason.removeprefix('Skipped: ')}")
    return reasons


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    reasons = _skip_reasons(terminalreporter)
    if not reasons:
        return
    title = "NOT RUN under CI=true — the run fails" if under_ci() else "NOT RUN — this run proves less than CI"
    terminalreporter.section(title, sep="!", red=True, bold=True)
    for line in reasons:
        terminalreporter.line(f"  {line}", red=True)


def pytest_sessionfinish(session, exitstatus) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if under_ci() and reporter is not None and _skip_reasons(reporter) and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
