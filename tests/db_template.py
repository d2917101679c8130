"""Pre-migrated SQLite files for tests: migrate (or fill) a template once, copy it per test.

An Alembic upgrade costs 0.1-0.4 s and a scrypt password hash 0.1 s; paid in every test's
setup they were most of the unit tier's time. A file copy costs a millisecond.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from callcenter import db


def settle(url: str) -> None:
    """Make the file at `url` whole on its own: SQLite in WAL mode keeps recent pages in -wal
    beside it until a checkpoint, and a copy takes only the main file."""
    engine = db.make_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()


def migrated(path: Path) -> str:
    """Upgrade a new SQLite file at `path` to head, settled for copying; its URL."""
    url = f"sqlite:///{path}"
    db.upgrade(url)
    settle(url)
    return url


def copy(template: Path, path: Path) -> str:
    """A test's own copy of a settled template; its URL."""
    shutil.copy(template, path)
    return f"sqlite:///{path}"
