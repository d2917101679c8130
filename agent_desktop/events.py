"""Socket.IO events: agents' state and call controls, wrap-up, supervisors' actions.

Every event names the roles allowed and checks the object (the agent's own call, the
supervisor's own teams) before anything happens; every payload is validated; the answer is an
acknowledgement {"ok": true, ...} or {"ok": false, "code": STABLE_CODE, "message": ...}: the HTTP API's
error shape (agent_desktop.errors), the message in the user's language.
Pushes to browsers (screen-pops, state changes, wallboard) come from agent_desktop.push through
the Redis message queue; the rooms joined here say who receives what.
"""
from __future__ import annotations

from functools import wraps

from flask import request, session
from flask_socketio import ConnectionRefusedError, join_room
from sqlalchemy import select

from agent_desktop import live, login_guard, socketio
from agent_desktop.auth import csrf_ok, current_user
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError, error_body, language
from agent_desktop.screen_pop import agent_handled
from agent_desktop.socket_limits import MAX_SOCKETS, limited, sockets
from acd.monitor import MONITOR_ROLES
from acd.protocol import is_extension
from agent_desktop.monitor_push import monitor_room
from agent_desktop.views import AGENT_REASONS, DISPOSITIONS, UNIQUEID
from agent_desktop.wallboard import visible_agents
from callcenter.models import CallTransfer, CallWrapup, Team


def fail(code: str, fallback: str = "", **params) -> dict:
    """fallback: the words to show for a code i18n does not know (a router's newer code)."""
    return {"ok": False, **error_body(code, language(), fallback, **params)}


def from_router(result) -> dict:
    return {"ok": True, **(result.data or {})} if result.ok else fail(result.code, result.message)


def _flooder() -> object:
    """Who the rate limit counts against: the session's user id (read from the signed cookie,
    no database), else this socket."""
    uid = session.get("uid")
    return uid if isinstance(uid, int) else request.sid


def _socket_open(sid: str) -> bool:
    return socketio.server.manager.is_connected(sid, "/")


def event(name: str, *roles: str):
    def decorate(handler):
        @wraps(handler)
        def wrapped(data=None):
            user = current_user()
            if user is None:
                return fail("UNAUTHORIZED")
            if user.role not in roles:
                return fail("FORBIDDEN")
            if data is None:
                data = {}
            if not isinstance(data, dict):
                return fail("BAD_JSON")
            try:
                return handler(user, data)
            except ApiError as exc:
                return fail(exc.code, **exc.params)
        wrapped.roles = roles  # read by tests/unit/test_authz_matrix.py (set before socketio copies it)
        # issue 15: the rate limit per user and event runs before anything else (socket_limits.py)
        return socketio.on(name)(limited(name, _flooder, fail)(wrapped))
    return decorate


def rooms_for(user) -> list[str]:
    rooms = [f"user:{user.id}"]
    if user.role == "agent" and user.agent_extension:
        rooms.append(f"agent:{user.agent_extension}")
    if user.role in ("supervisor", "admin", "quality"):
        rooms.append("wallboard")
    if user.role in MONITOR_ROLES:  # a mode switched on their phone (agent_desktop/monitor_push.py)
        rooms.append(monitor_room(user.username))
    if user.role in ("admin", "quality"):  # inspectors listen to any team's calls (monitor_events.py)
        rooms.append("team:all")
    if user.role == "supervisor":
        with desktop().sessions() as s:
            rooms += [f"team:{tid}" for tid in s.scalars(select(Team.id).where(Team.supervisor_id == user.id))]
    return rooms


@socketio.on("connect")
def connect(auth=None):
    user = current_user()
    if user is None or not isinstance(auth, dict) or not csrf_ok(auth.get("csrf")):
        raise ConnectionRefusedError("unauthorized")
    if not sockets().admit(user.id, request.sid, _socket_open):  # issue 15: a cap on one user's sockets
        body = error_body("TOO_MANY_SOCKETS", language(), limit=MAX_SOCKETS)
        raise ConnectionRefusedError(body["message"], body)  # the client's connect_error: message, data {code, message}
    for room in rooms_for(user):
        join_room(room)
    login_guard.socket_opened(desktop().redis, user.id, request.sid)  # issue 15: closed when sessions end


@socketio.on("disconnect")
def disconnect(*_reason):
    uid = session.get("uid")
    if isinstance(uid, int):
        login_guard.socket_closed(desktop().redis, uid, request.sid)


# ---------------------------------------------------------------- validation
def uniqueid(data: dict) -> str:
    value = data.get("call")
    if not isinstance(value, str) or not UNIQUEID.fullmatch(value):
        raise ApiError("BAD_CALL_ID")
    return value


def text(data: dict, name: str, limit: int) -> str:
    value = data.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ApiError("BAD_TEXT", field=name, limit=limit)
    return value.strip()


def extension(value) -> str:
    if not is_extension(value):
        raise ApiError("BAD_EXTENSION")
    return value


# ---------------------------------------------------------------- agents
@event("agent_state", "agent")
def agent_state(user, data):
    to, reason = data.get("to"), data.get("reason")
    if to not in ("ready", "not_ready", "logged_out"):
        raise ApiError("BAD_STATE")
    if to == "not_ready" and reason not in AGENT_REASONS:
        raise ApiError("BAD_REASON")
    return from_router(desktop().router.send("state", ext=user.agent_extension, to=to,
                                             reason=reason if to == "not_ready" else None))


@event("call_hangup", "agent")
def call_hangup(user, data):
    return from_router(desktop().router.send("hangup", ext=user.agent_extension, call=uniqueid(data)))


@event("call_hold", "agent")
def call_hold(user, data):
    return from_router(desktop().router.send("hold", ext=user.agent_extension, call=uniqueid(data)))


@event("call_verify", "agent")
def call_verify(user, data):
    """The caller to the menu's password check; back to this agent afterwards, verified or not."""
    return from_router(desktop().router.send("verify", ext=user.agent_extension, call=uniqueid(data)))


@event("call_resume", "agent")
def call_resume(user, data):
    return from_router(desktop().router.send("resume", ext=user.agent_extension, call=uniqueid(data)))


@event("call_transfer", "agent")
def call_transfer(user, data):
    call, note = uniqueid(data), text(data, "note", 500)
    skill, to_agent = data.get("skill") or None, data.get("to_agent") or None
    if (skill is None) == (to_agent is None):
        raise ApiError("BAD_TRANSFER")
    if to_agent is not None:
        to_agent = extension(to_agent)
    elif not isinstance(skill, str) or len(skill) > 32:
        raise ApiError("BAD_SKILL")
    d = desktop()
    # issue 15: the note is stored only for a call the sender is talking on now (the router's live
    # state), and before the router is asked, because the next agent's screen-pop may be built the
    # moment they ring. Asking the router first would leave that pop without the note; handing the
    # note to the router would put the database in its command path. A refusal after this check
    # (the target not ready, the caller gone meanwhile) deletes the note again: nothing is left.
    if not live.talking_on(d.redis, user.agent_extension or "", call):
        return fail("NOT_YOUR_CALL")
    with d.sessions() as s:
        row = CallTransfer(call_uniqueid=call, from_extension=user.agent_extension, to_skill=skill,
                           to_extension=to_agent, note=note)
        s.add(row)
        s.commit()
        row_id = row.id
    result = d.router.send("transfer", ext=user.agent_extension, call=call, skill=skill, to_agent=to_agent)
    if not result.ok:
        with d.sessions() as s:
            s.delete(s.get(CallTransfer, row_id))
            s.commit()
    return from_router(result)


@event("wrapup", "agent")
def wrapup(user, data):
    call, notes = uniqueid(data), text(data, "notes", 1000)
    disposition = data.get("disposition")
    if disposition not in DISPOSITIONS:
        raise ApiError("BAD_DISPOSITION", choices=", ".join(DISPOSITIONS))
    d = desktop()
    with d.sessions() as s:
        if not agent_handled(s, d.redis, user.agent_extension or "", call):
            return fail("NOT_YOUR_CALL")
        row = s.scalar(select(CallWrapup).where(CallWrapup.call_uniqueid == call,
                                                CallWrapup.extension == user.agent_extension))
        if row is None:
            s.add(CallWrapup(call_uniqueid=call, extension=user.agent_extension, disposition=disposition, notes=notes))
        else:
            row.disposition, row.notes = disposition, notes
        s.commit()
    if data.get("ready") is True:
        return from_router(d.router.send("state", ext=user.agent_extension, to="ready"))
    return {"ok": True}


# ---------------------------------------------------------------- supervisors
def supervised(user, ext: str) -> bool:
    with desktop().sessions() as s:
        return ext in visible_agents(s, user)


@event("supervise_state", "supervisor", "admin")
def supervise_state(user, data):
    ext, to = extension(data.get("ext")), data.get("to")
    reason = "supervisor" if to == "not_ready" else None
    if to not in ("ready", "not_ready", "logged_out"):
        raise ApiError("BAD_STATE")
    if not supervised(user, ext):
        return fail("NOT_YOUR_TEAM", ext=ext)
    # acting on another's behalf: the router's manager writes the audit row (by)
    return from_router(desktop().router.send("state", ext=ext, to=to, reason=reason, by=user.username))


@event("supervise_extend_wrapup", "supervisor", "admin")
def supervise_extend_wrapup(user, data):
    ext, seconds = extension(data.get("ext")), data.get("seconds", 60)
    if not isinstance(seconds, int) or isinstance(seconds, bool) or not 1 <= seconds <= 600:
        raise ApiError("BAD_SECONDS")
    if not supervised(user, ext):
        return fail("NOT_YOUR_TEAM", ext=ext)
    return from_router(desktop().router.send("extend_wrapup", ext=ext, seconds=seconds, by=user.username))
