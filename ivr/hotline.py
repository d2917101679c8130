"""The hotline route (foundation version): identify the caller, greet them in their language,
and hand off to the waiting context with the channel variables the router reads.

The full bilingual menu (self-service, password, flows as data) is built on this route by the
IVR issue; this version already follows the hand-off contract: CC_IVR_RESULT=ok is set last, so
a failure anywhere before it sends the caller to agi_fail.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from callcenter import dialplan
from ivr.fastagi import AgiChannel


@dataclass(frozen=True)
class CallerProfile:
    customer_id: int
    language: str  # "zh" | "en"
    vip_level: int


@dataclass(frozen=True)
class HandOff:
    skill: str
    priority: int
    language: str
    customer_id: int | None


def hand_off_for(profile: CallerProfile | None) -> HandOff:
    """Pure: who the router should look for. VIP customers get a higher priority."""
    if profile is None:
        return HandOff(skill="general", priority=0, language="zh", customer_id=None)
    return HandOff(skill="vip" if profile.vip_level >= 3 else "general", priority=min(profile.vip_level, 9),
                   language=profile.language, customer_id=profile.customer_id)


class HotlineRoute:
    def __init__(self, prompts_dir: Path, find_caller: Callable[[str], CallerProfile | None],
                 note_call: Callable[[str, dict], None]):
        self.prompts_dir = prompts_dir
        self.find_caller = find_caller  # blocking (database): run in a thread
        self.note_call = note_call

    def prompt(self, language: str, name: str) -> str:
        path = self.prompts_dir / language / f"{name}.wav"
        if not path.exists():
            raise FileNotFoundError(f"prompt {path} is missing (run `callcenter up`, which generates prompts)")
        return str(path.with_suffix(""))

    async def __call__(self, agi: AgiChannel) -> None:
        number = "".join(ch for ch in agi.headers.get("agi_callerid", "") if ch.isdigit())[:20]
        profile = await asyncio.to_thread(self.find_caller, number) if number else None
        handoff = hand_off_for(profile)
        access = "".join(ch for ch in agi.headers.get("agi_extension", "") if ch.isdigit())[:20]
        # the CDR listener records these too; whoever writes first, the row is complete
        await asyncio.to_thread(self.note_call, agi.uniqueid, {
            "stage": "ivr", "customer_id": handoff.customer_id, "caller_number": number or None,
            "access_number": access or None})
        await agi.stream_file(self.prompt(handoff.language, "welcome"))
        await agi.set_variable(dialplan.SKILL, handoff.skill)
        await agi.set_variable(dialplan.PRIORITY, str(handoff.priority))
        await agi.set_variable(dialplan.LANGUAGE, handoff.language)
        if handoff.customer_id is not None:
            await agi.set_variable(dialplan.CUSTOMER_ID, str(handoff.customer_id))
        await agi.stream_file(self.prompt(handoff.language, "agent_transfer"))
        await agi.set_variable(dialplan.IVR_RESULT, "ok")
