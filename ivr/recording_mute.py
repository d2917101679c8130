"""Muting the call's recording while the caller keys a secret (issue 11): the service password,
a recharge card's PIN, a new password. The menu's flow marks those inputs ``secret``; around each
one the runner asks Asterisk to mute both directions of the channel's MixMonitor (the prompt and
the keys are not in the file; the rest of the call is) and unmutes it after.

A mute counts only once Asterisk confirms it with its MixMonitorMute event for this channel: the
action's "Success" says the request was read, the event says the audiohook is muted. When no
confirmation comes, MuteNotConfirmed is raised and the FastAGI fail-safe sends the caller to a
general agent: a secret is never taken while the recording may hear it. The AMI action goes
through acd/actions.py like every other verb.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from acd.actions import Actions

log = logging.getLogger("ivr.recording_mute")

CONFIRM_S = 3.0


class MuteNotConfirmed(RuntimeError):
    """Asterisk did not confirm the recording's mute (or unmute) in time."""


class RecordingMute:
    def __init__(self, connect: Callable[[], Awaitable[object]], confirm_s: float = CONFIRM_S):
        self._connect = connect  # () -> a logged-in panoramisk Manager (callcenter.ami.connect)
        self._manager = None
        self._lock = asyncio.Lock()
        self._waiting: dict[tuple[str, bool], list[asyncio.Future]] = {}
        self.confirm_s = confirm_s

    async def _ami(self):
        async with self._lock:
            if self._manager is None:
                manager = await self._connect()
                manager.register_event("MixMonitorMute", self._on_event)
                self._manager = manager
        return self._manager

    def _on_event(self, _manager, event) -> None:
        key = (event.get("Uniqueid", ""), str(event.get("State", "")).strip() in ("1", "true", "on", "yes"))
        for future in self._waiting.pop(key, []):
            if not future.done():
                future.set_result(dict(event))

    async def __call__(self, channel: str, uniqueid: str, muted: bool) -> None:
        """Mute (True) or unmute the recording of `channel`, confirmed; MuteNotConfirmed if not."""
        manager = await self._ami()
        future = asyncio.get_running_loop().create_future()
        self._waiting.setdefault((uniqueid, muted), []).append(future)
        try:
            if not await Actions(manager).mute_recording(channel, muted):
                raise MuteNotConfirmed(f"Asterisk refused to {'mute' if muted else 'unmute'} {channel}'s recording")
            await asyncio.wait_for(future, self.confirm_s)
        except asyncio.TimeoutError:
            raise MuteNotConfirmed(f"no MixMonitorMute event for {channel} within {self.confirm_s} s") from None
        finally:
            waiting = self._waiting.get((uniqueid, muted), [])
            if future in waiting:
                waiting.remove(future)
