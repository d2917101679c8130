"""bench/load.py without a stack: its SIPp scenarios are well-formed and say what the bench relies
on, its arguments are refused with a clear message, and the RTP it writes carries the tone and the
caller's key as RFC 4733 events in one stream."""
from __future__ import annotations

import struct
import xml.etree.ElementTree as ET

import pytest

from bench import load, sipp_media


@pytest.mark.parametrize("name", load.SCENARIOS)
def test_every_scenario_parses(name):
    root = ET.parse(load.SIPP_DIR / name).getroot()
    assert root.tag == "scenario"


def _commands(name: str) -> list[ET.Element]:
    return list(ET.parse(load.SIPP_DIR / name).getroot())


def test_the_caller_offers_pcma_with_events_plays_its_pcap_and_waits_for_the_agents_bye():
    steps = _commands("caller.xml")
    invite = steps[0].text
    assert "INVITE sip:[service]@" in invite and "m=audio [media_port] RTP/AVP 8 101" in invite
    assert "telephone-event/8000" in invite
    plays = [e.get("play_pcap_audio") for e in ET.parse(load.SIPP_DIR / "caller.xml").iter("exec")]
    assert plays == ["caller.pcap"]
    assert steps[-2].get("request") == "BYE"  # hung up on by the agent, then answers 200
    assert steps[-1].tag == "send" and "SIP/2.0 200 OK" in steps[-1].text


def test_the_agent_phone_answers_qualify_and_its_bye_never_reuses_a_branch():
    sent = "".join(e.text for e in ET.parse(load.SIPP_DIR / "agent_phone.xml").iter("send"))
    first = _commands("agent_phone.xml")[1]
    assert first.get("request") == "OPTIONS" and first.get("optional") == "true"
    # SIPp gives out-of-call calls one [call_number]: tags and branch come from Asterisk's Call-ID
    assert "[call_number]" not in sent and "branch=[branch]" not in sent
    assert "branch=z9hG4bK-cc-bye-[$cid]" in sent


def test_agents_register_with_the_credentials_from_the_injection_file():
    text = (load.SIPP_DIR / "agents.xml").read_text()
    assert "REGISTER sip:" in text and "[field1]" in text  # the [authentication ...] keyword, one field
    assert 'variable="hold_ms"' in text


@pytest.mark.parametrize("argv, message", [
    (["--calls", "0"], "is not at least 1"),
    (["--calls", "ten"], "is not a whole number"),
    (["--rate", "-1"], "is not a number above 0"),
    (["--rate", "nan"], "is not a number above 0"),
    (["--talk", "0"], "is not a number above 0"),
    (["--concurrent", "1.5"], "is not a whole number"),
    (["--calls", "3", "--duration", "10"], "give --calls or --duration, not both"),
    (["--agents", "901"], "--agents: at most 900"),
    (["--wrapup", "-1"], "--wrapup: 0 to 3600 seconds"),
])
def test_bad_arguments_are_refused_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_:
        load.parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def test_arguments_make_the_calls_from_rate_and_duration_and_enough_agents():
    args = load.parse_args(["--duration", "100", "--rate", "2.5", "--concurrent", "200"])
    assert args.calls == 250 and args.agents == 220
    assert load.parse_args([]).calls == 20
    numbers = load.caller_numbers(3)
    assert numbers == ["13900000001", "13900000002", "13900000003"] and len(set(load.caller_numbers(999))) == 999


def _packets(pcap: bytes) -> list[bytes]:
    """The RTP of each packet (past Ethernet, IPv4 and UDP headers)."""
    out, offset = [], 24
    while offset < len(pcap):
        _, _, length, _ = struct.unpack("<IIII", pcap[offset:offset + 16])
        frame = pcap[offset + 16:offset + 16 + length]
        out.append(frame[14 + 20 + 8:])
        offset += 16 + length
    return out


def test_the_key_is_an_rfc4733_event_inside_the_tone_stream():
    rtp = _packets(sipp_media.rtp_pcap(bytes(160 * 100), keys={1.0: "0"}))  # 2 s, key at 1 s
    types = [p[1] & 0x7F for p in rtp]
    assert types[:50] == [8] * 50 and types[50] == 101
    events = [p for p in rtp if p[1] & 0x7F == 101]
    assert len(events) == sipp_media.EVENT_SLOTS + 2  # the end is sent three times
    assert events[0][1] & 0x80 and not events[1][1] & 0x80  # marker on the first only
    assert {p[12] for p in events} == {0} and events[-1][13] & 0x80  # key 0, end bit at the end
    assert len({p[8:12] for p in rtp}) == 1  # one SSRC
    seqs = [struct.unpack("!H", p[2:4])[0] for p in rtp]
    assert seqs == list(range(len(rtp)))  # one sequence, no gap
