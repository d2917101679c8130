"""Every AMI Originate's Variable header: Asterisk splits it on commas and reads quotes and
backslashes as its own, and a line break ends the header. A value holding one is refused before
it reaches AMI, never sent: it would set a variable of the sender's choosing, or a header."""
from __future__ import annotations

import pytest

from acd.actions import Actions
from acd.protocol import AgentSnapshot, LiveCall
from callcenter.ami import originate_variables
from callcenter.simulate import originate_caller_action
from tests.unit.fakes import FakeAmi, FakeStore, make_router

HOSTILE = ["x,CC_AGENT=1999", 'x"', "x\\", "x\nAction: Logoff", "x\r\nChannel: PJSIP/evil", "x\x00",
           "x\u2028y"]


def test_names_and_values_are_joined_as_asterisk_splits_them():
    assert originate_variables({"CC_CALL_ID": "1700000000.5", "__SIM_NAME_B64": "aGk="}) == \
        "CC_CALL_ID=1700000000.5,__SIM_NAME_B64=aGk="


@pytest.mark.parametrize("value", HOSTILE, ids=repr)
def test_a_value_that_would_split_or_end_the_header_is_refused(value):
    with pytest.raises(ValueError):
        originate_variables({"CC_CALL_ID": value})


@pytest.mark.parametrize("name", ["", "A=B", "A,B", "1A", "A\nB", "A B"])
def test_a_name_that_is_not_a_plain_variable_name_is_refused(name):
    with pytest.raises(ValueError):
        originate_variables({name: "1"})


# a call back's id: an Asterisk uniqueid, a simulated caller's (hex-2), a request with no call of
# its own (callback-request-<id>), or a call id stored in the database
@pytest.mark.parametrize("call_id", ["1795957917.254", "1153c96b7dfe4278838e879e-2", "callback-request-7",
                                     "out-of-hours-893fceff1667"])
async def test_a_call_back_of_any_plain_call_id_is_dialled(call_id):
    ami = FakeAmi()
    assert await Actions(ami).originate_callback(call_id, "1001", "13800000001", 15)
    [action] = ami.named("Originate")
    assert action["Variable"] == f"CC_CALL_ID={call_id},CC_AGENT=1001,CC_CALLBACK_NUMBER=13800000001"


@pytest.mark.parametrize("call_id", HOSTILE, ids=repr)
async def test_a_call_back_whose_id_would_set_another_variable_is_not_sent(call_id):
    ami = FakeAmi()
    with pytest.raises(ValueError):
        await Actions(ami).originate_callback(call_id, "1001", "13800000001", 15)
    assert ami.actions == []


def test_a_simulated_callers_variables_go_through_the_same_check():
    action = originate_caller_action("10000", "13800000001", any_name='a,b"c\nd')  # any name: base64
    assert action["Variable"].startswith("SIM_WAIT=1,SIM_HOLD=30,__SIM_NAME_B64=")
    assert action["Variable"].count(",") == 2


async def test_a_call_back_whose_id_cannot_be_sent_lets_its_agent_go():
    """The Originate is refused before it is sent; the agent, made ringing for it, was left ringing
    for ever (no AgentAnswered, no CallbackEnded ever comes): now the agent is let go at once."""
    uid = "x,CC_AGENT=1999"
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "reserved", since=1.0, call=uid)})
    router = make_router(store, skills={"1001": {"billing": 1}}, clock=lambda: 100.0)
    await store.put_call(LiveCall(uid, kind="callback", number="13800000001", skill="billing", agent="1001"))
    await router._dial_callback("1001", await store.call(uid))
    assert [f"{c.ext} {c.state}" for c in store.changes] == ["1001 ringing", "1001 ready"]
    assert await store.call(uid) is None and router.actions.ami.actions == []
