"""The login throttle (issue 15, "Logins"): a user name is locked after N wrong passwords, with an
audit row; an address with too many failures is refused; a right password resets the name's
count; unknown names take the same code path (the same hash check) as known ones.

The desktop world of test_desktop_access (real SQLite, the real app); Redis is its fake, with the
string commands of tests/unit/session_redis.py on a clock the test moves.
"""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from agent_desktop import auth
from agent_desktop.login_guard import LoginLimits
from callcenter.models import AuditEntry, User
from tests.unit.session_redis import SessionRedis
from tests.unit.test_desktop_access import FakeRedis, world, world_db  # noqa: F401

LOCKED_WORDS = "登录失败次数过多"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def desk(world, monkeypatch):
    app, router, redis, _ = world
    # counters that expire (the world's fake counts forever): the mixin's INCR on a test clock
    monkeypatch.setattr(FakeRedis, "incr", SessionRedis.incr)
    clock = Clock()
    monkeypatch.setattr(redis, "now", clock, raising=False)
    app.config["LOGIN_LIMITS"] = LoginLimits(account_failures=3, address_failures=100, window_s=900, lock_s=600)
    return app, redis, clock


def attempt(app, username, password, address="127.0.0.1"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})


def error_words(reply) -> str:
    found = re.search(r'<p class="error" id="login-error" role="alert">([^<]*)</p>', reply.get_data(as_text=True))
    return found.group(1) if found else ""


def audits(app, action):
    with app.extensions["callcenter"].sessions() as s:
        return s.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


def test_a_name_is_locked_after_n_failures_with_an_audit_row(desk):
    app, _redis, clock = desk
    for _ in range(3):
        assert attempt(app, "agent", "wrong-password").status_code == 401
    rows = audits(app, "login_locked")
    assert [(r.target, r.actor) for r in rows] == [("agent", "login-throttle")]
    assert "3 failed logins" in rows[0].detail
    locked = attempt(app, "agent", "secret-agent")  # even the right password, while locked
    assert locked.status_code == 429
    assert LOCKED_WORDS in error_words(locked) and "10" in error_words(locked)  # lock_s 600: 10 minutes
    assert attempt(app, "supervisor", "secret-supervisor").status_code == 302  # other names are not locked
    clock.t += 601  # the lock lapses
    assert attempt(app, "agent", "secret-agent").status_code == 302


def test_an_unknown_name_is_locked_the_same_way_and_the_page_does_not_tell(desk):
    app, _redis, _clock = desk
    for name in ("agent", "nobody-here"):
        for _ in range(3):
            assert attempt(app, name, "wrong-password").status_code == 401
    known, unknown = attempt(app, "agent", "x"), attempt(app, "nobody-here", "x")
    assert known.status_code == unknown.status_code == 429
    assert error_words(known) == error_words(unknown) != ""
    assert {r.target for r in audits(app, "login_locked")} == {"agent", "nobody-here"}


def test_a_right_password_resets_the_names_count(desk):
    app, _redis, _clock = desk
    for _ in range(2):
        attempt(app, "agent", "wrong-password")
    assert attempt(app, "agent", "secret-agent").status_code == 302
    for _ in range(2):  # 2 + 2 wrong in the window, but the count restarted at the good login
        assert attempt(app, "agent", "wrong-password").status_code == 401
    assert attempt(app, "agent", "secret-agent").status_code == 302
    assert audits(app, "login_locked") == []


def test_failures_past_the_window_start_a_new_count(desk):
    app, _redis, clock = desk
    for _ in range(2):
        attempt(app, "agent", "wrong-password")
    clock.t += 901
    for _ in range(2):
        attempt(app, "agent", "wrong-password")
    assert attempt(app, "agent", "secret-agent").status_code == 302


def test_an_address_with_too_many_failures_is_refused_for_every_name(desk):
    app, _redis, clock = desk
    app.config["LOGIN_LIMITS"] = LoginLimits(account_failures=100, address_failures=4, window_s=900, lock_s=600)
    for name in ("a1", "a2", "agent", "a4"):  # a few guesses each at many names
        assert attempt(app, name, "wrong-password", address="10.9.8.7").status_code == 401
    refused = attempt(app, "supervisor", "secret-supervisor", address="10.9.8.7")
    assert refused.status_code == 429 and LOCKED_WORDS in error_words(refused)
    assert [r.target for r in audits(app, "login_address_blocked")] == ["10.9.8.7"]
    assert attempt(app, "supervisor", "secret-supervisor", address="10.9.8.8").status_code == 302
    clock.t += 601
    assert attempt(app, "supervisor", "secret-supervisor", address="10.9.8.7").status_code == 302


def test_unknown_and_inactive_users_cost_the_same_hash_check(desk, monkeypatch):
    app, _redis, _clock = desk
    checked = []
    real = auth.check_password_hash

    def spy(pwhash, password):
        checked.append(pwhash)
        return real(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", spy)
    with app.extensions["callcenter"].sessions() as s:
        agent = s.scalar(select(User).where(User.username == "agent"))
        agent_hash = agent.password_hash
        agent2 = s.scalar(select(User).where(User.username == "agent2"))
        agent2.active = False
        s.commit()
    assert attempt(app, "nobody-here", "secret-agent").status_code == 401
    assert attempt(app, "agent", "wrong-password").status_code == 401
    assert attempt(app, "agent2", "secret-agent2").status_code == 401  # inactive: checked, then refused
    assert checked[0] == auth.dummy_hash() and checked[1] == agent_hash and len(checked) == 3
    # the dummy hash is made once, with the same method (and so the same cost) as users' hashes
    assert auth.dummy_hash() is auth.dummy_hash()
    assert auth.dummy_hash().split("$")[0] == agent_hash.split("$")[0]


def test_limits_come_from_the_environment_and_bad_values_are_refused():
    limits = LoginLimits.from_env({"CC_LOGIN_ACCOUNT_FAILURES": "7", "CC_LOGIN_ADDRESS_FAILURES": "300"})
    assert (limits.account_failures, limits.address_failures, limits.window_s) == (7, 300, 900)
    assert LoginLimits.from_env({}) == LoginLimits()
    for bad in ("0", "-1", "abc", "٣", "10000000"):
        with pytest.raises(ValueError, match="CC_LOGIN_LOCK_S"):
            LoginLimits.from_env({"CC_LOGIN_LOCK_S": bad})
