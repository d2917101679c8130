"""The AGI adapter of the flow engine: plays prompts, collects keys, runs services, hands off.

All decisions are the engine's (ivr/engine.py); this module only does the talking to Asterisk
and the database work, and records the journey as the call goes (so a crash loses nothing).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Awaitable, Callable

from acd.protocol import digits
from callcenter import dialplan
from ivr import speech
from ivr.engine import Ask, CallState, Engine, HandOff, Hangup, JourneyEntry, Run, Say
from ivr.fastagi import AgiChannel, CallerHungUp
from ivr.flow import Flow
from ivr.services import CallContext, HotlineServices
from callcenter.sip.store import NumberRoute

log = logging.getLogger("ivr.runner")

ALL_KEYS = "0123456789*#"
INTER_DIGIT_S = 3.0
OVERFLOW_WAIT_S = 1.0  # after a fixed-length input, a further key within this long means "too long"
RECORDING_NOTICE = "recording_notice"  # a prompt of the flow (hotline.toml), in every language
MAX_STEPS = 200  # a flow that loops this long is a bug: hand the caller to an agent


@dataclass(frozen=True)
class Recorder:
    """Where the runner writes what happened (database functions, run in a thread)."""
    journey: Callable[[str, int, list[JourneyEntry]], None]  # uniqueid, first seq, entries
    call: Callable[[str, dict], None]  # uniqueid, call row fields
    next_seq: Callable[[str], int] = lambda uniqueid: 0  # the call's first free journey seq


class FlowRunner:
    def __init__(self, flow: Flow, prompts_dir: Path, services: HotlineServices, recorder: Recorder,
                 clock: Callable[[], datetime] | None = None,
                 number_route: Callable[[str], NumberRoute | None] | None = None, entry: str | None = None,
                 mute: Callable[[str, str, bool], Awaitable[None]] | None = None,
                 recording_notice: Callable[[str], bool] | None = None):
        # entry: a script that starts at this flow entry on a call already past the menu (the
        # agent's password check): it adds to the call's journey and records only the check
        self.entry = entry
        # mute(channel, uniqueid, on): the recording muted while a secret is keyed, confirmed
        # (ivr/recording_mute.py); recording_notice(access number): whether callers to it hear
        # that the call is recorded (the access number's setting; on when it has none)
        self.mute = mute
        self.recording_notice = recording_notice
        self.number_route = number_route  # access number -> entry node or skill (callcenter/sip/store.py)
        self.flow = flow
        self.prompts_dir = prompts_dir
        self.services = services
        self.recorder = recorder
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    # ---- prompts ----
    def files(self, state: CallState, items: list) -> list[str]:
        names: list[str] = []
        for item in items:
            if isinstance(item, str):
                names.append(item)
                continue
            (kind, slot), = item.items()
            value = state.slots.get(slot)
            if kind == "amount":
                names += speech.amount(int(value), state.language)
            elif kind == "number":
                names += speech.number(int(value), state.language)
            elif kind == "digits":
                names += speech.digits(str(value), state.language)
            elif kind == "date":
                names += speech.spoken_date(value if isinstance(value, date) else date.fromisoformat(value),
                                            state.language)
            elif kind == "prompt":
                if value not in self.flow.prompts:
                    raise ValueError(f"slot {slot} names prompt {value!r}, which the flow does not have")
                names.append(value)
        return [str(self.prompts_dir / state.language / name) for name in names]

    async def play(self, agi: AgiChannel, files: list[str], interruptible: bool) -> str:
        for path in files:
            key = await agi.stream_file(path, ALL_KEYS if interruptible else "")
            if key:
                return key
        return ""

    async def collect(self, agi: AgiChannel, state: CallState, ask: Ask) -> str | None:
        """Keys for an Ask: "" for a bare "#", None for silence. A secret's prompt and keys are
        not recorded: the recording is muted first (confirmed, else the call fails safe to an
        agent) and unmuted after, however the input ended."""
        if not (ask.secret and self.mute):
            return await self._collect(agi, state, ask)
        channel = agi.headers.get("agi_channel", "")
        await self.mute(channel, agi.uniqueid, True)
        try:
            return await self._collect(agi, state, ask)
        finally:
            try:
                await self.mute(channel, agi.uniqueid, False)
            except Exception:  # noqa: BLE001 - the caller hung up meanwhile, say: the secret stays unrecorded
                log.warning("call %s: recording not unmuted after a secret", agi.uniqueid, exc_info=True)

    async def _collect(self, agi: AgiChannel, state: CallState, ask: Ask) -> str | None:
        first = await self.play(agi, self.files(state, ask.prompts), interruptible=True)
        if not first:
            first = await agi.wait_for_digit(ask.timeout_s)
            if not first:
                return None
        if ask.max_digits == 1 and not ask.terminator:
            return first
        keys = first
        while not (ask.terminator and keys.endswith("#")):
            if len(keys) >= ask.max_digits:
                extra = await agi.wait_for_digit(OVERFLOW_WAIT_S)
                if not extra or extra == "#":
                    break
                keys += extra  # too long: the engine will refuse it
                continue
            key = await agi.wait_for_digit(INTER_DIGIT_S)
            if not key:
                break
            keys += key
        return keys[:-1] if keys.endswith("#") else keys

    # ---- the call ----
    async def __call__(self, agi: AgiChannel) -> None:
        caller = digits(agi.headers.get("agi_callerid", ""))
        access = digits(agi.headers.get("agi_extension", ""))
        uniqueid = agi.uniqueid
        if not uniqueid:
            # Never asked of the channel: read_request refuses a request without one, and an answer
            # to GET VARIABLE is exactly what a caller's spilled name could forge.
            raise ValueError("AGI request without a uniqueid")
        call = CallContext(uniqueid=uniqueid, caller_number=caller)
        state = CallState(slots={"caller_number": caller})
        engine = Engine(self.flow, self.clock)
        if self.entry:
            return await self._run_entry(agi, engine, state, call)
        journey = _Journey(self.recorder, call.uniqueid)
        await asyncio.to_thread(self.recorder.call, call.uniqueid, {
            "stage": "ivr", "caller_number": caller or None, "access_number": access or None})
        try:
            route = await asyncio.to_thread(self.number_route, access) if self.number_route and access else None
            await self._recording_notice(agi, access)
            if route is not None and route.skill:
                # straight to the skill's queue; the caller's number still says who they are (pop, VIP)
                await asyncio.to_thread(self.services.run, "identify_caller", state, call)
                instruction = engine.direct(state, route.skill)
            else:
                instruction = engine.start(state, route.entry if route else None)
            await self._steps(agi, engine, state, call, instruction, self.hand_off, journey)
        except CallerHungUp:
            state.journey.append(JourneyEntry(self.clock(), state.node or "start", None, "caller hung up"))
            raise
        finally:
            await journey.save(state)
            await asyncio.to_thread(self.recorder.call, call.uniqueid, {
                "customer_id": state.customer_id, "language": state.language, "password_verified": state.verified,
                "handoff_reason": state.handoff_reason or None})

    async def _recording_notice(self, agi: AgiChannel, access: str) -> None:
        """Before the menu, in both languages (the caller has not chosen one yet): the call is
        recorded. Off only for an access number set so (callcenter recordings notice NUMBER off)."""
        if self.recording_notice is None or not await asyncio.to_thread(self.recording_notice, access):
            return
        await self.play(agi, [str(self.prompts_dir / language / RECORDING_NOTICE) for language in ("zh", "en")],
                        interruptible=False)

    async def _steps(self, agi: AgiChannel, engine: Engine, state: CallState, call: CallContext,
                     instruction, hand_off, journey: "_Journey") -> None:
        """Run the flow from `instruction` to its end, saving the journey as it goes."""
        for _ in range(MAX_STEPS):
            await journey.save(state)
            if isinstance(instruction, Ask):
                instruction = engine.on_keys(state, await self.collect(agi, state, instruction))
            elif isinstance(instruction, Run):
                outcome, data = await asyncio.to_thread(self.services.run, instruction.service, state, call)
                instruction = engine.on_outcome(state, outcome, data)
            elif isinstance(instruction, Say):
                await self.play(agi, self.files(state, instruction.prompts), interruptible=False)
                instruction = engine.on_said(state)
            elif isinstance(instruction, HandOff):
                await hand_off(agi, state, instruction)
                return
            elif isinstance(instruction, Hangup):
                await self.play(agi, self.files(state, instruction.prompts), interruptible=False)
                await agi.set_variable(dialplan.IVR_RESULT, "hangup")
                return
        raise RuntimeError(f"flow {self.flow.name} ran {MAX_STEPS} steps without ending")

    async def _run_entry(self, agi: AgiChannel, engine: Engine, state: CallState, call: CallContext) -> None:
        """The agent's password check: the flow from its entry; every end goes back to the agent
        (the dialplan's job), with only the result set on the channel and on the call's row: the
        call's skill, reason and path from the menu stay as they were. Its steps follow the
        menu's on the call's journey."""
        journey = _Journey(self.recorder, call.uniqueid,
                           await asyncio.to_thread(self.recorder.next_seq, call.uniqueid))
        state.journey.append(JourneyEntry(self.clock(), self.entry, None, "sent by agent"))

        async def back(agi: AgiChannel, state: CallState, handoff: HandOff) -> None:
            await self.play(agi, self.files(state, handoff.prompts), interruptible=False)
            await agi.set_variable(dialplan.VERIFIED, "1" if state.verified else "0")
            await agi.set_variable(dialplan.IVR_RESULT, "ok")
        try:
            await self._steps(agi, engine, state, call, engine.start(state, self.entry), back, journey)
        except CallerHungUp:
            state.journey.append(JourneyEntry(self.clock(), state.node or self.entry, None, "caller hung up"))
            raise
        finally:
            await journey.save(state)
            if state.verified:
                await asyncio.to_thread(self.recorder.call, call.uniqueid, {"password_verified": True})

    async def hand_off(self, agi: AgiChannel, state: CallState, handoff: HandOff) -> None:
        await self.play(agi, self.files(state, handoff.prompts), interruptible=False)
        values = {
            dialplan.SKILL: handoff.skill,
            dialplan.PRIORITY: str(state.priority),
            dialplan.LANGUAGE: state.language,
            dialplan.VERIFIED: "1" if state.verified else "0",
            dialplan.HANDOFF_REASON: handoff.reason[:64],
            dialplan.PATH: "/".join(state.path)[-128:],
        }
        if state.customer_id is not None:
            values[dialplan.CUSTOMER_ID] = str(state.customer_id)
        for name, value in values.items():
            await agi.set_variable(name, value)
        await agi.set_variable(dialplan.IVR_RESULT, "ok")  # last: anything failing before it goes to agi_fail



class _Journey:
    """Saves a call's new journey steps as it goes (a crash loses nothing), numbered from
    first_seq: a script run later on the same call adds after the menu's steps."""

    def __init__(self, recorder: Recorder, uniqueid: str, first_seq: int = 0):
        self.recorder, self.uniqueid, self.first_seq, self.saved = recorder, uniqueid, first_seq, 0

    async def save(self, state: CallState) -> None:
        if len(state.journey) > self.saved:
            await asyncio.to_thread(self.recorder.journey, self.uniqueid, self.first_seq + self.saved,
                                    state.journey[self.saved:])
            self.saved = len(state.journey)
