"""The team lead's screen for a locked service password (agent_desktop/password_unlock_page.py):
find the customer by a number, see the lock, unlock with the identity check said; refused to an
agent with FORBIDDEN; a bad number, no identity check, an unlocked password: a clear 4xx with its
code and nothing changed; the look-up and the unlock audited. The role matrix is in
test_desktop_access.py; the real call and the browser in tests/integration/test_password_unlock.py."""
from __future__ import annotations

from sqlalchemy import select

from callcenter.models import AuditEntry, Customer
from tests.unit.test_desktop_access import csrf, login, world, world_db  # noqa: F401

NUMBER = "13800000001"  # the world's customer's number; their password is locked for a day


def state(app, customer_id):
    with app.app_context():
        with app.extensions["callcenter"].sessions() as s:
            customer = s.get(Customer, customer_id)
            audit = [(a.actor, a.action, a.target) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
            return customer.password_locked_until, audit


def test_a_lead_finds_the_customer_sees_the_lock_and_unlocks_it(world):
    app, _router, _redis, customer_id = world
    client = login(app, "supervisor")
    page = client.get(f"/customers/password?number={NUMBER}").get_data(as_text=True)
    assert 'data-locked="yes"' in page and 'id="unlock-form"' in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src=x" not in page  # the name, escaped
    _, audit = state(app, customer_id)
    assert ("supervisor", "view_customer", f"customer:{customer_id}") in audit  # the look-up is a view

    reply = client.post(f"/customers/{customer_id}/password-unlock",
                        data={"identity_check": "id_document", "note": "ID card seen", "csrf_token": csrf(client)})
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"customer={customer_id}&unlocked=1")
    page = client.get(reply.headers["Location"]).get_data(as_text=True)
    assert 'id="unlock-result"' in page and "Service password unlocked" in page and 'data-locked="no"' in page
    assert 'id="unlock-form"' not in page  # nothing left to unlock
    until, audit = state(app, customer_id)
    assert until is None and ("supervisor", "password_unlocked", f"customer:{customer_id}") in audit

    # once more: not locked now, 409 with its code
    reply = client.post(f"/customers/{customer_id}/password-unlock",
                        data={"identity_check": "id_document", "csrf_token": csrf(client)})
    assert reply.status_code == 409 and "not locked" in reply.get_data(as_text=True)


def test_refusals_change_nothing(world):
    app, _router, _redis, customer_id = world
    before, audit_before = state(app, customer_id)
    agent = login(app, "agent")
    for reply in (agent.get(f"/customers/password?number={NUMBER}"),
                  agent.post(f"/customers/{customer_id}/password-unlock",
                             data={"identity_check": "id_document", "csrf_token": csrf(agent)}),
                  agent.post(f"/api/customers/{customer_id}/password-unlock", json={"identity_check": "id_document"},
                             headers={"X-CSRF-Token": csrf(agent)})):
        assert reply.status_code == 403
    assert agent.post(f"/api/customers/{customer_id}/password-unlock", json={"identity_check": "id_document"},
                      headers={"X-CSRF-Token": csrf(agent)}).get_json()["code"] == "FORBIDDEN"

    lead = login(app, "supervisor")
    for number in ("138%0A0000", "1' or '1'='1", "１３８００", "1" * 21, "12"):
        reply = lead.get(f"/customers/password?number={number}")
        assert reply.status_code == 400 and "3 to 20 digits" in reply.get_data(as_text=True)
    assert lead.get("/customers/password?number=19999999999").status_code == 404
    assert lead.get("/customers/password?customer=12x").status_code == 400
    for data in ({}, {"identity_check": "asked nicely"}, {"identity_check": "id_document", "note": "x" * 201}):
        reply = lead.post(f"/customers/{customer_id}/password-unlock", data={**data, "csrf_token": csrf(lead)})
        assert reply.status_code == 400, data
    assert lead.post(f"/customers/{customer_id}/password-unlock",
                     data={"identity_check": "id_document"}).status_code in (400, 403)  # no CSRF token
    after, audit_after = state(app, customer_id)
    assert after == before and [a for a in audit_after if a[1] == "password_unlocked"] == []
    assert audit_after == audit_before  # a refused look-up is no view


def test_the_order_page_links_a_lead_to_the_unlock_and_not_an_agent(world):
    app, _router, _redis, customer_id = world
    from tests.unit.test_desktop_access import ORDER
    lead = login(app, "supervisor").get(f"/orders/{ORDER}?reason=escalation").get_data(as_text=True)
    assert f"/customers/password?customer={customer_id}" in lead
    agent = login(app, "agent").get(f"/orders/{ORDER}?reason=working_order").get_data(as_text=True)
    assert "/customers/password" not in agent
