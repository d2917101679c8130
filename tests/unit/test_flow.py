"""Flow files are checked at load time; the engine walks the hotline flow without any I/O."""
import copy
import tomllib
from datetime import datetime, timezone

import pytest

from ivr.engine import Ask, CallState, Engine, HandOff, Hangup, Run, Say
from ivr.flow import FlowError, parse
from ivr.service import HOTLINE_FLOW, load_hotline, prompt_specs
from ivr.services import SERVICES

RAW = tomllib.loads(HOTLINE_FLOW.read_text())
NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)


def broken(mutate):
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(FlowError) as err:
        parse(data, SERVICES, "hotline.toml")
    return str(err.value)


def test_the_shipped_flow_loads_and_every_prompt_has_both_languages():
    flow = load_hotline()
    assert flow.start == "identify" and flow.fail == "to_general"
    assert {s.language for s in prompt_specs(flow)} == {"zh", "en"}


def test_dangling_node_is_rejected():
    msg = broken(lambda d: d["nodes"]["main_menu"]["choices"].update({"7": "nowhere"}))
    assert "node 'main_menu' leads to 'nowhere', which does not exist" in msg


def test_unreachable_node_is_rejected():
    msg = broken(lambda d: d["nodes"].update({"orphan": {"type": "say", "prompt": "goodbye", "next": "main_menu"}}))
    assert "node 'orphan' is unreachable" in msg


def test_prompt_without_text_is_rejected():
    assert "prompt 'main_menu' has no en text" in broken(lambda d: d["prompts"]["main_menu"].pop("en"))
    assert "prompt 'nonexistent' has no text" in broken(
        lambda d: d["nodes"]["goodbye"].update({"prompt": "nonexistent"}))


def test_unhandled_service_outcome_and_unknown_keys_are_rejected():
    assert "outcome(s) ['locked'] of verify_password not handled" in broken(
        lambda d: d["nodes"]["verify_password"]["next"].pop("locked"))
    assert "unknown key(s) ['chioces']" in broken(lambda d: d["nodes"]["main_menu"].update({"chioces": {}}))
    assert "unknown service 'teleport'" in broken(lambda d: d["nodes"]["bill"].update({"service": "teleport"}))


class Script:
    """Drive the engine: keys for each Ask, outcomes for each Run."""

    def __init__(self, keys, outcomes):
        self.keys, self.outcomes = list(keys), dict(outcomes)

    def run(self, state=None):
        engine = Engine(load_hotline(), lambda: NOW)
        state = state or CallState()
        step = engine.start(state)
        while not isinstance(step, (HandOff, Hangup)):
            if isinstance(step, Ask):
                step = engine.on_keys(state, self.keys.pop(0))
            elif isinstance(step, Run):
                result = self.outcomes[step.service]
                outcome = result.pop(0) if isinstance(result, list) else result
                step = engine.on_outcome(state, outcome, {})
            elif isinstance(step, Say):
                step = engine.on_said(state)
        assert not self.keys, "keys left over"
        return step, state


KNOWN_OPEN = {"identify_caller": "known", "business_hours": "open"}


def test_bill_query_goes_through_the_password_and_resumes():
    step, state = Script(["1", "123456", None, "0"], {**KNOWN_OPEN, "verify_password": "ok",
                                                     "bill_summary": "ok"}).run()
    assert isinstance(step, HandOff) and step.reason == "caller_asked"
    assert state.path[:7] == ["identify", "greet", "hours", "main_menu", "password", "verify_password", "bill"]
    assert "bill_say" in state.path
    password_entry = next(e for e in state.journey if e.node == "password")
    assert password_entry.input == "******"


def test_three_wrong_passwords_lock_and_hand_to_an_agent():
    step, state = Script(["1", "111111", "222222", "333333"],
                         {**KNOWN_OPEN, "verify_password": ["wrong", "wrong", "locked"]}).run()
    assert isinstance(step, HandOff) and step.skill == "general" and step.reason == "password_locked"
    assert state.path.count("password_wrong") == 2


def test_a_throttled_calling_number_hears_why_and_goes_to_an_agent():
    step, state = Script(["1", "111111", "222222", "123456"],
                         {**KNOWN_OPEN, "verify_password": ["wrong", "wrong", "throttled"]}).run()
    assert isinstance(step, HandOff) and step.skill == "general" and step.reason == "password_throttled"
    assert state.path[-2:] == ["password_throttled", "to_agent_throttled"] and not state.verified


def test_recharge_keeps_only_the_ends_of_the_card_number_and_a_locked_caller_goes_to_an_agent():
    step, state = Script(["2", "123456", "8831467591707476", "246810"],
                         {**KNOWN_OPEN, "verify_password": "ok", "recharge": "locked"}).run()
    assert isinstance(step, HandOff) and step.skill == "general" and step.reason == "recharge_locked"
    assert state.path[-2:] == ["recharge_locked", "to_agent_recharge_locked"]
    assert [(e.input, e.outcome) for e in state.journey if e.node in ("card_number", "card_pin")] == [
        ("8831********7476", "ok"), ("******", "ok")]
    assert "8831467591707476" not in repr(state.journey)


def test_silence_three_times_goes_to_a_general_agent():
    step, state = Script([None, None, None], KNOWN_OPEN).run()
    assert isinstance(step, HandOff) and step.node == "to_general"
    assert step.reason == "no_input_x3_at_main_menu"


def test_invalid_keys_and_star_repeat():
    step, state = Script(["*", "8", "9", "5"], KNOWN_OPEN).run()  # * repeats without counting
    assert isinstance(step, HandOff) and step.skill == "consult"


def test_unknown_caller_english_with_a_service_number():
    step, state = Script(["9", "13800000004", "6"], {"identify_caller": "unknown", "identify_by_number": "known",
                                                    "business_hours": "open"}).run()
    assert state.language == "en" and isinstance(step, HandOff) and step.skill == "complaint"


@pytest.mark.parametrize("card", ["123", "12345678901234567", "1234*67890123456"])
def test_bad_card_numbers_are_retried_then_agent(card):
    step, state = Script(["2", "123456", card, card, card], {**KNOWN_OPEN, "verify_password": "ok"}).run()
    assert isinstance(step, HandOff) and step.node == "to_general"
    assert [e.outcome for e in state.journey if e.node == "card_number"] == ["invalid"] * 3


@pytest.mark.parametrize("keys", ["١٢٣٤٥٦", "12345٦", "²²²²²²", "１２３４５６"])
def test_only_ascii_digits_are_digits(keys):
    step, state = Script(["1", keys, keys, keys], KNOWN_OPEN).run()  # str.isdigit accepts all of these
    assert isinstance(step, HandOff) and step.node == "to_general"
    assert [e.outcome for e in state.journey if e.node == "password"] == ["invalid"] * 3


def test_out_of_hours_callback_then_hangup():
    step, state = Script(["1", "1"], {"identify_caller": "known", "business_hours": "closed",
                                      "create_callback": "ok"}).run()
    assert isinstance(step, Hangup) and step.reason == "out_of_hours"
    assert state.path[-3:] == ["create_callback", "callback_done", "goodbye"]


# ---- 7: the service password's life ----
def test_password_change_asks_the_old_one_then_the_new_one_twice():
    step, state = Script(["7", "123456", "000000", "000000", "135790", "135790", "0"],
                         {**KNOWN_OPEN, "password_change_start": "change", "verify_old_password": "ok",
                          "change_password": ["weak", "ok"]}).run()
    assert isinstance(step, HandOff) and step.reason == "caller_asked"
    assert state.path[3:] == ["main_menu", "pwd_change", "pwd_old", "pwd_verify_old", "pwd_new", "pwd_new_again",
                              "pwd_save", "pwd_weak", "pwd_new", "pwd_new_again", "pwd_save", "pwd_changed",
                              "after_service", "to_agent"]
    keyed = [e.input for e in state.journey if e.node in ("pwd_old", "pwd_new", "pwd_new_again")]
    assert keyed == ["******"] * 5  # no password is ever in the journey


def test_password_set_without_an_old_one_and_a_wrong_old_one_is_retried_then_locked():
    step, state = Script(["7", "246813", "246813", "1"] + ["0"],
                         {**KNOWN_OPEN, "password_change_start": "set", "change_password": "ok"}).run()
    assert "pwd_old" not in state.path and "pwd_changed" in state.path
    step, state = Script(["7", "111111", "222222", "333333"],
                         {**KNOWN_OPEN, "password_change_start": "change",
                          "verify_old_password": ["wrong", "wrong", "locked"]}).run()
    assert isinstance(step, HandOff) and step.reason == "password_locked" and state.path.count("pwd_old_wrong") == 2


def test_password_change_only_from_the_own_number():
    step, state = Script(["7", "0"], {**KNOWN_OPEN, "password_change_start": "not_own"}).run()
    assert "pwd_not_own" in state.path and "pwd_old" not in state.path and step.reason == "caller_asked"


def test_an_unidentified_caller_hears_the_number_is_unknown_never_locked():
    step, state = Script([None, "", "1", "123456"], {"identify_caller": "unknown", "business_hours": "open",
                                                   "verify_password": "unknown"}).run()
    assert isinstance(step, HandOff) and step.node == "to_agent_unknown"
    assert "password_unknown" in state.path and "password_locked" not in state.path
    step, state = Script([None, "", "7"], {"identify_caller": "unknown", "business_hours": "open",
                                          "password_change_start": "unknown"}).run()
    assert isinstance(step, HandOff) and step.node == "to_agent_unknown" and "password_locked" not in state.path
    flow = load_hotline()
    assert flow.nodes["password_unknown"].prompts == ["number_unknown"]
    assert "lock" not in flow.prompts["number_unknown"]["en"].lower()
