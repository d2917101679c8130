"""The supervisor's wallboard: queues (waiting, longest wait, today's service level, answered,
abandoned) and agents by state. Pure over what the caller reads from Redis and the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.protocol import AgentSnapshot, LiveCall
from callcenter.models import Call, QueueConfig, Team, User
from cdr.end_reason import is_abandoned


@dataclass(frozen=True)
class TodayCall:
    skill: str
    queued_at: datetime | None
    answered_at: datetime | None
    end_reason: str | None  # a cdr.end_reason.EndReason code


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=timezone.utc) if value is not None and value.tzinfo is None else value


def queue_figures(skills: dict[str, int], live_calls: dict[str, LiveCall], today: list[TodayCall],
                  now: float) -> list[dict]:
    """skills: skill -> service-level threshold (s). One row per skill, in name order."""
    rows = []
    for skill in sorted(set(skills) | {c.skill for c in live_calls.values()}):
        waiting = [c.queued_at or now for c in live_calls.values() if c.skill == skill and c.waiting]
        mine = [c for c in today if c.skill == skill]
        answered = [c for c in mine if c.answered_at is not None]
        abandoned = [c for c in mine if is_abandoned(c.end_reason)]
        threshold = timedelta(seconds=skills.get(skill, 20))
        in_time = [c for c in answered if c.queued_at is None or c.answered_at - c.queued_at <= threshold]
        offered = len(answered) + len(abandoned)
        rows.append({"skill": skill, "waiting": len(waiting),
                     "longest_wait_s": round(now - min(waiting)) if waiting else 0,
                     "answered": len(answered), "abandoned": len(abandoned),
                     "service_level": round(100.0 * len(in_time) / offered, 1) if offered else None})
    return rows


def agent_rows(agents: dict[str, AgentSnapshot], names: dict[str, str], now: float) -> list[dict]:
    return [{"ext": ext, "name": names.get(ext, ""), "state": a.state, "reason": a.reason, "call": a.call,
             "in_state_s": round(now - (a.since or now)), "since": a.since or now}
            for ext, a in sorted(agents.items()) if ext in names]


def visible_agents(s: Session, user: User) -> dict[str, str]:
    """ext -> name of the agents this user may watch: an admin all, a supervisor their teams'."""
    query = select(User.agent_extension, User.display_name).where(User.agent_extension.is_not(None))
    if user.role != "admin":
        query = query.join(Team, Team.id == User.team_id).where(Team.supervisor_id == user.id)
    return {ext: name for ext, name in s.execute(query)}


def today_calls(s: Session, day_start: datetime) -> list[TodayCall]:
    """Calls that reached a queue since the center's midnight (``start_of_today``)."""
    rows = s.execute(select(Call.skill, Call.queued_at, Call.answered_at, Call.end_reason)
                     .where(Call.started_at >= day_start, Call.queued_at.is_not(None)))
    return [TodayCall(skill or "general", _aware(q), _aware(a), r) for skill, q, a, r in rows]


def snapshot(s: Session, user: User, agents: dict[str, AgentSnapshot], live_calls: dict[str, LiveCall],
             now: float, day_start: datetime) -> dict:
    skills = {q.skill: q.service_level_s for q in s.scalars(select(QueueConfig))}
    today = today_calls(s, day_start)
    return {"queues": queue_figures(skills, live_calls, today, now),
            "agents": agent_rows(agents, visible_agents(s, user), now)}
