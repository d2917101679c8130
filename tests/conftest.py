"""Shared by both tiers: one migrated SQLite template per session."""
from __future__ import annotations

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

