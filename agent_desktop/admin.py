"""Admin screens: users, teams, agents' skills and queues. Changes to skills and queues are
announced on acd:reload so the routers apply them without a restart; every change is audited."""
from __future__ import annotations

import re

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acd.protocol import RELOAD, parse_overflow
from agent_desktop.auth import current_user, end_user_sessions, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.views import page
from agent_desktop.wallboard import AlertLimits
from callcenter.models import LANGUAGES, ROLES, AgentSkill, AuditEntry, QueueConfig, Team, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

NAME = re.compile(r"[a-z][a-z0-9_.-]{1,39}")
SKILL = re.compile(r"[a-z_]{1,32}")


def form(name: str, limit: int = 80) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > limit:
        raise ApiError("BAD_TEXT", field=name, limit=limit)
    return value


def number(name: str, low: int, high: int) -> int:
    raw = request.form.get(name, "")
    # ASCII only: str.isdigit() also takes "١٢" (and int() reads it as 12); at most 9 digits.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9) or not low <= int(raw) <= high:
        raise ApiError("BAD_NUMBER", field=name, low=low, high=high)
    return int(raw)


def optional_number(name: str, low: int, high: int) -> int | None:
    """Empty (or absent) is None: the default applies; anything else as number()."""
    return number(name, low, high) if request.form.get(name, "").strip() else None


# Wallboard alert thresholds: form field -> (lowest, highest); empty keeps AlertLimits' default.
ALERT_FIELDS = {"alert_service_level_pct": (1, 100), "alert_wait_s": (1, 3600),
                "alert_not_ready_min": (1, 480), "alert_on_call_min": (1, 480)}


def audit(s, action: str, target: str, detail: str = "") -> None:
    s.add(AuditEntry(actor=current_user().username, action=action, target=target, detail=detail[:500]))


def reload_routers() -> None:
    desktop().redis.publish(RELOAD, "admin")


@bp.get("/")
@require("admin")
def index():
    with desktop().sessions() as s:
        users = s.scalars(select(User).order_by(User.username)).all()
        teams = s.scalars(select(Team).order_by(Team.name)).all()
        skills = s.execute(select(User.username, AgentSkill.skill, AgentSkill.level)
                           .join(AgentSkill, AgentSkill.user_id == User.id).order_by(User.username)).all()
        queues = s.scalars(select(QueueConfig).order_by(QueueConfig.skill)).all()
        return page("admin.html", users=users, teams=teams, skills=skills, queues=queues, roles=ROLES,
                    languages=LANGUAGES, alert_limits=AlertLimits.of, alert_defaults=AlertLimits())


@bp.post("/users")
@require("admin")
def save_user():
    username = form("username", 40)
    if not NAME.fullmatch(username):
        raise ApiError("BAD_USERNAME")
    role, language = form("role", 16), form("language", 2)
    if role not in ROLES:
        raise ApiError("BAD_ROLE")
    if language not in LANGUAGES:
        raise ApiError("BAD_LANGUAGE")
    extension, team = form("extension", 4) or None, form("team", 40)
    with desktop().sessions() as s:
        user = s.scalar(select(User).where(User.username == username)) or User(username=username, password_hash="")
        before = (user.active, user.role, user.agent_extension, user.team_id, user.password_hash)
        old_seat = user.agent_extension if user.role == "agent" else None
        user.display_name = form("display_name") or username
        user.role, user.language = role, language
        try:
            user.agent_extension = extension
        except ValueError:
            raise ApiError("BAD_EXTENSION") from None
        user.team_id = s.scalar(select(Team.id).where(Team.name == team)) if team else None
        user.active = request.form.get("active", "1") == "1"
        if form("password", 200):
            try:
                user.set_password(form("password", 200))
            except ValueError:
                raise ApiError("PASSWORD_TOO_SHORT") from None
        elif not user.password_hash:
            raise ApiError("MISSING_FIELD", field="password")
        s.add(user)
        audit(s, "save_user", username, f"role {role} ext {extension or '-'} team {team or '-'}")
        # issue 15: who they are or may do changed, so their sessions end (a new login picks it up)
        changed = user.id is not None and before != (user.active, user.role, user.agent_extension, user.team_id,
                                                     user.password_hash)
        seat_gone = old_seat is not None and (not user.active or user.role != "agent"
                                              or user.agent_extension != old_seat)
        try:
            s.commit()
        except IntegrityError:
            raise ApiError("NAME_TAKEN") from None
        uid = user.id
    if changed:
        end_user_sessions(uid)
    if seat_gone:  # the router offers that seat no call from now (the admin who did it is audited as `by`)
        # when_free: a seat on a call (or ringing) is logged out as soon as that call is over, not
        # refused (issue 15); the router's audit says so, and so does ours for the admin's log
        result = desktop().router.send("state", ext=old_seat, to="logged_out", when_free=True,
                                       by=current_user().username)
        if not result.ok or (result.data or {}).get("logout_pending"):
            with desktop().sessions() as s:
                if result.ok:
                    audit(s, "seat_logout_pending", old_seat, f"{username}: after the call ({result.data['state']})")
                else:  # no router (or the seat kept changing): the admin must see it is still logged in
                    audit(s, "seat_logout_refused", old_seat, f"{username}: {result.code} {result.message}")
                s.commit()
    reload_routers()
    return redirect(url_for("admin.index"))


@bp.post("/teams")
@require("admin")
def save_team():
    name, supervisor = form("name", 40), form("supervisor", 40)
    if not name:
        raise ApiError("MISSING_FIELD", field="name")
    with desktop().sessions() as s:
        team = s.scalar(select(Team).where(Team.name == name)) or Team(name=name)
        lead = s.scalar(select(User).where(User.username == supervisor, User.role == "supervisor"))
        if supervisor and lead is None:
            raise ApiError("NO_SUCH_SUPERVISOR", name=supervisor)
        # issue 15: the supervisor who lost the team and the one who gained it may now see other
        # agents' calls and states, so both log in again (there is no team rename or delete route)
        leads = {team.supervisor_id, lead.id if lead else None} - {None}
        changed = team.supervisor_id != (lead.id if lead else None)
        team.supervisor_id = lead.id if lead else None
        s.add(team)
        audit(s, "save_team", name, f"supervisor {supervisor or '-'}")
        s.commit()
    if changed:
        for uid in sorted(leads):
            end_user_sessions(uid)
    return redirect(url_for("admin.index"))


@bp.post("/skills")
@require("admin")
def save_skill():
    username, skill = form("username", 40), form("skill", 32)
    if not SKILL.fullmatch(skill):
        raise ApiError("BAD_SKILL")
    level = number("level", 0, 5)  # 0 removes the skill
    with desktop().sessions() as s:
        user = s.scalar(select(User).where(User.username == username, User.role == "agent"))
        if user is None:
            raise ApiError("NO_SUCH_AGENT", name=username)
        row = s.get(AgentSkill, (user.id, skill))
        if level == 0 and row is not None:
            s.delete(row)
        elif level:
            s.merge(AgentSkill(user_id=user.id, skill=skill, level=level))
        audit(s, "save_skill", username, f"{skill} level {level}")
        s.commit()
    reload_routers()
    return redirect(url_for("admin.index"))


@bp.post("/queues")
@require("admin")
def save_queue():
    skill, overflow = form("skill", 32), form("overflow", 100)
    if not SKILL.fullmatch(skill):
        raise ApiError("BAD_SKILL")
    try:
        parse_overflow(overflow)
    except ValueError:
        raise ApiError("BAD_OVERFLOW") from None
    limits = {name: optional_number(name, low, high) for name, (low, high) in ALERT_FIELDS.items()}
    with desktop().sessions() as s:
        s.merge(QueueConfig(skill=skill, ring_time_s=number("ring_time_s", 5, 120),
                            wrapup_s=number("wrapup_s", 0, 600), service_level_s=number("service_level_s", 1, 600),
                            overflow=overflow, no_answer_limit=number("no_answer_limit", 1, 10), **limits))
        audit(s, "save_queue", skill, " ".join([overflow or "-"] + [f"{name} {value if value is not None else '-'}"
                                                                      for name, value in limits.items()]))
        s.commit()
    reload_routers()
    return redirect(url_for("admin.index"))
