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
from callcenter.models import AgentStateLog, AuditEntry, User
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import PASSWORD, make_user, socket_client, web_login
from tests.integration.helpers import make_customer, wait_for_state
from tests.integration.test_acd_routing import ACCESS, CONSULT, agent_rung
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


async def test_an_agent_deactivated_on_a_real_call_is_logged_out_when_it_ends_and_never_rung_again(
        stack, ami, sessions, store, floor):
    """An admin deactivates an agent who is talking on a real call: the call goes on, and the seat
    is logged out once it and its wrap-up are over (the state log says why); the next caller is
    rung on another agent, though the deactivated one holds the skill at a better level."""
    gone = floor.agent({"consult": 5})
    other = floor.agent({"consult": 1})
    await floor.reload()
    await set_sim_phone(ami, gone, answer_after=0.5, talk_s=300)  # the caller hangs up, not the agent
    await set_sim_phone(ami, other, answer_after=0.5, talk_s=300)
    await floor.ready(gone)
    make_user(sessions, "sess_admin", "admin")
    _, number = make_customer(sessions)
    first_call = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=300)
    assert await agent_rung(ami, first_call) == gone
    await wait_for_state(store, gone, "on_call", timeout=40)
    await floor.ready(other)  # only now: the first call was the deactivated agent's
    base = base_url(stack)
    try:
        admin_http, admin_token = web_login(base, "sess_admin", page="/admin/")
        reply = admin_http.post(f"{base}/admin/users", allow_redirects=False, timeout=10, data={
            "username": f"t{gone}", "role": "agent", "language": "en", "extension": gone, "team": "",
            "active": "0", "csrf_token": admin_token})
        assert reply.status_code == 302
        with sessions() as s:
            pending = s.scalar(select(AuditEntry).where(AuditEntry.action == "seat_logout_pending",
                                                        AuditEntry.target == gone))
        assert pending is not None and pending.actor == "sess_admin"  # audited as the admin's
        assert (await store.agent(gone)).state == "on_call"  # the call goes on
        await ami.send_action({"Action": "Hangup", "Channel": (await store.call(first_call)).channel})
        await wait_for_state(store, gone, "wrapup", timeout=30)
        await wait_for_state(store, gone, "logged_out", timeout=40)  # the queue's wrap-up (10 s), then out
        assert (await store.agent(gone)).reason == "logout_after_call"

        def last_logged():  # drained from Redis into the database once a second
            with sessions() as s:
                row = s.scalars(select(AgentStateLog).where(AgentStateLog.extension == gone)
                                .order_by(AgentStateLog.id.desc())).first()
            return row if row is not None and row.state == "logged_out" else None
        row = await wait_until(last_logged, what="the logout drained into the state log")
        assert row.reason == "logout_after_call"

        _, number = make_customer(sessions)
        second_call = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=300)
        assert await agent_rung(ami, second_call) == other  # not the deactivated level-5 agent
        assert (await store.agent(gone)).state == "logged_out"
    finally:
        with sessions() as s:  # the test's user active again (its extension is never handed out again)
            s.scalar(select(User).where(User.username == f"t{gone}")).active = True
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
