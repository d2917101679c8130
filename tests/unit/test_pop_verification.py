"""Issue 15: a caller ID or a keyed service number names a customer but does not prove the caller
is them. Until this call's caller keyed the service password, the screen-pop shows only the
minimum profile (screen_pop.unverified_profile, the look-up routes' rule) and the menu gives no
VIP routing priority; once verified (in the menu, or sent there by the agent) both are the full
thing, and the push process pushes the pop again so the agent sees it.

A pre-migrated SQLite database; the push process's emitter and Redis are test_replay_push's fakes.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from agent_desktop.screen_pop import build_pop, customer_profile, unverified_profile
from callcenter import db
from callcenter import dialplan as dp
from callcenter.models import Account, Bill, Call, Customer, CustomerPhone, WorkOrder
from ivr.engine import CallState
from ivr.services import CallContext, HotlineServices
from tests.unit.test_replay_push import live_as_router_leaves_it, pusher, ringing, rows_until_ring  # noqa: F401
from tests.unit.transcripts import call_id

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=timezone.utc)
UID = "1700000000.7"
NUMBER = "13800000007"
CHEAP = "pbkdf2:sha256:1000"  # the check reads the method from the hash; scrypt would cost 0.1-0.4 s


@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)


def seed_customer(sessions, number: str = NUMBER, vip_level: int = 3) -> int:
    """A VIP customer with everything the full profile shows: an account, a bill, an open order."""
    with sessions() as s:
        c = Customer(name="王小明", vip_level=vip_level, plan="5G", language="en",
                     service_password_hash=generate_password_hash("123456", method=CHEAP))
        c.phones.append(CustomerPhone(number=number))
        account = Account(number="A" + number, balance_cents=4_250)
        account.bills.append(Bill(period="2026-10", amount_cents=5_900, due_date=NOW.date(), paid=False))
        c.accounts.append(account)
        s.add(c)
        s.flush()
        s.add(WorkOrder(number="202611220001", category="fault", status="new", priority="normal",
                        description="no dial tone", created_at=NOW, customer_id=c.id))
        s.commit()
        return c.id


def seed_call(sessions, customer_id: int | None, verified: bool, uniqueid: str = UID, number: str = NUMBER) -> None:
    with sessions() as s:
        s.add(Call(uniqueid=uniqueid, caller_number=number, customer_id=customer_id, started_at=NOW,
                   password_verified=verified))
        s.commit()


def pop(sessions, uniqueid: str = UID) -> dict:
    with sessions() as s:
        return build_pop(s, uniqueid, None, NOW.timestamp())


def full(sessions, customer_id: int, uniqueid: str = UID) -> dict:
    with sessions() as s:
        return customer_profile(s, customer_id, exclude_call=uniqueid)


# ---- the screen-pop ----
def test_an_unverified_callers_pop_shows_only_the_minimum(sessions):
    customer_id = seed_customer(sessions)
    seed_call(sessions, customer_id, verified=False)  # the menu found them by the caller ID
    shown = pop(sessions)
    assert shown["customer"] == {"id": customer_id, "name": "王**", "language": "en", "verified": False}
    assert shown["customer"] == unverified_profile(full(sessions, customer_id))  # one rule, the look-ups'
    assert shown["password_verified"] is False


def test_a_verified_callers_pop_shows_the_full_profile(sessions):
    customer_id = seed_customer(sessions)
    seed_call(sessions, customer_id, verified=True)
    shown = pop(sessions)["customer"]
    assert shown == full(sessions, customer_id)
    assert (shown["name"], shown["vip_level"], shown["phones"]) == ("王小明", 3, [NUMBER])
    assert [a["balance_cents"] for a in shown["accounts"]] == [4_250]
    assert [o["number"] for o in shown["open_orders"]] == ["202611220001"] and len(shown["bills"]) == 1
    assert "verified" not in shown


def test_a_customer_found_only_by_the_calling_number_gets_the_minimum_even_on_a_verified_call(sessions):
    """The password the call verified was no customer's the pop could show (the call names none):
    the number's customer is shown by the minimum rule, not in full."""
    customer_id = seed_customer(sessions)
    seed_call(sessions, None, verified=True)
    assert pop(sessions)["customer"] == unverified_profile(full(sessions, customer_id))


def test_a_caller_nobody_knows_has_no_customer_on_the_pop(sessions):
    seed_call(sessions, None, verified=False, number="13900009999")
    assert pop(sessions)["customer"] is None


# ---- the push process: the agent gets the full profile once the caller is verified ----
async def test_the_pop_pushed_again_after_the_agents_verify_carries_the_full_profile(pusher):  # noqa: F811
    transcript = "answered_agent_hangs_up"
    caller = "13900001111"  # the recorded call's caller number
    customer_id = seed_customer(pusher.sessions, number=caller)
    rows_until_ring(pusher, transcript)
    live_as_router_leaves_it(pusher, transcript)
    uid = call_id(transcript)
    with pusher.sessions() as s:  # what the menu wrote: who the caller ID names, not verified
        s.scalar(select(Call).where(Call.uniqueid == uid)).customer_id = customer_id
        s.commit()
    ring = ringing(transcript)
    await pusher.on_ringing(ring)
    [(_, at_ring, room)] = pusher.emitter.sent
    assert room == "agent:1601" and at_ring["customer"]["verified"] is False and "accounts" not in at_ring["customer"]

    with pusher.sessions() as s:  # the password check the agent sent the caller to wrote this first
        s.scalar(select(Call).where(Call.uniqueid == uid)).password_verified = True
        s.commit()
    # then the dialplan's CallerVerified, from the caller's own channel in the verify context
    [context] = dp.EVENT_CONTEXTS[dp.EV_CALLER_VERIFIED]
    back = {**ring, "UserEvent": dp.EV_CALLER_VERIFIED, "Context": context, "Verified": "1"}
    await pusher.on_ringing(back)
    (_, again, room) = pusher.emitter.sent[-1]
    assert room == "agent:1601" and again["verified_back"] and again["password_verified"]
    assert again["customer"]["vip_level"] == 3 and again["customer"]["accounts"][0]["balance_cents"] == 4_250


# ---- the menu: VIP priority only from a verified caller ----
def services(sessions, tmp_path) -> HotlineServices:
    return HotlineServices(sessions, tmp_path / "business_hours.toml", clock=lambda: NOW)


@pytest.mark.parametrize("how", ["identify_caller", "identify_by_number"])
def test_a_caller_id_or_a_keyed_number_alone_gives_no_vip_priority(sessions, tmp_path, how):
    seed_customer(sessions)
    svc, state = services(sessions, tmp_path), CallState(slots={"service_number": NUMBER})
    caller = NUMBER if how == "identify_caller" else "13900000001"
    assert svc.run(how, state, CallContext(uniqueid=UID, caller_number=caller)) == ("known", {})
    assert state.language == "en" and state.customer_id is not None  # still greeted in their language
    assert state.priority == 0


@pytest.mark.parametrize("keys, outcome, priority", [("123456", "ok", 3), ("654321", "wrong", 0)])
def test_the_vip_priority_comes_with_the_right_service_password(sessions, tmp_path, keys, outcome, priority):
    seed_customer(sessions)
    svc, state, ctx = services(sessions, tmp_path), CallState(), CallContext(uniqueid=UID, caller_number=NUMBER)
    svc.run("identify_caller", state, ctx)
    state.slots["password"] = keys
    assert svc.run("verify_password", state, ctx)[0] == outcome
    assert (state.verified, state.priority) == (outcome == "ok", priority)


def test_the_priority_is_capped_at_one_digit():
    """The dialplan keeps only digits of CC_PRIORITY (FILTER(0-9)): one digit, as before."""
    assert CallState(vip_level=12, verified=True).priority == 9
    assert CallState(vip_level=12).priority == 0
