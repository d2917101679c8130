"""What live routing state looks like: the one description every process imports. No I/O.

The router, the desktop's web workers and push process, the IVR's queue routes, the CDR
listener, the CLI, the benches and the tests all read and write the same Redis keys and hear the
same dialplan events; they spell them here, once:

- key builders and channel names (Lua scripts get every key through ``KEYS[]``);
- ``LiveCall`` and ``AgentSnapshot``, typed views of the router's Redis hashes;
- one frozen dataclass per dialplan UserEvent, and ``parse_event``, the one parser;
- ``AgentChange``, the message published on every agent state change;
- the error-code catalogue (``AcdError``): stable codes, English words for logs and the CLI; the
  desktop shows them in the user's language;
- queue configuration (``Queue``, ``parse_overflow``).

Keys (all under ``acd:``): ``acd:agent:<ext>`` hash (state, reason, since, call, misses,
wrapup_until); ``acd:agents`` set of extensions; ``acd:call:<uniqueid>`` hash (the LiveCall
fields); ``acd:calls`` set; ``acd:state-log`` stream of applied changes; channels
``acd:agent-changes`` and ``acd:reload``; the command list ``acd:commands`` and replies
``acd:reply:<id>``; live monitoring sessions ``acd:monitor:<id>`` hashes in the ``acd:monitors``
set. For Redis Cluster a script's keys would need one hash tag; they are passed in
``KEYS[]`` so that is a change of these builders only.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields, replace
from typing import Mapping

from acd.agent_state import LOGGED_OUT
from acd.core import GENERAL, OverflowStep, service_class
from callcenter import dialplan as dp
from callcenter.digits import is_digits

# ---------------------------------------------------------------- Redis keys and channels
AGENTS = "acd:agents"
CALLS = "acd:calls"
STATE_LOG = "acd:state-log"
AGENT_CHANGES = "acd:agent-changes"  # pub/sub: one AgentChange per applied state change
RELOAD = "acd:reload"  # pub/sub: queues or skills changed in the database
COMMANDS = "acd:commands"  # list: desktop -> exactly one router


def agent_key(ext: str) -> str:
    return f"acd:agent:{ext}"


def call_key(uniqueid: str) -> str:
    return f"acd:call:{uniqueid}"


def reply_key(command_id: str) -> str:
    return f"acd:reply:{command_id}"


MONITORS = "acd:monitors"  # set: ids of the live monitoring sessions (acd/monitoring.py)


def monitor_key(monitor_id: str) -> str:
    return f"acd:monitor:{monitor_id}"


# pub/sub: a monitoring session changed where the wallboard did not ask: a mode keyed on the
# monitor's own phone, or the session's end (the call ended, the monitor hung up; acd/monitoring.py);
# the push process tells that monitor's wallboard and the agent (agent_desktop/monitor_push.py)
MONITOR_CHANGES = "acd:monitor-changes"


# ---------------------------------------------------------------- names and their shapes
# [0-9], not \d: \d also matches Arabic-Indic and full-width digits, which no phone dials.
EXTENSION = re.compile(r"1[0-9]{3}")
SKILL_NAME = re.compile(r"[a-z_]{1,32}")
VIP_PRIORITY = 1  # the IVR sets the VIP level (0 ordinary .. 3) of a password-verified caller as the priority


def is_extension(value) -> bool:
    """An agent extension: 1XXX, ASCII digits only."""
    return isinstance(value, str) and EXTENSION.fullmatch(value) is not None


def is_skill(value) -> bool:
    return isinstance(value, str) and SKILL_NAME.fullmatch(value) is not None


def as_text(value) -> str:
    """A value as redis-py or AMI gives it (bytes, str or None) as str."""
    if value is None:
        return ""
    # errors="replace": bytes that are not UTF-8 (found by tests/unit/test_parser_fuzz.py) become
    # U+FFFD, checked by the parsers as any other text, not a UnicodeDecodeError out of parse_event
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _float(value, default: float = 0.0) -> float:
    try:
        return float(as_text(value) or default)
    except ValueError:
        return default


def _int(value, default: int = 0) -> int:
    text = as_text(value)
    return int(text) if is_digits(text) else default


def digits(text, limit: int = 20) -> str:
    """The ASCII digits of a caller-controlled number (str.isdigit also takes '²' and '٣')."""
    return "".join(ch for ch in as_text(text) if "0" <= ch <= "9")[:limit]


def decode_hash(raw: Mapping) -> dict[str, str]:
    """A Redis hash as read by redis-py (bytes or str, either way) as str -> str."""
    return {as_text(k): as_text(v) for k, v in raw.items()}


# ---------------------------------------------------------------- live calls
@dataclass(frozen=True)
class LiveCall:
    """A call the router knows of: waiting (agent ""), being connected, or talking."""
    uniqueid: str
    channel: str = ""
    skill: str = GENERAL
    priority: int = 0  # the customer's VIP level
    transferred: bool = False
    queued_at: float = 0.0  # first time queued; kept when the call comes back unanswered
    agent: str = ""  # the agent reserved for / talking on it
    kind: str = "call"  # "call", or "callback": a request waiting for an agent, no channel yet
    number: str = ""  # the number a call back dials
    held: bool = False
    agent_channel: str = ""  # the agent's leg while the caller is on hold
    queued_by: str = ""  # the CallQueued event (Asterisk's stamp) that queued it: two routers hear each
    #                      event, and only the first to apply it may reset the call to waiting

    @property
    def vip(self) -> bool:
        return self.priority >= VIP_PRIORITY

    @property
    def waiting(self) -> bool:
        return not self.agent

    @property
    def is_callback(self) -> bool:
        return self.kind == "callback"

    @property
    def service_class(self) -> int:
        return service_class(vip=self.vip, transferred=self.transferred)

    @classmethod
    def from_hash(cls, uniqueid: str, raw: Mapping) -> LiveCall | None:
        """None when the hash is empty (the call is not live)."""
        data = decode_hash(raw)
        if not data:
            return None
        return cls(uniqueid=uniqueid, channel=data.get("channel", ""), skill=data.get("skill") or GENERAL,
                   priority=_int(data.get("priority")), transferred=data.get("transferred") == "1",
                   queued_at=_float(data.get("queued_at")), agent=data.get("agent", ""),
                   kind=data.get("kind") or "call", number=data.get("number", ""),
                   held=data.get("held") == "1", agent_channel=data.get("agent_channel", ""),
                   queued_by=data.get("queued_by", ""))

    def to_hash(self) -> dict[str, str]:
        return call_fields(**{f.name: getattr(self, f.name) for f in fields(self) if f.name != "uniqueid"})

    def but(self, **changes) -> LiveCall:
        return replace(self, **changes)


_CALL_FIELDS = {f.name for f in fields(LiveCall)} - {"uniqueid"}


def call_fields(**values) -> dict[str, str]:
    """Some LiveCall fields as Redis hash values (flags as "1"/"", times exactly)."""
    unknown = set(values) - _CALL_FIELDS
    if unknown:
        raise ValueError(f"not a live call field: {sorted(unknown)}")
    out = {}
    for name, value in values.items():
        if isinstance(value, bool):
            out[name] = "1" if value else ""
        elif isinstance(value, float):
            out[name] = repr(value)
        else:
            out[name] = str(value)
    return out


# ---------------------------------------------------------------- agents
@dataclass(frozen=True)
class AgentSnapshot:
    ext: str
    state: str = LOGGED_OUT
    reason: str = ""
    since: float = 0.0
    call: str = ""
    misses: int = 0
    wrapup_until: float = 0.0

    @classmethod
    def from_hash(cls, ext: str, raw: Mapping) -> AgentSnapshot:
        data = decode_hash(raw)
        return cls(ext=ext, state=data.get("state") or LOGGED_OUT, reason=data.get("reason", ""),
                   since=_float(data.get("since")), call=data.get("call", ""), misses=_int(data.get("misses")),
                   wrapup_until=_float(data.get("wrapup_until")))

    def as_dict(self) -> dict:
        return {"ext": self.ext, "state": self.state, "reason": self.reason, "since": self.since,
                "call": self.call, "misses": self.misses, "wrapup_until": self.wrapup_until}


@dataclass(frozen=True)
class AgentChange:
    """Published on AGENT_CHANGES for every applied agent state change."""
    ext: str
    state: str
    reason: str
    call: str
    since: float

    def to_json(self) -> str:
        return json.dumps({"ext": self.ext, "state": self.state, "reason": self.reason, "call": self.call,
                           "since": self.since})

    @classmethod
    def from_json(cls, text) -> AgentChange:
        """ValueError for anything that is not a well-formed change."""
        try:
            data = json.loads(text)
            change = cls(ext=data["ext"], state=data["state"], reason=data.get("reason") or "",
                         call=data.get("call") or "", since=float(data["since"]))
        except (TypeError, KeyError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"not an agent change: {exc}") from None
        if not is_extension(change.ext) or not isinstance(change.state, str):
            raise ValueError(f"not an agent change: ext {change.ext!r}")
        return change


@dataclass(frozen=True)
class MonitorChanged:
    """Published on MONITOR_CHANGES: a monitor keyed another mode on their phone, or (mode "") the
    session ended without the wallboard's stop."""
    monitor: str
    call: str
    agent: str
    by: str  # the monitor's user name (their wallboard's room is monitor:<by>)
    mode: str
    was: str

    def to_json(self) -> str:
        return json.dumps({f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def from_json(cls, text) -> MonitorChanged:
        """ValueError for anything that is not a well-formed switch."""
        try:
            data = json.loads(text)
            switched = cls(**{f.name: data[f.name] for f in fields(cls)})
        except (TypeError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"not a monitoring switch: {exc}") from None
        if not all(isinstance(getattr(switched, f.name), str) for f in fields(cls)) or not is_extension(switched.agent):
            raise ValueError(f"not a monitoring switch: {text!r}")
        return switched


# ---------------------------------------------------------------- dialplan events
# One dataclass per UserEvent the dialplan (asterisk_conf/extensions.conf) sends; the names are
# callcenter.dialplan's EV_* constants. `at` is Asterisk's event timestamp (epoch seconds) when
# the manager sends it (timestampevents), else None.
@dataclass(frozen=True)
class DialplanEvent:
    call_id: str
    at: float | None


@dataclass(frozen=True)
class CallEntered(DialplanEvent):
    linkedid: str = ""
    caller_number: str = ""
    caller_name: str = ""
    access_number: str = ""


@dataclass(frozen=True)
class IvrFailed(DialplanEvent):
    reason: str = ""


@dataclass(frozen=True)
class CallQueued(DialplanEvent):
    channel: str = ""
    skill: str = GENERAL
    priority: int = 0
    transferred: bool = False


@dataclass(frozen=True)
class AgentRinging(DialplanEvent):
    agent: str = ""


@dataclass(frozen=True)
class AgentAnswered(DialplanEvent):
    agent: str = ""


@dataclass(frozen=True)
class AgentNoAnswer(DialplanEvent):
    agent: str = ""
    dial_status: str = ""


@dataclass(frozen=True)
class CallEnded(DialplanEvent):
    stage: str = ""
    end: str = ""
    dial_status: str = ""
    cause: int | None = None
    fail_reason: str = ""
    recording: str = ""
    caller_number: str = ""  # digits only: the number a call back dials


@dataclass(frozen=True)
class CallbackEnded(DialplanEvent):
    dial_status: str = ""
    # the call back's own leg (issue 11): its uniqueid (Asterisk's header), the agent, the number
    # dialled, when the agent answered (epoch) and its recording; cdr/listener.py makes it a call row
    leg: str = ""
    agent: str = ""
    number: str = ""
    started: float | None = None
    recording: str = ""

    @property
    def answered(self) -> bool:
        return self.dial_status == "ANSWER"


@dataclass(frozen=True)
class AgentLeftHold(DialplanEvent):
    pass


@dataclass(frozen=True)
class AgentHungUp(DialplanEvent):
    """The agent's side ended a connected call; the caller stays on for the survey (cc-survey)."""


@dataclass(frozen=True)
class CallerVerified(DialplanEvent):
    """Back from the agent's password check (cc-verify), to that agent."""
    agent: str = ""
    verified: bool = False


_UNKNOWN = "<unknown>"


def _caller_text(value) -> str:
    text = as_text(value)
    return "" if text == _UNKNOWN else text


def _agent(event: Mapping) -> str | None:
    ext = as_text(event.get("Agent"))
    return ext if is_extension(ext) else None


def _parse_queued(e: Mapping, uid: str, at):
    skill = as_text(e.get("Skill"))
    return CallQueued(uid, at, channel=as_text(e.get("Channel")), skill=skill if is_skill(skill) else GENERAL,
                      priority=_int(e.get("CallPriority")), transferred=as_text(e.get("Transferred")) == "1")


def _parse_ended(e: Mapping, uid: str, at):
    cause = as_text(e.get("Cause"))
    number = digits(e.get("CallerIDNum"))
    return CallEnded(uid, at, stage=as_text(e.get("Stage")).strip(), end=as_text(e.get("End")).strip(),
                     dial_status=as_text(e.get("DialStatus")).strip().upper(),
                     cause=int(cause) if is_digits(cause) else None,
                     fail_reason=as_text(e.get("FailReason")).strip(), recording=as_text(e.get("Recording")),
                     caller_number=number)


def _parse_callback_ended(e: Mapping, uid: str, at):
    started = digits(e.get("Started"))
    return CallbackEnded(uid, at, dial_status=as_text(e.get("DialStatus")).strip().upper(),
                         leg=as_text(e.get("Uniqueid")).strip()[:64], agent=_agent(e) or "",
                         number=digits(e.get("Number"))[:20], started=float(started) if started else None,
                         recording=as_text(e.get("Recording")))


def _with_agent(cls, **extra):
    def parse(e: Mapping, uid: str, at):
        agent = _agent(e)
        if agent is None:
            return None  # an agent event naming no agent of ours
        return cls(uid, at, agent=agent, **{k: as_text(e.get(header)).strip().upper() for k, header in extra.items()})
    return parse


_PARSERS = {
    "CallEntered": lambda e, uid, at: CallEntered(
        uid, at, linkedid=as_text(e.get("Linkedid")), caller_number=_caller_text(e.get("CallerIDNum")),
        caller_name=_caller_text(e.get("CallerIDName"))[:80], access_number=as_text(e.get("AccessNumber"))),
    "IvrFailed": lambda e, uid, at: IvrFailed(uid, at, reason=as_text(e.get("Reason"))),
    "CallQueued": _parse_queued,
    "AgentRinging": _with_agent(AgentRinging),
    "AgentAnswered": _with_agent(AgentAnswered),
    "AgentNoAnswer": _with_agent(AgentNoAnswer, dial_status="DialStatus"),
    "CallEnded": _parse_ended,
    "CallbackEnded": _parse_callback_ended,
    "AgentLeftHold": lambda e, uid, at: AgentLeftHold(uid, at),
    "AgentHungUp": lambda e, uid, at: AgentHungUp(uid, at),
    "CallerVerified": lambda e, uid, at: CallerVerified(uid, at, agent=_agent(e) or "",
                                                        verified=as_text(e.get("Verified")) == "1"),
}


def from_our_dialplan(event: Mapping, name: str) -> bool:
    """Sent by our dialplan: Asterisk adds the channel's fields (Channel, Context ...) to a
    dialplan UserEvent, and this one's context is one that sends it (callcenter.dialplan's
    EVENT_CONTEXTS). An AMI client's `Action: UserEvent` has no channel; no header appears twice
    (panoramisk hands a repeated header over as a list, whose meaning would be a guess); and an
    event the caller's channel sends about itself names that channel's own uniqueid."""
    if any(isinstance(value, (list, tuple)) for value in event.values()):
        return False
    if name in dp.OWN_CHANNEL_EVENTS and as_text(event.get("CallId")) != as_text(event.get("Uniqueid")):
        return False  # sent with CallId: ${UNIQUEID}: a comma in that uniqueid started another header
    return bool(as_text(event.get("Channel"))) and as_text(event.get("Context")) in dp.EVENT_CONTEXTS.get(name, ())


def parse_event(event: Mapping) -> DialplanEvent | None:
    """Our dialplan's UserEvent as its dataclass; None for any other event, for one not sent by
    our dialplan (see from_our_dialplan), or for one of ours that names no call (or, for agent
    events, no valid agent)."""
    if as_text(event.get("Event") or "UserEvent") != "UserEvent":
        return None
    name = as_text(event.get("UserEvent"))
    parser = _PARSERS.get(name)
    uid = as_text(event.get("CallId")).strip()
    if parser is None or not uid or not from_our_dialplan(event, name):
        return None
    stamp = event.get("Timestamp")
    at = _float(stamp, default=-1.0) if stamp not in (None, "") else None
    return parser(event, uid, at if at is None or at >= 0 else None)


# ---------------------------------------------------------------- errors
class AcdError(Exception):
    """A refusal with a stable code (part of the API: the desktop and the CLI map it to words)."""

    def __init__(self, code: str, message: str | None = None):
        super().__init__(message or ERRORS.get(code, code))
        self.code, self.message = code, message or ERRORS.get(code, code)

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


#: every code the router's boundary answers, with its English words (logs, CLI)
ERRORS: dict[str, str] = {
    "UNKNOWN_COMMAND": "unknown command",
    "BAD_EXTENSION": "an agent extension is 1XXX",
    "BAD_STATE": "an agent may be set ready, not ready or logged out",
    "BAD_REASON": "not ready needs a reason: break, meal, training or back office",
    "BAD_SECONDS": "extend wrap-up by 1 to 600 seconds",
    "INVALID_AGENT_TRANSITION": "the agent cannot do that in their present state",
    "NOT_IN_WRAPUP": "the agent is not in wrap-up",
    "NO_SUCH_CALL": "no such call",
    "NOT_YOUR_CALL": "the agent is not talking on that call",
    "ALREADY_HELD": "the caller is already on hold",
    "NOT_HELD": "the caller is not on hold",
    "NOT_CONNECTED": "the caller is not talking to the agent",
    "HOLD_FAILED": "Asterisk refused the hold",
    "RESUME_FAILED": "Asterisk refused to resume the call",
    "VERIFY_FAILED": "Asterisk refused to send the caller to the password check",
    "BAD_TARGET": "transfer to someone else",
    "AGENT_NOT_READY": "that agent is not ready",
    "UNKNOWN_SKILL": "no queue serves that skill",
    "TRANSFER_FAILED": "Asterisk refused the transfer",
    "ROUTER_ERROR": "the router failed; try again",
    "ROUTER_UNAVAILABLE": "the router did not answer; try again",
    "CALLBACK_REFUSED": "the call-back rules do not let the center call that number",
    # live monitoring (acd/monitor.py, acd/monitoring.py)
    "BAD_MONITOR_MODE": "monitor a call by listen, whisper or barge",
    "LISTEN_ONLY": "quality inspectors may only listen",
    "NOT_ON_CALL": "that call is not talking to an agent now",
    "ALREADY_MONITORING": "you are already monitoring a call: stop that one first",
    "NO_SUCH_MONITOR": "you are not monitoring that call (it may have ended)",
    "MONITOR_NOT_ANSWERED": "your phone has not answered yet",
    "MONITOR_FAILED": "Asterisk refused to switch the monitoring mode",
}


# ---------------------------------------------------------------- queue configuration
@dataclass(frozen=True)
class Queue:
    skill: str
    ring_time_s: int = 15
    wrapup_s: int = 10
    no_answer_limit: int = 1
    overflow: tuple[OverflowStep, ...] = ()


_OVERFLOW_STEP = re.compile(r"([0-9]{1,6}(?:\.[0-9]+)?)\s*:\s*([1-5])")


def parse_overflow(text: str) -> tuple[OverflowStep, ...]:
    """ "30:4,90:2" -> after 30 s general level >= 4, after 90 s level >= 2. ValueError if malformed."""
    steps = []
    for part in filter(None, (p.strip() for p in (text or "").split(","))):
        match = _OVERFLOW_STEP.fullmatch(part)
        if match is None:
            raise ValueError(f"overflow step {part!r} is not seconds:level")
        steps.append(OverflowStep(float(match[1]), int(match[2])))
    return tuple(steps)


def queue_for(queues: Mapping[str, Queue], skill: str) -> Queue:
    """The queue that serves a skill: its own, else the general one, else the defaults."""
    return queues.get(skill) or queues.get(GENERAL) or Queue(skill)

