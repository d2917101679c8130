"""The supervisor's wallboard: queues (waiting, longest wait, today's service level, answered,
abandoned) and agents by state. Pure over what the caller reads from Redis and the database.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.core import GENERAL
from acd.protocol import AgentSnapshot, LiveCall
from callcenter.models import AgentSkill, Call, QueueConfig, Team, User
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


# ---- alerts: codes in data; the wallboard words them (i18n "alert.<code>") ----
SERVICE_LEVEL_LOW, CALLER_WAITING, NOT_READY_LONG, ON_CALL_LONG = (
    "service_level_low", "caller_waiting_long", "not_ready_long", "on_call_long")
ALERT_CODES = (SERVICE_LEVEL_LOW, CALLER_WAITING, NOT_READY_LONG, ON_CALL_LONG)


@dataclass(frozen=True)
class AlertLimits:
    """One queue's alert thresholds. An alert fires strictly past its threshold: a service level
    below the percentage, a caller waiting longer than wait_s, an agent Not ready or on a call
    longer than the minutes; exactly at the threshold is still quiet."""
    service_level_pct: int = 80
    wait_s: int = 60
    not_ready_min: int = 15
    on_call_min: int = 10

    @classmethod
    def of(cls, q: QueueConfig) -> AlertLimits:
        given = {"service_level_pct": q.alert_service_level_pct, "wait_s": q.alert_wait_s,
                 "not_ready_min": q.alert_not_ready_min, "on_call_min": q.alert_on_call_min}
        return cls(**{k: v for k, v in given.items() if v is not None})


def agent_limits(skills: set[str], limits: dict[str, AlertLimits]) -> AlertLimits:
    """The strictest (smallest) of the queues of the skills the agent holds; with none of them
    configured, the general queue's; with no general queue either, the defaults."""
    mine = [limits[k] for k in sorted(skills) if k in limits] or [limits.get(GENERAL, AlertLimits())]
    return AlertLimits(min(m.service_level_pct for m in mine), min(m.wait_s for m in mine),
                       min(m.not_ready_min for m in mine), min(m.on_call_min for m in mine))


def alerts(queues: list[dict], agents: list[dict], limits: dict[str, AlertLimits],
           skills: dict[str, set[str]]) -> list[dict]:
    """The active alerts from queue_figures' and agent_rows' rows: queue alerts first (queue name
    order), then agents (extension order). Each is {code, queue or ext, value, threshold}; agents'
    value and threshold are in seconds, so the wallboard shows both as durations."""
    found = []
    for q in queues:
        lim = limits.get(q["skill"]) or limits.get(GENERAL, AlertLimits())
        level = q.get("service_level")
        if level is not None and level < lim.service_level_pct:
            found.append({"code": SERVICE_LEVEL_LOW, "queue": q["skill"], "value": level,
                          "threshold": lim.service_level_pct})
        if q["waiting"] and q["longest_wait_s"] > lim.wait_s:
            found.append({"code": CALLER_WAITING, "queue": q["skill"], "value": q["longest_wait_s"],
                          "threshold": lim.wait_s})
    for a in sorted(agents, key=lambda row: row["ext"]):
        lim = agent_limits(skills.get(a["ext"], set()), limits)
        code, minutes = {"not_ready": (NOT_READY_LONG, lim.not_ready_min),
                         "on_call": (ON_CALL_LONG, lim.on_call_min)}.get(a["state"], (None, 0))
        if code and a["in_state_s"] > minutes * 60:
            found.append({"code": code, "ext": a["ext"], "value": a["in_state_s"], "threshold": minutes * 60})
    return found


def visible_agents(s: Session, user: User) -> dict[str, str]:
    """ext -> name of the agents this user may watch: an admin and a quality inspector (who listens
    to any team's calls) all, a supervisor their teams'."""
    query = select(User.agent_extension, User.display_name).where(User.agent_extension.is_not(None))
    if user.role not in ("admin", "quality"):
        query = query.join(Team, Team.id == User.team_id).where(Team.supervisor_id == user.id)
    return {ext: name for ext, name in s.execute(query)}


def today_calls(s: Session, day_start: datetime) -> list[TodayCall]:
    """Calls that reached a queue since the center's midnight (``start_of_today``)."""
    rows = s.execute(select(Call.skill, Call.queued_at, Call.answered_at, Call.end_reason)
                     .where(Call.started_at >= day_start, Call.queued_at.is_not(None)))
    return [TodayCall(skill or "general", _aware(q), _aware(a), r) for skill, q, a, r in rows]


def alert_limits(s: Session) -> dict[str, AlertLimits]:
    return {q.skill: AlertLimits.of(q) for q in s.scalars(select(QueueConfig))}


def agent_skills(s: Session) -> dict[str, set[str]]:
    """ext -> the skills the agent holds."""
    held: dict[str, set[str]] = {}
    for ext, skill in s.execute(select(User.agent_extension, AgentSkill.skill)
                                .join(AgentSkill, AgentSkill.user_id == User.id)
                                .where(User.agent_extension.is_not(None))):
        held.setdefault(ext, set()).add(skill)
    return held


def snapshot(s: Session, user: User, agents: dict[str, AgentSnapshot], live_calls: dict[str, LiveCall],
             now: float, day_start: datetime) -> dict:
    skills = {q.skill: q.service_level_s for q in s.scalars(select(QueueConfig))}
    today = today_calls(s, day_start)
    queues = queue_figures(skills, live_calls, today, now)
    rows = agent_rows(agents, visible_agents(s, user), now)
    return {"queues": queues, "agents": rows, "alerts": alerts(queues, rows, alert_limits(s), agent_skills(s))}
