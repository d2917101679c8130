"""Migrations build exactly the schema the models describe, on a fresh SQLite file, and go back down."""
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CheckConstraint, inspect

from callcenter import db
from callcenter.models import Base


@pytest.fixture
def url(tmp_path):
    url = f"sqlite:///{tmp_path / 'not-yet' / 'cc.db'}"  # upgrade must create the folder
    db.upgrade(url)
    return url


def script() -> ScriptDirectory:
    return ScriptDirectory.from_config(db.alembic_config("sqlite://"))


def schema_diff(url: str) -> list:
    with db.make_engine(url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
        return compare_metadata(context, Base.metadata)


def test_one_head_so_parallel_migrations_are_noticed():
    # Two engineers each adding "the next" revision would leave two heads; upgrade head then fails.
    assert len(script().get_heads()) == 1


def test_fresh_database_reaches_head(url, tmp_path):
    assert (tmp_path / "not-yet" / "cc.db").is_file()
    assert db.current_revision(url) == script().get_current_head()


def test_migrated_schema_matches_the_models(url):
    assert schema_diff(url) == []


def test_check_constraints_match_the_models(url):
    # compare_metadata does not look at CHECK constraints, so compare them by name and text.
    inspector = inspect(db.make_engine(url))
    for table in Base.metadata.sorted_tables:
        wanted = {(c.name, str(c.sqltext)) for c in table.constraints if isinstance(c, CheckConstraint)}
        found = {(c["name"], c["sqltext"]) for c in inspector.get_check_constraints(table.name)}
        assert found == wanted, table.name
    assert ("ck_users_role", "role IN ('agent', 'supervisor', 'quality', 'backoffice', 'admin')") in {
        (c["name"], c["sqltext"]) for c in inspector.get_check_constraints("users")}


def test_upgrade_twice_is_harmless(url):
    db.upgrade(url)
    assert db.current_revision(url) == script().get_current_head()
    assert schema_diff(url) == []


def test_downgrade_to_base_and_up_again(url):
    command.downgrade(db.alembic_config(url), "base")
    assert db.current_revision(url) is None
    assert inspect(db.make_engine(url)).get_table_names() == ["alembic_version"]
    db.upgrade(url)
    assert schema_diff(url) == []


def test_empty_database_has_no_revision(tmp_path):
    assert db.current_revision(f"sqlite:///{tmp_path / 'empty.db'}") is None


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(url):
    with db.make_engine(url).connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
