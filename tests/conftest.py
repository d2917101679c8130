"""Shared by both tiers: one migrated SQLite template per session, and no silent skip on CI."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import db_template


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """A SQLite file upgraded to head once per session, for tests to copy (migrated_db) instead of
    upgrading their own. tests/unit/test_migrations.py still upgrades and downgrades fresh files."""
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    db_template.migrated(path)
    return path


@pytest.fixture
def migrated_db(migrated_template, tmp_path) -> str:
    """The URL of this test's own migrated database: tmp_path/callcenter.db, the file a Settings
    with CALLCENTER_HOME=tmp_path points at."""
    return db_template.copy(migrated_template, tmp_path / "callcenter.db")


def _on_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _fail_a_skip_on_ci(report) -> None:
    if report.skipped and _on_ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI={os.environ['CI']}, where nothing may skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On CI a skip is a failure: a missing Asterisk, Redis, Chromium or plugin (pytest-asyncio
    missing turns every async test into a skip) must turn the run red, not shrink it."""
    outcome = yield
    _fail_a_skip_on_ci(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at import (pytest.importorskip at the top)."""
    outcome = yield
    _fail_a_skip_on_ci(outcome.get_result())
