"""A run that did not test something says so: under CI=true it fails, locally it prints what it did not run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ci_policy import not_available

ROOT = Path(__file__).resolve().parents[1]

SKIPPING = """
import pytest

def test_runs():
    assert True

def test_needs_a_browser():
    pytest.skip("no browser here")
"""


def run_inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str) -> pytest.RunResult:
    monkeypatch.setenv("CI", ci)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makepyfile(test_inner=SKIPPING)
    return pytester.runpytest_subprocess("-p", "tests.ci_policy", "-p", "no:django", "-p", "no:cacheprovider")


def test_a_skip_fails_the_run_under_ci(pytester, monkeypatch):
    result = run_inner(pytester, monkeypatch, "true")
    result.assert_outcomes(passed=1, skipped=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*NOT RUN under CI=true*", "*test_needs_a_browser*no browser here*"])


def test_a_skip_is_listed_loudly_outside_ci(pytester, monkeypatch):
    result = run_inner(pytester, monkeypatch, "")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*NOT RUN — this run proves less than CI*", "*test_needs_a_browser*no browser here*"])


def test_missing_prerequisite_fails_under_ci_and_skips_locally(monkeypatch):
    # the helper the browser test and the QC recall test call when Chromium or an evaluator is missing
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true 但质控规则 X-99"):
        not_available("质控规则 X-99 没有注册的评估器")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="X-99"):
        not_available("质控规则 X-99 没有注册的评估器")


def test_browser_test_fails_under_ci_without_chromium():
    env = {**os.environ, "CI": "true", "GONGWEI_CHROMIUM": "/nonexistent/chromium", "GONGWEI_TEST_DB": "sqlite"}
    env.pop("DATABASE_URL", None)
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_admin_browser.py"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "CI=true 但找不到 Chromium（/nonexistent/chromium）" in proc.stdout
    assert "1 error" in proc.stdout and "passed" not in proc.stdout


def test_recall_test_fails_under_ci_for_a_rule_without_evaluator(monkeypatch):
    """tests/test_qc_recall.py with an evaluator missing from the registry: a failure under CI, not a skip."""
    from tests import test_qc_recall

    monkeypatch.setattr(test_qc_recall, "evaluators", lambda: {})  # the registry without any evaluator
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true 但质控规则 F-03 没有注册的评估器"):
        test_qc_recall.test_recall_and_precision({}, "F-03")
