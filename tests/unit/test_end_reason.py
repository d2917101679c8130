import pytest

from cdr.end_reason import end_reason

# stage, CC_END, DIALSTATUS, fail reason -> what a manager reads
TABLE = """
entered    |       |        |                 | caller hung up in ivr
ivr        |       |        |                 | caller hung up in ivr
waiting    |       |        |                 | caller abandoned while waiting
waiting    |       |        | ivr_unreachable | caller abandoned while waiting (IVR unreachable)
waiting    |       |        | ivr_error       | caller abandoned while waiting (IVR error)
connecting |       | ANSWER |                 | caller hung up
connecting | agent | ANSWER |                 | agent hung up
held       |       | ANSWER |                 | caller hung up on hold
held       | agent | ANSWER |                 | agent hung up
connecting |       |        |                 | caller abandoned while agent phone rang
ivr        | ivr   |        |                 | ended by ivr
waiting    | callback |       |                 | caller asked for a call back
agi_fail   |       |        | ivr_unreachable | caller hung up before queueing (IVR unreachable)
           |       |        |                 | ended in stage unknown
"""


@pytest.mark.parametrize("row", [r for r in TABLE.strip().splitlines()])
def test_end_reason_table(row):
    stage, end, dial, fail, expected = [c.strip() for c in row.split("|")]
    assert end_reason(stage, end, dial, fail) == expected
