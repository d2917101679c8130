"""The CDR listener: turns the dialplan's call events from AMI into call rows.

Every call that enters the hotline gets a row (CallEntered), follows its stage (IvrFailed,
CallQueued, AgentRinging, AgentAnswered) and is closed with a reason (CallEnded, sent by the
hangup handler every caller channel carries). Writes are idempotent (see callcenter.calls), so a
replayed event changes nothing. On connect, calls still open whose channel no longer exists in
Asterisk are closed as lost, so every call ends with a reason even across crashes.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Callable

from sqlalchemy.orm import Session

from callcenter import calls, dialplan
from cdr.end_reason import LOST_REASON, end_reason

log = logging.getLogger("cdr.listener")


def fields_for_event(event: dict) -> tuple[str, dict] | None:
    """Map one AMI UserEvent (as a dict) to (uniqueid, call fields); None if it is not ours."""
    kind = event.get("UserEvent")
    uniqueid = event.get("CallId", "")
    if not uniqueid:
        return None
    when = calls.utc_from_epoch(event.get("Timestamp"))
    if kind == dialplan.EV_CALL_ENTERED:
        return uniqueid, {
            "started_at": when, "linkedid": event.get("Linkedid"), "stage": "entered",
            "caller_number": event.get("CallerIDNum") if event.get("CallerIDNum") != "<unknown>" else None,
            "caller_name": (event.get("CallerIDName") or "")[:80] if event.get("CallerIDName") != "<unknown>" else None,
            "access_number": event.get("AccessNumber"),
        }
    if kind == dialplan.EV_IVR_FAILED:
        return uniqueid, {"stage": "agi_fail"}
    if kind == dialplan.EV_CALL_QUEUED:
        return uniqueid, {"stage": "waiting", "skill": event.get("Skill") or None, "queued_at": when}
    if kind == dialplan.EV_AGENT_RINGING:
        return uniqueid, {"stage": "connecting"}
    if kind == dialplan.EV_AGENT_ANSWERED:
        return uniqueid, {"stage": "connected", "answered_at": when, "agent_extension": event.get("Agent") or None}
    if kind == dialplan.EV_CALL_ENDED:
        cause = event.get("Cause", "")
        return uniqueid, {
            "ended_at": when,
            "end_reason": end_reason(event.get("Stage", ""), event.get("End", ""), event.get("DialStatus", ""),
                                     event.get("FailReason", "")),
            "hangup_cause": int(cause) if cause.isdigit() else None,
            "recording_path": event.get("Recording") or None,
        }
    return None


class CdrListener:
    def __init__(self, session_factory: Callable[[], Session]):
        self.session_factory = session_factory

    def apply(self, event: dict) -> None:
        mapped = fields_for_event(event)
        if mapped is None:
            return
        uniqueid, fields = mapped
        with self.session_factory() as session:
            calls.upsert_call(session, uniqueid, **fields)
            session.commit()

    def close_lost(self, live_uniqueids: set[str]) -> int:
        """Close open calls whose channel Asterisk no longer has; return how many."""
        closed = 0
        with self.session_factory() as session:
            for call in calls.open_calls(session):
                if call.uniqueid not in live_uniqueids:
                    calls.upsert_call(session, call.uniqueid, ended_at=calls.utc_from_epoch(None),
                                      end_reason=LOST_REASON)
                    closed += 1
            session.commit()
        return closed


async def live_channel_ids(manager) -> set[str]:
    """Uniqueids of every channel Asterisk has now (CoreShowChannels)."""
    replies = await manager.send_action({"Action": "CoreShowChannels"}, as_list=True)
    return {r.get("Uniqueid") for r in replies if r.get("Event") == "CoreShowChannel"}


async def run(settings) -> None:
    from callcenter import ami, db
    from callcenter.runtime.tasks import Health, supervise

    listener = CdrListener(db.session_factory(settings.database_url))
    health = Health.for_process(settings.run_dir, "cdr")

    def on_user_event(_manager, event) -> None:
        try:
            listener.apply(dict(event))
        except Exception:  # one bad event must not stop the ledger
            log.exception("could not record %s", dict(event))

    logins = asyncio.Event()  # set by every AMI login, the first included

    async def reconcile_after_logins() -> None:
        """After each login (Asterisk restarted), close the calls that died with it; a failed
        pass fails the task, whose supervised restart tries again."""
        while True:
            await logins.wait()
            logins.clear()
            try:
                closed = listener.close_lost(await live_channel_ids(manager))
            except BaseException:
                logins.set()  # not done: the restarted task does it again
                raise
            if closed:
                log.warning("closed %d call(s) whose channel was gone", closed)

    manager = await ami.connect(settings)
    manager.register_event("UserEvent", on_user_event)
    logins.set()
    manager.on_login = lambda _m: logins.set()
    log.info("cdr listener recording calls")
    await supervise("reconcile", reconcile_after_logins, health=health)
