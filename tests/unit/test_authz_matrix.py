"""The authorization matrix generated from the app's own lists (issue 15): every route in
app.url_map and every Socket.IO handler is either on the public allow-list below or declares its
roles (auth.require / events.event record them), and every role it does not declare is refused.

A new route or event without a declared guard fails test_every_route_declares_its_roles; its
refusals are then tried for a user of each role and an anonymous client, with an empty body: the
refusal must come before any validation. test_desktop_access.py holds the hand-written table of
what each role may do (the positive side, with real payloads).
"""
from __future__ import annotations

import re

import pytest

from callcenter.models import ROLES
from tests.unit.test_desktop_access import connect, csrf, login, world, world_db  # noqa: F401  fixtures
from tests.unit.test_socket_limits import registered_handlers

#: endpoints anyone may reach: logging in and out, the home redirect (it sends to /login or to
#: the role's page), the static files. Nothing here shows data.
PUBLIC = {"static", "auth.login", "auth.login_post", "auth.logout", "views.home"}
SOCKET_PUBLIC = {"connect", "disconnect"}  # connect checks the session and CSRF itself (events.py)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def guarded_routes(app) -> list[tuple[str, str, str, tuple[str, ...]]]:
    """(method, sample path, endpoint, declared roles) for every non-public route."""
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        roles = getattr(app.view_functions[rule.endpoint], "roles", ())
        path = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>", lambda m: "1" if m[1] == "int" else "x", rule.rule)
        for method in sorted(set(rule.methods) & set(METHODS)):
            out.append((method, path, rule.endpoint, tuple(roles)))
    return out


def unguarded(app) -> list[str]:
    return sorted({endpoint for _m, _p, endpoint, roles in guarded_routes(app)
                   if not roles or not set(roles) <= set(ROLES)})


def test_every_route_declares_its_roles(world):
    app = world[0]
    assert len(guarded_routes(app)) > 50  # the walk sees the app's routes
    assert unguarded(app) == [], "routes without require(...) and not on the public allow-list"


def test_a_route_without_a_guard_is_caught(world):
    app = world[0]
    app.add_url_rule("/api/sneaky", "sneaky", lambda: "customer data")
    assert unguarded(app) == ["sneaky"]


def test_every_socket_event_declares_its_roles(world):
    handlers = registered_handlers(world[0])
    missing = [name for name, fn in handlers.items()
               if name not in SOCKET_PUBLIC and not set(getattr(fn, "roles", ()) or {"?"}) <= set(ROLES)]
    assert missing == [], "socket handlers without events.event(name, *roles)"


def call(client, method: str, path: str):
    # the session's CSRF token goes along: the refusal under test is the role's, not CSRF's
    return client.open(path, method=method, json={} if method != "GET" else None,
                       headers={"X-CSRF-Token": csrf(client)})


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_route_refuses_the_roles_it_does_not_declare(world, role):
    app = world[0]
    client = login(app, role)
    checked = 0
    for method, path, endpoint, roles in guarded_routes(app):
        if role in roles:
            continue
        reply = call(client, method, path)
        where = f"{role} {method} {path} ({endpoint})"
        if role is None:
            if path.startswith("/api/"):
                assert reply.status_code == 401, where
                assert reply.get_json()["code"] == "UNAUTHORIZED", where
            else:
                assert reply.status_code == 302 and reply.headers["Location"].endswith("/login"), where
        else:
            assert reply.status_code == 403, f"{where}: {reply.status_code}"
            if path.startswith("/api/"):
                assert reply.get_json()["code"] == "FORBIDDEN", where
        checked += 1
    assert checked > 0


@pytest.mark.parametrize("role", ROLES)
def test_every_socket_event_refuses_the_roles_it_does_not_declare(world, role):
    app = world[0]
    socket = connect(app, login(app, role))
    assert socket.is_connected()
    handlers = registered_handlers(app)
    for name, fn in sorted(handlers.items()):
        if name in SOCKET_PUBLIC or role in fn.roles:
            continue
        reply = socket.emit(name, {}, callback=True)
        assert reply["ok"] is False and reply["code"] == "FORBIDDEN", f"{role} {name}: {reply}"
    socket.disconnect()
