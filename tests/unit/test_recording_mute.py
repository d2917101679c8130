"""Muting the recording while a secret is keyed (ivr/recording_mute.py, ivr/runner.py): around the
password's prompt and keys only, confirmed by Asterisk's MixMonitorMute event, failing safe when
no confirmation comes; and the recording notice before the menu, per access number."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import pytest

from callcenter import db
from ivr.recording_mute import MuteNotConfirmed, RecordingMute
from ivr.runner import FlowRunner
from ivr.service import build_recorder, load_hotline, recording_notices
from tests.unit.test_ivr_runner import NOW, KeyingChannel


@dataclass
class FakeAmi:
    """Answers MixMonitorMute; sends its event (unless told not to) as Asterisk does."""
    confirm: bool = True
    accept: bool = True
    sent: list = field(default_factory=list)
    handlers: dict = field(default_factory=dict)
    uniqueid: str = "1700000000.5"

    def register_event(self, name, handler):
        self.handlers[name] = handler

    async def send_action(self, action):
        self.sent.append(dict(action))
        if self.confirm and self.accept:
            event = {"Event": "MixMonitorMute", "Uniqueid": self.uniqueid, "Channel": action["Channel"],
                     "Direction": action["Direction"], "State": action["State"]}
            asyncio.get_running_loop().call_soon(self.handlers["MixMonitorMute"], self, event)
        return {"Response": "Success" if self.accept else "Error"}


def muter(ami: FakeAmi) -> RecordingMute:
    async def connect():
        return ami
    return RecordingMute(connect, confirm_s=0.5)


async def test_a_mute_is_confirmed_by_its_event():
    ami = FakeAmi()
    mute = muter(ami)
    await mute("PJSIP/trunk-0001", ami.uniqueid, True)
    await mute("PJSIP/trunk-0001", ami.uniqueid, False)
    assert [(a["Action"], a["Channel"], a["Direction"], a["State"]) for a in ami.sent] == [
        ("MixMonitorMute", "PJSIP/trunk-0001", "both", "1"), ("MixMonitorMute", "PJSIP/trunk-0001", "both", "0")]


@pytest.mark.parametrize("ami", [FakeAmi(confirm=False), FakeAmi(accept=False)])
async def test_no_confirmation_is_a_failure(ami):
    with pytest.raises(MuteNotConfirmed):
        await muter(ami)("Local/x-0001;2", ami.uniqueid, True)


async def test_a_channel_name_with_a_comma_never_reaches_ami():
    ami = FakeAmi()
    with pytest.raises(ValueError):
        await muter(ami)("Local/x,y", ami.uniqueid, True)
    assert ami.sent == []


@dataclass
class MuteLog:
    calls: list = field(default_factory=list)
    fail: bool = False

    async def __call__(self, channel, uniqueid, on):
        self.calls.append((channel, on))
        if self.fail:
            raise MuteNotConfirmed("no event")


def runner_for(tmp_path, migrated_db, mute, notice=None):
    from ivr.services import HotlineServices
    from callcenter.config import Settings

    sessions = db.session_factory(migrated_db)
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "DATABASE_URL": migrated_db})
    return sessions, FlowRunner(load_hotline(), tmp_path, HotlineServices(sessions, tmp_path / "business_hours.toml"),
                                build_recorder(settings), clock=lambda: NOW, entry="agent_verify", mute=mute)


async def test_the_password_prompt_and_keys_are_muted_and_nothing_else(migrated_db, tmp_path):
    from tests.integration.helpers import make_customer

    mute = MuteLog()
    sessions, runner = runner_for(tmp_path, migrated_db, mute)
    customer_id, number = make_customer(sessions, password="135790", number="13800000078")
    channel = KeyingChannel({"agi_callerid": number, "agi_channel": "Local/10000@hotline-0001;2"}, "1700000000.78",
                            [*"135790", ""])
    muted_while = []
    original_stream, original_wait = channel.stream_file, channel.wait_for_digit

    async def stream_file(path, escape_digits=""):
        muted_while.append((path.rsplit("/", 1)[-1], bool(mute.calls) and mute.calls[-1][1]))
        return await original_stream(path, escape_digits)

    async def wait_for_digit(timeout_s):
        key = await original_wait(timeout_s)
        muted_while.append(("key " + key, mute.calls[-1][1]))
        return key
    channel.stream_file, channel.wait_for_digit = stream_file, wait_for_digit
    await runner(channel)
    assert mute.calls == [("Local/10000@hotline-0001;2", True), ("Local/10000@hotline-0001;2", False)]
    assert ("ask_password", True) in muted_while and ("password_verified", False) in muted_while
    assert all(on for what, on in muted_while if what.startswith("key ") and what != "key ")


async def test_an_unconfirmed_mute_takes_no_secret(migrated_db, tmp_path):
    from tests.integration.helpers import make_customer

    mute = MuteLog(fail=True)
    sessions, runner = runner_for(tmp_path, migrated_db, mute)
    _customer_id, number = make_customer(sessions, password="135790", number="13800000079")
    channel = KeyingChannel({"agi_callerid": number, "agi_channel": "Local/x;2"}, "1700000000.79", [*"135790", ""])
    with pytest.raises(MuteNotConfirmed):  # the FastAGI fail-safe then sends the caller to an agent
        await runner(channel)
    assert channel.keys == [*"135790", ""] and "ask_password" not in channel.played  # not asked, not keyed


def test_the_recording_notice_follows_the_access_number(migrated_db):
    from callcenter.models import AccessNumber, Carrier

    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        carrier = Carrier(name="c", host="192.0.2.1")
        carrier.numbers += [AccessNumber(number="10000"), AccessNumber(number="10001", recording_notice=False)]
        s.add(carrier)
        s.commit()
    notice = recording_notices(sessions)
    assert (notice("10000"), notice("10001"), notice("99999")) == (True, False, False)  # 99999: no carrier's number


def test_the_notice_is_set_per_number_from_the_cli(migrated_db, tmp_path, monkeypatch, capsys):
    from callcenter import cli
    from callcenter.models import AccessNumber, Carrier

    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        s.add(Carrier(name="c", host="192.0.2.1", numbers=[AccessNumber(number="10002")]))
        s.commit()
    monkeypatch.setenv("CALLCENTER_HOME", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert cli.main(["recordings", "notice", "10002", "off"]) == 0
    assert recording_notices(sessions)("10002") is False
    assert cli.main(["recordings", "notice", "10002", "on"]) == 0 and recording_notices(sessions)("10002") is True
    assert cli.main(["recordings", "notice", "55555", "off"]) == 2
    assert "NO_SUCH_NUMBER" in capsys.readouterr().err
    assert cli.main(["recordings", "notice"]) == 2


def test_every_input_asking_for_a_secret_is_marked_secret_so_it_is_muted():
    # A flow edit that asks for a password or PIN without `secret = true` would put it in the
    # recording (and the journey): the prompts that ask for one name the nodes that must be secret.
    flow = load_hotline()
    asking = {name for name, node in flow.nodes.items() if node.type == "input"
              and any(isinstance(p, str) and ("password" in p or "pin" in p) for p in node.prompts)}
    assert {"password", "card_pin", "pwd_old", "pwd_new", "pwd_new_again"} <= asking
    assert {name for name in asking if not flow.nodes[name].get("secret")} == set()
