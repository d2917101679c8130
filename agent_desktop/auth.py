"""Logging in and out, the current user, role checks and CSRF for every route.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Strict) holding only the user id and a
CSRF token, and the user's session token (login_guard.py): logging out, deactivating the user or
changing their role, extension, team or password deletes that token, so every copy of the cookie
dies server-side and the user's sockets are closed. Every state-changing request (form or JSON)
must carry that CSRF token; socket connections must present it too (see events.py), so another
site can neither post nor open a socket as the user.
"""
from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import Blueprint, current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from agent_desktop import login_guard
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from callcenter.models import User

bp = Blueprint("auth", __name__)

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def current_user() -> User | None:
    if "user" not in g:
        g.user = None
        uid = session.get("uid")
        if isinstance(uid, int) and login_guard.session_valid(desktop().redis, uid, session.get("sess")):
            with desktop().sessions() as s:
                user = s.get(User, uid)
                if user is not None and user.active:
                    s.expunge(user)
                    g.user = user
    return g.user


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(32)
    return session["csrf"]


def csrf_ok(token) -> bool:
    expected = session.get("csrf")
    return isinstance(token, str) and bool(expected) and hmac.compare_digest(token, expected)


def check_csrf() -> None:
    """before_request: an unsafe method needs the session's token (form field or header)."""
    if request.method in UNSAFE_METHODS:
        token = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token")
        if not csrf_ok(token):
            raise ApiError("CSRF_FAILED")


def require(*roles: str):
    """Route decorator: logged in (else 401 / the login page) with one of these roles (else 403)."""
    def decorate(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            user = current_user()
            if user is None:
                if request.path.startswith("/api/"):
                    raise ApiError("UNAUTHORIZED", 401)
                return redirect(url_for("auth.login"))
            if user.role not in roles:
                raise ApiError("FORBIDDEN", 403)
            return view(*args, **kwargs)
        wrapped.roles = roles  # read by tests/unit/test_authz_matrix.py: every route declares its roles
        return wrapped
    return decorate


def end_user_sessions(uid: int) -> None:
    """Log this user out everywhere, now: their cookies stop working (the token is gone) and their
    sockets close: python-socketio disconnects a sid of this worker at once and posts the others'
    on the message queue to the worker holding them. The page is told session_ended first, so it
    goes to the login page; any event a socket still sends is refused (no session)."""
    from agent_desktop import socketio  # the app's, initialised by create_app

    sids = set(login_guard.end_sessions(desktop().redis, uid))
    room = f"user:{uid}"
    socketio.emit("session_ended", {}, to=room)
    sids.update(sid for sid, _eio_sid in socketio.server.manager.get_participants("/", room))
    for sid in sorted(sids):
        socketio.server.disconnect(sid, namespace="/")


_dummy_hash: str | None = None


def dummy_hash() -> str:
    """A hash of a random password, made once: an unknown user name costs the same check as a
    known one, so the answer's timing does not tell which names exist."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = generate_password_hash(secrets.token_urlsafe(16))
    return _dummy_hash


def login_limits() -> login_guard.LoginLimits:
    limits = current_app.config.get("LOGIN_LIMITS")
    if limits is None:
        limits = current_app.config["LOGIN_LIMITS"] = login_guard.LoginLimits.from_env()
    return limits


@bp.get("/login")
def login():
    return render_template("login.html", error=None, language=request.args.get("lang", "zh"))


@bp.post("/login")
def login_post():
    username = request.form.get("username", "")[:40]
    password = request.form.get("password", "")[:200]
    d, address = desktop(), request.remote_addr or "-"
    if login_guard.refused(d.redis, username, address):
        # the same words whether the name exists or not, and no password is checked while locked
        return render_template("login.html", error="login_locked", language="zh",
                               minutes=max(1, login_limits().lock_s // 60)), 429
    with d.sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        # one code path: unknown and inactive users cost the same hash check as active ones
        matches = check_password_hash(user.password_hash if user is not None else dummy_hash(), password)
        ok = matches and user is not None and user.active
        uid = user.id if ok else None
    if not ok:
        login_guard.failed(d.redis, d.sessions, login_limits(), username, address)
        return render_template("login.html", error="bad_login", language="zh"), 401
    login_guard.succeeded(d.redis, username)
    session.clear()  # a fresh session (and CSRF token) on every login: no fixation
    session["uid"] = uid
    session["sess"] = login_guard.session_token(d.redis, uid)
    csrf_token()
    return redirect(url_for("views.home"))


@bp.post("/logout")
def logout():
    user = current_user()
    if user is not None:  # server-side: a copy of this cookie must not stay valid
        end_user_sessions(user.id)
    session.clear()
    return redirect(url_for("auth.login"))
