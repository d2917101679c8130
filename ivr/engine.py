"""The flow engine: what happens after this key, with no I/O.

Input: the call's state and an event (keys or silence, a service outcome, a prompt played).
Output: the next instruction for the AGI adapter (ask, run a service, say, hand off, hang up)
and the journey entries the call made. The clock is passed in, so the same engine runs live,
in unit tests and in replays.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from callcenter.digits import is_digits
from callcenter.masking import mask_middle
from ivr.flow import RESUME, Flow, Node

MASK = "******"


@dataclass
class CallState:
    language: str = "zh"
    customer_id: int | None = None
    verified: bool = False
    vip_level: int = 0  # the identified customer's; a routing priority only once verified (priority)
    node: str = ""
    retries: int = 0
    resume: str | None = None
    slots: dict = field(default_factory=dict)
    path: list[str] = field(default_factory=list)
    journey: list["JourneyEntry"] = field(default_factory=list)
    handoff_reason: str = ""

    @property
    def priority(self) -> int:
        """The call's routing priority (acd: VIP first): the customer's VIP level, but only once
        this call's caller keyed the service password. A caller ID or a keyed service number
        names a customer without proving it is them, so alone it gives no priority (issue 15)."""
        return min(self.vip_level, 9) if self.verified else 0


@dataclass(frozen=True)
class JourneyEntry:
    at: datetime
    node: str
    input: str | None = None
    outcome: str | None = None


# ---- instructions for the adapter ----
@dataclass(frozen=True)
class Ask:
    node: str
    prompts: list  # prompt names and dynamic items, resolved by the adapter
    max_digits: int  # 1 for a menu
    timeout_s: float
    terminator: bool  # "#" ends the input
    secret: bool = False  # a password or PIN: the call's recording is muted while it is keyed


@dataclass(frozen=True)
class Run:
    node: str
    service: str


@dataclass(frozen=True)
class Say:
    node: str
    prompts: list


@dataclass(frozen=True)
class HandOff:
    node: str
    skill: str
    reason: str
    prompts: list


@dataclass(frozen=True)
class Hangup:
    node: str
    reason: str
    prompts: list


Instruction = Ask | Run | Say | HandOff | Hangup


DIRECT = "access_number"  # the step (and hand-off reason) of a number that goes straight to a skill


class Engine:
    def __init__(self, flow: Flow, clock: Callable[[], datetime]):
        self.flow = flow
        self.clock = clock

    # ---- entry points ----
    def start(self, state: CallState, entry: str | None = None) -> Instruction:
        """The flow from its start, or from the entry node the dialled access number names."""
        return self._enter(state, entry if entry in self.flow.nodes else self.flow.start)

    def direct(self, state: CallState, skill: str) -> HandOff:
        """An access number that goes straight to a skill's queue: no menu."""
        state.node, state.handoff_reason = DIRECT, DIRECT
        state.path.append(DIRECT)
        self._log(state, DIRECT, outcome=f"handoff skill={skill} reason={DIRECT}")
        return HandOff(DIRECT, skill, DIRECT, [])

    def on_keys(self, state: CallState, keys: str | None) -> Instruction:
        """Keys collected at an Ask (None: silence until the timeout)."""
        node = self.flow.nodes[state.node]
        if node.type == "menu":
            return self._menu_keys(state, node, keys)
        return self._input_keys(state, node, keys)

    def on_outcome(self, state: CallState, outcome: str, data: dict | None = None) -> Instruction:
        node = self.flow.nodes[state.node]
        state.slots.update(data or {})
        self._log(state, node.name, outcome=outcome)
        return self._enter(state, node.get("next")[outcome])

    def on_said(self, state: CallState) -> Instruction:
        return self._enter(state, self.flow.nodes[state.node].get("next"))

    # ---- transitions ----
    def _enter(self, state: CallState, name: str, retry: bool = False) -> Instruction:
        if name == RESUME:  # only the password node's success leads here
            state.verified = True
            name, state.resume = state.resume or self.flow.start, None
        node = self.flow.nodes[name]
        if node.get("requires_password") and not state.verified:
            state.resume = name
            name, node = self.flow.password_node, self.flow.nodes[self.flow.password_node]
        if not retry:
            state.retries = 0
        state.node = name
        state.path.append(name)
        if node.type == "set":
            state.language = node.get("language")
            self._log(state, name, outcome=f"language={state.language}")
            return self._enter(state, node.get("next"))
        if node.type == "menu":
            timeout = float(node.get("timeout_s", self.flow.input_timeout_s))
            return Ask(name, node.prompts, 1, timeout, terminator=False)
        if node.type == "input":
            timeout = float(node.get("timeout_s", self.flow.input_timeout_s))
            return Ask(name, node.prompts, int(node.get("max_digits")), timeout, terminator=True,
                       secret=bool(node.get("secret")))
        if node.type == "service":
            return Run(name, node.get("service"))
        if node.type == "say":
            self._log(state, name)
            return Say(name, node.prompts)
        if node.type == "handoff":
            state.handoff_reason = state.handoff_reason or node.get("reason", name)
            self._log(state, name, outcome=f"handoff skill={node.get('skill')} reason={state.handoff_reason}")
            return HandOff(name, node.get("skill"), state.handoff_reason, node.prompts)
        self._log(state, name, outcome=f"hangup {node.get('reason', '')}".strip())
        return Hangup(name, node.get("reason", name), node.prompts)

    def _menu_keys(self, state: CallState, node: Node, keys: str | None) -> Instruction:
        key = (keys or "")[:1]
        self._log(state, node.name, input=key or None, outcome=None if key else "timeout")
        if key == "*":
            return self._enter(state, node.name, retry=True)  # repeat, not counted as a mistake
        if key == "#" and node.get("back"):
            return self._enter(state, node.get("back"))
        if key and key in node.get("choices", {}):
            return self._enter(state, node.get("choices")[key])
        if not key and node.get("on_timeout"):
            return self._enter(state, node.get("on_timeout"))
        return self._retry(state, node, "no input" if not key else "invalid key")

    def _input_keys(self, state: CallState, node: Node, keys: str | None) -> Instruction:
        secret = bool(node.get("secret"))
        raw = keys or ""
        shown = MASK if (secret and raw) else mask_middle(raw) if node.get("masked") else raw
        shown = shown or None
        if keys is None or (raw == "" and not node.get("on_empty")):
            self._log(state, node.name, input=shown, outcome="timeout" if keys is None else "empty")
            return self._retry(state, node, "no input")
        if raw == "":
            self._log(state, node.name, input=None, outcome="empty")
            return self._enter(state, node.get("on_empty"))
        lo, hi = int(node.get("min_digits", 1)), int(node.get("max_digits"))
        if not is_digits(raw, lo, hi):  # isdigit alone takes '٣', '²'
            self._log(state, node.name, input=shown, outcome="invalid")
            return self._retry(state, node, "invalid input")
        state.slots[node.get("slot")] = raw
        self._log(state, node.name, input=shown, outcome="ok")
        return self._enter(state, node.get("next"))

    def _retry(self, state: CallState, node: Node, why: str) -> Instruction:
        state.retries += 1
        if state.retries >= self.flow.max_retries:
            state.handoff_reason = f"{why} x{self.flow.max_retries} at {node.name}".replace(" ", "_")
            return self._enter(state, self.flow.fail)
        return self._enter(state, node.name, retry=True)

    def _log(self, state: CallState, node: str, input: str | None = None, outcome: str | None = None) -> None:
        state.journey.append(JourneyEntry(self.clock(), node, input, outcome))
