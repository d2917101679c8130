"""Who may change, appeal and decide a score, and when it is final. Pure: the score's facts and
the asking user in, a refusal code (QualityError) or nothing out.

A score's life: ``scored`` (the inspector may still correct it) -> ``appealed`` (the call's own
agent, once, within the window, with a reason) -> ``final`` (a team lead of the agent's team or
another inspector decided: upheld, or revised with new answers). A score nobody appealed is final
once its window has passed. Final means locked: no change, no appeal, no decision.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cdr.periods import utc
from quality.errors import QualityError

STATUSES = ("scored", "appealed", "final")
OUTCOMES = ("upheld", "revised")
REASON_LIMIT = 1000


@dataclass(frozen=True)
class ScoreFacts:
    status: str
    inspector: str  # username who scored it
    agent: str  # the extension scored
    scored_at: datetime
    appealed: bool  # an appeal was ever filed (one only)


@dataclass(frozen=True)
class Asker:
    username: str
    role: str
    extension: str | None = None
    lead_of: frozenset[str] = frozenset()  # a team lead: their teams' agents' extensions


def is_final(score: ScoreFacts, now: datetime, days: int) -> bool:
    if score.status == "final":
        return True
    return score.status == "scored" and utc(now) > utc(score.scored_at) + timedelta(days=days)


def check_change(score: ScoreFacts, who: Asker, now: datetime, days: int) -> None:
    """The inspector who made a score correcting it (or commenting on it)."""
    if is_final(score, now, days):
        raise QualityError("SCORE_LOCKED")
    if score.status == "appealed":
        raise QualityError("SCORE_UNDER_APPEAL")
    if who.role != "quality" or who.username != score.inspector:
        raise QualityError("NOT_YOUR_SCORE")


def check_appeal(score: ScoreFacts, who: Asker, now: datetime, days: int, reason: object) -> str:
    """The call's agent appealing: once, within the window, with a reason. The clean reason."""
    if who.role != "agent" or not who.extension or who.extension != score.agent:
        raise QualityError("NOT_YOUR_SCORE")
    if score.status == "final":
        raise QualityError("SCORE_LOCKED")
    if score.appealed:
        raise QualityError("ALREADY_APPEALED")
    if utc(now) > utc(score.scored_at) + timedelta(days=days):
        raise QualityError("APPEAL_WINDOW_CLOSED", days=days)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > REASON_LIMIT:
        raise QualityError("BAD_APPEAL_REASON", limit=REASON_LIMIT)
    return reason.strip()


def check_decide(score: ScoreFacts, who: Asker, outcome: object) -> None:
    """A team lead of the agent's team, another inspector, or an admin deciding an open appeal."""
    if score.status == "final":
        raise QualityError("SCORE_LOCKED")
    if score.status != "appealed":
        raise QualityError("NO_OPEN_APPEAL")
    if who.role == "quality" and who.username == score.inspector:
        raise QualityError("OWN_SCORE_DECISION")
    if who.role == "supervisor" and score.agent not in who.lead_of:
        raise QualityError("NOT_YOUR_TEAM")
    if who.role not in ("quality", "supervisor", "admin"):
        raise QualityError("NOT_YOUR_SCORE")
    if outcome not in OUTCOMES:
        raise QualityError("BAD_DECISION", choices=", ".join(OUTCOMES))
