"""Commands from the desktop to the router: agent state and call controls, over Redis lists.

The desktop (any of its web workers) pushes a JSON command on ``acd:commands``; exactly one
router takes it (BLPOP), applies it through the one agent state machine and AMI, and answers on
``acd:reply:<id>``. A list, not pub/sub, so that with two routers running a transfer is not done
twice. Errors carry stable codes (the desktop maps them to messages).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Callable

from redis.exceptions import TimeoutError as RedisTimeoutError

from acd.manager import AgentManager
from acd.monitoring import Monitors
from acd.protocol import COMMANDS, AcdError, reply_key

log = logging.getLogger("acd.commands")

REPLY_TTL_S = 30
BLOCK_S = 2  # each blocking pop, below redis-py's default 5 s socket timeout

CommandError = AcdError  # the name the desktop's tests know


def _actor(command: dict) -> str | None:
    """Who asked, when a person acts on another's behalf (a supervisor): audited by the manager."""
    by = command.get("by")
    return by[:40] if isinstance(by, str) and by else None


class CommandHandler:
    """Maps one command (a JSON object) to the manager's method; nothing else decides here."""

    def __init__(self, manager: AgentManager, monitors: Monitors | None = None):
        self.manager = manager
        self.monitors = monitors

    async def handle(self, command: dict) -> dict:
        op = command.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) and op.isidentifier() else None
        if handler is None:
            raise AcdError("UNKNOWN_COMMAND", f"unknown command {str(op)[:40]!r}")
        return await handler(command)

    async def op_state(self, command: dict) -> dict:
        if command.get("to") == "logged_out" and command.get("when_free") is True:  # an admin's (issue 15)
            return await self.manager.log_out_when_free(command.get("ext"), actor=_actor(command))
        state = await self.manager.set_state(command.get("ext"), command.get("to"), command.get("reason"),
                                             actor=_actor(command))
        return {"state": state}

    async def op_extend_wrapup(self, command: dict) -> dict:
        seconds = command.get("seconds")
        if not isinstance(seconds, int):
            raise AcdError("BAD_SECONDS")
        return {"wrapup_until": await self.manager.extend_wrapup(command.get("ext"), seconds, actor=_actor(command))}

    async def op_hangup(self, command: dict) -> dict:
        await self.manager.hang_up(command.get("ext"), command.get("call"))
        return {}

    async def op_hold(self, command: dict) -> dict:
        await self.manager.hold(command.get("ext"), command.get("call"))
        return {"held": True}

    async def op_verify(self, command: dict) -> dict:
        await self.manager.verify(command.get("ext"), command.get("call"))
        return {"verifying": True}

    async def op_resume(self, command: dict) -> dict:
        await self.manager.resume(command.get("ext"), command.get("call"))
        return {"held": False}

    async def op_transfer(self, command: dict) -> dict:
        if command.get("to_agent"):
            await self.manager.transfer_to_agent(command.get("ext"), command.get("call"), command.get("to_agent"))
            return {"to_agent": command["to_agent"]}
        await self.manager.transfer_to_skill(command.get("ext"), command.get("call"), command.get("skill"))
        return {"to_skill": command.get("skill")}

    # ---- live monitoring: the desktop checked the role and the team; `by` is the monitor ----
    def _monitors(self, command: dict) -> tuple[Monitors, str]:
        by = _actor(command)
        if self.monitors is None or by is None:
            raise AcdError("UNKNOWN_COMMAND", "this router does not monitor calls")
        return self.monitors, by

    async def op_monitor_start(self, command: dict) -> dict:
        monitors, by = self._monitors(command)
        session = await monitors.start(command.get("call"), command.get("mode"), by, str(command.get("role")),
                                       command.get("listener"))
        return session.as_dict()

    async def op_monitor_mode(self, command: dict) -> dict:
        monitors, by = self._monitors(command)
        before = await monitors.session(command.get("monitor"))
        session = await monitors.switch(command.get("monitor"), command.get("mode"), by, str(command.get("role")))
        # the mode before: the desktop tells the agent only when what they are shown changes
        return {**session.as_dict(), "was": before.mode if before else None}

    async def op_monitor_stop(self, command: dict) -> dict:
        monitors, by = self._monitors(command)
        session, listened = await monitors.stop(command.get("monitor"), by)
        return {**session.as_dict(), "listened_s": round(listened)}


def expired(command: dict, now: float) -> bool:
    """A command its desktop stopped waiting for (RouterClient's `expires_at`): popped by a router
    that then froze or stalled (another router could have served it, and the desktop has told
    its user ROUTER_UNAVAILABLE), it must not take effect later by surprise. One floor's machines
    keep one clock (NTP); a command without the field (an older client) is served as before."""
    expires = command.get("expires_at")
    return isinstance(expires, (int, float)) and not isinstance(expires, bool) and now > expires


async def serve(redis, manager: AgentManager, monitors: Monitors | None = None,
                clock: Callable[[], float] = time.time) -> None:
    """Take commands one at a time for ever; each gets a reply, whatever happens."""
    handler = CommandHandler(manager, monitors)
    while True:
        try:
            item = await redis.blpop(COMMANDS, timeout=BLOCK_S)
        except RedisTimeoutError:
            # the reply came later than the socket timeout: a loaded machine, not a lost Redis
            log.debug("blocking pop timed out; polling again")
            continue
        except Exception as exc:  # noqa: BLE001 - Redis restarting: wait for it, keep serving
            log.warning("waiting for Redis: %s", exc)
            await asyncio.sleep(1)
            continue
        if item is None:
            continue
        try:
            command = json.loads(item[1])
            command_id = str(command.get("id", ""))[:64]
        except (ValueError, AttributeError):
            log.warning("dropped a command that is not JSON")
            continue
        if expired(command, clock()):
            log.warning("dropped command %s %s: its desktop stopped waiting for it", command.get("op"), command_id)
            continue
        try:
            result = {"ok": True, **await handler.handle(command)}
        except AcdError as exc:
            result = {"ok": False, **exc.as_dict()}
        except Exception as exc:  # noqa: BLE001 - the desktop must get an answer
            log.exception("command %s failed", command.get("op"))
            result = {"ok": False, **AcdError("ROUTER_ERROR", f"the router failed: {type(exc).__name__}").as_dict()}
        if command_id:
            key = reply_key(command_id)
            await redis.rpush(key, json.dumps(result))
            await redis.expire(key, REPLY_TTL_S)
