"""Call backs under attack: toll fraud (premium, international numbers) and harassment (a third
party rung again and again), through the out-of-hours menu (any digits keyed in) and key 1 while
waiting (the caller ID, which the caller sets). The rules (callcenter/callback_rules.py) as
tables; then each path that takes a request and the router's last check before dialling."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from acd import callbacks
from acd.actions import Actions
from acd.protocol import AcdError, AgentSnapshot, LiveCall, Queue
from callcenter import callback_rules, db
from callcenter.callback_rules import CallbackRules
from callcenter.config import ConfigError
from callcenter.models import AuditEntry, Call, CallbackRequest, Customer, CustomerPhone
from ivr.engine import CallState
from ivr.queue_routes import QueueRoutes
from ivr.service import queue_callback_writer
from ivr.services import CallContext, HotlineServices
from tests.unit.fakes import FakeAmi, FakeStore, make_router

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
RULES = CallbackRules()

# ---------------------------------------------------------------- the dial plan (pure)
DIALABLE = [
    # number,           rules changed,                       refusal
    ("13800000101", {}, None),  # a mobile
    ("01012345678", {}, None),  # Beijing fixed line: 0 + 10 + 8 digits
    ("0755123456", {}, None),
    ("008613800000101", {}, "not_dialable"),  # international
    ("0044207946000", {}, "not_dialable"),
    ("95588", {}, "not_dialable"),  # a short service number
    ("16812345", {}, "not_dialable"),  # premium information line
    ("1380000010", {}, "not_dialable"),  # one digit short
    ("12800000101", {}, "not_dialable"),  # no mobile range 12x
    ("1٣800000101", {}, "not_dialable"),  # an Arabic-Indic digit: str.isdigit takes it, no phone dials it
    ("１3800000101", {}, "not_dialable"),  # full width
    ("138000001011", {}, "not_dialable"),  # too long
    ("", {}, "not_dialable"),
    ("138;Dial(x)", {}, "not_dialable"),
    ("0044207946000", {"allow": ("00.",)}, None),  # international, once the operator allows it
    ("13800000101", {"deny": ("1380",)}, "denied_prefix"),
    ("13900000101", {"deny": ("1380",)}, None),
]


@pytest.mark.parametrize("number, change, refusal", DIALABLE)
def test_the_dial_plan(number, change, refusal):
    assert CallbackRules(**change).dialable(number) == refusal


REFUSALS = [
    # registered, for this number in 24 h, all in 24 h, rules changed -> refusal
    (True, 0, 0, {}, None),
    (False, 0, 0, {}, "not_registered"),
    (False, 0, 0, {"registered_only": False}, None),
    (True, 2, 2, {}, None),
    (True, 3, 3, {}, "number_limit"),  # per_number_per_day = 3
    (True, 0, 1000, {}, "daily_limit"),  # per_day = 1000
    (True, 0, 5, {"per_day": 5}, "daily_limit"),
    (True, 1, 1, {"per_number_per_day": 1}, "number_limit"),
]


@pytest.mark.parametrize("registered, number_today, all_today, change, refusal", REFUSALS)
def test_who_may_be_called_back_and_how_often(registered, number_today, all_today, change, refusal):
    rules = CallbackRules(**change)
    assert rules.refusal("13800000101", registered=registered, number_today=number_today,
                         all_today=all_today) == refusal
    assert rules.refusal("0044207946000", registered=registered, number_today=0, all_today=0) == "not_dialable"


def test_the_file_is_written_with_the_defaults_and_read_at_every_use(tmp_path):
    assert callback_rules.load(tmp_path) == RULES
    path = callback_rules.rules_file(tmp_path)
    assert "registered_only = true" in path.read_text()
    path.write_text('allow = ["00."]\nregistered_only = false\nper_day = 10\n')
    assert callback_rules.load(tmp_path) == CallbackRules(allow=("00.",), registered_only=False, per_day=10)


@pytest.mark.parametrize("text, message", [
    ('allow = ["1a"]', "pattern '1a'"),
    ('allow = ["1[3-"]', "pattern"),
    ('deny = ["+44"]', "deny prefix"),
    ("per_day = -1", "per_day"),
    ('per_day = "10"', "per_day"),
    ('registered_only = "no"', "registered_only"),
    ("per_week = 3", "unknown setting"),
    ("allow = [", "callbacks.toml"),
])
def test_a_bad_file_fails_with_one_clear_line(tmp_path, text, message):
    callback_rules.rules_file(tmp_path).write_text(text + "\n")
    with pytest.raises(ConfigError, match=message):
        callback_rules.load(tmp_path)


# ---------------------------------------------------------------- the database's side
@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)


def customer(sessions, *numbers: str) -> int:
    with sessions() as s:
        c = Customer(name="customer")
        c.phones += [CustomerPhone(number=n) for n in numbers]
        s.add(c)
        s.commit()
        return c.id


def request(sessions, number: str, at: datetime, uid: str) -> None:
    with sessions() as s:
        s.add(CallbackRequest(number=number, call_uniqueid=uid, reason="queue", language="zh", created_at=at))
        s.commit()


def admit(sessions, number, customer_id, rules=RULES, now=NOW):
    with sessions() as s:
        return callback_rules.admit(s, rules, number, customer_id, now)


def test_only_the_identified_customers_own_numbers(sessions):
    mine, other = customer(sessions, "13800000101", "13800000102"), customer(sessions, "13900000101")
    assert admit(sessions, "13800000102", mine) is None
    assert admit(sessions, "13900000101", mine) == "not_registered"  # another customer's number
    assert admit(sessions, "13700000101", mine) == "not_registered"  # nobody's
    assert admit(sessions, "13800000101", None) == "not_registered"  # a caller the menu did not identify
    assert admit(sessions, "13900000101", other) is None


def test_requests_of_the_last_24_hours_count(sessions):
    mine = customer(sessions, "13800000101")
    for i in range(3):
        request(sessions, "13800000101", NOW - timedelta(hours=23), f"recent-{i}")
    assert admit(sessions, "13800000101", mine) == "number_limit"
    assert admit(sessions, "13800000101", mine, now=NOW + timedelta(hours=1, seconds=1)) is None  # a day later
    assert admit(sessions, "13800000101", mine, rules=CallbackRules(per_number_per_day=4)) is None
    assert admit(sessions, "13800000101", mine, rules=CallbackRules(per_number_per_day=9, per_day=3)) == "daily_limit"


# ---------------------------------------------------------------- out of hours: any digits keyed in
def services(sessions, tmp_path) -> HotlineServices:
    return HotlineServices(sessions, tmp_path / "business_hours.toml", clock=lambda: NOW)


def rows(sessions, model):
    with sessions() as s:
        return s.scalars(select(model)).all()


@pytest.mark.parametrize("keyed", ["0044207946000", "16812345", "13900000999"],
                         ids=["international", "premium", "not-the-customers"])
def test_out_of_hours_a_number_keyed_in_that_the_rules_refuse_is_not_taken(sessions, tmp_path, keyed):
    mine = customer(sessions, "13800000101")
    state = CallState(customer_id=mine, slots={"callback_number": keyed})
    outcome, _ = services(sessions, tmp_path).create_callback(state, CallContext("oh-1", "13800000101"))
    assert outcome == "refused"
    assert rows(sessions, CallbackRequest) == []
    [audit] = rows(sessions, AuditEntry)
    assert (audit.actor, audit.action, audit.target) == ("ivr", "callback_refused", keyed)


def test_out_of_hours_the_callers_own_registered_number_is_taken(sessions, tmp_path):
    mine = customer(sessions, "13800000101")
    state = CallState(customer_id=mine)
    outcome, _ = services(sessions, tmp_path).create_callback(state, CallContext("oh-2", "13800000101"))
    assert outcome == "ok"
    [taken] = rows(sessions, CallbackRequest)
    assert (taken.number, taken.reason, taken.call_uniqueid) == ("13800000101", "out_of_hours", "oh-2")


# ---------------------------------------------------------------- key 1 while waiting: the caller ID
@dataclass
class FakeAgi:
    """What QueueRoutes.callback asks of the channel: the caller ID, keys, prompts, a variable."""
    callerid: str
    keys: list[str]
    uniqueid: str = "1795957917.254"
    played: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    @property
    def headers(self):
        return {"agi_callerid": self.callerid}

    async def get_variable(self, name):
        return self.variables.get(name, "")

    async def stream_file(self, path, keys=""):
        self.played.append(Path(path).name)
        return self.keys.pop(0) if keys and self.keys else ""

    async def wait_for_digit(self, timeout):
        return self.keys.pop(0) if self.keys else ""

    async def set_variable(self, name, value):
        self.variables[name] = value


def waiting_call(sessions, uid: str, number: str, customer_id: int | None) -> None:
    with sessions() as s:
        s.add(Call(uniqueid=uid, caller_number=number, customer_id=customer_id, started_at=NOW))
        s.commit()


async def press_1(sessions, tmp_path, agi: FakeAgi) -> None:
    routes = QueueRoutes(store=None, prompts_dir=tmp_path, create_callback=queue_callback_writer(sessions, tmp_path))
    await routes.callback(agi, "en")


async def test_waiting_a_caller_id_that_is_no_customers_number_gets_no_call_back(sessions, tmp_path):
    waiting_call(sessions, "1795957917.254", "13900000999", None)  # a spoofed, unknown caller ID
    agi = FakeAgi("13900000999", keys=["1"])
    await press_1(sessions, tmp_path, agi)
    assert agi.played[-1] == "callback_refused"
    assert "CC_CALLBACK" not in agi.variables  # the dialplan puts the caller back to waiting
    assert rows(sessions, CallbackRequest) == []
    assert [a.action for a in rows(sessions, AuditEntry)] == ["callback_refused"]


async def test_waiting_a_customer_calling_from_a_registered_number_is_called_back_once_per_call(sessions, tmp_path):
    mine = customer(sessions, "13800000101")
    waiting_call(sessions, "1795957917.254", "13800000101", mine)
    for _ in range(2):  # pressed twice: one request
        agi = FakeAgi("13800000101", keys=["1"])
        await press_1(sessions, tmp_path, agi)
        assert agi.played[-1] == "callback_done" and agi.variables["CC_CALLBACK"] == "ok"
    [taken] = rows(sessions, CallbackRequest)
    assert (taken.number, taken.reason, taken.customer_id) == ("13800000101", "queue", mine)


async def test_waiting_the_number_limit_holds_across_calls(sessions, tmp_path):
    mine = customer(sessions, "13800000101")
    for i in range(4):
        uid = f"1795957917.{i}"
        waiting_call(sessions, uid, "13800000101", mine)
        agi = FakeAgi("13800000101", keys=["1"], uniqueid=uid)
        await press_1(sessions, tmp_path, agi)
        assert agi.played[-1] == ("callback_done" if i < 3 else "callback_refused")
    assert len(rows(sessions, CallbackRequest)) == 3


# ---------------------------------------------------------------- dialling: checked again
async def test_the_router_dials_no_number_the_rules_refuse_now():
    ami = FakeAmi()
    with pytest.raises(AcdError) as refused:
        await Actions(ami).originate_callback("1795957917.254", "1001", "0044207946000", 15)
    assert refused.value.code == "CALLBACK_REFUSED" and ami.actions == []
    allowed = Actions(ami, callback_rules=lambda: CallbackRules(allow=("00.",)))
    assert await allowed.originate_callback("1795957917.254", "1001", "0044207946000", 15)


async def test_a_call_back_refused_at_dialling_lets_the_agent_go_and_counts_as_unanswered():
    # as the routing pass leaves them: the agent reserved for the call back
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "reserved", since=1.0, call="callback-request-7")})
    router = make_router(store, queues={"billing": Queue("billing")}, skills={"1001": {"billing": 1}},
                         clock=lambda: 100.0)
    outcomes = []

    async def on_callback(uid, status):
        outcomes.append((uid, status))
    router.on_callback = on_callback
    await router.store.put_call(LiveCall("callback-request-7", kind="callback", number="16812345",
                                         skill="billing", agent="1001"))
    await router._dial_callback("1001", (await router.store.call("callback-request-7")))
    assert [f"{c.ext} {c.state}" for c in store.changes] == ["1001 ringing", "1001 ready"]  # let go
    assert await store.call("callback-request-7") is None
    assert outcomes == [("callback-request-7", "no_answer")]


def test_a_request_whose_number_the_rules_refuse_now_is_failed_when_due(sessions):
    request(sessions, "0044207946000", NOW - timedelta(hours=1), "intl")
    with sessions() as s:
        s.get(CallbackRequest, 1).reason = "out_of_hours"
        s.commit()
    [due] = callbacks.due_requests(sessions, NOW)
    assert callbacks.claim(sessions, due, RULES) is False
    assert rows(sessions, CallbackRequest)[0].status == "failed"
