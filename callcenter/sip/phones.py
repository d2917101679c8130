"""Where each agent's calls ring, and never into a phone that is not there.

An agent chooses, at their seat, between their desk phone (or any SIP softphone registered with
their credentials: endpoint ``<ext>``) and the desktop's own softphone (WebRTC: endpoint
``web<ext>``). The choice is live state, in Redis beside the agent's state:

    cc:phone:<ext>   hash  device ("sip" | "webrtc"), since
    cc:phones        set   extensions that chose
    cc:phone-changes pub/sub: an extension whose choice changed

The dialplan learns it from a global, ``CC_PHONE_<ext>``, which ``cc-agent-sip`` only compares
(asterisk_conf/extensions.conf); the watcher here sets it. A real phone chosen replaces a
simulated one (the demo's SIMPHONE_<ext> is cleared), so a person can take agent1's calls.

Never a ring into nothing, at three moments:
- the chosen phone's device state becomes UNAVAILABLE (it unregistered, or stopped answering
  OPTIONS): a ready agent becomes Not ready, reason ``phone_unregistered``;
- an agent becomes ready while their chosen phone is UNAVAILABLE: the same, at once;
- between the two (milliseconds), a call reaching cc-agent-sip finds the phone UNAVAILABLE and
  ends with cause 20; the router reads CHANUNAVAIL and does the same (acd/router.py).
Agents who never chose (tests' and the demo's simulated phones) are left alone here; the
dialplan's check still protects them.

``verdict`` is the decision, pure; ``PhoneWatch`` wires it to AMI events and Redis.
"""
from __future__ import annotations

import logging
import time

from acd import agent_state as st
from acd import protocol as p
from callcenter import dialplan
from callcenter.sip import names

log = logging.getLogger("callcenter.sip.phones")

PHONES = "cc:phones"
PHONE_CHANGES = "cc:phone-changes"
CONFIG_CHANGED = "cc:sip-config"  # pub/sub: carriers, numbers or phones changed in the database
APPLIED = "cc:sip-applied"  # hash: the last apply (version, ok, message, at)
VERSION = "cc:sip-version"  # counter: each change announced gets the next number

#: device states of a PJSIP endpoint that cannot ring (no contact, unreachable, no such endpoint)
UNUSABLE = frozenset({"UNAVAILABLE", "INVALID"})


def phone_key(ext: str) -> str:
    return f"cc:phone:{ext}"


# ---------------------------------------------------------------- the decision (pure)
def verdict(agent_state: str, device_state: str | None) -> bool:
    """True: make the agent Not ready (phone_unregistered). Only a ready agent is taken off: one
    on a call or in wrap-up is caught when they become ready again, one Not ready already keeps
    their own reason. An unknown device state (not heard yet) is no reason."""
    return agent_state == st.READY and device_state in UNUSABLE


def endpoint_of(device: str) -> tuple[str, str] | None:
    """(extension, device) for an AMI device name "PJSIP/1001" or "PJSIP/web1001", else None."""
    if not device.startswith("PJSIP/"):
        return None
    return names.endpoint_extension(device[len("PJSIP/"):])


# ---------------------------------------------------------------- the choice (sync Redis: the desktop, the CLI)
def choose(redis, ext: str, device: str, now: float | None = None) -> None:
    ext, device = names.extension(ext), names.device(device)
    redis.hset(phone_key(ext), mapping={"device": device, "since": repr(now or time.time())})
    redis.sadd(PHONES, ext)
    redis.publish(PHONE_CHANGES, ext)


def chosen(redis, ext: str) -> str | None:
    value = redis.hget(phone_key(ext), "device")
    device = p.as_text(value) if value is not None else None
    return device if device in names.DEVICES else None


# ---------------------------------------------------------------- the watcher (async: the sip service)
class PhoneWatch:
    """Device states from AMI, choices and agent changes from Redis, decisions by `verdict`."""

    def __init__(self, redis, ami, manager):
        self.redis = redis  # redis.asyncio
        self.ami = ami  # a panoramisk Manager as our services' user (Setvar, DeviceStateList)
        self.manager = manager  # acd.manager.AgentManager: the one place agent states change
        self.states: dict[str, str] = {}  # endpoint -> device state

    async def device(self, ext: str) -> str | None:
        value = await self.redis.hget(phone_key(ext), "device")
        device = p.as_text(value) if value is not None else None
        return device if device in names.DEVICES else None

    def state_of(self, ext: str, device: str) -> str | None:
        return self.states.get(names.phone_endpoint(ext, device))

    async def check(self, ext: str, agent_state: str | None = None) -> bool:
        """Take a ready agent whose chosen phone cannot ring off; True if it did."""
        device = await self.device(ext)
        if device is None:
            return False
        if agent_state is None:
            agent_state = (await self.manager.store.agent(ext)).state
        if not verdict(agent_state, self.state_of(ext, device)):
            return False
        if await self.manager.phone_lost(ext) is None:
            return False
        log.warning("agent %s: their %s phone is %s: not ready (phone_unregistered)", ext, device,
                    self.state_of(ext, device))
        return True

    # ---- inputs
    async def on_device_state(self, device: str, state: str) -> None:
        found = endpoint_of(device)
        if found is None:
            return
        ext, dev = found
        self.states[names.phone_endpoint(ext, dev)] = state.strip().upper()
        if await self.device(ext) == dev:
            await self.check(ext)

    async def on_agent_change(self, change: p.AgentChange) -> None:
        if change.state == st.READY:
            await self.check(change.ext, change.state)

    async def on_choice(self, ext: str) -> None:
        """Tell the dialplan where this agent's calls ring now, then check that phone."""
        if not names.EXTENSION.fullmatch(ext):
            return
        device = await self.device(ext)
        if device is None:
            return
        await self._setvar(dialplan.phone_variable(ext), device)
        await self._setvar(dialplan.simphone_variable(ext), "")  # a real phone replaces a simulated one
        log.info("agent %s: calls ring on the %s phone", ext, device)
        await self.check(ext)

    async def sync(self) -> None:
        """After an AMI login: every device state now, and every choice told to the dialplan again
        (Asterisk's globals are gone after a restart)."""
        replies = await self.ami.send_action({"Action": "DeviceStateList"}, as_list=True)
        for reply in replies:
            if reply.get("Event") == "DeviceStateChange" and endpoint_of(p.as_text(reply.get("Device"))):
                self.states[p.as_text(reply["Device"])[len("PJSIP/"):]] = p.as_text(reply.get("State")).upper()
        for ext in sorted(p.as_text(e) for e in await self.redis.smembers(PHONES)):
            await self.on_choice(ext)

    async def _setvar(self, name: str, value: str) -> None:
        reply = await self.ami.send_action({"Action": "Setvar", "Variable": name, "Value": value})
        if reply.get("Response") != "Success":
            raise RuntimeError(f"Asterisk refused to set {name}: {reply.get('Message')}")
