"""Every code a person can meet on the desktop has words in both languages.

The codes are read from their sources, not listed here, so a new state, reason, end reason,
error, order type, priority, status, disposition, menu node or outcome without words fails this
test: agent states and reasons (acd.agent_state), end reasons (cdr.end_reason), error codes
(acd.protocol.ERRORS, the desktop's own ApiError/fail codes, werkzeug's), work orders
(callcenter.work_orders, callcenter.orders.lifecycle), dispositions (agent_desktop.views), roles
and languages (callcenter.models), queues (the demo's and the flow's), and the voice menu
(ivr/flows/hotline.toml through ivr.flow, plus what ivr.engine and ivr.runner write as outcomes).

The last tests run the page's own word builder (agent_desktop/static/words.js) in Node over every
journey step the flow can record and every end reason: no step may fall back to a raw code.
"""
from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from acd import agent_state
from acd.core import GENERAL
from acd.protocol import ERRORS
from agent_desktop import errors, wallboard
from agent_desktop.i18n import STRINGS, strings
from agent_desktop.views import DISPOSITIONS
from callcenter import demo_data
from callcenter.models import LANGUAGES, ROLES
from callcenter.orders import lifecycle
from callcenter.work_orders import CATEGORIES, PRIORITIES
from cdr.end_reason import EndDetail, EndReason
from ivr import flow as flows
from ivr.service import HOTLINE_FLOW
from ivr.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]
WORDS_JS = ROOT / "agent_desktop" / "static" / "words.js"


def hotline() -> flows.Flow:
    return flows.load(HOTLINE_FLOW, SERVICES)


def literal_args(path: Path, call_names: set[str], keyword: str | None = None, position: int | None = None) -> set[str]:
    """String constants passed to the named calls (as a keyword, or at a position) in one file."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in call_names:
            continue
        values = [k.value for k in node.keywords if k.arg == keyword] if keyword else []
        if position is not None and len(node.args) > position:
            values.append(node.args[position])
        for value in values:
            found |= constants(value)
    return found


def constants(expr: ast.expr) -> set[str]:
    """A literal string, or the literals a conditional chooses between; an f-string is no code
    (the structured outcomes, "handoff skill=... reason=...", are worded as a whole)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str) and expr.value:
        return {expr.value}
    if isinstance(expr, ast.IfExp):
        return constants(expr.body) | constants(expr.orelse)
    if isinstance(expr, ast.BoolOp):
        return set().union(*(constants(v) for v in expr.values))
    return set()


def engine_outcomes() -> set[str]:
    """What the engine and the runner write as a step's outcome, besides a service's outcome."""
    ivr = ROOT / "ivr"
    return (literal_args(ivr / "engine.py", {"_log"}, keyword="outcome")
            | literal_args(ivr / "runner.py", {"JourneyEntry"}, position=3))


def retry_causes() -> set[str]:
    """Why the engine gave up on a node (its handoff reason is '<cause>_x<N>_at_<node>')."""
    return literal_args(ROOT / "ivr" / "engine.py", {"_retry"}, position=2)


def desktop_error_codes() -> set[str]:
    codes = set()
    for path in (ROOT / "agent_desktop").glob("*.py"):
        codes |= literal_args(path, {"ApiError", "fail", "error_response", "error_page"}, position=0)
    return {c for c in codes if re.fullmatch(r"[A-Z_]+", c)}


def required_keys() -> dict[str, set[str]]:
    flow = hotline()
    nodes = flow.nodes.values()
    return {
        "state": set(agent_state.STATES),
        "reason": set(agent_state.NOT_READY_REASONS),
        "end": {r.value for r in EndReason},
        "end_detail": {d.value for d in EndDetail},
        "error": set(ERRORS) | set(errors.HTTP_CODES.values()) | desktop_error_codes(),
        "category": set(CATEGORIES),
        "priority": set(PRIORITIES),
        "order_status": set(lifecycle.STATUSES) | {"open"},  # "open": orders made before the lifecycle
        "disposition": set(DISPOSITIONS),
        "role": set(ROLES),
        "lang": set(LANGUAGES),
        "skill": ({GENERAL} | {q[0] for q in demo_data.QUEUES}
                  | {n.get("skill") for n in nodes if n.type == "handoff"}),
        "node": set(flow.nodes) | {"start"},  # the runner's step for a caller who hung up before a node
        "outcome": ({o for n in nodes if n.type == "service" for o in n.get("next", {})}
                    | {o.replace(" ", "_") for o in engine_outcomes()}),
        "handoff": {n.get("reason") for n in nodes if n.type == "handoff" and n.get("reason")},
        "retry": {c.replace(" ", "_") for c in retry_causes()},
        "hangup": {n.get("reason") for n in nodes if n.type == "hangup" and n.get("reason")},
        "alert": set(wallboard.ALERT_CODES),
    }


KINDS = ("state", "reason", "end", "end_detail", "error", "category", "priority", "order_status", "disposition",
         "role", "lang", "skill", "node", "outcome", "handoff", "retry", "hangup", "alert")


def test_kinds_cover_every_enumeration():
    assert set(KINDS) == set(required_keys())


@pytest.mark.parametrize("kind", KINDS)
def test_every_code_of_each_kind_has_words_in_both_languages(kind):
    missing = sorted(f"{kind}.{code}" for code in required_keys()[kind]
                     if not all(STRINGS.get(f"{kind}.{code}", {}).get(lang, "").strip() for lang in LANGUAGES))
    assert missing == [], f"add words for these to agent_desktop/i18n.py: {missing}"


def test_the_sources_are_read_for_real():
    """A guard on the guard: the enumerations above find what the flow and engine really hold."""
    keys = required_keys()
    assert {"main_menu", "to_agent", "verify_password"} <= keys["node"]
    assert {"known", "wrong", "timeout", "caller_hung_up", "ok"} <= keys["outcome"]
    assert {"no_input", "invalid_key"} <= keys["retry"]
    assert {"caller_asked", "menu_failed"} <= keys["handoff"]
    assert {"INVALID_AGENT_TRANSITION", "NOT_YOUR_CALL", "BAD_SEARCH", "CSRF_FAILED"} <= keys["error"]
    assert len(keys["category"]) >= 6 and "normal" in keys["priority"]


def test_every_entry_has_both_languages_and_the_same_placeholders():
    for key, entry in STRINGS.items():
        assert set(entry) == {"en", "zh"} and all(v.strip() for v in entry.values()), key
        assert set(re.findall(r"\{(\w+)\}", entry["en"])) == set(re.findall(r"\{(\w+)\}", entry["zh"])), key


# ---------------------------------------------------------------- the page's word builder, in Node
def journey_steps() -> list[dict]:
    """Every step the flow can write: each node with each of its outcomes (and typical inputs)."""
    flow = hotline()
    steps = [{"node": "start", "input": None, "outcome": "caller hung up"}]
    for node in flow.nodes.values():
        outcomes: list[str | None] = [None, *sorted(engine_outcomes())]
        if node.type == "service":
            outcomes += list(node.get("next", {}))
        if node.type == "set":
            outcomes.append(f"language={node.get('language')}")
        if node.type == "hangup":
            outcomes.append(f"hangup {node.get('reason', '')}".strip())
        if node.type == "handoff":
            outcomes.append(f"handoff skill={node.get('skill')} reason={node.get('reason')}")
            for cause in retry_causes():  # the flow's fail node, after the engine's retries
                for where in flow.nodes:
                    reason = f"{cause} x{flow.max_retries} at {where}".replace(" ", "_")
                    outcomes.append(f"handoff skill={node.get('skill')} reason={reason}")
        inputs = [None, "6", "*", "13800000001", "******", "138****0001"]
        steps += [{"node": node.name, "input": i, "outcome": o} for o in outcomes for i in inputs]
    return steps


def run_words(language: str, steps: list[dict], ends: list[list]) -> dict:
    node = shutil.which("node")
    assert node, "Node.js is missing: scripts/setup.sh --test installs it"
    script = """
const {makeWords} = require(process.argv[1]);
let input = ""; process.stdin.on("data", d => input += d).on("end", () => {
  const {t, lang, steps, ends} = JSON.parse(input);
  const W = makeWords(t, lang, "Asia/Shanghai", "CNY");
  const out = {steps: steps.map(s => W.step(s)), ends: ends.map(([r, d]) => W.endWords(r, d)),
               money: W.money(-158050), when: W.dateTime("2026-11-23T16:28:03.134398"), month: W.month("2026-10"),
               duration: W.duration(3725), number: W.number(1234567)};
  out.missing = [...new Set(W.missing)];
  process.stdout.write(JSON.stringify(out));
});"""
    payload = json.dumps({"t": strings(language), "lang": language, "steps": steps, "ends": ends})
    done = subprocess.run([node, "-e", script, str(WORDS_JS)], input=payload, capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_words_every_journey_step_and_end_reason_without_a_raw_code(language):
    steps = journey_steps()
    ends = [[r.value, None] for r in EndReason] + [[EndReason.HUNG_UP_BEFORE_QUEUE.value, d.value] for d in EndDetail]
    out = run_words(language, steps, ends)
    assert out["missing"] == [], f"words.js found no words for {out['missing']}"
    raw = re.compile(r"[a-z]+_[a-z_]+")
    for step, words in zip(steps, out["steps"]):
        assert not raw.search(words["node"] + " " + words["detail"]), (step, words)
    assert not any(raw.search(text) for text in out["ends"])
    # money with its currency, times in the center's zone, numbers grouped
    if language == "zh":
        assert out["money"] == "-¥1,580.50" and out["when"] == "2026年11月24日 00:28"
        assert out["month"] == "2026年10月"
    else:
        assert out["money"] == "-CN¥1,580.50" and " ".join(out["when"].split()) == "Nov 24, 2026, 12:28 AM"
        assert out["month"] == "October 2026"
    assert out["duration"] == "1:02:05" and out["number"] == "1,234,567"
