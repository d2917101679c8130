"""Live monitoring: who may listen, whisper or barge (acd/monitor.py), the ChanSpy options built
from the mode, and the router's sessions (acd/monitoring.py) over small fakes of Redis and AMI:
what is sent to Asterisk, what is audited, and how a session ends.

The real thing (a real Asterisk ringing a phone that hears the call, tones measured) is
tests/integration/test_monitoring.py.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from acd.actions import Actions
from acd import protocol as p
from acd.monitor import (BASE_OPTIONS, MONITOR_ROLES, Mode, agent_told, allowed_modes, chanspy_options, keyed_mode,
                         refusal, switch_digit)
from acd.monitoring import Monitors
from acd.protocol import AcdError, AgentSnapshot, LiveCall
from callcenter.config import ConfigError, Settings
from tests.unit.fakes import FakeAmi, FakeStore

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")
AGENT_LEG = "Local/1001@cc-agent-phones-0001;1"


# ---------------------------------------------------------------- the rule, table-driven
#  role          mode      on the agent's team   answer
RULES = [
    (None,         "listen",  True,  "UNAUTHORIZED"),
    ("agent",      "listen",  True,  "FORBIDDEN"),
    ("admin",      "listen",  True,  "FORBIDDEN"),
    ("backoffice", "listen",  True,  "FORBIDDEN"),
    ("supervisor", "sing",    True,  "BAD_MONITOR_MODE"),
    ("supervisor", "listen",  False, "NOT_YOUR_TEAM"),
    ("supervisor", "barge",   False, "NOT_YOUR_TEAM"),
    ("supervisor", "listen",  True,  None),
    ("supervisor", "whisper", True,  None),
    ("supervisor", "barge",   True,  None),
    ("quality",    "listen",  False, None),  # any team's calls
    ("quality",    "whisper", False, "LISTEN_ONLY"),
    ("quality",    "barge",   True,  "LISTEN_ONLY"),
]


@pytest.mark.parametrize("role, mode, team, code", RULES)
def test_who_may_monitor_in_which_mode(role, mode, team, code):
    assert refusal(role, Mode.parse(mode), team) == code


def test_every_role_and_mode_has_one_answer():
    for role in ROLES:
        for mode in Mode:
            code = refusal(role, mode, on_their_team=True)
            assert (code is None) == (mode in allowed_modes(role))
            assert (role in MONITOR_ROLES) or code == "FORBIDDEN"


@pytest.mark.parametrize("value", ["listen ", "LISTEN", "", None, 1, ["listen"], "listen,B", "qB"])
def test_a_mode_is_one_of_three_words_and_nothing_else(value):
    assert Mode.parse(value) is None


# ---------------------------------------------------------------- ChanSpy's options
@pytest.mark.parametrize("mode, role, options", [
    (Mode.LISTEN, "supervisor", "qESd"),
    (Mode.WHISPER, "supervisor", "qESdw"),
    (Mode.BARGE, "supervisor", "qESdB"),
    (Mode.LISTEN, "quality", "qES"),  # no d: keys on the inspector's phone switch nothing
])
def test_options_are_built_from_the_mode_and_role(mode, role, options):
    assert chanspy_options(mode, role) == options
    assert chanspy_options(mode, role).startswith(BASE_OPTIONS)


@pytest.mark.parametrize("mode, role", [(Mode.WHISPER, "quality"), (Mode.BARGE, "quality"), (Mode.LISTEN, "agent")])
def test_no_options_for_a_mode_the_role_may_not_use(mode, role):
    with pytest.raises(ValueError):
        chanspy_options(mode, role)


def test_the_switch_digits_are_chanspys_4_5_6():
    assert [switch_digit(m) for m in (Mode.LISTEN, Mode.WHISPER, Mode.BARGE)] == ["4", "5", "6"]


@pytest.mark.parametrize("setting, told", [
    ("never", set()), ("coaching", {Mode.WHISPER, Mode.BARGE}), ("always", set(Mode))])
def test_the_agent_is_told_as_the_center_says(setting, told):
    assert {m for m in Mode if agent_told(setting, m)} == told


def test_the_notice_setting_is_checked():
    assert Settings.from_env({}).monitor_notice == "coaching"
    assert Settings.from_env({"CC_MONITOR_NOTICE": "always"}).monitor_notice == "always"
    with pytest.raises(ConfigError):
        Settings.from_env({"CC_MONITOR_NOTICE": "sometimes"})


# ---------------------------------------------------------------- the AMI actions
async def test_the_originate_points_chanspy_at_the_named_leg_with_the_built_options():
    ami = FakeAmi()
    ok = await Actions(ami).start_spy("mon0123456789abcdef0123", "1801", AGENT_LEG, "qESdw", 20)
    assert ok
    (originate,) = ami.named("Originate")
    assert originate["Channel"] == "Local/1801@cc-agent-phones/n"
    assert originate["Application"] == "ChanSpy" and originate["Data"] == f"{AGENT_LEG},qESdw"
    assert originate["ChannelId"] == "mon0123456789abcdef0123"


@pytest.mark.parametrize("channel, options, listener", [
    ("Local/1001@x;1,qB", "q", "1801"),  # a comma: one more ChanSpy argument
    ("Local/1001@x;1\r\nAction: Hangup", "q", "1801"),
    ("SIP/other", "q", "1801"),
    (AGENT_LEG, "q,B", "1801"),
    (AGENT_LEG, "q(x)", "1801"),
])
def test_a_target_or_options_of_another_shape_reach_no_ami(channel, options, listener):
    ami = FakeAmi()
    with pytest.raises(ValueError):
        Actions(ami).start_spy("mon0123456789abcdef0123", listener, channel, options, 20)
    assert ami.actions == []


async def test_a_switch_is_a_digit_received_on_the_monitors_own_leg():
    ami = FakeAmi()
    assert await Actions(ami).spy_key("Local/1801@cc-agent-phones-0009;1", "6")
    (key,) = ami.named("PlayDTMF")
    assert key["Digit"] == "6" and key["Receive"] == "true"
    with pytest.raises(ValueError):
        await Actions(ami).spy_key("Local/1801@cc-agent-phones-0009;1", "6#")


# ---------------------------------------------------------------- sessions (acd/monitoring.py)
@dataclass
class FakeRedis:
    """The few async Redis commands a monitoring session uses."""
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)

    async def hgetall(self, key):
        return dict(self.hashes.get(key, {}))

    async def hset(self, key, mapping):
        self.hashes.setdefault(key, {}).update(mapping)

    async def exists(self, key):
        return int(key in self.hashes)

    async def delete(self, key):
        return int(self.hashes.pop(key, None) is not None)

    async def sadd(self, key, member):
        self.sets.setdefault(key, set()).add(member)

    async def srem(self, key, member):
        self.sets.get(key, set()).discard(member)

    async def smembers(self, key):
        return set(self.sets.get(key, set()))

    async def set(self, key, value, nx=False, ex=None):
        if nx and key in self.strings:
            return None
        self.strings[key] = value
        return True


@dataclass
class SpyAmi(FakeAmi):
    """FakeAmi whose Originate answers when the test says, and whose channels the test lists."""
    channels: dict[str, str] = field(default_factory=dict)  # uniqueid -> channel name
    answer: asyncio.Future | None = None

    def send_action(self, action, as_list=False):
        """As panoramisk's: the action is written at once; the answer is awaited later."""
        if action["Action"] == "CoreShowChannels":
            self.actions.append(action)
            return self._now([{"Event": "CoreShowChannel", "Uniqueid": u, "Channel": c}
                              for u, c in self.channels.items()])
        if action["Action"] == "Originate" and self.answer is not None:
            self.actions.append(action)
            return self.answer
        return super().send_action(action, as_list)

    @staticmethod
    async def _now(value):
        return value


def world(held: bool = False):
    store = FakeStore.with_agents(a1001="on_call")
    store.live_agents["1001"] = AgentSnapshot("1001", "on_call", call="c1")
    store.live_calls["c1"] = LiveCall("c1", channel="Local/10000@hotline-0001;2", agent="1001", held=held,
                                      agent_channel="Local/1001@cc-agent-phones-0002;1" if held else "")
    store.redis = FakeRedis()
    ami = SpyAmi()
    ami.answer = asyncio.get_running_loop().create_future()
    audit: list[tuple] = []

    async def record(*row):
        audit.append(row)
    clock = iter(range(1000, 2000, 10))
    return Monitors(store, Actions(ami), record, clock=lambda: float(next(clock))), ami, audit


async def settle():
    for _ in range(5):
        await asyncio.sleep(0)


async def test_start_rings_the_monitor_spies_on_the_agents_leg_and_is_audited():
    monitors, ami, audit = world()
    session = await monitors.start("c1", "whisper", "lead", "supervisor", "1801")
    (originate,) = ami.named("Originate")
    assert originate["Data"] == f"{AGENT_LEG},qESdw"  # the caller's bridge peer, found from the call id
    assert audit == [("lead", "monitor_start", "c1", "mode whisper; agent 1001; rings 1801")]
    assert (await monitors.session(session.id)).answered == 0
    ami.answer.set_result([{"Event": "OriginateResponse", "Response": "Success"}])
    await settle()
    assert (await monitors.session(session.id)).answered > 0


async def test_a_held_call_is_spied_on_the_parked_agent_leg():
    monitors, ami, _audit = world(held=True)
    await monitors.start("c1", "listen", "qa", "quality", "1802")
    assert ami.named("Originate")[0]["Data"] == "Local/1001@cc-agent-phones-0002;1,qES"
    assert not ami.named("Getvar")


@pytest.mark.parametrize("call, mode, role, code", [
    ("c1", "barge", "quality", "LISTEN_ONLY"),
    ("c1", "sing", "supervisor", "BAD_MONITOR_MODE"),
    ("c1", "listen", "agent", "FORBIDDEN"),
    ("nope", "listen", "supervisor", "NO_SUCH_CALL"),
])
async def test_the_router_refuses_again_whatever_the_desktop_let_through(call, mode, role, code):
    monitors, ami, audit = world()
    with pytest.raises(AcdError) as refused:
        await monitors.start(call, mode, "someone", role, "1801")
    assert refused.value.code == code
    assert not ami.named("Originate") and audit == []


async def test_a_call_not_talking_to_an_agent_is_not_monitored():
    monitors, ami, _audit = world()
    monitors.store.live_agents["1001"] = AgentSnapshot("1001", "wrapup", call="c1")
    with pytest.raises(AcdError, match="not talking") as refused:
        await monitors.start("c1", "listen", "lead", "supervisor", "1801")
    assert refused.value.code == "NOT_ON_CALL" and not ami.named("Originate")


async def test_switch_sends_the_mode_digit_and_audits_the_time_in_the_last_mode():
    monitors, ami, audit = world()
    session = await monitors.start("c1", "listen", "lead", "supervisor", "1801")
    with pytest.raises(AcdError) as early:
        await monitors.switch(session.id, "barge", "lead", "supervisor")
    assert early.value.code == "MONITOR_NOT_ANSWERED"
    ami.answer.set_result([{"Event": "OriginateResponse", "Response": "Success"}])
    await settle()
    ami.channels[session.id] = "Local/1801@cc-agent-phones-0009;1"
    changed = await monitors.switch(session.id, "barge", "lead", "supervisor")
    assert changed.mode == "barge"
    (key,) = ami.named("PlayDTMF")
    assert key["Channel"] == "Local/1801@cc-agent-phones-0009;1" and key["Digit"] == "6"
    assert audit[-1][:3] == ("lead", "monitor_switch", "c1") and audit[-1][3].startswith("mode listen -> barge after ")
    with pytest.raises(AcdError) as other:  # only its own monitor switches a session
        await monitors.switch(session.id, "listen", "other_lead", "supervisor")
    assert other.value.code == "NO_SUCH_MONITOR"


async def test_stop_hangs_up_the_monitors_leg_and_writes_how_long():
    monitors, ami, audit = world()
    session = await monitors.start("c1", "listen", "lead", "supervisor", "1801")
    ami.answer.set_result([{"Event": "OriginateResponse", "Response": "Success"}])
    await settle()
    ami.channels[session.id] = "Local/1801@cc-agent-phones-0009;1"
    stopped, listened = await monitors.stop(session.id, "lead")
    assert stopped.id == session.id and listened > 0
    assert ami.named("Hangup")[0]["Channel"] == "Local/1801@cc-agent-phones-0009;1"
    assert audit[-1][1] == "monitor_stop" and "mode listen; listened " in audit[-1][3]
    assert await monitors.session(session.id) is None and await monitors.sessions() == []
    await monitors.leg_gone(session.id)  # its Hangup, heard afterwards: nothing more
    assert [row[1] for row in audit] == ["monitor_start", "monitor_stop"]


async def test_the_call_ending_ends_the_session_once_though_two_routers_hear_it():
    monitors, ami, audit = world()
    session = await monitors.start("c1", "whisper", "lead", "supervisor", "1801")
    ami.answer.set_result([{"Event": "OriginateResponse", "Response": "Success"}])
    await settle()
    twin = Monitors(monitors.store, monitors.actions, monitors.audit, clock=monitors.clock)
    await asyncio.gather(monitors.leg_gone(session.id), twin.leg_gone(session.id))
    ends = [row for row in audit if row[1] == "monitor_end"]
    assert len(ends) == 1 and ends[0][0] == "lead" and ends[0][2] == "c1" and "mode whisper" in ends[0][3]


async def test_an_unanswered_monitor_phone_ends_the_session():
    monitors, ami, audit = world()
    session = await monitors.start("c1", "listen", "lead", "supervisor", "1801")
    ami.answer.set_result([{"Event": "OriginateResponse", "Response": "Failure"}])
    await settle()
    assert await monitors.session(session.id) is None
    assert audit[-1][1] == "monitor_end" and "did not answer" in audit[-1][3]


async def test_one_call_at_a_time_per_monitor():
    monitors, ami, _audit = world()
    session = await monitors.start("c1", "listen", "lead", "supervisor", "1801")
    ami.channels[session.id] = "Local/1801@cc-agent-phones-0009;1"  # still up
    with pytest.raises(AcdError) as busy:
        await monitors.start("c1", "listen", "lead", "supervisor", "1801")
    assert busy.value.code == "ALREADY_MONITORING"


# ---------------------------------------------------------------- keys pressed on the monitor's own phone
async def answered_session(role="supervisor", mode="listen"):
    monitors, ami, audit = world()
    told: list = []

    async def tell(switched):
        told.append(switched)
    monitors.on_changed = tell
    session = await monitors.start("c1", mode, "lead" if role == "supervisor" else "qa", role, "1801")
    ami.answer.set_result([{"Event": "OriginateResponse", "Response": "Success"}])
    await settle()
    ami.channels[session.id] = "Local/1801@cc-agent-phones-0009;1"
    return monitors, ami, audit, told, session


@pytest.mark.parametrize("digit, role, mode", [
    ("4", "supervisor", Mode.LISTEN), ("5", "supervisor", Mode.WHISPER), ("6", "supervisor", Mode.BARGE),
    ("7", "supervisor", None), ("*", "supervisor", None), ("", "supervisor", None), ("56", "supervisor", None),
    ("5", "quality", None),  # an inspector's ChanSpy has no d: their keys switch nothing
    ("5", "agent", None),
])
def test_which_keyed_digit_switches_chanspy(digit, role, mode):
    assert keyed_mode(digit, role) == mode


async def test_a_mode_keyed_on_the_supervisors_phone_is_stored_audited_and_told():
    monitors, ami, audit, told, session = await answered_session()
    changed = await monitors.keyed(session.id, "6")
    assert changed.mode == "barge" and (await monitors.session(session.id)).mode == "barge"
    assert audit[-1][:3] == ("lead", "monitor_switch", "c1")
    assert audit[-1][3].startswith("mode listen -> barge after ") and audit[-1][3].endswith("keyed on the phone")
    assert told == [p.MonitorChanged(monitor=session.id, call="c1", agent="1001", by="lead", mode="barge", was="listen")]
    assert not ami.named("PlayDTMF")  # ChanSpy switched on the key itself: nothing is sent
    # the same mode keyed again, another digit, the other half of the leg: no switch
    for uid, digit in ((session.id, "6"), (session.id, "9"), (session.id + "-2", "4"), ("1764412345.17", "4")):
        assert await monitors.keyed(uid, digit) is None
    assert len(audit) == 2 and len(told) == 1


async def test_the_wallboards_own_digit_heard_back_is_no_second_switch():
    monitors, ami, audit, told, session = await answered_session()
    await monitors.switch(session.id, "whisper", "lead", "supervisor")
    (key,) = ami.named("PlayDTMF")
    assert await monitors.keyed(session.id, key["Digit"]) is None  # its DTMFEnd, heard after the switch
    assert [row[1] for row in audit] == ["monitor_start", "monitor_switch"] and told == []
    assert "keyed" not in audit[-1][3]


async def test_two_routers_hearing_the_same_key_write_one_switch():
    monitors, ami, audit, told, session = await answered_session()
    twin = Monitors(monitors.store, monitors.actions, monitors.audit, clock=monitors.clock,
                    on_changed=monitors.on_changed)
    results = await asyncio.gather(monitors.keyed(session.id, "5"), twin.keyed(session.id, "5"))
    assert sorted(r is not None for r in results) == [False, True]
    assert [row[1] for row in audit] == ["monitor_start", "monitor_switch"] and len(told) == 1


async def test_keys_in_a_row_are_taken_in_order_and_each_audited():
    monitors, ami, audit, told, session = await answered_session()
    await asyncio.gather(*(monitors.keyed(session.id, d) for d in "5645"))
    assert [s.mode for s in told] == ["whisper", "barge", "listen", "whisper"]
    assert (await monitors.session(session.id)).mode == "whisper"
    # and a switch from the wallboard afterwards starts from the mode the phone left
    await monitors.switch(session.id, "barge", "lead", "supervisor")
    assert audit[-1][3].startswith("mode whisper -> barge")


async def test_an_inspectors_keys_change_nothing():
    monitors, ami, audit, told, session = await answered_session(role="quality")
    for digit in "456":
        assert await monitors.keyed(session.id, digit) is None
    assert (await monitors.session(session.id)).mode == "listen" and told == [] and len(audit) == 1


async def test_a_key_after_the_session_ended_brings_nothing_back():
    monitors, ami, audit, told, session = await answered_session()
    await monitors.stop(session.id, "lead")
    assert await monitors.keyed(session.id, "6") is None
    assert monitors.store.redis.hashes.get(p.monitor_key(session.id)) is None


async def test_a_refused_wallboard_switch_leaves_the_mode_chanspy_is_in():
    monitors, ami, audit, told, session = await answered_session()
    ami.refuse.add("PlayDTMF")
    with pytest.raises(AcdError) as failed:
        await monitors.switch(session.id, "barge", "lead", "supervisor")
    assert failed.value.code == "MONITOR_FAILED"
    assert (await monitors.session(session.id)).mode == "listen"
    assert await monitors.keyed(session.id, "5")  # the phone's next key is still a switch
    assert (await monitors.session(session.id)).mode == "whisper"


async def test_an_end_the_wallboard_did_not_ask_for_is_told_once():
    monitors, ami, audit, told, session = await answered_session(mode="whisper")
    twin = Monitors(monitors.store, monitors.actions, monitors.audit, clock=monitors.clock,
                    on_changed=monitors.on_changed)
    await asyncio.gather(monitors.leg_gone(session.id), twin.leg_gone(session.id))  # the monitor hung up
    assert told == [p.MonitorChanged(monitor=session.id, call="c1", agent="1001", by="lead", mode="", was="whisper")]
