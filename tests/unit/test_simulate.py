import pytest

from callcenter.simulate import SimulationInputError, caller_id, originate_caller_action


def test_originate_action_for_a_simulated_caller():
    action = originate_caller_action("10000", "13800000001", "Zhang San", dtmf="1w123456#", hold_s=20)
    assert action["Channel"] == "Local/10000@hotline/n"
    assert action["Context"] == "sim-caller"
    assert action["CallerID"] == '"Zhang San" <13800000001>'
    assert action["Variable"] == "SIM_WAIT=1,SIM_HOLD=20,SIM_DTMF=1w123456#"


@pytest.mark.parametrize("kwargs", [
    {"access_number": "10000\r\nAction: Command"},
    {"caller": "1380000000x"},
    {"dtmf": "1,2"},
    {"dtmf": "1\nAction: Logoff"},
    {"name": 'evil" <1>'},
    {"name": "line\nbreak"},
    {"hold_s": 0},
])
def test_caller_controlled_values_never_reach_ami_unchecked(kwargs):
    args = {"access_number": "10000", "caller": "13800000001", **kwargs}
    with pytest.raises(SimulationInputError):
        originate_caller_action(**args)


def test_plain_caller_id_without_name():
    assert caller_id("13800000001") == "<13800000001>"
