"""The flow runner (the AGI adapter of the engine) against small fake channels."""
from dataclasses import dataclass, field

import pytest

from ivr.runner import FlowRunner, Recorder
from ivr.service import load_hotline


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
