"""The menu's secrets under guessing: the service password and recharge-card PINs, on a real
(pre-migrated) SQLite database, with the clock passed in and calls racing in threads."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from itertools import count

import pytest
from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

import ivr.services
from callcenter import db, service_password
from callcenter.models import Account, AuditEntry, Customer, CustomerPhone, IvrAttempt, RechargeCard
from ivr.engine import CallState
from ivr.guard import Limits
from ivr.services import CallContext, HotlineServices

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
CHEAP = "pbkdf2:sha256:1000"  # the checks read the method from the hash; scrypt costs 0.1-0.4 s a check
PASSWORD_HASH = generate_password_hash("123456", method=CHEAP)
PIN_HASH = generate_password_hash("246810", method=CHEAP)
CALLS = count(1)


@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)


@pytest.fixture
def clock():
    now = [NOW]
    tick = lambda: now[0]  # noqa: E731
    tick.advance = lambda delta: now.__setitem__(0, now[0] + delta)
    return tick


def services(sessions, tmp_path, clock, **limits) -> HotlineServices:
    kwargs = {"limits": Limits(**limits)} if limits else {}
    return HotlineServices(sessions, tmp_path / "business_hours.toml", clock=clock, **kwargs)


def customer(sessions, number: str, balance_cents: int = 1_000) -> int:
    with sessions() as s:
        c = Customer(name=f"customer {number}", service_password_hash=PASSWORD_HASH)
        c.phones.append(CustomerPhone(number=number))
        c.accounts.append(Account(number=number, balance_cents=balance_cents))
        s.add(c)
        s.commit()
        return c.id


def card(sessions, number: str, cents: int = 5_000) -> str:
    with sessions() as s:
        s.add(RechargeCard(number=number, pin_hash=PIN_HASH, amount_cents=cents))
        s.commit()
    return number


def call(number: str) -> CallContext:
    return CallContext(uniqueid=f"1700000000.{next(CALLS)}", caller_number=number)


def password(svc, customer_id, ctx, keys) -> str:
    state = CallState(customer_id=customer_id, slots={"password": keys})
    outcome, _ = svc.verify_password(state, ctx)
    assert "password" not in state.slots  # never kept after the check
    return outcome


def recharge(svc, customer_id, ctx, card_number, pin) -> str:
    state = CallState(customer_id=customer_id, verified=True, slots={"card_number": card_number, "card_pin": pin})
    outcome, _ = svc.recharge(state, ctx)
    return outcome


def audit_rows(sessions) -> list[tuple[str, str]]:
    with sessions() as s:
        return [(a.action, a.target) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def balance(sessions, customer_id) -> int:
    with sessions() as s:
        return s.scalar(select(Account.balance_cents).where(Account.customer_id == customer_id))


def slow(monkeypatch, owner, name, seconds=0.2):
    """Make a secret check slow and count how often it runs: the window a race needs."""
    checks = []
    lock = threading.Lock()
    real = getattr(owner, name)

    def check(*args):
        with lock:
            checks.append(args)
        time.sleep(seconds)
        return real(*args)
    monkeypatch.setattr(owner, name, check)
    return checks


# ---- the service password ----
def test_three_wrong_passwords_lock_with_an_alert_and_the_lock_ends(sessions, tmp_path, clock, caplog):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000001")
    with caplog.at_level(logging.WARNING, logger="ivr.services"):
        assert [password(svc, cid, call("13800000001"), k) for k in ("111111", "222222", "333333")] == [
            "wrong", "wrong", "locked"]
    assert "password_locked customer:%d" % cid in caplog.text
    assert audit_rows(sessions) == [("password_locked", f"customer:{cid}")]
    assert password(svc, cid, call("13800000001"), "123456") == "locked"  # even the right one
    clock.advance(timedelta(minutes=31))
    assert password(svc, cid, call("13800000001"), "123456") == "ok"


def test_parallel_calls_get_no_more_than_three_tries(sessions, tmp_path, clock, monkeypatch):
    # Read, hash, write back: eight calls reading "0 failures" at once each got their own try.
    checks = slow(monkeypatch, Customer, "check_service_password")
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000002")
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda i: password(svc, cid, call("13800000002"), f"00000{i}"), range(8)))
    assert len(checks) <= 3, f"{len(checks)} passwords checked in parallel"
    assert outcomes.count("wrong") <= 2 and "ok" not in outcomes
    with sessions() as s:
        assert s.get(Customer, cid).password_locked_until is not None


def test_one_caller_cannot_lock_out_a_customer_by_keying_their_number(sessions, tmp_path, clock, caplog):
    svc = services(sessions, tmp_path, clock)
    victim, other = customer(sessions, "13800000003"), customer(sessions, "13800000004")
    attacker = "13900000099"
    with caplog.at_level(logging.WARNING, logger="ivr.services"):
        assert [password(svc, victim, call(attacker), k) for k in ("111111", "222222")] == ["wrong", "wrong"]
    assert "password_throttled number:13900000099" in caplog.text
    # throttled before the victim's lock: not even the right password is checked for this number
    assert password(svc, victim, call(attacker), "123456") == "throttled"
    assert password(svc, other, call(attacker), "111111") == "throttled"  # nor any other customer's
    with sessions() as s:
        assert s.get(Customer, victim).password_locked_until is None
    assert password(svc, victim, call("13800000003"), "123456") == "ok"  # the customer is not locked out
    assert audit_rows(sessions) == [("password_throttled", "number:13900000099")]
    clock.advance(timedelta(hours=1, minutes=1))
    assert password(svc, other, call(attacker), "123456") == "ok"  # the throttle has a window


def test_withheld_callers_share_one_throttle(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    a, b = customer(sessions, "13800000005"), customer(sessions, "13800000006")
    assert [password(svc, a, call(""), "111111"), password(svc, b, call(""), "222222")] == ["wrong", "wrong"]
    assert password(svc, a, call(""), "123456") == "throttled"


def test_a_caller_on_their_own_number_is_not_throttled_by_the_number(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock, number_password_failures=1)
    cid = customer(sessions, "13800000007")
    assert [password(svc, cid, call("13800000007"), k) for k in ("111111", "222222", "123456")] == [
        "wrong", "wrong", "ok"]


# ---- recharge cards ----
def test_a_valid_card_tops_up_once(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000010", balance_cents=1_000)
    number = card(sessions, "8807413925806613")
    assert recharge(svc, cid, call("13800000010"), number, "246810") == "ok"
    assert recharge(svc, cid, call("13800000010"), number, "246810") == "used"
    assert balance(sessions, cid) == 6_000
    with sessions() as s:  # the tries are counted, with no card number and no PIN stored
        assert [(a.outcome, a.card_id is not None) for a in s.scalars(select(IvrAttempt))] == [
            ("ok", True), ("used", True)]


def test_wrong_pins_lock_the_card_for_everyone_with_an_alert(sessions, tmp_path, clock, caplog):
    svc = services(sessions, tmp_path, clock)
    number = card(sessions, "8851260397440128")
    callers = [customer(sessions, f"1380000002{i}") for i in range(4)]
    with caplog.at_level(logging.WARNING, logger="ivr.services"):
        outcomes = [recharge(svc, callers[i], call(f"1380000002{i}"), number, "000000") for i in range(3)]
    assert outcomes == ["invalid", "invalid", "locked"]  # the third wrong PIN: told at once, to an agent
    assert "recharge_card_locked card:8851********0128" in caplog.text
    assert "8851260397440128" not in caplog.text
    assert audit_rows(sessions) == [("recharge_card_locked", "card:8851********0128")]
    assert recharge(svc, callers[3], call("13800000023"), number, "246810") == "locked"  # not even the right PIN
    assert balance(sessions, callers[3]) == 1_000
    clock.advance(timedelta(hours=25))
    assert recharge(svc, callers[3], call("13800000023"), number, "246810") == "ok"


def test_wrong_pins_lock_the_account(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock, account_card_failures=2, number_card_failures=99)
    cid = customer(sessions, "13800000030")
    good = card(sessions, "8839571046282251")
    assert recharge(svc, cid, call("13900000030"), "8800000000000404", "000000") == "invalid"
    assert recharge(svc, cid, call("13900000031"), "8800000000000405", "000000") == "locked"
    assert recharge(svc, cid, call("13900000032"), good, "246810") == "locked"
    assert ("recharge_account_locked", f"account:{_account(sessions, cid)}") in audit_rows(sessions)


def _account(sessions, cid):
    with sessions() as s:
        return s.scalar(select(Account.id).where(Account.customer_id == cid))


def test_wrong_pins_lock_the_calling_number(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock, number_card_failures=2, account_card_failures=99)
    a, b = customer(sessions, "13800000040"), customer(sessions, "13800000041")
    good = card(sessions, "8862039415577036")
    assert recharge(svc, a, call("13900000040"), "8800000000000406", "000000") == "invalid"
    assert recharge(svc, b, call("13900000040"), "8800000000000407", "000000") == "locked"
    assert recharge(svc, b, call("13900000040"), good, "246810") == "locked"
    assert recharge(svc, b, call("13800000041"), good, "246810") == "ok"  # the account itself is fine
    assert ("recharge_number_locked", "number:13900000040") in audit_rows(sessions)


def test_tries_per_call_and_per_day_are_capped(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock, card_failures=99, account_card_failures=99, number_card_failures=99,
                   recharges_per_day=5)
    cid = customer(sessions, "13800000050")
    one_call = call("13800000050")
    # the flow loops back to the card menu: about 30 guesses fitted in one call before
    assert [recharge(svc, cid, one_call, f"88000000000005{i:02d}", "000000") for i in range(4)] == [
        "invalid", "invalid", "invalid", "locked"]
    assert recharge(svc, cid, call("13800000050"), "8800000000000510", "000000") == "invalid"
    assert recharge(svc, cid, call("13800000050"), card(sessions, "8890215573616649"), "246810") == "locked"
    assert audit_rows(sessions) == []  # a cap is not an alert
    clock.advance(timedelta(hours=24, seconds=1))
    assert recharge(svc, cid, call("13800000050"), "8890215573616649", "246810") == "ok"


def test_parallel_pin_guesses_on_one_card_are_bounded(sessions, tmp_path, clock, monkeypatch):
    checks = slow(monkeypatch, ivr.services, "check_password_hash")
    svc = services(sessions, tmp_path, clock)
    number = card(sessions, "8824697013358842")
    callers = [customer(sessions, f"138000001{i:02d}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda i: recharge(svc, callers[i], call(f"138000001{i:02d}"), number,
                                                    f"00000{i}"), range(8)))
    assert len(checks) <= 3, f"{len(checks)} PINs checked in parallel"
    assert outcomes.count("invalid") <= 2 and "ok" not in outcomes


# ---- demo data ----
def test_demo_card_numbers_are_not_sequential():
    from callcenter.demo_data import CARDS
    numbers = sorted(int(number) for number, *_ in CARDS)
    assert all(len(str(n)) == 16 for n in numbers)
    gaps = [b - a for a, b in zip(numbers, numbers[1:])]
    assert min(gaps) > 10**9, "a demo card number guessable from another"


# ---- the service password's life: set and changed from the customer's own number ----
def change(svc, customer_id, ctx, old, new, again=None, state=None) -> list[str]:
    """The menu's branch: start, the old password (when asked), the new one twice."""
    state = state or CallState(customer_id=customer_id)
    outcomes = [svc.password_change_start(state, ctx)[0]]
    if outcomes[0] == "change":
        state.slots["password"] = old
        outcomes.append(svc.verify_old_password(state, ctx)[0])
    if outcomes[-1] in ("set", "ok"):
        state.slots.update(new_password=new, new_password_again=new if again is None else again)
        outcomes.append(svc.change_password(state, ctx)[0])
    assert not {"password", "new_password", "new_password_again"} & set(state.slots)  # never kept
    return outcomes


def test_a_password_change_works_and_the_old_one_no_longer_does(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000101")
    assert change(svc, cid, call("13800000101"), "123456", "135790") == ["change", "ok", "ok"]
    assert password(svc, cid, call("13800000101"), "123456") == "wrong"
    assert password(svc, cid, call("13800000101"), "135790") == "ok"
    assert audit_rows(sessions) == [("password_changed", f"customer:{cid}")]


def test_weak_and_mismatched_new_passwords_are_refused_then_given_up(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000102")
    ctx, state = call("13800000102"), CallState(customer_id=cid)
    assert change(svc, cid, ctx, "123456", "000000", state=state) == ["change", "ok", "weak"]
    for new, again, outcome in (("654321", "654321", "weak"), ("135790", "135791", "gave_up")):
        state.slots.update(new_password=new, new_password_again=again)
        assert svc.change_password(state, ctx)[0] == outcome
    assert password(svc, cid, call("13800000102"), "123456") == "ok"  # unchanged
    assert audit_rows(sessions) == []


def test_a_wrong_old_password_is_counted_and_locks_like_any_other(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000103")
    outcomes = [change(svc, cid, call("13800000103"), old, "135790") for old in ("111111", "222222", "333333")]
    assert outcomes == [["change", "wrong"], ["change", "wrong"], ["change", "locked"]]
    assert change(svc, cid, call("13800000103"), "123456", "135790") == ["locked"]
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(IvrAttempt).where(IvrAttempt.customer_id == cid)) == 3


def test_only_the_own_number_sets_or_changes_and_nothing_skips_the_old_password(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000104")
    assert change(svc, cid, call("13900000999"), "123456", "135790") == ["not_own"]
    assert change(svc, cid, call(""), "123456", "135790") == ["not_own"]  # withheld
    # a service run out of order (the flow bypassed): refused without the old password checked
    state = CallState(customer_id=cid, verified=True, slots={"new_password": "135790", "new_password_again": "135790"})
    assert svc.change_password(state, call("13800000104"))[0] == "refused"
    assert password(svc, cid, call("13800000104"), "123456") == "ok"


def test_a_customer_without_a_password_sets_one_from_their_number(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000105")
    with sessions() as s:
        s.get(Customer, cid).service_password_hash = None
        s.commit()
    assert change(svc, cid, call("13900000998"), "", "135790") == ["not_own"]
    assert change(svc, cid, call("13800000105"), "", "000105") == ["set", "weak"]  # the number's own digits
    assert change(svc, cid, call("13800000105"), "", "135790") == ["set", "ok"]
    assert password(svc, cid, call("13800000105"), "135790") == "ok"
    assert audit_rows(sessions) == [("password_set", f"customer:{cid}")]


def test_a_first_password_set_proves_only_the_caller_id_a_change_proves_the_caller(sessions, tmp_path, clock):
    """Setting the first password from the registered number leaves the call unverified (no VIP
    priority, no full screen-pop on a caller ID alone); changing it after the old one was keyed
    verifies the call."""
    svc = services(sessions, tmp_path, clock)
    cid = customer(sessions, "13800000106")
    with sessions() as s:
        s.get(Customer, cid).service_password_hash = None
        s.commit()
    first = CallState(customer_id=cid, slots={"new_password": "135790", "new_password_again": "135790"})
    assert svc.change_password(first, call("13800000106"))[0] == "ok"
    assert not first.verified and first.priority == 0
    again = CallState(customer_id=cid, slots={"password": "135790"})
    assert svc.verify_old_password(again, call("13800000106"))[0] == "ok"
    again.slots.update(new_password="246813", new_password_again="246813")
    assert svc.change_password(again, call("13800000106"))[0] == "ok"
    assert again.verified


def test_an_unidentified_caller_is_unknown_never_locked(sessions, tmp_path, clock):
    svc = services(sessions, tmp_path, clock)
    state = CallState(slots={"password": "123456"})
    assert svc.verify_password(state, call("13900000997")) == ("unknown", {})
    assert state.handoff_reason == "password_unknown_caller"
    assert svc.password_change_start(CallState(), call("13900000997"))[0] == "unknown"


@pytest.mark.parametrize("weak", ["000000", "111111", "123456", "234567", "654321", "987654", "890123", "121212",
                                  "123123", "12345", "1234567", "12a456", "１２３９８７"])
def test_weak_service_passwords(weak):
    assert service_password.is_weak(weak)


@pytest.mark.parametrize("fine", ["135790", "246813", "902716", "120458"])
def test_ordinary_service_passwords(fine):
    assert not service_password.is_weak(fine) and service_password.is_weak(fine, "1380" + fine)
