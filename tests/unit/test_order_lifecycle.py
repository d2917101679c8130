"""The work-order state machine: every (status, action) pair, allowed or refused, read from one table."""
import pytest

from callcenter.orders import lifecycle
from callcenter.orders.errors import OrderError
from callcenter.orders.lifecycle import InvalidTransition, allowed_actions, next_status, owner_after

# from status     | action           | to status   (every allowed move; anything not here is refused)
ALLOWED = """
new              | assign           | assigned
assigned         | assign           | assigned
in_progress      | assign           | assigned
reopened         | assign           | assigned
new              | start            | in_progress
assigned         | start            | in_progress
reopened         | start            | in_progress
in_progress      | wait_customer    | waiting_customer
waiting_customer | customer_replied | in_progress
in_progress      | resolve          | resolved
resolved         | confirm          | closed
resolved         | close            | closed
resolved         | not_fixed        | reopened
resolved         | reopen           | reopened
closed           | reopen           | reopened
resolved         | no_answer        | resolved
new              | cancel           | cancelled
assigned         | cancel           | cancelled
in_progress      | cancel           | cancelled
waiting_customer | cancel           | cancelled
reopened         | cancel           | cancelled
"""
TABLE = {(f, a): t for f, a, t in ([c.strip() for c in row.split("|")] for row in ALLOWED.strip().splitlines())}


@pytest.mark.parametrize("status", lifecycle.STATUSES)
@pytest.mark.parametrize("action", lifecycle.ACTIONS)
def test_every_pair_is_allowed_exactly_as_the_table_says(status, action):
    if (status, action) in TABLE:
        assert next_status(status, action) == TABLE[(status, action)]
    else:
        with pytest.raises(InvalidTransition) as refused:
            next_status(status, action)
        assert refused.value.code == "INVALID_ORDER_TRANSITION" and refused.value.status == 409


def test_the_table_here_is_the_whole_machine():
    assert {(f, a) for a, moves in lifecycle.TRANSITIONS.items() for f in moves} == set(TABLE)


@pytest.mark.parametrize("action", ["jump", "", "RESOLVE", "resolve ", None])
def test_an_unknown_action_has_its_own_code(action):
    with pytest.raises(OrderError) as refused:
        next_status("new", action)
    assert refused.value.code == "UNKNOWN_ACTION"


def test_closed_and_cancelled_are_final_but_a_closed_order_may_be_reopened():
    assert allowed_actions("cancelled") == []
    assert allowed_actions("closed") == ["reopen"]


def test_a_person_is_never_offered_the_timeouts_close():
    assert "close" not in allowed_actions("resolved")
    assert "close" in allowed_actions("resolved", system=True)
    assert allowed_actions("resolved") == ["confirm", "not_fixed", "reopen", "no_answer"]


# owner before | actor | action | owner after: the first responder keeps it until a hand-over
OWNERS = """
-      | bo1 | start  | bo1
agent1 | bo1 | start  | agent1
bo1    | bo2 | start  | bo1
-      | bo1 | assign | -
bo1    | bo2 | resolve| bo1
"""


@pytest.mark.parametrize("row", OWNERS.strip().splitlines())
def test_first_responder_ownership(row):
    before, actor, action, after = [c.strip() for c in row.split("|")]
    assert owner_after(None if before == "-" else before, actor, action) == (None if after == "-" else after)
