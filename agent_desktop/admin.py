"""Admin screens: users, teams, agents' skills and queues. Changes to skills and queues are
announced on acd:reload so the routers apply them without a restart; every change is audited."""
from __future__ import annotations

import re

from flask import Blueprint, abort, redirect, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from acd.router import RELOAD, parse_overflow
from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.views import page
from callcenter.models import LANGUAGES, ROLES, AgentSkill, AuditEntry, QueueConfig, Team, User

bp = Blueprint("admin", __name__, url_prefix="/admin")

NAME = re.compile(r"[a-z][a-z0-9_.-]{1,39}")
SKILL = re.compile(r"[a-z_]{1,32}")


def form(name: str, limit: int = 80) -> str:
    value = request.form.get(name, "").strip()
    if len(value) > limit:
        abort(400, description=f"{name}: at most {limit} characters")
    return value


def number(name: str, low: int, high: int) -> int:
    raw = request.form.get(name, "")
    if not raw.isdigit() or not low <= int(raw) <= high:
        abort(400, description=f"{name}: a whole number from {low} to {high}")
    return int(raw)


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
                    languages=LANGUAGES)


@bp.post("/users")
@require("admin")
def save_user():
    username = form("username", 40)
    if not NAME.fullmatch(username):
        abort(400, description="username: lower-case letters, digits, _ . - (2-40)")
    role, language = form("role", 16), form("language", 2)
    if role not in ROLES or language not in LANGUAGES:
        abort(400, description="unknown role or language")
    extension, team = form("extension", 4) or None, form("team", 40)
    with desktop().sessions() as s:
        user = s.scalar(select(User).where(User.username == username)) or User(username=username, password_hash="")
        try:
            user.display_name = form("display_name") or username
            user.role, user.language, user.agent_extension = role, language, extension
            user.team_id = s.scalar(select(Team.id).where(Team.name == team)) if team else None
            user.active = request.form.get("active", "1") == "1"
            if form("password", 200):
                user.set_password(form("password", 200))
            elif not user.password_hash:
                abort(400, description="password: required for a new user")
        except ValueError as exc:
            abort(400, description=str(exc))
        s.add(user)
        audit(s, "save_user", username, f"role {role} ext {extension or '-'} team {team or '-'}")
        try:
            s.commit()
        except IntegrityError:
            abort(400, description="that extension or user name is taken")
    reload_routers()
    return redirect(url_for("admin.index"))


@bp.post("/teams")
@require("admin")
def save_team():
    name, supervisor = form("name", 40), form("supervisor", 40)
    if not name:
        abort(400, description="name: required")
    with desktop().sessions() as s:
        team = s.scalar(select(Team).where(Team.name == name)) or Team(name=name)
        lead = s.scalar(select(User).where(User.username == supervisor, User.role == "supervisor"))
        if supervisor and lead is None:
            abort(400, description=f"no supervisor {supervisor!r}")
        team.supervisor_id = lead.id if lead else None
        s.add(team)
        audit(s, "save_team", name, f"supervisor {supervisor or '-'}")
        s.commit()
    return redirect(url_for("admin.index"))


@bp.post("/skills")
@require("admin")
def save_skill():
    username, skill = form("username", 40), form("skill", 32)
    if not SKILL.fullmatch(skill):
        abort(400, description="skill: lower-case letters and _")
    level = number("level", 0, 5)  # 0 removes the skill
    with desktop().sessions() as s:
        user = s.scalar(select(User).where(User.username == username, User.role == "agent"))
        if user is None:
            abort(400, description=f"no agent {username!r}")
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
        abort(400, description="skill: lower-case letters and _")
    try:
        parse_overflow(overflow)
    except ValueError:
        abort(400, description='overflow: "seconds:level" steps, such as 30:4,90:2')
    with desktop().sessions() as s:
        s.merge(QueueConfig(skill=skill, ring_time_s=number("ring_time_s", 5, 120),
                            wrapup_s=number("wrapup_s", 0, 600), service_level_s=number("service_level_s", 1, 600),
                            overflow=overflow, no_answer_limit=number("no_answer_limit", 1, 10)))
        audit(s, "save_queue", skill, overflow)
        s.commit()
    reload_routers()
    return redirect(url_for("admin.index"))
