"""Sessions end server-side (issue 15, "Sessions"): logging out kills every copy of the cookie;
deactivating a user or changing their role, extension, team or password ends their sessions and
closes their sockets; a deactivated agent is logged out of the router.

The desktop world of test_desktop_access: real SQLite, the real app and Socket.IO test clients;
the router and Redis are its fakes (the router fake records the commands it was sent).
"""
from __future__ import annotations

from sqlalchemy import select

from agent_desktop import login_guard, socketio
from agent_desktop.acd_client import CommandResult
from callcenter.models import AuditEntry, User
from tests.unit.test_desktop_access import connect, csrf, login, world, world_db  # noqa: F401

AGENT = {"username": "agent", "display_name": "<b>agent</b>", "role": "agent", "language": "en",
         "extension": "1001", "team": "team-a"}  # the agent as the world made them


def copy_of(app, client):
    """Another browser holding the same cookie (a stolen or copied session)."""
    thief = app.test_client()
    thief.set_cookie("cc_session", client.get_cookie("cc_session").value)
    return thief


def save_user(app, **changes):
    admin = login(app, "admin")
    reply = admin.post("/admin/users", data={**AGENT, **changes, "csrf_token": csrf(admin)})
    assert reply.status_code == 302, reply.get_data(as_text=True)


def test_logout_kills_a_copied_cookie(world):
    app, _router, _redis, _ = world
    agent = login(app, "agent")
    thief = copy_of(app, agent)
    assert thief.get("/api/me").status_code == 200  # the copy works while the session lives
    assert agent.post("/logout", data={"csrf_token": csrf(agent)}).status_code == 302
    assert thief.get("/api/me").status_code == 401
    assert login(app, "agent").get("/api/me").status_code == 200  # a new login makes a new session


def test_deactivating_an_agent_ends_sessions_sockets_and_the_router_seat(world):
    app, router, _redis, _ = world
    agent = login(app, "agent")
    socket = connect(app, agent)
    assert socket.is_connected()
    save_user(app, active="0")
    assert agent.get("/api/me").status_code == 401
    assert not socket.is_connected()
    assert ("state", {"ext": "1001", "to": "logged_out", "when_free": True, "by": "admin"}) in router.sent
    # and no way back in: the login itself is refused
    client = app.test_client()
    client.get("/login")
    reply = client.post("/login", data={"username": "agent", "password": "secret-agent", "csrf_token": csrf(client)})
    assert reply.status_code == 401


def test_role_extension_team_and_password_changes_end_sessions(world):
    app, router, _redis, _ = world
    for change in ({"extension": "1003"}, {"team": ""}, {"password": "a-new-secret"}, {"role": "supervisor"}):
        agent = login(app, "agent")
        socket = connect(app, agent)
        save_user(app, **change)
        assert agent.get("/api/me").status_code == 401, change
        assert not socket.is_connected(), change
        save_user(app, **({"password": "secret-agent"} if "password" in change else {}))  # back as the world had it
    # each time the agent left a seat the router was told: 1001 -> 1003, back (1003), agent -> supervisor
    logouts = [args["ext"] for op, args in router.sent if op == "state" and args.get("to") == "logged_out"]
    assert logouts == ["1001", "1003", "1001"]


def test_saving_a_user_unchanged_keeps_their_session(world):
    app, router, _redis, _ = world
    agent = login(app, "agent")
    socket = connect(app, agent)
    save_user(app)
    assert agent.get("/api/me").status_code == 200
    assert socket.is_connected()
    assert not [op for op, _args in router.sent if op == "state"]


def test_events_of_an_ended_session_are_refused(world):
    app, _router, _redis, _ = world
    agent = login(app, "agent")
    thief = copy_of(app, agent)
    socket = connect(app, thief)
    assert socket.is_connected()
    agent.post("/logout", data={"csrf_token": csrf(agent)})
    assert not socket.is_connected()
    # a reconnect with the copied cookie is refused too
    assert not connect(app, thief).is_connected()
    assert socketio.server is not None


def test_sockets_on_other_workers_are_disconnected_through_the_server(world, monkeypatch):
    """A user's sids are listed in Redis on connect (dropped on disconnect), so ending their
    sessions disconnects every one: python-socketio posts a sid this worker does not hold on the
    message queue to the worker that does (the tier's fakes run no queue: the call is spied)."""
    app, _router, redis, _ = world
    agent = login(app, "agent")
    with app.extensions["callcenter"].sessions() as s:
        uid = s.scalar(select(User.id).where(User.username == "agent"))
    key = login_guard.SOCKETS.format(uid=uid)
    first, second = connect(app, agent), connect(app, agent)
    assert len(redis.hkeys(key)) == 2
    second.disconnect()
    assert len(redis.hkeys(key)) == 1
    redis.hset(key, mapping={"sid-on-another-worker": "1"})
    asked = []
    real = socketio.server.disconnect
    monkeypatch.setattr(socketio.server, "disconnect", lambda sid, namespace=None: (asked.append(sid), real(sid, namespace)))
    save_user(app, active="0")
    assert "sid-on-another-worker" in asked and len(asked) == 2
    assert not first.is_connected()
    assert redis.hkeys(key) == []


def test_a_seat_on_a_call_is_logged_out_after_it_and_the_admin_sees_so(world):
    """The router keeps the logout of a seat on a call for when the call is over (acd/manager.py
    log_out_when_free): the admin finds that in the audit log."""
    app, router, _redis, _ = world
    router.refuse = CommandResult(True, data={"state": "on_call", "logout_pending": True})
    save_user(app, active="0")
    with app.extensions["callcenter"].sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action.like("seat_logout%"))).all()
    assert [(r.action, r.target, r.actor, r.detail) for r in rows] == [
        ("seat_logout_pending", "1001", "admin", "agent: after the call (on_call)")]


def test_a_seat_the_router_cannot_log_out_is_audited(world):
    """No router answered (or the seat kept changing state): the admin finds the refusal in the
    audit log, with the router's code."""
    app, router, _redis, _ = world
    router.refuse = CommandResult(False, "INVALID_TRANSITION", "an agent who is on_call cannot become logged_out")
    save_user(app, active="0")
    with app.extensions["callcenter"].sessions() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "seat_logout_refused")).all()
    assert [(r.target, r.actor) for r in rows] == [("1001", "admin")]
    assert "agent: INVALID_TRANSITION" in rows[0].detail


def save_team(app, **fields):
    admin = login(app, "admin")
    reply = admin.post("/admin/teams", data={**fields, "csrf_token": csrf(admin)})
    assert reply.status_code == 302, reply.get_data(as_text=True)


def test_a_teams_new_supervisor_and_its_old_one_log_in_again(world):
    """What a supervisor may see follows their teams (issue 15): moving team-a from `supervisor` to
    another lead ends both leads' sessions and sockets; saving the team unchanged ends none."""
    app, _router, _redis, _ = world
    admin = login(app, "admin")
    reply = admin.post("/admin/users", data={"username": "lead2", "display_name": "Lead 2", "role": "supervisor",
                                             "language": "en", "password": "secret-lead2", "csrf_token": csrf(admin)})
    assert reply.status_code == 302
    old, new = login(app, "supervisor"), app.test_client()
    new.get("/login")
    assert new.post("/login", data={"username": "lead2", "password": "secret-lead2",
                                    "csrf_token": csrf(new)}).status_code == 302
    old_socket, new_socket = connect(app, old), connect(app, new)
    save_team(app, name="team-a", supervisor="supervisor")  # unchanged: nothing ends
    assert old.get("/api/me").status_code == 200 and old_socket.is_connected()
    save_team(app, name="team-a", supervisor="lead2")
    for client, socket in ((old, old_socket), (new, new_socket)):
        assert client.get("/api/me").status_code == 401
        assert not socket.is_connected()
