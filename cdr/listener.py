"""The CDR listener: turns the dialplan's call events from AMI into call rows.

Every call that enters the hotline gets a row (CallEntered), follows its stage (IvrFailed,
CallQueued, AgentRinging, AgentAnswered) and is closed with a reason (CallEnded, sent by the
hangup handler every caller channel carries). Writes are idempotent (see callcenter.calls), so a
replayed event changes nothing. On connect, calls still open whose channel no longer exists in
Asterisk are closed as lost (with the recording MixMonitor was writing, if its file is there), so
every call ends with a reason even across crashes. While the database is unavailable the events
wait in a spool and are written when it is back (cdr/spool.py): no record lost, none doubled.
"""
from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Callable

from sqlalchemy.orm import Session

from acd import protocol as p
from callcenter import calls, dialplan
from cdr import outbound
from cdr.end_reason import LOST_REASON, EndReason, end_detail, end_reason
from cdr.load import CALLBACK_LEG
from cdr.spool import RecordWriter, Spool

log = logging.getLogger("cdr.listener")

SPOOL_FILE = "cdr-spool.jsonl"  # in the run folder: call events the database could not take yet


def fields_for_event(raw: dict) -> tuple[str, dict] | None:
    """Map one AMI UserEvent (as a dict) to (uniqueid, call fields); None if it is not ours."""
    event = p.parse_event(raw)
    if event is None:
        return None
    when = calls.utc_from_epoch(event.at)
    if isinstance(event, p.CallEntered):
        return event.call_id, {
            "started_at": when, "linkedid": event.linkedid or None, "stage": "entered",
            "caller_number": event.caller_number or None, "caller_name": event.caller_name or None,
            "access_number": event.access_number or None,
        }
    if isinstance(event, p.IvrFailed):
        return event.call_id, {"stage": "agi_fail"}
    if isinstance(event, p.CallQueued):
        return event.call_id, {"stage": "waiting", "skill": event.skill, "queued_at": when}
    if isinstance(event, p.AgentRinging):
        return event.call_id, {"stage": "connecting"}
    if isinstance(event, p.AgentAnswered):
        if p.as_text(raw.get("Context")) == dialplan.CALLBACK_DIAL:
            # a call back's agent answered: that leg gets its own row (CallbackEnded); the call that
            # asked for it ended long ago, and an answer set on it would flag its recording missing
            return None
        return event.call_id, {"stage": "connected", "answered_at": when, "agent_extension": event.agent}
    if isinstance(event, p.CallEnded):
        return event.call_id, {
            "ended_at": when,
            "end_reason": end_reason(event.stage, event.end, event.dial_status, event.fail_reason),
            "end_detail": end_detail(event.fail_reason),
            "hangup_cause": event.cause,
            "recording_path": event.recording or None,
        }
    if isinstance(event, p.CallbackEnded) and event.leg and event.started is not None:
        return event.leg, callback_leg_fields(event, when)
    return None


def callback_leg_fields(event: p.CallbackEnded, ended) -> dict:
    """A call back's leg as a call row of its own, keyed by the leg's uniqueid (issue 11): each
    try is its own recording, while the call that asked for it (linkedid) keeps its own. The leg
    starts when the agent answered (cc-callback-dial runs then), and so does the recording: the
    agent hearing the customer's phone ring is business too, so a try nobody answered still has its
    recording. It counts as answered (a recording owed, flagged if missing) only if the customer
    answered; a try over at once (busy) leaves an empty file, registered but not flagged."""
    started = calls.utc_from_epoch(event.started)
    return {
        "started_at": started, "answered_at": started if event.answered else None, "ended_at": ended,
        "linkedid": event.call_id,
        "stage": CALLBACK_LEG, "caller_number": event.number or None, "agent_extension": event.agent or None,
        "end_reason": EndReason.CALLER_HANGUP if event.answered else EndReason.CALLBACK_NOT_ANSWERED,
        "recording_path": event.recording or None,
    }


class CdrListener:
    def __init__(self, session_factory: Callable[[], Session], recordings_dir: Path | None = None):
        self.session_factory = session_factory
        self.recordings_dir = recordings_dir  # where close_lost looks for a lost call's recording

    def apply(self, event: dict) -> None:
        mapped = fields_for_event(event)
        if mapped is None:
            tried = outbound.trunk_try(event)  # a call back's try through a carrier: on its journey
            if tried is not None:
                with self.session_factory() as session:
                    outbound.record(session, tried, event.get("Timestamp"))
                    session.commit()
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
                    # no CallEnded, so no Recording: the file MixMonitor was writing, if it is there
                    recording = lost_recording(self.recordings_dir, call.uniqueid) if self.recordings_dir else None
                    calls.upsert_call(session, call.uniqueid, ended_at=calls.utc_from_epoch(None),
                                      end_reason=LOST_REASON, recording_path=recording)
                    closed += 1
            session.commit()
        return closed


def lost_recording(recordings_dir: Path, uniqueid: str) -> str | None:
    """The recording of a call that ended without its CallEnded (Asterisk died): the dialplan
    names it <recordings>/YYYY/MM/DD/<the uniqueid's letters, digits and ._->.wav (CC_RECORDING)."""
    name = re.sub(r"[^0-9A-Za-z._-]", "", uniqueid)
    if not name:
        return None
    found = sorted(recordings_dir.glob(f"[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/{name}.wav"))
    return str(found[-1]) if found else None


async def live_channel_ids(manager) -> set[str]:
    """Uniqueids of every channel Asterisk has now (CoreShowChannels)."""
    replies = await manager.send_action({"Action": "CoreShowChannels"}, as_list=True)
    return {r.get("Uniqueid") for r in replies if r.get("Event") == "CoreShowChannel"}


async def run(settings) -> None:
    from callcenter import ami, db
    from callcenter.runtime.tasks import Health, supervise

    listener = CdrListener(db.session_factory(settings.database_url), settings.recordings_dir)
    health = Health.for_process(settings.run_dir, "cdr")
    # written in order by one writer, kept in a spool while the database is unavailable (cdr/spool.py)
    writer = RecordWriter(listener.apply, Spool(settings.run_dir / SPOOL_FILE))

    def on_user_event(_manager, event) -> None:
        writer.submit(dict(event))

    logins = asyncio.Event()  # set by every AMI login, the first included

    async def reconcile_after_logins() -> None:
        """After each login (Asterisk restarted), close the calls that died with it; a failed
        pass fails the task, whose supervised restart tries again."""
        while True:
            await logins.wait()
            logins.clear()
            try:
                await ami.booted(manager)  # before, Asterisk lists no channel: every open call would look lost
                await writer.drained()  # a call whose end is still spooled ends with its own reason, not "lost"
                closed = await asyncio.to_thread(listener.close_lost, await live_channel_ids(manager))
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
    await asyncio.gather(supervise("records", writer.run, health=health),
                         supervise("reconcile", reconcile_after_logins, health=health))
