"""Where an agent's calls ring, and the rule that no call rings a phone that is not there: the
decision as a table, then the watcher over small fakes of Redis and AMI and the real manager
over FakeStore; the router's side (CHANUNAVAIL from cc-agent-sip) and the IVR's access numbers."""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from acd import protocol as p
from acd.manager import PERSON_REASONS, AgentManager
from callcenter.sip import phones
from ivr.engine import CallState, Engine, HandOff
from ivr.service import load_hotline
from tests.unit.fakes import FakeStore

# agent state, device state of the chosen phone -> taken off (Not ready, phone_unregistered)?
VERDICTS = """
ready      | UNAVAILABLE | yes
ready      | INVALID     | yes
ready      | NOT_INUSE   | no
ready      | INUSE       | no
ready      | -           | no
ringing    | UNAVAILABLE | no
on_call    | UNAVAILABLE | no
wrapup     | UNAVAILABLE | no
not_ready  | UNAVAILABLE | no
logged_out | UNAVAILABLE | no
"""


@pytest.mark.parametrize("row", VERDICTS.strip().splitlines())
def test_only_a_ready_agent_whose_phone_cannot_ring_is_taken_off(row):
    state, device, taken = (c.strip() for c in row.split("|"))
    assert phones.verdict(state, None if device == "-" else device) == (taken == "yes")


def test_the_systems_reason_is_no_persons_reason():
    assert "phone_unregistered" not in PERSON_REASONS


@dataclass
class FakeRedis:
    hashes: dict = field(default_factory=dict)
    sets: dict = field(default_factory=dict)
    published: list = field(default_factory=list)

    async def hget(self, key, name):
        return self.hashes.get(key, {}).get(name)

    async def smembers(self, key):
        return set(self.sets.get(key, ()))

    # the sync side (phones.choose)
    def hset(self, key, mapping):
        self.hashes.setdefault(key, {}).update(mapping)

    def sadd(self, key, member):
        self.sets.setdefault(key, set()).add(member)

    def publish(self, channel, message):
        self.published.append((channel, message))


@dataclass
class FakeAmi:
    sent: list = field(default_factory=list)
    devices: dict = field(default_factory=dict)

    async def send_action(self, action, as_list=False):
        self.sent.append(action)
        if action["Action"] == "DeviceStateList":
            return [{"Event": "DeviceStateChange", "Device": d, "State": s} for d, s in self.devices.items()] + [
                {"Event": "DeviceStateListComplete"}]
        return {"Response": "Success"}


class SyncRedis(FakeRedis):
    """phones.choose is called with a synchronous client (the desktop, the CLI)."""


def watch(**agents):
    store = FakeStore.with_agents(**agents)
    redis, ami = FakeRedis(), FakeAmi()
    return phones.PhoneWatch(redis, ami, AgentManager.for_states(store, clock=lambda: 50.0)), store, redis, ami


def choose(redis, ext, device):
    redis.hset(phones.phone_key(ext), {"device": device})
    redis.sadd(phones.PHONES, ext)


async def test_the_chosen_phone_unregistering_takes_a_ready_agent_off():
    w, store, redis, _ = watch(a1001="ready")
    choose(redis, "1001", "sip")
    await w.on_device_state("PJSIP/web1001", "UNAVAILABLE")  # not the phone they chose
    assert (await store.agent("1001")).state == "ready"
    await w.on_device_state("PJSIP/1001", "UNAVAILABLE")
    agent = await store.agent("1001")
    assert (agent.state, agent.reason, agent.since) == ("not_ready", "phone_unregistered", 50.0)


async def test_becoming_ready_with_an_unregistered_phone_is_undone_at_once():
    w, store, redis, _ = watch(a1001="ready")
    choose(redis, "1001", "webrtc")
    w.states["web1001"] = "UNAVAILABLE"
    await w.on_agent_change(p.AgentChange("1001", "ready", "", "", 1.0))
    assert (await store.agent("1001")).reason == "phone_unregistered"


async def test_an_agent_who_never_chose_is_left_to_the_dialplan():
    w, store, _redis, _ = watch(a1001="ready")
    await w.on_device_state("PJSIP/1001", "UNAVAILABLE")
    assert (await store.agent("1001")).state == "ready"


async def test_a_choice_tells_the_dialplan_and_replaces_a_simulated_phone():
    w, store, redis, ami = watch(a1001="ready")
    ami.devices = {"PJSIP/web1001": "NOT_INUSE", "PJSIP/1001": "UNAVAILABLE", "Local/x": "UNKNOWN"}
    choose(redis, "1001", "webrtc")
    await w.sync()
    assert {(a["Variable"], a["Value"]) for a in ami.sent if a["Action"] == "Setvar"} == {
        ("CC_PHONE_1001", "webrtc"), ("SIMPHONE_1001", "")}
    assert (await store.agent("1001")).state == "ready"  # the browser is registered
    await w.on_device_state("PJSIP/web1001", "UNAVAILABLE")  # the tab closed
    assert (await store.agent("1001")).reason == "phone_unregistered"


def test_the_desktop_and_the_cli_record_a_choice_and_announce_it():
    redis = SyncRedis()
    phones.choose(redis, "1001", "webrtc", now=5.0)
    assert redis.hashes[phones.phone_key("1001")] == {"device": "webrtc", "since": "5.0"}
    assert redis.published == [(phones.PHONE_CHANGES, "1001")]
    with pytest.raises(ValueError):
        phones.choose(redis, "1001\nx", "sip")


# ---------------------------------------------------------------- the router's side
async def test_a_call_that_finds_no_registered_phone_makes_the_agent_not_ready_and_is_no_miss():
    from acd.router import Router

    store = FakeStore(live_agents={"1001": p.AgentSnapshot("1001", "ringing", call="c1")})  # ringing for c1
    store.live_calls["c1"] = p.LiveCall("c1", channel="Local/x", skill="general", agent="1001")
    queues = {"general": p.Queue("general", no_answer_limit=3)}
    manager = AgentManager(store, None, queues, clock=lambda: 9.0)
    router = Router(store, None, manager, {"1001": {"general": 1}}, clock=lambda: 9.0)
    await router.on_user_event({"Event": "UserEvent", "UserEvent": "AgentNoAnswer", "CallId": "c1", "Agent": "1001",
                                "DialStatus": "CHANUNAVAIL", "Channel": "Local/x", "Uniqueid": "c1",
                                "Context": "cc-connect"})
    agent = await store.agent("1001")
    assert (agent.state, agent.reason, agent.misses) == ("not_ready", "phone_unregistered", 0)


# ---------------------------------------------------------------- the IVR's access numbers
def test_an_access_number_starts_the_flow_at_its_entry_or_goes_straight_to_a_skill():
    from datetime import datetime, timezone
    engine = Engine(load_hotline(), lambda: datetime(2026, 11, 22, tzinfo=timezone.utc))
    state = CallState()
    first = engine.start(state, "main_menu")
    assert first.node == "main_menu"
    assert engine.start(CallState(), "no_such_node").node == Engine(load_hotline(), engine.clock).start(
        CallState()).node  # a node the flow lost: its start
    state = CallState()
    handoff = engine.direct(state, "vip")
    assert isinstance(handoff, HandOff) and (handoff.skill, handoff.reason) == ("vip", "access_number")
    assert [step.node for step in state.journey] == ["access_number"]


def test_the_tests_audio_measure_finds_a_tone_in_a_recording_still_being_written(tmp_path):
    """tests/sip/audio.py is what the SIP tests trust: a tone is found, silence is not a tone, and a
    WAV whose sizes PJSIP has not filled in yet (0: the file is still open) is read whole."""
    from tests.sip import audio
    from tests.sip.ua import write_tone

    path = tmp_path / "tone.wav"
    write_tone(str(path), 1000, seconds=3)
    assert audio.dominant(path, 0.5, 1.0) == (1000.0, pytest.approx(1.0, abs=0.01))
    raw = bytearray(path.read_bytes())
    raw[4:8] = raw[40:44] = b"\0\0\0\0"
    (tmp_path / "open.wav").write_bytes(raw)
    assert audio.dominant(tmp_path / "open.wav", 2.0, 0.5)[0] == 1000.0
    write_tone(str(tmp_path / "quiet.wav"), 440, seconds=1)
    quiet = bytearray((tmp_path / "quiet.wav").read_bytes())
    quiet[44:] = bytes(len(quiet) - 44)
    (tmp_path / "quiet.wav").write_bytes(quiet)
    assert audio.rms(tmp_path / "quiet.wav") == 0.0
