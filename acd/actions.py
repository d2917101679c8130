"""Every AMI verb the call center uses, by name. Only AMI: no rules, no Redis.

The manager (acd/manager.py) and the router decide; this module says how each decision is
written to Asterisk. Variable and context names come from callcenter/dialplan.py only, and every
value sent is either ours (an extension checked as 1XXX, a skill checked as [a-z_], a uniqueid
Asterisk gave us, a number of digits) or refused here: a comma or a line break in an AMI value
would start another header or another Originate variable.
"""
from __future__ import annotations

import asyncio
import re
from typing import Awaitable, Callable

from acd.protocol import AcdError, is_extension, is_skill
from callcenter import dialplan as dp
from callcenter.ami import originate_variables
from callcenter.callback_rules import CallbackRules


def _safe(value: str) -> str:
    """A value we put in an AMI header: no control characters, no commas (Originate's Variable
    splits on them)."""
    text = str(value)
    if any(ch in text for ch in ",\r\n\0") or not text.isprintable():
        raise ValueError(f"refused AMI value {text!r}")
    return text


# A channel name as Asterisk gives it (Local/1701@cc-agent-phones-0000002a;1, PJSIP/1701-00000003):
# what ChanSpy is pointed at; never a name a client sent, and never one with a comma (the next
# argument) or a character that is not in Asterisk's own names.
CHANNEL_NAME = re.compile(r"(?:Local|PJSIP)/[A-Za-z0-9@._-]{1,100}(?:;[12])?")
SPY_OPTIONS = re.compile(r"[A-Za-z]{1,10}")


def _ok(reply) -> bool:
    replies = reply if isinstance(reply, list) else [reply]
    return any(r.get("Response") == "Success" for r in replies)


class Actions:
    def __init__(self, ami, callback_rules: Callable[[], CallbackRules] = CallbackRules):
        self.ami = ami  # a panoramisk Manager (or a fake with send_action)
        self.callback_rules = callback_rules  # the dial plan for call backs, as it is now

    async def _send(self, **headers):
        return await self.ami.send_action({k: _safe(v) for k, v in headers.items()})

    # ---- this session ----
    async def limit_events(self, classes: str) -> None:
        """Only these event classes on this AMI session from now on (Asterisk's Events action,
        which needs no privilege): fewer events to read is less time before the ones that matter."""
        if not all(part.isascii() and part.isalpha() for part in classes.split(",")):
            raise ValueError(f"refused event classes {classes!r}")
        await self.ami.send_action({"Action": "Events", "EventMask": classes})

    # ---- reading ----
    async def get_var(self, channel: str, name: str) -> str:
        reply = await self._send(Action="Getvar", Channel=channel, Variable=dp.bare(name))
        return (reply.get("Value") or "") if reply.get("Response") == "Success" else ""

    async def bridge_peer(self, channel: str, tries: int = 20, every_s: float = 0.1) -> str:
        """The channel bridged to `channel`, or "" when it is not bridged. The agent's answer is
        announced (AgentAnswered, from Dial's answer gosub) just before Dial forms the bridge, so
        a command sent at once may find no peer yet: ask again for up to tries x every_s (2 s)
        while the channel is still up, rather than refuse the agent's first click."""
        for attempt in range(tries):
            reply = await self._send(Action="Getvar", Channel=channel, Variable=dp.bare(dp.BRIDGEPEER))
            if reply.get("Response") != "Success":
                return ""  # the channel is gone: nothing will bridge
            if reply.get("Value"):
                return reply["Value"]
            if attempt + 1 < tries:
                await asyncio.sleep(every_s)
        return ""

    async def waiting_channels(self) -> dict[str, str]:
        """uniqueid -> channel of every caller waiting in cc-wait now."""
        replies = await self.ami.send_action({"Action": "CoreShowChannels"}, as_list=True)
        return {r["Uniqueid"]: r["Channel"] for r in replies
                if r.get("Event") == "CoreShowChannel" and r.get("Context") == dp.WAIT}

    async def live_calls(self) -> set[str]:
        """Every uniqueid and linkedid Asterisk has now, "ext:<agent>" for each agent whose phone
        has a Local leg up (what still holds an agent to a call), and "bridged:<uniqueid>" for each
        channel in a bridge (a caller whose agent answered)."""
        replies = await self.ami.send_action({"Action": "CoreShowChannels"}, as_list=True)
        live: set[str] = set()
        for r in replies:
            if r.get("Event") != "CoreShowChannel":
                continue
            live.update(filter(None, (r.get("Uniqueid"), r.get("Linkedid"))))
            if r.get("BridgeId") and r.get("Uniqueid"):
                live.add("bridged:" + r["Uniqueid"])
            name = r.get("Channel", "")
            if name.startswith("Local/") and "@" in name:
                live.add("ext:" + name[len("Local/"):name.index("@")])
        return live

    # ---- moving callers ----
    async def connect_to_agent(self, channel: str, ext: str, ring_time_s: int) -> None:
        """Ring the agent for the waiting caller: cc-connect dials CC_AGENT_EXT."""
        await self.start_connect(channel, ext, ring_time_s)

    def start_connect(self, channel: str, ext: str, ring_time_s: int) -> Awaitable[None]:
        """connect_to_agent in two steps: the actions are written now, and the awaitable returned
        raises if Asterisk refused the redirect. Written back to back on our one AMI session, which
        Asterisk runs in order: the variables are set before the redirect, for one round trip."""
        if not is_extension(ext):
            raise AcdError("BAD_EXTENSION")
        sent = [self.ami.send_action({"Action": "Setvar", "Channel": _safe(channel), "Variable": name, "Value": _safe(value)})
                for name, value in ((dp.AGENT_EXT, ext), (dp.RING_TIME, str(int(ring_time_s))))]
        sent.append(self.ami.send_action({"Action": "Redirect", "Channel": _safe(channel), "Context": dp.CONNECT,
                                          "Exten": "s", "Priority": "1"}))

        async def answered() -> None:
            *_, reply = await asyncio.gather(*sent)
            if reply.get("Response") != "Success":
                raise RuntimeError(reply.get("Message") or "Asterisk refused the redirect")
        return answered()

    async def requeue(self, channel: str, skill: str, transferred: bool = True) -> bool:
        """Send a connected caller back to wait for another skill (a transfer to a queue)."""
        if not is_skill(skill):
            raise AcdError("UNKNOWN_SKILL")
        for name, value in ((dp.SKILL, skill), (dp.TRANSFERRED, "1" if transferred else "")):
            await self._send(Action="Setvar", Channel=channel, Variable=dp.bare(name), Value=value)
        return _ok(await self._send(Action="Redirect", Channel=channel, Context=dp.WAIT, Exten="s", Priority="1"))

    async def hold(self, channel: str, call_id: str) -> str:
        """Caller to music, agent's leg parked; the agent leg's channel name (for resume)."""
        return await self._park_agent_and_move_caller(channel, call_id, dp.HOLD, "HOLD_FAILED")

    async def verify(self, channel: str, call_id: str) -> str:
        """Caller to the menu's password check (cc-verify), agent's leg parked as for hold; the
        agent leg's channel name (cc-resume bridges back to it when the check ends)."""
        return await self._park_agent_and_move_caller(channel, call_id, dp.VERIFY, "VERIFY_FAILED",
                                                      caller_comes_back=True)

    async def _park_agent_and_move_caller(self, channel: str, call_id: str, context: str, refused: str,
                                          caller_comes_back: bool = False) -> str:
        """The agent's leg to cc-agent-hold and the caller to `context`, in one Redirect; the
        agent leg's channel name. caller_comes_back: the caller's dialplan bridges back to the
        agent by itself (cc-resume reads CC_AGENT_CHANNEL), so it is set on the caller first."""
        peer = await self.bridge_peer(channel)
        if not peer:
            raise AcdError("NOT_CONNECTED")
        await self._send(Action="Setvar", Channel=peer, Variable=dp.HELD_CALL, Value=call_id)
        if caller_comes_back:
            await self._send(Action="Setvar", Channel=channel, Variable=dp.AGENT_CHANNEL, Value=peer)
        reply = await self._send(Action="Redirect", Channel=channel, Context=context, Exten="s", Priority="1",
                                 ExtraChannel=peer, ExtraContext=dp.AGENT_HOLD, ExtraExten="s", ExtraPriority="1")
        if reply.get("Response") != "Success":
            raise AcdError(refused, reply.get("Message") or None)
        return peer

    async def resume(self, channel: str, agent_channel: str) -> None:
        await self._send(Action="Setvar", Channel=channel, Variable=dp.AGENT_CHANNEL, Value=agent_channel)
        reply = await self._send(Action="Redirect", Channel=channel, Context=dp.RESUME, Exten="s", Priority="1")
        if reply.get("Response") != "Success":
            raise AcdError("RESUME_FAILED", reply.get("Message") or None)

    # ---- recordings ----
    async def mute_recording(self, channel: str, muted: bool) -> bool:
        """Mute (or unmute) both directions of the channel's MixMonitor recording, while a secret
        is keyed (ivr/recording_mute.py); True when Asterisk accepted. Its MixMonitorMute event
        confirms it."""
        return _ok(await self._send(Action="MixMonitorMute", Channel=channel, Direction="both",
                                    State="1" if muted else "0"))

    # ---- ending ----
    async def hang_up(self, channel: str) -> None:
        await self._send(Action="Hangup", Channel=channel)

    async def hang_up_as_agent(self, channel: str) -> None:
        """End a connected call from the agent's side: the call record says the agent ended it, and
        the caller goes on to cc-survey (the post-call survey, if offered, then the hang-up), as when
        the agent hangs up their phone; the agent's leg ends as the caller leaves it. A caller the
        redirect cannot move (gone meanwhile) is hung up."""
        await self._send(Action="Setvar", Channel=channel, Variable=dp.END, Value="agent")
        if not _ok(await self._send(Action="Redirect", Channel=channel, Context=dp.SURVEY, Exten="s", Priority="1")):
            await self.hang_up(channel)

    # ---- calling out ----
    async def originate_callback(self, call_id: str, ext: str, number: str, ring_time_s: int) -> bool:
        """Ring the agent first; when they answer, cc-callback-dial dials the customer."""
        if not is_extension(ext):
            raise AcdError("BAD_EXTENSION")
        if not (number.isascii() and number.isdigit() and len(number) <= 20):
            raise ValueError(f"a call back dials digits only, not {number!r}")
        refused = self.callback_rules().dialable(number)
        if refused:  # checked when the request was taken; checked again against the rules as they are now
            raise AcdError("CALLBACK_REFUSED", f"call back to {number} refused: {refused}")
        # the call's id is Asterisk's uniqueid or a request's (callback-request-<id>, or a call's
        # id from the database): whatever it holds, no comma in it sets another variable
        variables = originate_variables({dp.CALL_ID: call_id, dp.AGENT: ext, dp.CALLBACK_NUMBER: number})
        reply = await self.ami.send_action({
            "Action": "Originate", "Channel": f"Local/{ext}@{dp.AGENT_PHONES}/n",
            "Context": dp.CALLBACK_DIAL, "Exten": "s", "Priority": "1", "CallerID": f"<{number}>",
            "Timeout": str(int(ring_time_s) * 1000), "Async": "true", "Variable": variables})
        replies = reply if isinstance(reply, list) else [reply]
        return any(r.get("Event") == "OriginateResponse" and r.get("Response") == "Success" for r in replies)

    # ---- live monitoring (acd/monitor.py decides; acd/monitoring.py keeps the session) ----
    def start_spy(self, monitor_id: str, listener_ext: str, spied_channel: str, options: str,
                  ring_time_s: int) -> Awaitable[bool]:
        """Ring the monitor's phone; when they answer, ChanSpy on `spied_channel` with `options`.

        The Originate is written now; the awaitable returned resolves when Asterisk says how it
        went (True: answered), up to the ring time later, so the caller need not wait for it. The
        monitor's leg gets the uniqueid `monitor_id` (ChannelId), by which it is found again."""
        if not is_extension(listener_ext):
            raise AcdError("BAD_EXTENSION")
        if not CHANNEL_NAME.fullmatch(spied_channel) or not SPY_OPTIONS.fullmatch(options):
            raise ValueError(f"refused ChanSpy target {spied_channel!r} / options {options!r}")
        sent = self.ami.send_action({
            "Action": "Originate", "Channel": f"Local/{listener_ext}@{dp.AGENT_PHONES}/n",
            "Application": "ChanSpy", "Data": f"{spied_channel},{options}",  # the one comma is ours
            "ChannelId": _safe(monitor_id), "OtherChannelId": _safe(monitor_id + "-2"),
            "CallerID": f"<{listener_ext}>", "Timeout": str(int(ring_time_s) * 1000), "Async": "true"})

        async def answered() -> bool:
            reply = await sent
            replies = reply if isinstance(reply, list) else [reply]
            return any(r.get("Event") == "OriginateResponse" and r.get("Response") == "Success" for r in replies)
        return answered()

    async def channel_named(self, uniqueid: str) -> str:
        """The live channel with this uniqueid ("" when there is none)."""
        replies = await self.ami.send_action({"Action": "CoreShowChannels"}, as_list=True)
        return next((r["Channel"] for r in replies
                     if r.get("Event") == "CoreShowChannel" and r.get("Uniqueid") == uniqueid), "")

    async def spy_key(self, spy_channel: str, digit: str) -> bool:
        """A DTMF digit received on the monitor's spying leg, as if keyed on their phone: ChanSpy's
        d option reads it as a mode switch."""
        if digit not in "0123456789" or len(digit) != 1:
            raise ValueError(f"refused DTMF digit {digit!r}")
        # Async: false for panoramisk, not Asterisk (which ignores it): PlayDTMF answers "DTMF
        # successfully queued", and panoramisk reads a reply ending so as an Originate's unless the
        # action says Async false; without it, it looks the header up, fails, and drops the session
        return _ok(await self._send(Action="PlayDTMF", Channel=spy_channel, Digit=digit, Duration="120",
                                    Receive="true", Async="false"))
