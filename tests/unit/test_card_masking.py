"""A recharge card's number is never shown whole: not in the journey the IVR writes (test_flow),
nor in the screen-pop, even for a journey stored before the IVR masked it."""
from datetime import datetime, timezone

import pytest

from agent_desktop.screen_pop import build_pop
from callcenter import db
from callcenter.masking import mask_long_numbers, mask_middle
from callcenter.models import JourneyStep

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("keys, shown", [
    ("8831467591707476", "8831********7476"), ("123456789012", "1234****9012"), ("12345678901", "***********"),
    ("", ""),
])
def test_mask_middle(keys, shown):
    assert mask_middle(keys) == shown


@pytest.mark.parametrize("text, shown", [
    ("8831467591707476", "8831********7476"), ("13800000001", "13800000001"), ("2610000001", "2610000001"),
    ("1", "1"), (None, None), ("******", "******"), ("8831********7476", "8831********7476"),
])
def test_long_numbers_are_masked_short_ones_kept(text, shown):
    assert mask_long_numbers(text) == shown


def test_the_screen_pop_never_shows_a_whole_card_number(migrated_db):
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        s.add_all([JourneyStep(call_uniqueid="1700000000.5", seq=0, at=NOW, node="card_number",
                               input="8831467591707476", outcome="ok"),  # as stored before the IVR masked it
                   JourneyStep(call_uniqueid="1700000000.5", seq=1, at=NOW, node="service_number",
                               input="13800000001", outcome="ok")])
        s.commit()
        pop = build_pop(s, "1700000000.5", None, NOW.timestamp())
    assert [j["input"] for j in pop["journey"]] == ["8831********7476", "13800000001"]
