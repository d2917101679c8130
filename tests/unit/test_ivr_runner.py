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
