"""Logging in and out, the current user, role checks and CSRF for every route.

Sessions are Flask's signed cookies (HttpOnly, SameSite=Strict) holding only the user id and a
CSRF token. Every state-changing request (form or JSON) must carry that token; socket
connections must present it too (see events.py), so another site can neither post nor open a
socket as the user.
"""
from __future__ import annotations

import hmac
import secrets
from functools import wraps

from flask import Blueprint, g, redirect, render_template, request, session, url_for
from sqlalchemy import select

from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from callcenter.models import User

bp = Blueprint("auth", __name__)

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def current_user() -> User | None:
    if "user" not in g:
        g.user = None
        uid = session.get("uid")
        if isinstance(uid, int):
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


@bp.get("/login")
def login():
    return render_template("login.html", error=None, language=request.args.get("lang", "zh"))


@bp.post("/login")
def login_post():
    username = request.form.get("username", "")[:40]
    password = request.form.get("password", "")[:200]
    with desktop().sessions() as s:
        user = s.scalar(select(User).where(User.username == username))
        ok = user is not None and user.active and user.check_password(password)
        uid = user.id if ok else None
    if not ok:
        return render_template("login.html", error="bad_login", language="zh"), 401
    session.clear()  # a fresh session (and CSRF token) on every login: no fixation
    session["uid"] = uid
    csrf_token()
    return redirect(url_for("views.home"))


@bp.post("/logout")
def logout():
    session.clear()
    return redirect(url_for("auth.login"))
