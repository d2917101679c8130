"""FastAGI routes for callers waiting in cc-wait: position and expected wait, and a call back.

The waiting loop in the dialplan calls ``queue-position`` every CC_ANNOUNCE_S seconds and
``queue-callback`` when the caller presses 1. Both read the router's live state in Redis; a
failure leaves the caller waiting (the dialplan goes back to its music), never dropped. A call
back goes only to a caller ID the call-back rules allow (callcenter/callback_rules.py): the
caller ID is whatever the caller's network or SIP client says.
"""
from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from acd import core
from acd.agent_state import LOGGED_OUT
from acd.protocol import LiveCall, digits
from acd.store import Store
from callcenter import dialplan
from ivr import speech
from ivr.fastagi import AgiChannel


def position_in_queue(calls: dict[str, LiveCall], uniqueid: str) -> int | None:
    """1-based place of the call among the waiting calls of its skill, in the order the router
    serves them (the core decides the order; pure)."""
    waiting = [(c.uniqueid, c.skill, c.service_class, c.queued_at) for c in calls.values() if c.waiting]
    return core.position(waiting, uniqueid)


def expected_wait_minutes(position: int, agents_logged_in: int, aht_s: float) -> int:
    """A plain estimate: the callers ahead, shared by the agents working, at the average handle time."""
    return max(1, math.ceil(position * aht_s / max(1, agents_logged_in) / 60))


@dataclass
class QueueRoutes:
    store: Store
    prompts_dir: Path
    # uniqueid, number, language -> None when the request is taken, else why not (blocking)
    create_callback: Callable[[str, str, str], str | None]
    aht_s: float = 180.0

    def _file(self, language: str, name: str) -> str:
        return str(self.prompts_dir / language / name)

    async def _language(self, agi: AgiChannel) -> str:
        language = await agi.get_variable(dialplan.bare(dialplan.LANGUAGE))
        return language if language in ("zh", "en") else "zh"

    async def _play(self, agi: AgiChannel, language: str, names: list[str], keys: str = "") -> str:
        for name in names:
            key = await agi.stream_file(self._file(language, name), keys)
            if key:
                return key
        return ""

    async def position(self, agi: AgiChannel) -> None:
        language = await self._language(agi)
        uniqueid = agi.uniqueid or await agi.get_variable(dialplan.UNIQUEID)
        place = position_in_queue(await self.store.calls(), uniqueid)
        if place is None:  # being connected right now, or unknown to the router: say nothing
            return
        agents = sum(1 for a in (await self.store.agents()).values() if a.state != LOGGED_OUT)
        minutes = expected_wait_minutes(place, agents, self.aht_s)
        names = (["queue_ahead"] + speech.number(place - 1, language) + ["queue_callers", "queue_wait"]
                 + speech.number(minutes, language) + ["queue_minutes", "queue_callback_offer"])
        key = await self._play(agi, language, names, keys="1")
        if key == "1":
            await self.callback(agi, language)

    async def callback(self, agi: AgiChannel, language: str | None = None) -> None:
        language = language or await self._language(agi)
        uniqueid = agi.uniqueid or await agi.get_variable(dialplan.UNIQUEID)
        number = digits(agi.headers.get("agi_callerid", ""))
        if not number:
            return  # a withheld number cannot be called back: keep waiting
        prompt = ["callback_at"] + speech.digits(number, language) + ["callback_keys"]
        key = await self._play(agi, language, prompt, keys="12")
        if not key:
            key = await agi.wait_for_digit(5)
        if key != "1":
            return  # back to waiting
        if await asyncio.to_thread(self.create_callback, uniqueid, number, language):
            # the call-back rules refuse this number (callcenter/callback_rules.py): keep waiting
            await self._play(agi, language, ["callback_refused"])
            return
        await self._play(agi, language, ["callback_done"])
        await agi.set_variable(dialplan.CALLBACK, "ok")
