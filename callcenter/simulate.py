"""Simulated callers and agent phones inside the real Asterisk, for the demo and the tests.

A caller is ``Local/<access number>@hotline/n``: its far half runs the real hotline dialplan, its
near half runs ``sim-caller``, which keys in a DTMF script and hangs up after a while. An agent
phone is a ``SIMPHONE_<ext>`` global read by the ``sim-phone`` context: it rings, answers after a
chosen delay (or never) and talks for a while. Every value is checked before it reaches AMI: a
newline in an AMI header would start a new header.
"""
from __future__ import annotations

import asyncio
import base64
import re
import uuid

from panoramisk import Manager

from acd.protocol import is_extension
from callcenter import dialplan
from callcenter.ami import originate_variables
from callcenter.config import Settings

DIGITS = re.compile(r"^[0-9]{1,20}\Z")  # \Z, not $: $ also matches before a final line feed
DTMF_SCRIPT = re.compile(r"^[0-9*#wW]{0,200}\Z")
_NAME_FORBIDDEN = re.compile(r'[\x00-\x1f\x7f"<>\\]')


class SimulationInputError(ValueError):
    pass


def caller_id(number: str, name: str = "") -> str:
    if not DIGITS.match(number):
        raise SimulationInputError(f"caller number must be 1-20 digits, got {number!r}")
    if _NAME_FORBIDDEN.search(name) or len(name) > 40:
        raise SimulationInputError(f"caller name may not hold quotes, <, >, backslashes or control characters: {name!r}")
    return f'"{name}" <{number}>' if name else f"<{number}>"


def originate_caller_action(access_number: str, caller: str, name: str = "", dtmf: str = "",
                            wait_s: float = 1.0, hold_s: float = 30.0, any_name: str | None = None,
                            tone_hz: int | None = None) -> dict:
    """The AMI Originate for one simulated caller (pure: easy to test).

    ``any_name`` is a caller ID name with no restriction (quotes, newlines, ``$(...)``); it
    travels base64-encoded and the sim-hostile-name context sets it, so nothing raw crosses AMI.
    """
    if not DIGITS.match(access_number):
        raise SimulationInputError(f"access number must be digits, got {access_number!r}")
    if not DTMF_SCRIPT.match(dtmf):
        raise SimulationInputError(f"DTMF script may hold 0-9 * # and w only, got {dtmf!r}")
    if not (0 <= wait_s <= 60 and 0 < hold_s <= 3600):
        raise SimulationInputError("wait must be 0-60 s and hold 1-3600 s")
    variables = {"SIM_WAIT": f"{wait_s:g}", "SIM_HOLD": f"{hold_s:g}"} | ({"SIM_DTMF": dtmf} if dtmf else {})
    if tone_hz is not None:  # after its keys the caller sends this tone and records what it hears
        variables["SIM_TONE"] = str(_tone(tone_hz))
    entry = dialplan.HOTLINE
    if any_name is not None:
        variables["__SIM_NAME_B64"] = base64.b64encode(any_name.encode()).decode()
        entry = dialplan.SIM_HOSTILE_NAME
    return {
        "Action": "Originate",
        "Channel": f"Local/{access_number}@{entry}/n",
        "Context": dialplan.SIM_CALLER,
        "Exten": "s",
        "Priority": "1",
        "CallerID": caller_id(caller, name),
        "Variable": originate_variables(variables),
        "ChannelId": uuid.uuid4().hex[:24],  # the near half; the hotline half is <ChannelId>;2
        "Async": "true",
        "Timeout": "30000",
    }


async def place_call(manager: Manager, access_number: str, caller: str, name: str = "", dtmf: str = "",
                     wait_s: float = 1.0, hold_s: float = 30.0, any_name: str | None = None,
                     tone_hz: int | None = None) -> str:
    """Place a simulated call; return the uniqueid of the channel that runs the hotline dialplan."""
    action = originate_caller_action(access_number, caller, name, dtmf, wait_s, hold_s, any_name, tone_hz)
    action["OtherChannelId"] = action["ChannelId"] + "-2"
    reply = await manager.send_action(action)
    first = reply[0] if isinstance(reply, list) else reply
    if first.get("Response") != "Success":
        raise RuntimeError(f"Originate refused: {first.get('Message')}")
    return action["OtherChannelId"]


def _tone(hz) -> int:
    if isinstance(hz, bool) or not isinstance(hz, int) or not 100 <= hz <= 3400:
        raise SimulationInputError(f"a tone is 100-3400 Hz, got {hz!r}")
    return hz


async def set_sim_phone(manager: Manager, extension: str, answer_after: float | None, talk_s: float = 10,
                        tone_hz: int | None = None) -> None:
    """Make agent extension ring a simulated phone: answer after N s, or never (None). tone_hz: once
    answered it sends that tone and records what it hears (sim-phone in extensions.conf)."""
    if not is_extension(extension):
        raise SimulationInputError(f"agent extension must be 1XXX, got {extension!r}")
    value = "never:0" if answer_after is None else f"{float(answer_after):g}:{float(talk_s):g}"
    if tone_hz is not None and answer_after is not None:
        value += f":{_tone(tone_hz)}"
    await manager.send_action({"Action": "Setvar", "Variable": dialplan.simphone_variable(extension),
                               "Value": value})


def place_call_sync(settings: Settings, access_number: str, caller: str, name: str = "", dtmf: str = "",
                    hold_s: float = 30.0) -> str:
    from callcenter.ami import connect

    async def run() -> str:
        manager = await connect(settings)
        try:
            return await place_call(manager, access_number, caller, name, dtmf, hold_s=hold_s)
        finally:
            manager.close()

    return asyncio.run(run())
