import pytest

from cdr.end_reason import ABANDONED, EndReason, end_detail, end_reason, is_abandoned

# stage, CC_END, DIALSTATUS, CC_FAIL_REASON -> code stored on the call | end_detail
TABLE = """
entered    |          |        |                 | hung_up_in_ivr       |
ivr        |          |        |                 | hung_up_in_ivr       |
waiting    |          |        |                 | abandoned_waiting    |
waiting    |          |        | ivr_unreachable | abandoned_waiting    | ivr_unreachable
waiting    |          |        | ivr_error       | abandoned_waiting    | ivr_error
waiting    |          |        | other           | abandoned_waiting    |
connecting |          | ANSWER |                 | caller_hangup        |
connecting |          | answer |                 | caller_hangup        |
connecting | agent    | ANSWER |                 | agent_hangup         |
held       |          | ANSWER |                 | hung_up_on_hold      |
held       | agent    | ANSWER |                 | agent_hangup         |
connecting |          |        |                 | abandoned_ringing    |
connecting |          | NOANSWER |               | abandoned_ringing    |
ivr        | ivr      |        |                 | ivr_ended            |
waiting    | callback |        |                 | callback_requested   |
agi_fail   |          |        | ivr_unreachable | hung_up_before_queue | ivr_unreachable
connected  |          |        |                 | unknown              |
           |          |        |                 | unknown              |
"""


@pytest.mark.parametrize("row", [r for r in TABLE.strip().splitlines()])
def test_end_reason_table(row):
    stage, end, dial, fail, code, detail = [c.strip() for c in row.split("|")]
    assert end_reason(stage, end, dial, fail) == code
    assert end_detail(fail) == (detail or None)


def test_codes_are_stable_text_and_only_the_two_abandonments_count_as_abandoned():
    assert {str(c) for c in EndReason} == {
        "agent_hangup", "caller_hangup", "ivr_ended", "callback_requested", "abandoned_ringing",
        "abandoned_waiting", "hung_up_on_hold", "hung_up_in_ivr", "hung_up_before_queue", "callback_not_answered", "lost",
        "unknown"}
    assert ABANDONED == {"abandoned_waiting", "abandoned_ringing"}
    assert is_abandoned("abandoned_waiting") and not is_abandoned("hung_up_in_ivr") and not is_abandoned(None)
