"""Socket event floods (issue 15): the rate limit per user and event, the cap on one user's
handlers in flight and on their sockets; every handler registered on socketio is limited.

The limiter's clock is a fake (no sleeps, no timing thresholds): time moves only when the test
says so. The app is the real one on a real SQLite database (test_desktop_access's world).
"""
from __future__ import annotations

import pytest

from agent_desktop import events, socketio
from agent_desktop.socket_limits import BURST, MAX_IN_FLIGHT, MAX_SOCKETS, Limiter, SocketCap
from tests.unit.test_desktop_access import connect, login, world, world_db  # noqa: F401  fixtures


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refuses_until_it_refills():
    clock = Clock()
    limiter = Limiter(rate=10.0, burst=20, clock=clock)
    assert all(limiter.take("u1", "agent_state") for _ in range(20))
    assert not limiter.take("u1", "agent_state")
    assert limiter.take("u1", "call_hold")  # another event has its own bucket
    assert limiter.take("u2", "agent_state")  # and another user
    clock.now += 0.1  # one token back at 10/s
    assert limiter.take("u1", "agent_state")
    assert not limiter.take("u1", "agent_state")
    clock.now += 3600  # refills to the burst, never beyond
    assert sum(limiter.take("u1", "agent_state") for _ in range(50)) == 20


def test_one_users_handlers_in_flight_are_capped():
    limiter = Limiter(in_flight=2)
    assert limiter.enter("u1") and limiter.enter("u1")
    assert not limiter.enter("u1")
    assert limiter.enter("u2")  # another user is not held up by u1
    limiter.leave("u1")
    assert limiter.enter("u1")
    for _ in range(3):
        limiter.leave("u1")
    assert limiter.running.get("u1") is None  # nothing left behind for a user gone quiet


def test_sockets_per_user_are_capped_and_closed_ones_are_not_counted():
    cap, open_sids = SocketCap(limit=2), {"a", "b"}
    assert cap.admit(7, "a", open_sids.__contains__)
    assert cap.admit(7, "b", open_sids.__contains__)
    assert not cap.admit(7, "c", open_sids.__contains__)
    assert cap.admit(8, "d", open_sids.__contains__)  # another user
    open_sids.discard("a")  # a went away (no disconnect handler needed)
    assert cap.admit(7, "c", open_sids.__contains__)


def registered_handlers(app) -> dict[str, object]:
    """Every event handler socketio knows, registered before or after init_app."""
    handlers = {name: fn for name, fn, _ns in socketio.handlers}
    handlers.update(socketio.server.handlers.get("/", {}))
    return handlers


def test_every_registered_event_handler_is_rate_limited(world):
    app = world[0]
    handlers = registered_handlers(app)
    assert {"agent_state", "monitor_start", "supervise_state"} <= set(handlers)  # the walk sees them
    unlimited = [name for name, fn in handlers.items()
                 if name not in ("connect", "disconnect") and getattr(fn, "rate_limited", None) != name]
    assert unlimited == [], f"socket handlers without socket_limits.limited: {unlimited}"


def test_a_flood_of_one_event_is_refused_with_rate_limited(world):
    app, router, _redis, _ = world
    clock = Clock()
    app.extensions["socket_limiter"] = Limiter(clock=clock)
    socket = connect(app, login(app, "agent"))
    for _ in range(BURST):
        reply = socket.emit("agent_state", {"to": "ready"}, callback=True)
        assert reply["ok"]
    reply = socket.emit("agent_state", {"to": "ready"}, callback=True)
    assert reply == {"ok": False, "code": "RATE_LIMITED", "message": "Too many requests; wait a moment and try again"}
    assert len(router.sent) == BURST  # the refused one never reached the router
    assert socket.emit("call_hold", {"call": "1700000000.1"}, callback=True)["ok"]  # other events go on
    clock.now += 1.0
    assert socket.emit("agent_state", {"to": "ready"}, callback=True)["ok"]


def test_a_user_with_handlers_in_flight_is_refused_more(world):
    app = world[0]
    limiter = app.extensions["socket_limiter"] = Limiter()
    client = login(app, "agent")
    socket = connect(app, client)
    with client.session_transaction() as session:
        uid = session["uid"]
    for _ in range(MAX_IN_FLIGHT):  # as if that many of this agent's commands wait on the router
        assert limiter.enter(uid)
    reply = socket.emit("agent_state", {"to": "ready"}, callback=True)
    assert reply["code"] == "RATE_LIMITED"
    limiter.leave(uid)
    assert socket.emit("agent_state", {"to": "ready"}, callback=True)["ok"]


def test_one_socket_too_many_is_refused_with_a_code(world, monkeypatch):
    app = world[0]
    refusals = []

    class Recording(events.ConnectionRefusedError):
        def __init__(self, *args):
            refusals.append(args)
            super().__init__(*args)

    monkeypatch.setattr(events, "ConnectionRefusedError", Recording)
    client = login(app, "agent")
    sockets = [connect(app, client) for _ in range(MAX_SOCKETS)]
    assert all(s.is_connected() for s in sockets)
    extra = connect(app, client)
    assert not extra.is_connected()
    words, body = refusals[-1]  # socket.io's connect_error: the words, and the error shape as its data
    assert body["code"] == "TOO_MANY_SOCKETS" and body["message"] == words and str(MAX_SOCKETS) in words
    assert connect(app, login(app, "supervisor")).is_connected()  # another user is not counted
    sockets[0].disconnect()
    again = connect(app, client)  # one closed: room for one more
    assert again.is_connected()
    for s in [*sockets[1:], again]:
        s.disconnect()
