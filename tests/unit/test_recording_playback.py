"""Playback and download of recordings through the desktop (agent_desktop/recordings.py): by id
only, to the roles and teams allowed, strictly inside the recordings folder, with Range answers,
every playback and download audited; and the search's filters, pages and fixed sort fields.

A real SQLite file and the real Flask app; Redis and the router are not reached by these routes.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from agent_desktop import create_app
from callcenter import db
from callcenter.config import Settings
from callcenter.models import AgentStateLog, AuditEntry, Call, CallWrapup, Recording, Team, User
from recordings import files
from tests import db_template
from tests.unit.test_recordings import write_wav
from tests.unit.session_redis import SessionRedis  # login throttle, session tokens (issue 15)

MINE, THEIRS = "1700000000.1", "1700000000.2"
REC_MINE, REC_THEIRS = "a" * 32, "b" * 32
USERS = {"agent": ("agent", "1001"), "agent2": ("agent", "1002"), "supervisor": ("supervisor", None),
         "supervisor2": ("supervisor", None), "quality": ("quality", None), "admin": ("admin", None),
         "backoffice": ("backoffice", None)}


FILES = ((MINE, "1001", REC_MINE, 2.0, "13800000001"), (THEIRS, "1002", REC_THEIRS, 5.0, "13900000002"))


@pytest.fixture(scope="session")
def world_db(tmp_path_factory, migrated_template):
    """Users, teams, calls and recording rows, built once (seven scrypt hashes are 0.7 s) and copied
    into each test's home by `world`, which writes the files."""
    path = tmp_path_factory.mktemp("recordings-world") / "callcenter.db"
    sessions = db.session_factory(db_template.copy(migrated_template, path))
    sample = tmp_path_factory.mktemp("recordings-sample")
    now = datetime.now(timezone.utc)
    with sessions() as s:
        users = {}
        for name, (role, ext) in USERS.items():
            user = User(username=name, display_name=name, role=role, language="en", agent_extension=ext)
            user.set_password("secret-" + name)
            s.add(user)
            users[name] = user
        s.flush()
        team_a, team_b = Team(name="a", supervisor_id=users["supervisor"].id), Team(name="b", supervisor_id=users["supervisor2"].id)
        s.add_all([team_a, team_b])
        s.flush()
        users["agent"].team_id, users["agent2"].team_id = team_a.id, team_b.id
        for uid, ext, rec_id, seconds, number in FILES:
            wav = write_wav(sample / f"{uid}.wav", seconds)  # write_wav is deterministic: the same bytes per test
            s.add(Call(uniqueid=uid, caller_number=number, started_at=now, ended_at=now, answered_at=now,
                       skill="billing" if ext == "1001" else "complaint", agent_extension=ext))
            s.add(AgentStateLog(stream_id=f"1-{ext}", extension=ext, state="on_call", call_uniqueid=uid, started_at=now))
            s.add(Recording(id=rec_id, call_uniqueid=uid, path=f"2026/01/01/{uid}.wav", size_bytes=wav.stat().st_size,
                            duration_ms=int(seconds * 1000), sha256=files.sha256_of(wav), retain_until=now + timedelta(days=90)))
        s.add(CallWrapup(call_uniqueid=THEIRS, extension="1002", disposition="complaint_logged"))
        s.commit()
    db_template.settle(f"sqlite:///{path}")
    return path


@pytest.fixture
def world(tmp_path, world_db):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    root = settings.recordings_dir
    sessions = db.session_factory(db_template.copy(world_db, tmp_path / "callcenter.db"))
    for uid, _ext, _rec, seconds, _number in FILES:
        write_wav(root / f"2026/01/01/{uid}.wav", seconds)
    app = create_app(settings, router=object(), redis=SessionRedis(), message_queue=False)
    app.config["TESTING"] = True
    return app, sessions, root


def login(app, name):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert client.post("/login", data={"username": name, "password": "secret-" + name, "csrf_token": token}).status_code == 302
    return client


def audits(sessions, action):
    with sessions() as s:
        return [(a.actor, a.target) for a in s.scalars(select(AuditEntry).where(AuditEntry.action == action))]


@pytest.mark.parametrize("who, mine, theirs", [
    ("agent", True, False),        # an agent: their own calls
    ("agent2", False, True),
    ("supervisor", True, False),   # a supervisor: their team's
    ("supervisor2", False, True),
    ("quality", True, True),       # inspectors: every call
    ("admin", True, True),
    ("backoffice", False, False),
])
def test_who_may_play_what(world, who, mine, theirs):
    app, sessions, root = world
    client = login(app, who)
    for rec_id, allowed in ((REC_MINE, mine), (REC_THEIRS, theirs)):
        reply = client.get(f"/api/recordings/{rec_id}/audio")
        expected = 200 if allowed else (403 if who == "backoffice" else 404)
        assert reply.status_code == expected, (who, rec_id)
        if allowed:
            assert reply.data == (root / f"2026/01/01/{MINE if rec_id == REC_MINE else THEIRS}.wav").read_bytes()
        else:
            assert reply.get_json()["code"] in ("NO_SUCH_RECORDING", "FORBIDDEN") and b"RIFF" not in reply.data
    assert len(audits(sessions, "recording_play")) == int(mine) + int(theirs)


def test_anonymous_is_refused(world):
    app, _s, _r = world
    reply = app.test_client().get(f"/api/recordings/{REC_MINE}/audio")
    assert reply.status_code == 401 and reply.get_json()["code"] == "UNAUTHORIZED"


def test_ranges_are_served_and_only_the_start_is_audited(world):
    app, sessions, root = world
    client = login(app, "supervisor")
    data = (root / f"2026/01/01/{MINE}.wav").read_bytes()
    first = client.get(f"/api/recordings/{REC_MINE}/audio", headers={"Range": "bytes=0-"})
    assert first.status_code == 206 and first.data == data
    assert first.headers["Content-Range"] == f"bytes 0-{len(data) - 1}/{len(data)}"
    assert first.headers["Accept-Ranges"] == "bytes" and first.headers["Cache-Control"] == "no-store"
    part = client.get(f"/api/recordings/{REC_MINE}/audio", headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.data == data[100:200] and part.headers["Content-Length"] == "100"
    past = client.get(f"/api/recordings/{REC_MINE}/audio", headers={"Range": f"bytes={len(data)}-"})
    assert past.status_code == 416 and past.headers["Content-Range"] == f"bytes */{len(data)}"
    assert audits(sessions, "recording_play") == [("supervisor", REC_MINE)]  # one playback, one row
    down = client.get(f"/api/recordings/{REC_MINE}/download")
    assert down.status_code == 200 and down.data == data and "attachment" in down.headers["Content-Disposition"]
    assert audits(sessions, "recording_download") == [("supervisor", REC_MINE)]


def test_each_playback_is_audited_with_its_reason(world):
    app, sessions, _root = world
    client = login(app, "quality")
    assert client.get(f"/api/recordings/{REC_MINE}/audio").status_code == 200  # the role's own reason
    assert client.get(f"/api/recordings/{REC_MINE}/audio?reason=complaint").status_code == 200
    bad = client.get(f"/api/recordings/{REC_MINE}/audio?reason=curiosity")
    assert bad.status_code == 400 and bad.get_json()["code"] == "BAD_VIEW_REASON" and b"RIFF" not in bad.data
    with sessions() as s:
        details = [a.detail for a in s.scalars(select(AuditEntry).where(AuditEntry.action == "recording_play"))]
    assert details == [f"call {MINE}; reason quality_inspection", f"call {MINE}; reason complaint"]


@pytest.mark.parametrize("path", [
    "/api/recordings/" + "c" * 32 + "/audio",               # a made-up id
    "/api/recordings/../../etc/passwd/audio",
    "/api/recordings/..%2F..%2Fetc%2Fpasswd/audio",
    "/api/recordings/%2Fetc%2Fpasswd/audio",
    "/api/recordings/2026%2F01%2F01%2F1700000000.1.wav/audio",  # a path instead of an id
    "/api/recordings/" + "A" * 32 + "/audio",
])
def test_anything_but_a_known_id_serves_nothing(world, path):
    app, sessions, _root = world
    reply = login(app, "quality").get(path)
    assert reply.status_code == 404 and b"RIFF" not in reply.data
    assert audits(sessions, "recording_play") == []


@pytest.mark.parametrize("stored", ["../secret.wav", "/etc/passwd", "2026/01/01/link.wav", "up/secret.wav"])
def test_a_stored_path_leaving_the_folder_or_a_link_is_refused(world, tmp_path, stored):
    app, sessions, root = world
    secret = write_wav(tmp_path / "secret.wav")
    (root / "2026/01/01/link.wav").symlink_to(secret)
    os.symlink(tmp_path, root / "up")
    with sessions() as s:
        s.get(Recording, REC_MINE).path = stored
        s.commit()
    reply = login(app, "quality").get(f"/api/recordings/{REC_MINE}/audio")
    assert reply.status_code == 410 and reply.get_json()["code"] == "RECORDING_UNAVAILABLE" and b"RIFF" not in reply.data
    assert audits(sessions, "recording_play") == []


def test_the_file_replaced_by_a_link_is_refused(world, tmp_path):
    app, _sessions, root = world
    target = root / f"2026/01/01/{MINE}.wav"
    target.unlink()
    target.symlink_to(write_wav(tmp_path / "secret.wav"))
    assert login(app, "agent").get(f"/api/recordings/{REC_MINE}/audio").status_code == 410


def test_the_calls_recording_for_the_journey_page(world):
    app, _s, _r = world
    reply = login(app, "agent").get(f"/api/calls/{MINE}/recording")
    assert reply.status_code == 200 and reply.get_json()["id"] == REC_MINE and reply.get_json()["duration_ms"] == 2000
    assert login(app, "agent").get(f"/api/calls/{THEIRS}/recording").status_code == 404


def test_legal_hold_by_allowed_roles_audited(world):
    app, sessions, _root = world
    client = login(app, "supervisor")
    with client.session_transaction() as sess:
        csrf = sess["csrf"]
    hold = lambda c, rec, body: c.post(f"/api/recordings/{rec}/hold", json=body, headers={"X-CSRF-Token": csrf})
    assert hold(client, REC_MINE, {"hold": True, "reason": "dispute 7"}).get_json() == {"id": REC_MINE, "legal_hold": True}
    assert hold(client, REC_THEIRS, {"hold": True, "reason": "x"}).status_code == 404  # not their team's
    assert hold(client, REC_MINE, {"hold": "yes", "reason": "x"}).get_json()["code"] == "BAD_HOLD"
    assert hold(client, REC_MINE, {"hold": False, "reason": ""}).get_json()["code"] == "MISSING_FIELD"
    assert audits(sessions, "recording_hold") == [("supervisor", REC_MINE)]
    agent = login(app, "agent")
    with agent.session_transaction() as sess:
        agent_csrf = sess["csrf"]
    reply = agent.post(f"/api/recordings/{REC_MINE}/hold", json={"hold": False, "reason": "x"}, headers={"X-CSRF-Token": agent_csrf})
    assert reply.status_code == 403 and reply.get_json()["code"] == "FORBIDDEN"


# ---------------------------------------------------------------- the search
def search(client, query=""):
    return client.get("/api/recordings?" + query)


def test_search_filters_sorts_and_pages(world):
    app, sessions, _root = world
    client = login(app, "quality")
    found = lambda q: [r["id"] for r in search(client, q).get_json()["recordings"]]
    assert found("sort=duration&dir=asc") == [REC_MINE, REC_THEIRS]
    assert found("sort=duration&dir=desc") == [REC_THEIRS, REC_MINE]
    assert found("agent=1002") == [REC_THEIRS] and found("queue=billing") == [REC_MINE]
    assert found("number=13800000001") == [REC_MINE] and found("disposition=complaint_logged") == [REC_THEIRS]
    assert found("min_s=3") == [REC_THEIRS] and found("max_s=3") == [REC_MINE]
    assert found("page=2") == [] and search(client).get_json()["total"] == 2
    assert found("from=2020-01-01&to=2020-01-02") == []
    assert len(audits(sessions, "search_recordings")) == 11
    assert found("") and [r["id"] for r in search(login(app, "supervisor")).get_json()["recordings"]] == [REC_MINE]


@pytest.mark.parametrize("query, code", [
    ("sort=path", "BAD_SORT"), ("sort=started%3Bdrop", "BAD_SORT"), ("dir=sideways", "BAD_SORT_DIRECTION"),
    ("agent=99", "BAD_EXTENSION"), ("queue=Bill%27", "UNKNOWN_SKILL"), ("number=138x", "BAD_NUMBER_FILTER"),
    ("disposition=nice", "BAD_DISPOSITION"), ("min_s=-1", "BAD_NUMBER"), ("min_s=10&max_s=5", "BAD_DURATION_RANGE"),
    ("page=0", "BAD_NUMBER"), ("from=2026-13-01", "BAD_DATE"), ("from=2026-01-02&to=2026-01-01", "BAD_PERIOD"),
])
def test_search_refuses_bad_filters_with_a_code(world, query, code):
    app, _s, _r = world
    reply = search(login(app, "quality"), query)
    assert reply.status_code == 400 and reply.get_json()["code"] == code and reply.get_json()["message"]


def test_search_page_renders_for_listeners(world):
    app, _s, _r = world
    assert login(app, "quality").get("/recordings").status_code == 200
    assert login(app, "backoffice").get("/recordings").status_code == 403
