import pytest

from acd.agent_state import InvalidTransition, next_state

# from, event, reason -> to, reason
PATHS = """
logged_out | login     |          | not_ready | login
not_ready  | ready     |          | ready     |
ready      | reserve   |          | reserved  |
reserved   | ring      |          | ringing   |
ringing    | answer    |          | on_call   |
on_call    | hangup    |          | wrapup    |
wrapup     | ready     |          | ready     |
ringing    | no_answer |          | not_ready | no_answer
ringing    | release   |          | ready     |
not_ready  | not_ready | meal     | not_ready | meal
ready      | logout    |          | logged_out|
"""


@pytest.mark.parametrize("row", PATHS.strip().splitlines())
def test_transitions(row):
    frm, event, reason, to, to_reason = [c.strip() for c in row.split("|")]
    assert next_state(frm, event, reason or None) == (to, to_reason or None)


@pytest.mark.parametrize("frm, event, reason", [
    ("on_call", "ready", None), ("wrapup", "reserve", None), ("logged_out", "ready", None),
    ("ready", "not_ready", None), ("ready", "not_ready", "nap"), ("on_call", "logout", None),
])
def test_refused(frm, event, reason):
    with pytest.raises(InvalidTransition):
        next_state(frm, event, reason)
