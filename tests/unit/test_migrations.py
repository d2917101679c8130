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


# end_reason as 0005 stored it -> (code, end_detail) after 0006; and back again on downgrade
OLD_END_REASONS = [
    ("agent hung up", "agent_hangup", None),
    ("caller hung up", "caller_hangup", None),
    ("ended by ivr", "ivr_ended", None),
    ("caller asked for a call back", "callback_requested", None),
    ("caller abandoned while agent phone rang", "abandoned_ringing", None),
    ("caller abandoned while waiting", "abandoned_waiting", None),
    ("caller abandoned while waiting (IVR unreachable)", "abandoned_waiting", "ivr_unreachable"),
    ("caller abandoned while waiting (IVR error)", "abandoned_waiting", "ivr_error"),
    ("caller hung up on hold", "hung_up_on_hold", None),
    ("caller hung up in ivr", "hung_up_in_ivr", None),
    ("caller hung up before queueing (IVR unreachable)", "hung_up_before_queue", "ivr_unreachable"),
    ("lost: channel gone without an end event", "lost", None),
    ("ended in stage unknown", "unknown", None),
    ("ended in stage connected (IVR error)", "unknown", "ivr_error"),
    ("something a person typed", "unknown", None),
    (None, None, None),  # still in progress
]


def test_end_reason_sentences_become_codes_and_come_back(url):
    config = db.alembic_config(url)
    command.downgrade(config, "0005")
    engine = db.make_engine(url)
    with engine.begin() as connection:
        for i, (sentence, _code, _detail) in enumerate(OLD_END_REASONS):
            connection.exec_driver_sql(
                "INSERT INTO calls (uniqueid, started_at, stage, end_reason, password_verified) "
                "VALUES (?, '2026-01-01 00:00:00', 'entered', ?, 0)", (f"u{i}", sentence))
    db.upgrade(url)
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT end_reason, end_detail FROM calls ORDER BY id").all()
    assert rows == [(code, detail) for _sentence, code, detail in OLD_END_REASONS]

    command.downgrade(config, "0005")
    with engine.connect() as connection:
        back = connection.exec_driver_sql("SELECT end_reason FROM calls ORDER BY id").scalars().all()
    # every sentence the code wrote comes back; "ended in stage X" and unknown text come back as unknown
    assert back == [s if c != "unknown" else ("ended in stage unknown (IVR error)" if d else "ended in stage unknown")
                    for s, c, d in OLD_END_REASONS]
