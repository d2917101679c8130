"""The flow runner (the AGI adapter of the engine) against small fake channels."""
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.config import Settings
from callcenter.models import Call, JourneyStep
from ivr.engine import JourneyEntry
from ivr.runner import FlowRunner, Recorder
from ivr.service import build_recorder, load_hotline

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


@dataclass
class AnsweringChannel:
    """A channel whose every GET VARIABLE is answered: what a caller's spilled name can do."""
    headers: dict
    uniqueid: str = ""
    asked: list = field(default_factory=list)

    async def get_variable(self, name: str) -> str:
        self.asked.append(name)
        return "1700000000.666"


async def test_a_call_without_a_uniqueid_header_is_not_asked_for_one(tmp_path):
    recorded = []
    runner = FlowRunner(load_hotline(), tmp_path, services=None,
                        recorder=Recorder(journey=lambda *a: recorded.append(a), call=lambda *a: recorded.append(a)))
    channel = AnsweringChannel(headers={"agi_callerid": "13800000001"})
    with pytest.raises(ValueError, match="uniqueid"):
        await runner(channel)
    assert channel.asked == [] and recorded == []  # nothing forged reaches the database


def test_what_the_ivr_stores_fits_its_columns(migrated_db, tmp_path):
    # SQLite stores a string of any length; PostgreSQL refuses one longer than its column, and
    # the write would fail the call. A caller chooses their number's and name's length.
    recorder = build_recorder(Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "DATABASE_URL": migrated_db}))
    recorder.call("1700000000.9", {"caller_number": "1" * 40, "caller_name": "N" * 200, "access_number": "2" * 30,
                                   "handoff_reason": "invalid_input_x3_at_" + "n" * 80})
    recorder.journey("1700000000.9", 0, [JourneyEntry(NOW, "main_menu", "1" * 60, "x" * 100)])
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == "1700000000.9"))
        step = s.scalar(select(JourneyStep).where(JourneyStep.call_uniqueid == "1700000000.9"))
    assert (len(call.caller_number), len(call.caller_name), len(call.access_number), len(call.handoff_reason)) == (
        32, 80, 20, 64)
    assert call.caller_number == "1" * 32 and len(step.input) == 40 and len(step.outcome) == 80


@dataclass
class KeyingChannel:
    """A caller keying `keys` one per prompt or wait; what was played and set is kept."""
    headers: dict
    uniqueid: str
    keys: list
    played: list = field(default_factory=list)
    variables: dict = field(default_factory=dict)

    async def stream_file(self, path: str, escape_digits: str = "") -> str:
        self.played.append(path.rsplit("/", 1)[-1])
        return self.keys.pop(0) if escape_digits and self.keys else ""

    async def wait_for_digit(self, timeout_s: float) -> str:
        return self.keys.pop(0) if self.keys else ""

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value


async def test_the_agents_password_check_adds_to_the_journey_and_sets_only_the_result(migrated_db, tmp_path):
    from ivr.services import HotlineServices
    from tests.integration.helpers import make_customer

    sessions = db.session_factory(migrated_db)
    customer_id, number = make_customer(sessions, password="135790", number="13800000077")
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "DATABASE_URL": migrated_db})
    recorder = build_recorder(settings)
    uid = "1700000000.77"
    recorder.call(uid, {"caller_number": number, "customer_id": customer_id, "handoff_reason": "caller_asked"})
    recorder.journey(uid, 0, [JourneyEntry(NOW, "main_menu", "0", None), JourneyEntry(NOW, "to_agent", None, "x")])
    runner = FlowRunner(load_hotline(), tmp_path, HotlineServices(sessions, tmp_path / "business_hours.toml"),
                        recorder, clock=lambda: NOW, entry="agent_verify")
    channel = KeyingChannel({"agi_callerid": number}, uid, [*"111111", "", *"135790", ""])  # "": no 7th key
    await runner(channel)
    assert channel.variables == {"__CC_VERIFIED": "1", "CC_IVR_RESULT": "ok"}  # no skill, reason or path
    assert "password_wrong" in channel.played and "password_verified" in channel.played
    with sessions() as s:
        steps = s.execute(select(JourneyStep.seq, JourneyStep.node, JourneyStep.outcome)
                          .where(JourneyStep.call_uniqueid == uid).order_by(JourneyStep.seq)).all()
        call = s.scalar(select(Call).where(Call.uniqueid == uid))
    assert [seq for seq, _, _ in steps] == list(range(len(steps)))
    assert [(n, o) for _, n, o in steps if n in ("agent_verify", "verify_password")] == [
        ("agent_verify", "sent by agent"), ("agent_verify", "known"), ("verify_password", "wrong"),
        ("verify_password", "ok")]
    assert call.password_verified and call.handoff_reason == "caller_asked"
