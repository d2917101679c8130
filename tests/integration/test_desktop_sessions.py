"""Logins and sessions against the real stack (issue 15): real Redis, the real router, two web
workers behind one Redis and its Socket.IO message queue.

Deactivating an agent ends a copy of their cookie used on the other worker, disconnects their
socket there (over the message queue) and logs their seat out of the router; a user name that
guesses wrong five times is locked, with an audit row, even for the right password.
"""
from __future__ import annotations

import re

import redis as sync_redis
import requests
from sqlalchemy import select

from agent_desktop import login_guard
from callcenter.models import AuditEntry, User
from tests.integration.desktop_helpers import PASSWORD, make_user, socket_client, web_login
from tests.integration.test_desktop import base_url, received, until
from tests.integration.test_desktop import second_worker  # noqa: F401  a fixture: the second web worker

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def test_deactivating_an_agent_ends_their_sessions_on_every_worker(stack, sessions, second_worker, floor, store):
    ext = floor.extension()
    make_user(sessions, "sess_agent", "agent", ext=ext)
    make_user(sessions, "sess_admin", "admin")
    first = base_url(stack)
    agent_http, agent_token = web_login(first, "sess_agent")
    # the same cookie on the other worker: the agent's second tab, or a copy of it
    socket = socket_client(second_worker, agent_http, agent_token)
    ended = received(socket, "session_ended")
    try:
        # logged in at the seat (not ready: no phone is needed for it)
        assert socket.call("agent_state", {"to": "not_ready", "reason": "break"}, timeout=10)["ok"] is True
        await until(_state(store, ext, "not_ready"), "the agent logged in at the router")
        admin_http, admin_token = web_login(first, "sess_admin", page="/admin/")
        reply = admin_http.post(f"{first}/admin/users", allow_redirects=False, timeout=10, data={
            "username": "sess_agent", "role": "agent", "language": "en", "extension": ext, "team": "",
            "active": "0", "csrf_token": admin_token})
        assert reply.status_code == 302
        await until(lambda: not socket.connected, "the agent's socket on worker 2 disconnected")
        assert ended == [{}]  # told before the close: the page goes to the login page
        assert agent_http.get(f"{second_worker}/api/me", timeout=10).status_code == 401
        assert agent_http.get(f"{first}/api/me", timeout=10).status_code == 401
        await until(_state(store, ext, "logged_out"), "the seat logged out of the router")
        with sessions() as s:
            entry = s.scalar(select(AuditEntry).where(AuditEntry.actor == "sess_admin", AuditEntry.target == ext,
                                                      AuditEntry.action == "agent_state"))
            assert entry is not None and entry.detail == "to logged_out"
    finally:
        socket.disconnect()
        with sessions() as s:  # nothing left behind: the user active again for the session's other tests
            s.scalar(select(User).where(User.username == "sess_agent")).active = True
            s.commit()


def _state(store, ext: str, wanted: str):
    async def check():
        return (await store.agent(ext)).state == wanted
    return check


async def test_a_user_name_is_locked_after_five_wrong_passwords(stack, sessions):
    make_user(sessions, "sess_locked", "agent")
    first = base_url(stack)
    redis = sync_redis.Redis.from_url(stack.effective_redis_url, decode_responses=True)
    try:
        codes = [_login(first, "sess_locked", "wrong-password").status_code for _ in range(5)]
        assert codes == [401] * 5
        locked = _login(first, "sess_locked", PASSWORD)
        assert locked.status_code == 429 and "登录失败次数过多" in locked.text  # the login page's default words
        assert _login(first, "sess_no_such_user", "wrong-password").status_code == 401  # others unaffected
        with sessions() as s:
            rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "login_locked",
                                                      AuditEntry.target == "sess_locked")).all()
        assert len(rows) == 1 and "5 failed logins" in rows[0].detail
    finally:  # nothing left behind: the lock and the counts of this test's names and address
        names = ("sess_locked", "sess_no_such_user")
        redis.delete(*(login_guard.LOCKED.format(kind="user", who=name) for name in names),
                     *(login_guard.FAILURES.format(kind="user", who=name) for name in names),
                     login_guard.FAILURES.format(kind="addr", who="127.0.0.1"))
        redis.close()


def _login(base: str, username: str, password: str) -> requests.Response:
    http = requests.Session()
    token = CSRF_FIELD.search(http.get(f"{base}/login?lang=en", timeout=10).text).group(1)
    return http.post(f"{base}/login?lang=en", data={"username": username, "password": password, "csrf_token": token},
                     allow_redirects=False, timeout=10)
