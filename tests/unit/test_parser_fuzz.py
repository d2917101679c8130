"""Fuzzing the parsers that read what a caller can shape (issue 15), with hypothesis, for a bounded
number of examples: ivr.fastagi.read_request (the FastAGI header block Asterisk writes, caller ID
and dialled digits included, raw) and acd.protocol.parse_event (the AMI UserEvents the router
acts on).

Bounded (MAX_EXAMPLES each) and with no per-example deadline (a loaded CI machine is slow, not
wrong); derandomized under CI, so a CI run tries the same examples every time and a failure there
reproduces; locally each run explores new ones. No example database is written, and hypothesis's
caches go to the system's temporary directory (nothing left behind in the tree).
"""
from __future__ import annotations

import asyncio
import os
import tempfile

# hypothesis keeps caches (Unicode tables, constants) in ./.hypothesis unless told otherwise: the
# system's temporary directory instead, so a run leaves nothing in the tree
os.environ.setdefault("HYPOTHESIS_STORAGE_DIRECTORY", os.path.join(tempfile.gettempdir(), "callcenter-hypothesis"))

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from acd import protocol as p
from callcenter import dialplan as dp
from ivr import fastagi

MAX_EXAMPLES = 300
ON_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
FUZZ = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=ON_CI, database=None,
                suppress_health_check=[HealthCheck.too_slow])

CONTROL = {chr(c) for c in [*range(0x20), *range(0x7f, 0xa0)]}  # C0, DEL, C1: what read_request refuses
UNIQUEID = "1700000000.42"
HEAD = (f"agi_network: yes\nagi_network_script: key/hotline\nagi_request: agi://127.0.0.1/key/hotline\n"
        f"agi_channel: Local/10000@hotline-1;2\nagi_uniqueid: {UNIQUEID}\n")


def read(raw: bytes):
    """read_request over a reader holding these bytes then EOF (as a closed connection): the
    headers, or the exception it raised."""
    async def go():
        reader = asyncio.StreamReader(limit=fastagi.MAX_LINE)  # as FastAgiServer.start sets it
        reader.feed_data(raw)
        reader.feed_eof()
        try:
            return await fastagi.read_request(reader)
        except Exception as exc:  # noqa: BLE001  the property below says which are allowed
            return exc
    return asyncio.run(go())


def check_headers(headers: dict[str, str]) -> None:
    for name, value in headers.items():
        assert name.startswith("agi_")
        assert not CONTROL & set(value), f"{name} holds a control character: {value!r}"
    assert "agi_network_script" in headers
    assert fastagi.UNIQUEID.fullmatch(headers["agi_uniqueid"])


@FUZZ
@given(st.binary(max_size=4096))
def test_arbitrary_bytes_give_headers_or_its_own_refusal(raw):
    result = read(raw)
    if isinstance(result, Exception):
        assert isinstance(result, (fastagi.BadRequest, fastagi.EmptyConnection)), repr(result)
    else:
        check_headers(result)


header_line = st.builds(lambda name, value: f"agi_{name}: {value}\n",
                        st.from_regex(r"[a-z0-9_]{1,12}", fullmatch=True), st.text(max_size=40))


@FUZZ
@given(st.lists(header_line, max_size=80), st.booleans())
def test_header_like_lines_give_headers_or_its_own_refusal(lines, blank):
    """Closer to the real thing than bytes: lines that look like headers, arbitrary values."""
    result = read((HEAD + "".join(lines) + ("\n" if blank else "")).encode())
    if isinstance(result, Exception):
        assert isinstance(result, fastagi.BadRequest), repr(result)
    else:
        check_headers(result)


@FUZZ
@given(st.text(max_size=200).filter(lambda v: "\n" not in v))
def test_a_caller_value_with_a_control_character_is_refused(value):
    """The caller ID as Asterisk writes it (raw). A line feed is the next test's; a trailing CR is
    part of the line's end (CRLF), so it is not the value's."""
    result = read((HEAD + f"agi_callerid: {value}\nagi_calleridname: x\n\n").encode())
    meant = value.rstrip("\r")
    if CONTROL & set(meant):
        assert isinstance(result, fastagi.BadRequest), f"{value!r} accepted: {result!r}"
    else:
        assert not isinstance(result, Exception), f"{value!r} refused: {result!r}"
        assert result["agi_callerid"] == meant


@FUZZ
@given(st.text(alphabet=st.sampled_from("\n:agi_uniqeds 0123456789.-xX\r\x00"), max_size=120))
def test_a_line_feed_in_caller_data_never_forges_the_uniqueid_or_a_header_with_a_line_feed(value):
    """A line feed spills the caller's value over several lines (it may forge new header lines,
    the documented limit); it never yields a value holding a line feed and never changes the
    call's uniqueid, which comes before every caller value."""
    result = read((HEAD + f"agi_callerid: {value}\nagi_dnid: 10000\n\n").encode())
    if isinstance(result, Exception):
        assert isinstance(result, fastagi.BadRequest), repr(result)
        return
    check_headers(result)
    assert result["agi_uniqueid"] == UNIQUEID


# ---------------------------------------------------------------- AMI UserEvents
# the dialplan's UserEvents parse_event reads (OutboundTrunk, a callback's carrier report, is not one)
KNOWN = sorted(set(dp.EVENT_CONTEXTS) - {dp.EV_OUTBOUND_TRUNK})
header_names = st.sampled_from(["Event", "UserEvent", "CallId", "Uniqueid", "Channel", "Context", "Agent",
                                "Skill", "Timestamp", "CallerIDNum", "CallerIDName", "Cause", "Started",
                                "Number", "DialStatus", "Verified", "CallPriority", "Stage", "End"])
values = st.one_of(st.text(max_size=30), st.binary(max_size=10), st.none(), st.integers(),
                   st.lists(st.text(max_size=10), min_size=2, max_size=3))


@FUZZ
@given(st.dictionaries(st.one_of(header_names, st.text(max_size=12)), values, max_size=16))
def test_any_event_dict_parses_to_an_event_or_none_and_never_raises(event):
    result = p.parse_event(event)
    assert result is None or isinstance(result, p.DialplanEvent)


def ours(name: str, uid: str = UNIQUEID) -> dict:
    """An event of this name as our dialplan sends it (channel and context added by Asterisk)."""
    return {"Event": "UserEvent", "UserEvent": name, "CallId": uid, "Uniqueid": uid, "Agent": "1001",
            "Channel": "PJSIP/trunk-00000001", "Context": sorted(dp.EVENT_CONTEXTS[name])[0], "Skill": "general"}


def test_each_of_our_events_as_sent_is_accepted():
    """The refusals below are not vacuous: the same events, untouched, parse."""
    for name in KNOWN:
        assert p.parse_event(ours(name)) is not None, name


@FUZZ
@given(st.sampled_from(KNOWN), st.sampled_from(["CallId", "Channel", "Context", "Agent", "UserEvent", "Uniqueid"]),
       st.lists(st.text(max_size=12), min_size=2, max_size=4))
def test_a_repeated_header_refuses_the_event(name, header, repeated):
    """panoramisk hands a header sent twice over as a list: which one is meant is a guess."""
    assert p.parse_event({**ours(name), header: repeated}) is None


@FUZZ
@given(st.text(max_size=30))
def test_an_unknown_user_event_is_refused(name):
    assume(name not in dp.EVENT_CONTEXTS)
    event = {**ours(KNOWN[0]), "UserEvent": name}
    assert p.parse_event(event) is None


@FUZZ
@given(st.sampled_from(KNOWN), st.text(max_size=20))
def test_an_event_from_another_context_or_no_channel_is_refused(name, context):
    """An AMI client's Action: UserEvent has no channel; another context is not one that sends it."""
    assume(context not in dp.EVENT_CONTEXTS[name])
    assert p.parse_event({**ours(name), "Context": context}) is None
    assert p.parse_event({k: v for k, v in ours(name).items() if k not in ("Channel", "Context")}) is None


@FUZZ
@given(st.one_of(st.text(max_size=200), st.binary(max_size=50)))
def test_the_router_s_pushes_refuse_with_value_error_only(text):
    """AgentChange and MonitorChanged are read back from Redis pub/sub by the web workers."""
    for parse in (p.AgentChange.from_json, p.MonitorChanged.from_json):
        try:
            parse(text)
        except ValueError:
            pass
