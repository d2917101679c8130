"""Order types and their fields, complaint routing by content, VIP priority, order numbers."""
from datetime import datetime, timezone

import pytest

from callcenter.orders.errors import OrderError
from callcenter.orders.numbers import new_number, valid_number
from callcenter.orders.routing import classify, start_priority
from callcenter.orders.types import CODES, GROUPS, PRIORITIES, TYPES, clean_fields, order_type


def test_every_type_has_a_known_family_group_priority_and_parsable_deadlines():
    from callcenter.orders.deadlines import Span
    for kind in TYPES.values():
        assert kind.group in GROUPS and kind.priority in PRIORITIES
        Span.parse(kind.reply, kind.code), Span.parse(kind.resolve, kind.code)
    assert {"fault_phone", "fault_broadband", "complaint_tariff", "complaint_staff", "complaint_installer",
            "complaint_suggestion", "billing", "consult", "biz_new_line", "biz_add_feature", "biz_move",
            "biz_suspend", "biz_restore", "biz_number_change"} <= set(CODES)
    assert [c for c in CODES if TYPES[c].needs_password] == [c for c in CODES if c.startswith("biz_")]


# type            | fields (python literal)                                   | cleaned, or the error code
FIELDS = """
biz_move          | {"line_number": "13800000001", "new_address": " 1 Road "} | {"line_number": "13800000001", "new_address": "1 Road"}
biz_move          | {"line_number": "13800000001"}                            | MISSING_FIELD
biz_move          | {"line_number": "１３８00000001", "new_address": "x"}       | BAD_FIELD
biz_move          | {"line_number": "138", "new_address": "x", "pin": "1"}     | UNKNOWN_FIELD
biz_add_feature   | {"line_number": "13800000001", "feature": "voicemail"}    | {"line_number": "13800000001", "feature": "voicemail"}
biz_add_feature   | {"line_number": "13800000001", "feature": "free_calls"}   | BAD_FIELD
biz_suspend       | {"line_number": "13800000001", "from_date": "2026-02-30"} | BAD_FIELD
biz_suspend       | {"line_number": "13800000001", "from_date": "20261201"}   | BAD_FIELD
biz_suspend       | {"line_number": "13800000001", "from_date": "2026-12-01"} | {"line_number": "13800000001", "from_date": "2026-12-01"}
billing           | {"bill_period": "2026-10", "disputed_cents": 1250}        | {"bill_period": "2026-10", "disputed_cents": 1250}
billing           | {"disputed_cents": "1250"}                                | BAD_FIELD
billing           | {"disputed_cents": true}                                  | BAD_FIELD
billing           | {"bill_period": "2026-13"}                                | BAD_FIELD
consult           | {"topic": "roaming\\nAction: Originate"}                  | BAD_FIELD
consult           | {"topic": ""}                                             | {}
fault_phone       | None                                                      | {}
fault_phone       | ["line_number"]                                           | BAD_FIELDS
"""


@pytest.mark.parametrize("row", FIELDS.strip().splitlines())
def test_fields_are_checked_against_their_type(row):
    code, raw, expected = [c.strip() for c in row.split("|")]
    raw = eval(raw, {"true": True})  # noqa: S307 - test table literals
    if expected[0] == "{":
        assert clean_fields(order_type(code), raw) == eval(expected)  # noqa: S307
    else:
        with pytest.raises(OrderError) as refused:
            clean_fields(order_type(code), raw)
        assert refused.value.code == expected


@pytest.mark.parametrize("code", ["nope", "", None, 3, "Fault_phone"])
def test_an_unknown_type_is_refused_with_the_choices(code):
    with pytest.raises(OrderError) as refused:
        order_type(code)
    assert refused.value.code == "BAD_ORDER_TYPE" and "biz_move" in refused.value.params["choices"]


# type asked       | what the customer said                               | type after reading it
ROUTES = """
complaint          | 上门的维修师傅态度很差                               | complaint_installer
complaint          | 客服态度恶劣                                         | complaint_staff
complaint          | 套餐乱扣费                                           | complaint_tariff
complaint          | I was overcharged on my plan                         | complaint_tariff
complaint          | The agent was RUDE to me                             | complaint_staff
complaint          | 建议增加夜间营业厅                                   | complaint_suggestion
complaint          | something else entirely                              | complaint
complaint_staff    | 套餐乱扣费                                           | complaint_staff
fault_phone        | the staff were rude                                  | fault_phone
"""


@pytest.mark.parametrize("row", ROUTES.strip().splitlines())
def test_a_complaint_goes_to_a_group_by_its_content(row):
    code, text, expected = [c.strip() for c in row.split("|")]
    assert classify(code, text) == expected


# type      | asked  | VIP level | starts at
PRIORITY = """
fault_phone | -      | 0 | normal
fault_phone | -      | 1 | high
fault_phone | -      | 3 | urgent
consult     | -      | 2 | normal
consult     | -      | 0 | low
billing     | high   | 3 | urgent
billing     | urgent | 3 | urgent
billing     | low    | 0 | low
"""


@pytest.mark.parametrize("row", PRIORITY.strip().splitlines())
def test_a_vips_order_starts_higher(row):
    code, asked, vip, expected = [c.strip() for c in row.split("|")]
    assert start_priority(code, None if asked == "-" else asked, int(vip)) == expected


def test_order_numbers_are_the_month_and_eight_random_digits():
    now = datetime(2026, 11, 3, tzinfo=timezone.utc)
    draws = iter([42, 42, 7])
    taken = {"261100000042"}
    assert new_number(now, taken.__contains__, lambda _n: next(draws)) == "261100000007"  # the taken one redrawn
    numbers = {new_number(now, lambda _n: False) for _ in range(200)}
    assert len(numbers) == 200 and all(n.startswith("2611") and len(n) == 12 for n in numbers)
    assert valid_number("2610000001") and not valid_number("26110000000a") and not valid_number("2611000000001")
    assert not valid_number("１２３４５６")
