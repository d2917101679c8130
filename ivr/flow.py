"""Voice-menu flows as data: loading a flow file (TOML) and rejecting a broken one at load time.

A flow has prompts (text per language) and nodes. Node types:

- ``menu``    play ``prompt``, wait for one key: ``choices`` key -> node; ``*`` repeats, ``#`` goes
              to ``back``; ``on_timeout`` (optional) makes silence an answer instead of a retry.
- ``input``   play ``prompt``, collect ``min_digits``..``max_digits`` digits (``#`` ends early) into
              ``slot``; ``secret`` masks them in the journey, ``masked`` shows only their first
              and last 4 (a card number); ``on_empty`` for a bare ``#``.
- ``service`` run a named service (database work, outside the engine); ``next`` outcome -> node.
- ``say``     play prompts, some made from values (``{amount = "slot"}``, ``{digits = ...}``,
              ``{date = ...}``, ``{number = ...}``, ``{prompt = "slot"}``), then ``next``.
- ``set``     set the caller's ``language``, then ``next``.
- ``handoff`` end the menu: to agents of ``skill``, with a ``reason``.
- ``hangup``  end the call after ``prompt``.

A node may say ``requires_password = true``: the engine sends an unverified caller through
the flow's ``password_node`` first and resumes there (target ``@resume``).

Load-time checks (``FlowError`` with every problem listed): unknown node types or keys,
dangling targets, nodes unreachable from ``start``, prompts without text in every language,
services unknown or with outcomes not handled.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("zh", "en")
RESUME = "@resume"
NODE_TYPES = {
    "menu": {"prompt", "choices", "back", "on_timeout", "timeout_s", "requires_password"},
    "input": {"prompt", "slot", "min_digits", "max_digits", "secret", "masked", "next", "on_empty", "timeout_s",
              "requires_password"},
    "service": {"service", "next", "requires_password"},
    "say": {"prompt", "next", "requires_password"},
    "set": {"language", "next"},
    "handoff": {"skill", "reason", "prompt"},
    "hangup": {"prompt", "reason"},
}
DYNAMIC_KINDS = {"amount", "digits", "date", "number", "prompt"}
SLOT = re.compile(r"^[a-z][a-z0-9_]*$")  # a leading "_" is the services' own (never keyed)
SKILL = re.compile(r"^[a-z_]{1,32}$")


class FlowError(ValueError):
    """A flow file is broken; the message lists every problem found."""


@dataclass(frozen=True)
class Node:
    name: str
    type: str
    spec: dict

    def get(self, key: str, default=None):
        return self.spec.get(key, default)

    @property
    def prompts(self) -> list:
        value = self.spec.get("prompt", [])
        return [value] if isinstance(value, (str, dict)) else list(value)

    def targets(self) -> list[str]:
        """Every node this node can lead to."""
        found = []
        if self.type == "menu":
            found += list(self.get("choices", {}).values())
            found += [self.get(k) for k in ("back", "on_timeout") if self.get(k)]
        elif self.type == "service":
            found += list(self.get("next", {}).values())
        else:
            found += [self.get(k) for k in ("next", "on_empty") if self.get(k)]
        return found


@dataclass(frozen=True)
class Flow:
    name: str
    start: str
    fail: str  # where a caller goes after max_retries of silence or wrong keys
    password_node: str | None
    max_retries: int
    input_timeout_s: float
    prompts: dict[str, dict[str, str]]  # name -> language -> text
    nodes: dict[str, Node] = field(default_factory=dict)
    entries: tuple[str, ...] = ()  # nodes other scripts start at (the agent's password check)


def load(path: Path, services: dict[str, tuple[str, ...]]) -> Flow:
    """Read and check a flow file. ``services`` maps each service name to its possible outcomes."""
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise FlowError(f"{path}: {exc}") from None
    return parse(data, services, source=str(path))


def parse(data: dict, services: dict[str, tuple[str, ...]], source: str = "flow") -> Flow:
    problems: list[str] = []
    head = data.get("flow", {})
    prompts = data.get("prompts", {})
    raw_nodes = data.get("nodes", {})
    nodes = {}
    for name, spec in raw_nodes.items():
        kind = spec.get("type")
        if kind not in NODE_TYPES:
            problems.append(f"node {name!r}: unknown type {kind!r}")
            continue
        unknown = set(spec) - NODE_TYPES[kind] - {"type"}
        if unknown:
            problems.append(f"node {name!r}: unknown key(s) {sorted(unknown)} for a {kind} node")
        nodes[name] = Node(name, kind, {k: v for k, v in spec.items() if k != "type"})

    flow = Flow(
        name=head.get("name", "?"), start=head.get("start", ""), fail=head.get("fail", ""),
        password_node=head.get("password_node"), max_retries=int(head.get("max_retries", 3)),
        input_timeout_s=float(head.get("input_timeout_s", 5)), prompts=prompts, nodes=nodes,
        entries=tuple(head.get("entries", ())),
    )
    problems += _check_prompts(flow)
    problems += _check_nodes(flow, services)
    problems += _check_reachability(flow)
    if problems:
        raise FlowError(f"{source}: " + "; ".join(problems))
    return flow


def _check_prompts(flow: Flow) -> list[str]:
    problems = []
    for name, texts in flow.prompts.items():
        for language in LANGUAGES:
            if not str(texts.get(language, "")).strip():
                problems.append(f"prompt {name!r} has no {language} text (no audio can be made)")
    for node in flow.nodes.values():
        for item in node.prompts:
            if isinstance(item, str):
                if item not in flow.prompts:
                    problems.append(f"node {node.name!r}: prompt {item!r} has no text (no audio)")
            elif not (isinstance(item, dict) and len(item) == 1 and set(item) <= DYNAMIC_KINDS
                      and SLOT.match(str(next(iter(item.values()))))):
                problems.append(f"node {node.name!r}: bad prompt item {item!r}")
    return problems


def _check_nodes(flow: Flow, services: dict[str, tuple[str, ...]]) -> list[str]:
    problems = []
    for root, what in ((flow.start, "start"), (flow.fail, "fail"), (flow.password_node, "password_node")):
        if (root or what != "password_node") and root not in flow.nodes:
            problems.append(f"flow {what} {root!r} is not a node")
    problems += [f"flow entry {entry!r} is not a node" for entry in flow.entries if entry not in flow.nodes]
    for node in flow.nodes.values():
        for target in node.targets():
            if target != RESUME and target not in flow.nodes:
                problems.append(f"node {node.name!r} leads to {target!r}, which does not exist")
        if node.get("requires_password") and not flow.password_node:
            problems.append(f"node {node.name!r} requires a password but the flow has no password_node")
        if node.type == "menu":
            for key in node.get("choices", {}):
                if key not in "0123456789" or len(key) != 1:
                    problems.append(f"node {node.name!r}: choice key {key!r} must be one digit 0-9 (* and # are built in)")
        if node.type == "input":
            lo, hi = node.get("min_digits", 1), node.get("max_digits", 0)
            if not (0 <= lo <= hi <= 32) or not SLOT.match(str(node.get("slot", ""))) or not node.get("next"):
                problems.append(f"node {node.name!r}: input needs slot, next and 0 <= min_digits <= max_digits <= 32")
        if node.type == "service":
            service = node.get("service")
            if service not in services:
                problems.append(f"node {node.name!r}: unknown service {service!r}")
            else:
                missing = set(services[service]) - set(node.get("next", {}))
                extra = set(node.get("next", {})) - set(services[service])
                if missing:
                    problems.append(f"node {node.name!r}: outcome(s) {sorted(missing)} of {service} not handled")
                if extra:
                    problems.append(f"node {node.name!r}: {service} has no outcome(s) {sorted(extra)}")
        if node.type in ("say", "set") and not node.get("next"):
            problems.append(f"node {node.name!r}: {node.type} needs next")
        if node.type == "set" and node.get("language") not in LANGUAGES:
            problems.append(f"node {node.name!r}: language must be one of {LANGUAGES}")
        if node.type == "handoff" and not SKILL.match(str(node.get("skill", ""))):
            problems.append(f"node {node.name!r}: handoff needs a skill of lower-case letters")
    return problems


def _check_reachability(flow: Flow) -> list[str]:
    seen: set[str] = set()
    todo = [flow.start, flow.fail, *flow.entries] + ([flow.password_node] if flow.password_node else [])
    while todo:
        name = todo.pop()
        if name in seen or name not in flow.nodes:
            continue
        seen.add(name)
        todo += flow.nodes[name].targets()
    return [f"node {name!r} is unreachable from start {flow.start!r}" for name in flow.nodes if name not in seen]
