"""Recordings: the retention rules (pure), the file checks, and the database side (register when a
call ends, verify checksums, purge past the date, legal hold) on a real SQLite file, with the
time passed in: nothing here sleeps."""
from __future__ import annotations

import os
import wave
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.config import ConfigError
from callcenter.models import AuditEntry, Call, Recording
from recordings import files, store
from recordings.retention import MIN_DAYS, RetentionRules, load, may_purge

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=timezone.utc)
RULES = RetentionRules(default_days=90, categories={"complaint": 365})


def write_wav(path: Path, seconds: float = 2.0, closed: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(8000)
        w.writeframes(b"\x10\x00" * int(8000 * seconds))
    if not closed:  # as Asterisk's writer leaves it until it closes the file: data size 0
        data = bytearray(path.read_bytes())
        data[40:44] = b"\0\0\0\0"
        path.write_bytes(bytes(data))
    return path


# ---------------------------------------------------------------- retention rules (pure)
def test_default_and_per_category_days():
    assert RULES.days_for("standard") == 90 and RULES.days_for("complaint") == 365
    assert RULES.category_for("complaint") == "complaint" and RULES.category_for("billing") == "standard"
    assert RULES.category_for(None) == "standard"
    assert RULES.retain_until("complaint", T0) == T0 + timedelta(days=365)


@pytest.mark.parametrize("data, words", [
    ({"default_days": 30}, "90 to"),                      # under the 90-day floor: refused, never applied
    ({"categories": {"billing": 89}}, "90 to"),
    ({"default_days": "90"}, "whole number"),
    ({"default_days": True}, "whole number"),
    ({"categories": {"Bad-Name": 100}}, "lower-case"),
    ({"keep": 100}, "unknown"),
    ({"categories": 5}, "table"),
])
def test_bad_rules_are_refused_at_load(data, words):
    with pytest.raises(ConfigError, match=words):
        RetentionRules.from_mapping(data)


def test_rules_file_is_written_with_defaults_and_read(tmp_path):
    rules = load(tmp_path)
    assert rules.default_days == MIN_DAYS and (tmp_path / "retention.toml").is_file()
    (tmp_path / "retention.toml").write_text("default_days = 120\n[categories]\nvip = 400\n")
    assert load(tmp_path) == RetentionRules(120, {"vip": 400})


@pytest.mark.parametrize("now, held, purge", [
    (T0 - timedelta(seconds=1), False, False),
    (T0, False, False),                      # on its date: still kept
    (T0 + timedelta(seconds=1), False, True),
    (T0 + timedelta(days=9999), True, False),  # a legal hold keeps it past its date
])
def test_may_purge(now, held, purge):
    assert may_purge(T0, held, now) is purge


# ---------------------------------------------------------------- the file checks
def test_inspect_reads_duration_size_and_checksum(tmp_path):
    path = write_wav(tmp_path / "a.wav", 2.5)
    facts = files.inspect(path)
    assert facts.duration_ms == 2500 and facts.size_bytes == path.stat().st_size and facts.closed
    assert facts.sha256 == files.sha256_of(path) and len(facts.sha256) == 64
    assert not files.inspect(write_wav(tmp_path / "b.wav", 2.0, closed=False)).closed
    (tmp_path / "c.wav").write_bytes(b"not a wave")
    assert files.inspect(tmp_path / "c.wav").duration_ms is None


def test_resolve_stays_strictly_inside_the_folder(tmp_path):
    root = tmp_path / "recordings"
    write_wav(root / "2026/03/01/x.wav")
    outside = write_wav(tmp_path / "secret.wav")
    assert files.resolve(root, "2026/03/01/x.wav") == root / "2026/03/01/x.wav"
    (root / "2026/03/01/link.wav").symlink_to(outside)
    os.symlink(tmp_path, root / "2026/up")
    for bad in ("../secret.wav", str(outside), "/etc/passwd", "2026/03/01/link.wav", "2026/up/secret.wav",
                "2026/03/01/../../../../secret.wav", "2026//03/x.wav", "./2026/03/01/x.wav", "2026\\x.wav", ""):
        with pytest.raises(files.UnsafePath):
            files.resolve(root, bad)
    with pytest.raises(FileNotFoundError):
        files.resolve(root, "2026/03/01/nothere.wav")
    with pytest.raises(ValueError):
        files.relative_to_root(root, str(outside))


# ---------------------------------------------------------------- the database side
@pytest.fixture
def world(migrated_db, tmp_path):
    root = tmp_path / "recordings"
    root.mkdir()
    return db.session_factory(migrated_db), root


def add_call(s, uid: str, root: Path, rel: str | None, answered: bool = True, skill: str = "billing") -> Call:
    call = Call(uniqueid=uid, started_at=T0, ended_at=T0 + timedelta(minutes=2), skill=skill,
                answered_at=T0 + timedelta(seconds=30) if answered else None,
                recording_path=str(root / rel) if rel else None)
    s.add(call)
    s.flush()
    return call


def audit_rows(s, action: str) -> list[AuditEntry]:
    return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_register_stores_the_closed_files_facts(world):
    sessions, root = world
    path = write_wav(root / "2026/03/01/c1.wav", 3.0)
    ended = T0 + timedelta(minutes=2)
    with sessions() as s:
        add_call(s, "c1", root, "2026/03/01/c1.wav", skill="complaint")
        assert store.register_pending(s, root, ended + timedelta(seconds=1), RULES) == 1
        s.commit()
        rec = s.scalar(select(Recording))
        assert (rec.path, rec.duration_ms, rec.size_bytes, rec.problem) == ("2026/03/01/c1.wav", 3000, path.stat().st_size, None)
        assert rec.sha256 == files.sha256_of(path) and len(rec.id) == 32
        assert rec.category == "complaint" and store.aware(rec.retain_until) == ended + timedelta(days=365)
        assert store.register_pending(s, root, ended + timedelta(hours=1), RULES) == 0  # once per call


def test_a_file_still_open_waits_then_is_flagged(world):
    sessions, root = world
    write_wav(root / "o.wav", 1.0, closed=False)
    ended = T0 + timedelta(minutes=2)
    with sessions() as s:
        add_call(s, "c2", root, "o.wav")
        assert store.register_pending(s, root, ended + timedelta(seconds=5), RULES) == 0
        assert store.register_pending(s, root, ended + store.CLOSE_GRACE, RULES) == 1
        assert s.scalar(select(Recording.problem)) == "unplayable"
        assert len(audit_rows(s, "recording_flagged")) == 1


@pytest.mark.parametrize("rel, make, problem", [
    ("gone.wav", None, "missing"),          # the file was never written
    (None, None, "missing"),                # answered, but no recording was started at all
    ("empty.wav", "empty", "unplayable"),   # closed with no audio
    ("link.wav", "link", "unplayable"),     # a link where the file should be: never followed
])
def test_answered_calls_without_a_playable_file_are_flagged(world, rel, make, problem):
    sessions, root = world
    if make == "empty":
        write_wav(root / rel, 0.0)
    if make == "link":
        (root / rel).symlink_to(write_wav(root.parent / "elsewhere.wav"))
    with sessions() as s:
        add_call(s, "c3", root, rel)
        add_call(s, "c4", root, None, answered=False)  # never answered, never recorded: nothing to flag
        store.register_pending(s, root, T0 + timedelta(hours=1), RULES)
        s.commit()
        rows = list(s.scalars(select(Recording)))
        assert [(r.call_uniqueid, r.problem) for r in rows] == [("c3", problem)]
        assert store.flagged_count(s) == 1


def test_an_empty_closed_file_of_a_call_nobody_answered_is_registered_not_flagged(world):
    """A call back whose customer was busy at once: the leg's file is closed with no audio."""
    sessions, root = world
    path = write_wav(root / "cb.wav", 0.0)
    with sessions() as s:
        add_call(s, "c5", root, "cb.wav", answered=False)
        assert store.register_pending(s, root, T0 + timedelta(hours=1), RULES) == 1
        s.commit()
        rec = s.scalar(select(Recording))
        assert (rec.call_uniqueid, rec.problem, rec.duration_ms, rec.sha256) == ("c5", None, 0, files.sha256_of(path))
        assert store.flagged_count(s) == 0 and audit_rows(s, "recording_flagged") == []


def registered(sessions, root, *names) -> dict[str, str]:
    with sessions() as s:
        for name in names:
            write_wav(root / f"{name}.wav", 1.0)
            add_call(s, name, root, f"{name}.wav")
        store.register_pending(s, root, T0 + timedelta(hours=1), RULES)
        s.commit()
        return {r.call_uniqueid: r.id for r in s.scalars(select(Recording))}


def test_verify_flags_deleted_and_altered_files(world):
    sessions, root = world
    ids = registered(sessions, root, "keep", "deleted", "altered")
    (root / "deleted.wav").unlink()
    with open(root / "altered.wav", "r+b") as f:
        f.seek(100), f.write(b"\x7f\x7f")
    with sessions() as s:
        result = store.verify(s, root, T0 + timedelta(days=1))
        s.commit()
        assert result.checked == 3
        assert sorted(result.flagged) == sorted([(ids["deleted"], "missing"), (ids["altered"], "altered")])
        assert store.flagged_count(s) == 2
        assert {a.target for a in audit_rows(s, "recording_flagged")} == {ids["deleted"], ids["altered"]}
        assert store.verify(s, root, T0 + timedelta(days=2)).flagged == []  # flagged once


def test_purge_removes_expired_keeps_held_and_audits(world):
    sessions, root = world
    ids = registered(sessions, root, "old", "held", "young")
    with sessions() as s:
        s.get(Recording, ids["young"]).retain_until = T0 + timedelta(days=200)
        store.set_hold(s, s.get(Recording, ids["held"]), "lead", True, "case 42", T0)
        s.commit()
    ended = T0 + timedelta(minutes=2)
    with sessions() as s:
        assert store.purge(s, root, ended + timedelta(days=90), RULES) == []  # on the date: kept
        removed = store.purge(s, root, ended + timedelta(days=90, seconds=1), RULES)
        s.commit()
        assert removed == [ids["old"]]
        assert not (root / "old.wav").exists() and (root / "held.wav").exists() and (root / "young.wav").exists()
        entry, = audit_rows(s, "recording_purged")
        assert entry.target == ids["old"] and "call old" in entry.detail and "old.wav" in entry.detail
        assert [a.target for a in audit_rows(s, "recording_hold")] == [ids["held"]]
        store.set_hold(s, s.get(Recording, ids["held"]), "lead", False, "case closed", T0 + timedelta(days=100))
        assert store.purge(s, root, T0 + timedelta(days=100), RULES) == [ids["held"]]
        s.commit()
        assert not (root / "held.wav").exists()
        assert [a.target for a in audit_rows(s, "recording_release")] == [ids["held"]]


def test_a_longer_rule_keeps_older_recordings_longer(world):
    sessions, root = world
    ids = registered(sessions, root, "r")
    longer = RetentionRules(default_days=200)
    with sessions() as s:
        assert store.purge(s, root, T0 + timedelta(days=150), longer) == []
        assert store.purge(s, root, T0 + timedelta(days=150), RULES) == [ids["r"]]


def test_purge_never_follows_a_link_planted_in_place_of_the_file(world):
    sessions, root = world
    ids = registered(sessions, root, "p")
    victim = write_wav(root.parent / "victim.wav")
    (root / "p.wav").unlink()
    (root / "p.wav").symlink_to(victim)
    with sessions() as s:
        assert store.purge(s, root, T0 + timedelta(days=400), RULES) == []
        assert victim.exists() and s.get(Recording, ids["p"]).purged_at is None


def test_cli_verify_flags_and_status_counts(world, tmp_path, monkeypatch, capsys):
    import json

    from callcenter import cli
    from callcenter.config import Settings

    sessions, root = world  # root is tmp_path/recordings: the recordings folder of this home
    ids = registered(sessions, root, "ok", "changed")
    (root / "changed.wav").write_bytes(b"RIFF and something else")
    monkeypatch.setenv("CALLCENTER_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["recordings", "verify", "--json"]) == 1  # something newly flagged: not 0
    report = json.loads(capsys.readouterr().out)
    assert report == {"checked": 2, "flagged": [{"id": ids["changed"], "problem": "altered"}]}
    assert cli.flagged_recordings(Settings.from_env()) == {"flagged": 1}
    assert cli.main(["recordings", "verify"]) == 0  # already flagged: nothing new
    assert cli.main(["recordings", "flagged", "--json"]) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["flagged"][0]["problem"] == "altered"
