"""Issue 15, "Agents can read every customer": a customer search or profile only for the agent's
own call or for a reason (with a note for a search), every look-up audited, the minimum profile
before the caller gave the service password, and a per-agent hourly search limit.

The real Flask app and SQLite database of test_desktop_access's world (one agent on MY_CALL,
agent2 on OTHER_CALL, one customer whose name is markup); its small fake Redis counts searches.
"""
from __future__ import annotations

import pytest
from sqlalchemy import select

from agent_desktop import customer_lookup as lookup
from agent_desktop.screen_pop import unverified_profile
from callcenter.models import AuditEntry, Call
from tests.unit.test_desktop_access import MY_CALL, OTHER_CALL, login, world, world_db  # noqa: F401 (fixtures)

NAME = "<img src=x onerror=alert(1)>"  # the world's customer


def audit_rows(app) -> list[tuple[str, str, str, str]]:
    with app.extensions["callcenter"].sessions() as s:
        return [(a.actor, a.action, a.target, a.detail) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
                if a.action in ("search_customers", "view_customer")]


def verify_caller(app, uniqueid: str) -> None:
    """What the menu does when the caller keys the right service password on the call."""
    with app.extensions["callcenter"].sessions() as s:
        s.scalar(select(Call).where(Call.uniqueid == uniqueid)).password_verified = True
        s.commit()


def refusal(reply) -> tuple[int, str]:
    return reply.status_code, reply.get_json()["code"]


REFUSALS = [
    ("q=138", 403, "LOOKUP_REASON_REQUIRED"),  # neither a call nor a reason
    ("q=138&reason=curious&note=x", 400, "BAD_LOOKUP_REASON"),
    ("q=138&reason=callback", 400, "LOOKUP_NOTE_REQUIRED"),  # a search for a reason says whom for
    ("q=138&reason=callback&note=%20%20", 400, "LOOKUP_NOTE_REQUIRED"),
    ("q=138&reason=callback&note=" + "x" * (lookup.NOTE_LIMIT + 1), 400, "BAD_LOOKUP_NOTE"),
    ("q=138&reason=callback&note=a%0Ab", 400, "BAD_LOOKUP_NOTE"),  # a line feed would forge an audit line
    (f"q=138&call={OTHER_CALL}", 403, "NOT_YOUR_CALL"),  # agent2's call
    ("q=138&call=a%2Cb", 400, "BAD_CALL_ID"),
    ("q=1%0A8&call=" + MY_CALL, 400, "BAD_SEARCH"),
]


@pytest.mark.parametrize("query, status, code", REFUSALS)
def test_a_search_without_the_agents_call_or_a_reason_is_refused_and_not_audited(world, query, status, code):
    app = world[0]
    assert refusal(login(app, "agent").get("/api/customers?" + query)) == (status, code)
    assert audit_rows(app) == []


@pytest.mark.parametrize("query, status, code", [
    ("", 403, "LOOKUP_REASON_REQUIRED"),
    ("reason=gossip", 400, "BAD_LOOKUP_REASON"),
    (f"call={OTHER_CALL}", 403, "NOT_YOUR_CALL"),
    ("reason=callback&note=" + "x" * (lookup.NOTE_LIMIT + 1), 400, "BAD_LOOKUP_NOTE"),
])
def test_a_profile_without_the_agents_call_or_a_reason_is_refused_and_not_audited(world, query, status, code):
    app, _router, _redis, customer_id = world
    assert refusal(login(app, "agent").get(f"/api/customers/{customer_id}?{query}")) == (status, code)
    assert audit_rows(app) == []


def test_a_search_for_the_agents_own_call_finds_names_only_and_is_audited(world):
    app, _router, _redis, customer_id = world
    found = login(app, "agent").get(f"/api/customers?q=13800&call={MY_CALL}")
    assert found.status_code == 200 and found.get_json() == [{"id": customer_id, "name": NAME}]  # no VIP level
    assert audit_rows(app) == [("agent", "search_customers", "query:13800", f"call {MY_CALL}")]


def test_a_search_for_a_reason_with_a_note_is_audited_with_both(world):
    app, _router, _redis, customer_id = world
    found = login(app, "agent").get("/api/customers?q=img&reason=callback&note=asked+for+a+call+back+at+5")
    assert found.status_code == 200 and found.get_json() == [{"id": customer_id, "name": NAME, "vip_level": 2}]
    assert audit_rows(app) == [("agent", "search_customers", "query:img",
                                "reason callback; note asked for a call back at 5")]


def test_before_the_caller_is_verified_the_profile_through_the_call_is_the_minimum(world):
    app, _router, _redis, customer_id = world
    shown = login(app, "agent").get(f"/api/customers/{customer_id}?call={MY_CALL}").get_json()
    assert shown == {"id": customer_id, "name": "<" + "*" * (len(NAME) - 1), "language": "zh", "verified": False}
    assert audit_rows(app) == [("agent", "view_customer", f"customer:{customer_id}", f"call {MY_CALL}")]


def test_after_the_caller_gave_the_service_password_the_profile_through_the_call_is_full(world):
    app, _router, _redis, customer_id = world
    verify_caller(app, MY_CALL)
    shown = login(app, "agent").get(f"/api/customers/{customer_id}?call={MY_CALL}").get_json()
    assert (shown["name"], shown["vip_level"], shown["phones"]) == (NAME, 2, ["13800000001"])
    assert "accounts" in shown and "recent_calls" in shown
    assert audit_rows(app) == [("agent", "view_customer", f"customer:{customer_id}", f"call {MY_CALL}")]


def test_a_verified_call_does_not_open_another_customers_full_profile(world):
    """The password proved the caller is the call's customer, no one else."""
    app, _router, _redis, customer_id = world
    verify_caller(app, MY_CALL)
    with app.extensions["callcenter"].sessions() as s:
        from callcenter.models import Customer
        other = Customer(name="Someone Else", vip_level=3, plan="4G", language="en")
        s.add(other)
        s.commit()
        other_id = other.id
    shown = login(app, "agent").get(f"/api/customers/{other_id}?call={MY_CALL}").get_json()
    assert shown == {"id": other_id, "name": "S***********", "language": "en", "verified": False}


def test_a_profile_for_a_reason_is_full_and_audited_with_the_reason(world):
    app, _router, _redis, customer_id = world
    shown = login(app, "agent").get(f"/api/customers/{customer_id}?reason=work_order").get_json()
    assert (shown["name"], shown["vip_level"]) == (NAME, 2)
    assert audit_rows(app) == [("agent", "view_customer", f"customer:{customer_id}", "reason work_order")]


def test_an_agent_gets_a_limited_number_of_searches_an_hour(world, monkeypatch):
    app, _router, redis, _customer_id = world
    monkeypatch.setattr(lookup, "clock", lambda: 1_800_000_000.0)  # one clock hour throughout
    agent, other = login(app, "agent"), login(app, "agent2")
    for _ in range(lookup.LOOKUPS_PER_HOUR):
        assert agent.get(f"/api/customers?q=138&call={MY_CALL}").status_code == 200
    assert refusal(agent.get(f"/api/customers?q=138&call={MY_CALL}")) == (429, "RATE_LIMITED")
    assert refusal(agent.get("/api/customers?q=138&reason=callback&note=x")) == (429, "RATE_LIMITED")
    assert other.get(f"/api/customers?q=138&call={OTHER_CALL}").status_code == 200  # agent2 has their own count
    searches = [r for r in audit_rows(app) if r[1] == "search_customers"]
    assert len(searches) == lookup.LOOKUPS_PER_HOUR + 1  # refused searches ran no query, so no row
    # a refused look-up (no reason) is not counted: it never reached the search
    assert refusal(other.get("/api/customers?q=138")) == (403, "LOOKUP_REASON_REQUIRED")
    counts = sorted(int(v) for k, (v, _at) in redis._live().items() if k.startswith("desk:lookups:"))
    assert counts == [1, lookup.LOOKUPS_PER_HOUR + 2]  # every try of the agent's counts, even refused ones
    start = redis.now()
    redis.now = lambda: start + lookup.HOUR_S  # the count's key expires with its hour
    assert agent.get(f"/api/customers?q=138&call={MY_CALL}").status_code == 200


def test_profiles_count_too_except_the_calls_own_customer(world, monkeypatch):
    """Walking profile ids for a reason (or through an unknown caller's call) spends the same
    budget as searching; reopening the call's own customer (after a work order) does not."""
    app, _router, redis, customer_id = world
    monkeypatch.setattr(lookup, "clock", lambda: 1_800_000_000.0)
    agent = login(app, "agent")
    for _ in range(lookup.LOOKUPS_PER_HOUR):
        assert agent.get(f"/api/customers/{customer_id}?reason=callback").status_code == 200
    assert refusal(agent.get(f"/api/customers/{customer_id}?reason=callback")) == (429, "RATE_LIMITED")
    assert refusal(agent.get(f"/api/customers/{customer_id + 1}?call={MY_CALL}")) == (429, "RATE_LIMITED")
    assert agent.get(f"/api/customers/{customer_id}?call={MY_CALL}").status_code == 200  # the call's customer
    assert len([r for r in audit_rows(app) if r[1] == "view_customer"]) == lookup.LOOKUPS_PER_HOUR + 1


def test_the_hourly_count_starts_again_the_next_hour_and_expires_with_it():
    class Counter(dict):
        expiries: dict = {}

        def incr(self, key):
            self[key] = self.get(key, 0) + 1
            return self[key]

        def expire(self, key, seconds):
            self.expiries[key] = seconds

    redis, hour = Counter(), 1_800_000_000 // 3600 * 3600
    for _ in range(lookup.LOOKUPS_PER_HOUR):
        lookup.count_lookup(redis, "agent", now=hour + 10)
    with pytest.raises(lookup.ApiError) as refused:
        lookup.count_lookup(redis, "agent", now=hour + 3599)
    assert (refused.value.code, refused.value.status) == ("RATE_LIMITED", 429)
    lookup.count_lookup(redis, "agent", now=hour + 3600)  # a new hour
    assert set(redis.expiries.values()) == {lookup.HOUR_S} and len(redis.expiries) == 2


def test_the_minimum_profile_keeps_no_vip_level_accounts_or_history():
    full = {"id": 7, "name": "王小明", "vip_level": 3, "language": "zh", "plan": "5G", "phones": ["13800000001"],
            "accounts": [{"number": "A1"}], "bills": [], "open_orders": [], "recent_calls": []}
    assert unverified_profile(full) == {"id": 7, "name": "王**", "language": "zh", "verified": False}
    assert unverified_profile({**full, "name": ""})["name"] == ""


def test_the_agent_page_offers_the_reasons_in_the_users_language(world):
    page = login(world[0], "agent").get("/agent").get_data(as_text=True)
    assert 'id="lookup-reason"' in page and 'id="lookup-note"' in page
    for reason in lookup.REASONS:
        assert f'<option value="{reason}">' in page
    assert "Calling the customer back" in page  # the world's users read English
