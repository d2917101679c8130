"""The menu's side of work orders: the order-status branch tells the real status and its date only
to the order's own customer; a repeat fault report joins the open order. A real (pre-migrated)
SQLite database, the clock passed in; the engine walks the shipped flow with no I/O."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.models import Customer, CustomerPhone, User, WorkOrder
from callcenter.orders import lifecycle, store
from callcenter.orders.access import Actor
from ivr.engine import Ask, CallState, Engine, HandOff, Run, Say
from ivr.service import load_hotline
from ivr.services import CallContext, HotlineServices

NOW = datetime(2026, 11, 23, 17, 30, tzinfo=timezone.utc)  # 01:30 on the 24th in Shanghai
A_PHONE, A_OTHER, B_PHONE, STRANGER, STRANGER2 = "13900000001", "13600000000", "13900000002", "13700000009", "13700000008"


@pytest.fixture
def world(migrated_db, tmp_path):
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        ids = {}
        for name, phone in (("A", A_PHONE), ("B", B_PHONE)):
            c = Customer(name=name)
            c.phones.append(CustomerPhone(number=phone))
            s.add(c)
            s.flush()
            ids[name] = c.id
        s.add(User(username="bo1", display_name="bo1", role="backoffice", password_hash="x"))
        s.commit()
    services = HotlineServices(sessions, tmp_path / "business_hours.toml", clock=lambda: NOW)
    orders = {}
    for key, customer, number in (("A", ids["A"], A_PHONE), ("U", None, STRANGER)):
        ctx = CallContext(uniqueid=f"1700000000.{key}", caller_number=number)
        outcome, data = services.report_phone_fault(CallState(customer_id=customer), ctx)
        assert outcome == "ok"
        orders[key] = data["order_number"]
    return sessions, services, ids, orders


# caller's number | customer the menu identified | verified | keyed order (A, U, latest, or a number) | outcome
CASES = """
A_PHONE   | A | no  | A      | found
A_PHONE   | A | no  | latest | found
A_OTHER   | A | no  | A      | verify
A_OTHER   | A | no  | latest | verify
A_OTHER   | A | yes | A      | found
B_PHONE   | B | no  | A      | not_found
B_PHONE   | B | yes | A      | not_found
STRANGER  | - | no  | U      | found
STRANGER  | - | no  | latest | found
STRANGER2 | - | no  | U      | not_found
STRANGER2 | - | no  | A      | not_found
STRANGER2 | - | no  | latest | not_found
WITHHELD  | - | no  | A      | not_found
WITHHELD  | - | no  | latest | not_found
A_PHONE   | A | no  | 999999999999 | not_found
"""


@pytest.mark.parametrize("row", CASES.strip().splitlines())
def test_the_status_is_told_only_to_the_orders_own_customer(world, row):
    sessions, services, ids, orders = world
    number, who, verified, keyed, expected = [c.strip() for c in row.split("|")]
    caller = {"WITHHELD": ""}.get(number) if number == "WITHHELD" else globals()[number]
    state = CallState(customer_id=ids.get(who), verified=verified == "yes")
    if keyed != "latest":
        state.slots["order_number"] = orders.get(keyed, keyed)
    outcome, data = services.order_status(state, CallContext("1700000001.1", caller))
    assert outcome == expected
    if expected == "found":
        assert data["order_status_prompt"] == "status_new" and data["order_date"] == date(2026, 11, 24)
    else:
        assert data == {}  # nothing about the order reaches the caller


def test_the_menu_reads_the_status_after_the_back_office_changes_it(world):
    sessions, services, ids, orders = world
    bo1 = Actor("bo1", "backoffice", frozenset({"repair"}))
    later = NOW + timedelta(days=2)
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == orders["A"]))
        store.act(s, later, store.Rules.default(), order, bo1, "start")
        s.commit()
    state = CallState(customer_id=ids["A"], slots={"order_number": orders["A"]})
    outcome, data = services.order_status(state, CallContext("1700000001.2", A_PHONE))
    assert (outcome, data["order_status_prompt"], data["order_date"]) == ("found", "status_in_progress",
                                                                          date(2026, 11, 26))


def test_a_second_report_of_the_same_fault_joins_the_open_order(world):
    _sessions, services, ids, orders = world
    outcome, data = services.report_phone_fault(CallState(customer_id=ids["A"]), CallContext("1700000001.3", A_PHONE))
    assert (outcome, data["order_number"]) == ("repeat", orders["A"])
    outcome, data = services.report_broadband_fault(CallState(customer_id=ids["A"]),
                                                    CallContext("1700000001.4", A_PHONE))
    assert outcome == "ok" and data["order_number"] != orders["A"]


def test_every_status_has_its_words_in_the_menu():
    flow = load_hotline()
    assert {f"status_{s}" for s in lifecycle.STATUSES} <= set(flow.prompts)


def drive(keys, outcomes, state):
    engine = Engine(load_hotline(), lambda: NOW)
    step, said = engine.start(state), []
    while not isinstance(step, HandOff):
        if isinstance(step, Ask):
            step = engine.on_keys(state, keys.pop(0))
        elif isinstance(step, Run):
            outcome = outcomes[step.service].pop(0)
            step = engine.on_outcome(state, outcome, {"order_number": "261100000001", "order_date": date(2026, 11, 24),
                                                      "order_status_prompt": "status_resolved"})
        elif isinstance(step, Say):
            said.append(step.prompts)
            step = engine.on_said(state)
    return state, said


def test_a_caller_on_another_number_gives_the_password_first_then_hears_the_status():
    state, said = drive(["4", "", "123456", "0"], {"identify_caller": ["known"], "business_hours": ["open"],
                                                    "order_status": ["verify", "found"], "verify_password": ["ok"]},
                        CallState())
    at = state.path.index("order_status")
    assert state.path[at:at + 5] == ["order_status", "password", "verify_password", "order_verified", "order_say"]
    assert ["order_is", {"digits": "order_number"}, {"prompt": "order_status_prompt"}, "order_updated_on",
            {"date": "order_date"}] in said


def test_a_wrong_password_tells_nothing_about_the_order():
    state, said = drive(["4", "", "111111", "222222", "333333"],
                        {"identify_caller": ["known"], "business_hours": ["open"], "order_status": ["verify"],
                         "verify_password": ["wrong", "wrong", "locked"]}, CallState())
    assert "order_say" not in state.path and not any("order_is" in prompts for prompts in said)
