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
import re

from redis.exceptions import TimeoutError as RedisTimeoutError

from acd import agent_state as st
from acd.core import GENERAL
from callcenter import dialplan

log = logging.getLogger("acd.commands")

COMMANDS = "acd:commands"
REPLY_TTL_S = 30
BLOCK_S = 2  # each blocking pop, below redis-py's default 5 s socket timeout
EXTENSION = re.compile(r"1[0-9]{3}")
SKILL = re.compile(r"[a-z_]{1,32}")


class CommandError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def reply_key(command_id: str) -> str:
    return f"acd:reply:{command_id}"


def _extension(value) -> str:
    if not isinstance(value, str) or not EXTENSION.fullmatch(value):
        raise CommandError("BAD_EXTENSION", "an agent extension is 1XXX")
    return value


class CommandHandler:
    """Applies one command with the router's store, AMI manager and queues."""

    def __init__(self, router):
        self.router = router
        self.store = router.store

    async def handle(self, command: dict) -> dict:
        op = command.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) and op.isidentifier() else None
        if handler is None:
            raise CommandError("UNKNOWN_COMMAND", f"unknown command {op!r}")
        return await handler(command)

    # ---- agent state ----
    async def op_state(self, command: dict) -> dict:
        ext, to = _extension(command.get("ext")), command.get("to")
        now = self.router.clock()
        current = (await self.store.agent(ext))["state"]
        if to == st.READY:
            if current == st.LOGGED_OUT:
                await self.store.transition(ext, "login", now)
            changed = await self.store.transition(ext, "ready", now)
        elif to == st.NOT_READY:
            reason = command.get("reason")
            if reason not in st.NOT_READY_REASONS or reason in ("login", "no_answer"):
                raise CommandError("BAD_REASON", f"not ready needs a reason, got {reason!r}")
            if current == st.LOGGED_OUT:
                await self.store.transition(ext, "login", now)
            changed = await self.store.transition(ext, "not_ready", now, reason=reason)
        elif to == st.LOGGED_OUT:
            changed = await self.store.transition(ext, "logout", now)
        else:
            raise CommandError("BAD_STATE", f"an agent may be set ready, not_ready or logged_out, not {to!r}")
        if changed is None:
            state = (await self.store.agent(ext))["state"]
            raise CommandError(st.InvalidTransition.code, f"an agent who is {state} cannot become {to}")
        return {"state": changed}

    async def op_extend_wrapup(self, command: dict) -> dict:
        ext, seconds = _extension(command.get("ext")), command.get("seconds")
        if not isinstance(seconds, int) or not 0 < seconds <= 600:
            raise CommandError("BAD_SECONDS", "extend wrap-up by 1 to 600 seconds")
        until = await self.store.extend_wrapup(ext, seconds)
        if until is None:
            raise CommandError("NOT_IN_WRAPUP", f"agent {ext} is not in wrap-up")
        return {"wrapup_until": until}

    # ---- call controls ----
    async def _own_call(self, command: dict) -> tuple[str, str, dict[str, str]]:
        ext, uid = _extension(command.get("ext")), command.get("call")
        if not isinstance(uid, str) or not uid:
            raise CommandError("NO_SUCH_CALL", "which call?")
        call, agent = await self.store.call(uid), await self.store.agent(ext)
        if not call or call.get("agent") != ext or agent["state"] != st.ON_CALL or agent.get("call") != uid:
            raise CommandError("NOT_YOUR_CALL", f"agent {ext} is not talking on that call")
        return ext, uid, call

    async def op_hangup(self, command: dict) -> dict:
        _ext, _uid, call = await self._own_call(command)
        manager = self.router.manager
        await manager.send_action({"Action": "Setvar", "Channel": call["channel"], "Variable": "CC_END",
                                   "Value": "agent"})
        await manager.send_action({"Action": "Hangup", "Channel": call["channel"]})
        return {}  # the hangup handler's CallEnded puts the agent in wrap-up

    async def op_hold(self, command: dict) -> dict:
        _ext, uid, call = await self._own_call(command)
        if call.get("held") == "1":
            raise CommandError("ALREADY_HELD", "the caller is already on hold")
        manager = self.router.manager
        reply = await manager.send_action({"Action": "Getvar", "Channel": call["channel"], "Variable": "BRIDGEPEER"})
        peer = reply.get("Value") or "" if reply.get("Response") == "Success" else ""
        if not peer:
            raise CommandError("NOT_CONNECTED", "the caller is not talking to the agent")
        await manager.send_action({"Action": "Setvar", "Channel": peer, "Variable": "CC_HELD_CALL", "Value": uid})
        reply = await manager.send_action({
            "Action": "Redirect", "Channel": call["channel"], "Context": dialplan.HOLD, "Exten": "s", "Priority": "1",
            "ExtraChannel": peer, "ExtraContext": dialplan.AGENT_HOLD, "ExtraExten": "s", "ExtraPriority": "1"})
        if reply.get("Response") != "Success":
            raise CommandError("HOLD_FAILED", reply.get("Message") or "Asterisk refused the hold")
        await self.store.put_call(uid, held="1", agent_channel=peer)
        return {"held": True}

    async def op_resume(self, command: dict) -> dict:
        _ext, uid, call = await self._own_call(command)
        if call.get("held") != "1":
            raise CommandError("NOT_HELD", "the caller is not on hold")
        manager = self.router.manager
        await manager.send_action({"Action": "Setvar", "Channel": call["channel"], "Variable": "CC_AGENT_CHANNEL",
                                   "Value": call["agent_channel"]})
        reply = await manager.send_action({"Action": "Redirect", "Channel": call["channel"],
                                           "Context": dialplan.RESUME, "Exten": "s", "Priority": "1"})
        if reply.get("Response") != "Success":
            raise CommandError("RESUME_FAILED", reply.get("Message") or "Asterisk refused to resume")
        await self.store.put_call(uid, held="")
        return {"held": False}

    async def op_transfer(self, command: dict) -> dict:
        ext, uid, call = await self._own_call(command)
        skill, target = command.get("skill"), command.get("to_agent")
        now = self.router.clock()
        if target:
            target = _extension(target)
            if target == ext:
                raise CommandError("BAD_TARGET", "transfer to someone else")
            await self.store.put_call(uid, agent="", transferred="1")
            if await self.store.reserve(target, uid, now) != 1:
                await self.store.put_call(uid, agent=ext)
                raise CommandError("AGENT_NOT_READY", f"agent {target} is not ready")
            await self._release_old_agent(ext, uid, call, now)
            await self.router.connect(call["channel"], target, self.router.queue(call.get("skill") or GENERAL))
            return {"to_agent": target}
        if not isinstance(skill, str) or not SKILL.fullmatch(skill) or (
                skill not in self.router.queues and skill != GENERAL):
            raise CommandError("UNKNOWN_SKILL", f"no queue serves {skill!r}")
        manager = self.router.manager
        for name, value in (("CC_SKILL", skill), ("CC_TRANSFERRED", "1")):
            await manager.send_action({"Action": "Setvar", "Channel": call["channel"], "Variable": name,
                                       "Value": value})
        # a fresh wait: the call is new to its next queue, where being transferred puts it first
        await self.store.put_call(uid, agent="", skill=skill, transferred="1", queued_at=repr(now))
        reply = await manager.send_action({"Action": "Redirect", "Channel": call["channel"],
                                           "Context": dialplan.WAIT, "Exten": "s", "Priority": "1"})
        if reply.get("Response") != "Success":
            await self.store.put_call(uid, agent=ext, skill=call.get("skill", ""), transferred=call.get("transferred", ""))
            raise CommandError("TRANSFER_FAILED", reply.get("Message") or "Asterisk refused the transfer")
        await self._release_old_agent(ext, uid, call, now)
        return {"to_skill": skill}

    async def _release_old_agent(self, ext: str, uid: str, call: dict[str, str], now: float) -> None:
        await self.router.hang_up_agent_leg(uid, call)
        wrapup = self.router.queue(call.get("skill") or GENERAL).wrapup_s
        await self.store.set_wrapup_until(ext, now + wrapup)
        await self.store.transition(ext, "hangup", now, call=uid)


async def serve(redis, router) -> None:
    """Take commands one at a time for ever; each gets a reply, whatever happens."""
    handler = CommandHandler(router)
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
        try:
            result = {"ok": True, **await handler.handle(command)}
        except CommandError as exc:
            result = {"ok": False, "code": exc.code, "message": exc.message}
        except Exception as exc:  # noqa: BLE001 - the desktop must get an answer
            log.exception("command %s failed", command.get("op"))
            result = {"ok": False, "code": "ROUTER_ERROR", "message": str(exc)}
        if command_id:
            key = reply_key(command_id)
            await redis.rpush(key, json.dumps(result))
            await redis.expire(key, REPLY_TTL_S)
