"""Actions.bridge_peer: the agent's answer is announced just before Dial bridges the two legs, so
hold, verify and monitoring ask again for the peer for a moment instead of refusing at once."""
from __future__ import annotations

import pytest

from acd.actions import Actions
from acd.protocol import AcdError

PEER = "Local/1001@cc-agent-phones-0001;1"


class BridgesLater:
    """Getvar BRIDGEPEER answers empty `empty_times` times, then the peer; or an Error (channel gone)."""

    def __init__(self, empty_times: int, gone: bool = False):
        self.empty_times, self.gone, self.asked = empty_times, gone, 0

    async def send_action(self, action, as_list=False):
        if action["Action"] == "Getvar":
            self.asked += 1
            if self.gone:
                return {"Response": "Error", "Message": "No such channel"}
            return {"Response": "Success", "Value": "" if self.asked <= self.empty_times else PEER}
        return {"Response": "Success"}


@pytest.mark.parametrize("empty_times", [0, 1, 5])
async def test_the_peer_is_found_once_the_bridge_forms(empty_times):
    ami = BridgesLater(empty_times)
    assert await Actions(ami).bridge_peer("PJSIP/trunk-1", every_s=0) == PEER
    assert ami.asked == empty_times + 1


async def test_never_bridged_gives_up_after_its_tries():
    ami = BridgesLater(empty_times=10**6)
    assert await Actions(ami).bridge_peer("PJSIP/trunk-1", tries=4, every_s=0) == ""
    assert ami.asked == 4


async def test_a_channel_that_is_gone_is_not_asked_again():
    ami = BridgesLater(empty_times=0, gone=True)
    assert await Actions(ami).bridge_peer("PJSIP/trunk-1", every_s=0) == ""
    assert ami.asked == 1


async def test_verify_right_after_the_answer_parks_the_agent_once_bridged():
    ami = BridgesLater(empty_times=2)
    actions = Actions(ami)
    assert await actions.verify("PJSIP/trunk-1", "1700000000.1") == PEER


async def test_verify_when_nothing_is_bridged_is_refused_with_a_stable_code():
    ami = BridgesLater(empty_times=0, gone=True)
    with pytest.raises(AcdError) as refused:
        await Actions(ami).verify("PJSIP/trunk-1", "1700000000.1")
    assert refused.value.code == "NOT_CONNECTED"
