"""What the router process keeps for a call's journey: each routing decision with the core's
reason (routing_decisions), and each hold and resume (call_holds).

The routing path only appends a row to a list: no I/O, no await, so a decision costs what it
cost before. The router process's one-second tick hands what gathered to the database
(:func:`flush`, in a thread), duplicates ignored, so a tick run twice writes nothing twice. A
router that dies loses the last second's rows, never a call: the journey then shows the agent
rung (agent_state_log) without the reason the core gave.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

from acd.core import NORMAL, TRANSFERRED, VIP, Decision
from acd.protocol import LiveCall
from callcenter import db
from callcenter.models import CallHold, RoutingDecision

SERVICE_CLASSES = {TRANSFERRED: "transferred", VIP: "vip", NORMAL: "normal"}
REASON_CHARS = 300  # the column's length
HOLD, RESUME = "hold", "resume"
MAX_PENDING = 20_000  # rows kept while the database refuses them (about an hour of a busy floor)

log = logging.getLogger("acd.call_log")


def _utc(at: float) -> datetime:
    return datetime.fromtimestamp(at, tz=timezone.utc)


@dataclass
class CallLog:
    decisions: list[dict] = field(default_factory=list)
    holds: list[dict] = field(default_factory=list)

    def decision(self, decision: Decision, call: LiveCall, at: float) -> None:
        """The router took decision.agent_id for the call (before it rang them)."""
        self.decisions.append({
            "call_uniqueid": decision.call_id, "decided_at": _utc(at), "agent_extension": decision.agent_id,
            "skill": call.skill, "service_class": SERVICE_CLASSES.get(call.service_class, "normal"),
            "callback": call.is_callback, "reason": decision.reason[:REASON_CHARS]})

    def hold(self, uniqueid: str, ext: str, action: str, at: float) -> None:
        if action not in (HOLD, RESUME):
            raise ValueError(f"hold action is hold or resume, not {action!r}")
        self.holds.append({"call_uniqueid": uniqueid, "extension": ext, "action": action, "at": _utc(at)})

    def take(self) -> tuple[list[dict], list[dict]]:
        """Everything gathered so far, handed over once (called on the event loop)."""
        taken = (self.decisions, self.holds)
        self.decisions, self.holds = [], []
        return taken

    def put_back(self, decisions: list[dict], holds: list[dict]) -> None:
        """Rows a failed write took: first in line again, the oldest dropped beyond MAX_PENDING."""
        self.decisions[:0], self.holds[:0] = decisions, holds
        for rows in (self.decisions, self.holds):
            if len(rows) > MAX_PENDING:
                log.warning("dropping %d journey row(s) the database did not take", len(rows) - MAX_PENDING)
                del rows[:len(rows) - MAX_PENDING]


def flush(sessions, decisions: list[dict], holds: list[dict]) -> int:
    """Write taken rows (in a worker thread); how many were handed in."""
    if not decisions and not holds:
        return 0
    with sessions() as s:
        db.insert_ignoring_duplicates(s, RoutingDecision, decisions)
        db.insert_ignoring_duplicates(s, CallHold, holds)
        s.commit()
    return len(decisions) + len(holds)


async def drain(call_log: CallLog, sessions) -> int:
    """One pass of the router's tick: what gathered goes to the database; on failure it is kept
    for the next pass and the error raised (the tick logs it)."""
    decisions, holds = call_log.take()
    try:
        return await asyncio.to_thread(flush, sessions, decisions, holds)
    except BaseException:
        call_log.put_back(decisions, holds)
        raise
