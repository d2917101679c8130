"""A monitoring session changed where the wallboard did not ask (acd/monitoring.py), told to the
browsers that show it: a mode switched on the monitor's own phone (4/5/6, ``keyed``) or the
session's end (the call ended or moved on, the monitor hung up, their phone did not answer).

The monitor's wallboard (room ``monitor:<user name>``, joined by agent_desktop/events.py) gets
``monitor_mode`` (and shows the new mode) or ``monitor_ended``; the agent's desktop gets
``coaching`` when what it shows changes (the center's setting, acd/monitor.py ``agent_notice``),
as for a switch or a stop made on the wallboard. Run by the push process, supervised.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

import redis.asyncio as aioredis

from acd import protocol as p
from acd.monitor import Mode, agent_notice

log = logging.getLogger("agent_desktop.monitor_push")

Emit = Callable[[str, dict, str], Awaitable[None]]  # (event, data, room)


def monitor_room(username: str) -> str:
    return f"monitor:{username}"


async def tell(changed: p.MonitorChanged, emit: Emit, notice_setting: str) -> None:
    about = {"monitor": changed.monitor, "call": changed.call, "agent": changed.agent}
    if changed.mode:
        await emit("monitor_mode", {**about, "mode": changed.mode, "was": changed.was, "keyed": True},
                   monitor_room(changed.by))
    else:
        await emit("monitor_ended", about, monitor_room(changed.by))
    notice = agent_notice(notice_setting, Mode.parse(changed.mode), Mode.parse(changed.was))
    if notice is not None:
        await emit("coaching", notice, f"agent:{changed.agent}")


async def follow_monitor_changes(redis_url: str, emit: Emit, notice_setting: str) -> None:
    """Tell every change the routers publish, until the connection fails (supervised: subscribed
    again after a restart). A message that is not a change is logged and skipped."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(p.MONITOR_CHANGES)
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                changed = p.MonitorChanged.from_json(message["data"])
            except ValueError as exc:
                log.warning("skipped a message on %s: %s", p.MONITOR_CHANGES, exc)
                continue
            try:
                await tell(changed, emit, notice_setting)
            except Exception:  # noqa: BLE001 - the next change must still be told
                log.exception("could not tell monitoring change %s", changed.monitor)
    finally:
        await pubsub.aclose()
        await client.aclose()
