"""Who may do what on the desktop: every route and socket event, tried by every role and by an
anonymous client (table-driven), plus the object checks (whose call, which team) and CSRF.

A real SQLite database and the real Flask app; the router and Redis are small fakes here
(the integration tier runs them for real).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from acd import protocol as p
from agent_desktop import create_app, errors, socketio
from agent_desktop.i18n import STRINGS
from agent_desktop.views import DISPOSITIONS
from agent_desktop.acd_client import CommandResult
from callcenter import db
from callcenter.config import Settings
from callcenter.models import (AgentStateLog, AuditEntry, Call, Customer, CustomerPhone, OrderGroup, OrderGroupMember,
                               Team, User, WorkOrder, utcnow)
from tests import db_template
from callcenter.work_orders import CATEGORIES
from tests.unit.session_redis import SessionRedis  # login throttle, session tokens (issue 15)

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")
MY_CALL, OTHER_CALL = "1700000000.1", "1700000000.2"
ORDER, ORDER2 = "261100000001", "261100000002"  # the agent opened both; group repair (backoffice's, supervisor leads)


@dataclass
class FakeRedis(SessionRedis):
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    published: list = field(default_factory=list)

    def hget(self, key, name):
        return self.hashes.get(key, {}).get(name)

    def hgetall(self, key):
        return dict(self.hashes.get(key, {}))

    def smembers(self, key):
        member_key = {p.AGENTS: p.agent_key, p.CALLS: p.call_key}[key]
        return {m for m in ("1001", "1002", MY_CALL) if member_key(m) in self.hashes}

    def publish(self, channel, message):
        self.published.append((channel, message))

    def expire(self, key, seconds):
        """The customer look-up's hourly count (agent_desktop/customer_lookup.py) expires with its
        hour: on SessionRedis's clock, which a test can move."""
        store = self._live()
        if key not in store:
            return False
        store[key] = (store[key][0], self.now() + seconds)
        return True


@dataclass
class FakeRouter:
    sent: list = field(default_factory=list)

    refuse: CommandResult | None = None

    def send(self, op, **args):
        self.sent.append((op, args))
        return self.refuse or CommandResult(True, data={})


@pytest.fixture(scope="session")
def world_db(tmp_path_factory, migrated_template) -> tuple[Path, int]:
    """The users, team, customer and calls every test here starts from, built once per session
    (seven scrypt password hashes are 0.7 s) and copied into each test's home by `world`."""
    path = tmp_path_factory.mktemp("desktop-world") / "callcenter.db"
    sessions = db.session_factory(db_template.copy(migrated_template, path))
    with sessions() as s:
        users = {}
        for role in ROLES:
            user = User(username=role, display_name=f"<b>{role}</b>", role=role, language="en",
                        agent_extension="1001" if role == "agent" else None)
            user.set_password("secret-" + role)
            s.add(user)
            users[role] = user
        other = User(username="agent2", display_name="Agent Two", role="agent", agent_extension="1002")
        other.set_password("secret-agent2")
        s.add(other)
        s.flush()
        s.add(Team(name="team-a", supervisor_id=users["supervisor"].id))
        s.flush()
        users["agent"].team_id = s.query(Team.id).scalar()  # agent2 is in no team of this supervisor
        customer = Customer(name="<img src=x onerror=alert(1)>", vip_level=2, plan="5G", language="zh",
                            password_locked_until=utcnow() + timedelta(days=1))  # a team lead may unlock it
        customer.phones.append(CustomerPhone(number="13800000001"))
        s.add(customer)
        s.flush()
        s.add(OrderGroupMember(group_code="repair", user_id=users["backoffice"].id))
        s.get(OrderGroup, "repair").lead_id = users["supervisor"].id
        for number in (ORDER, ORDER2):
            s.add(WorkOrder(number=number, category="fault_phone", status="new", group_code="repair",
                            created_by="agent", owner="agent", customer_id=customer.id, call_uniqueid=MY_CALL))
        for uid, ext in ((MY_CALL, "1001"), (OTHER_CALL, "1002")):
            s.add(Call(uniqueid=uid, caller_number="13800000001", customer_id=customer.id, started_at=utcnow()))
            s.add(AgentStateLog(stream_id=f"1-{ext}", extension=ext, state="on_call", call_uniqueid=uid,
                                started_at=utcnow()))
        s.commit()
        customer_id = customer.id
    db_template.settle(f"sqlite:///{path}")
    return path, customer_id


@pytest.fixture
def world(tmp_path, world_db):
    template, customer_id = world_db
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    url = db_template.copy(template, tmp_path / "callcenter.db")
    assert settings.database_url == url  # the app's database is this test's own copy
    redis, router = FakeRedis(), FakeRouter()
    redis.hashes[p.agent_key("1001")] = {"state": "on_call", "call": MY_CALL, "since": "1"}
    redis.hashes[p.agent_key("1002")] = {"state": "ready", "since": "1"}
    app = create_app(settings, router=router, redis=redis, message_queue=False)
    app.config["TESTING"] = True
    return app, router, redis, customer_id


def login(app, role):
    client = app.test_client()
    if role is None:
        client.get("/login")
        return client
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    password = "secret-agent2" if role == "agent2" else f"secret-{role}"
    reply = client.post("/login", data={"username": role, "password": password, "csrf_token": token})
    assert reply.status_code == 302, f"{role} could not log in"
    return client


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session.get("csrf", "")


def routes(customer_id):
    agent, sup_admin, admin = {"agent"}, {"supervisor", "admin"}, {"admin"}
    back_office = {"backoffice", "supervisor", "admin"}  # roles with order queues
    order_readers = {"agent", *back_office}  # the agent: as the orders' owner (first responder)
    comment = {"action": "comment", "comment": "called the customer"}
    order = {"call": MY_CALL, "category": "billing", "description": "bill twice", "priority": "high"}
    return [
        ("GET", "/agent", None, agent),
        ("GET", "/wallboard", None, {*sup_admin, "quality"}),  # inspectors listen to calls from it
        ("GET", "/admin/", None, admin),
        ("GET", "/api/me", None, set(ROLES)),
        ("GET", "/api/agent/state", None, agent),
        ("GET", "/api/agent/today", None, agent),
        ("GET", f"/api/calls/{MY_CALL}/pop", None, agent),
        ("GET", f"/api/customers?q=138&call={MY_CALL}", None, agent),
        ("GET", f"/api/customers/{customer_id}?call={MY_CALL}", None, agent),
        ("POST", "/api/work-orders", order, agent),
        ("GET", "/api/wallboard", None, {*sup_admin, "quality"}),
        ("GET", "/customers/password?number=13800000001", None, sup_admin),
        ("POST", f"/api/customers/{customer_id}/password-unlock", {"identity_check": "id_document"}, sup_admin),
        ("GET", "/orders", None, back_office),
        ("GET", f"/orders/{ORDER}", None, order_readers),
        ("GET", f"/orders/{ORDER}?reason=working_order", None, order_readers),
        ("POST", f"/orders/{ORDER}/act", comment, order_readers),
        ("POST", "/orders/bulk-assign", {"numbers": ORDER2, "group": "repair"}, sup_admin),  # the group's lead
        ("GET", "/api/work-order-types", None, order_readers),
        ("GET", "/api/work-orders?sort=priority&dir=desc", None, back_office),
        ("GET", "/api/work-orders/deadlines", None, back_office),
        ("GET", f"/api/work-orders/{ORDER}", None, order_readers),
        ("POST", f"/api/work-orders/{ORDER}/actions", comment, order_readers),
        ("POST", "/api/work-orders/bulk-assign", {"numbers": [ORDER2], "group": "repair"}, sup_admin),
        ("GET", "/admin/order-groups/", None, admin),
        ("POST", "/admin/order-groups/", {"code": "vip_care", "name": "VIP care", "lead": "supervisor"}, admin),
        ("POST", "/admin/order-groups/members", {"group": "repair", "username": "backoffice"}, admin),
        ("POST", "/admin/users", {"username": "newbie", "role": "agent", "language": "zh", "password": "pw123456",
                                  "extension": "1050"}, admin),
        ("POST", "/admin/teams", {"name": "team-b", "supervisor": "supervisor"}, admin),
        ("POST", "/admin/skills", {"username": "agent", "skill": "billing", "level": "4"}, admin),
        ("POST", "/admin/queues", {"skill": "billing", "ring_time_s": "15", "wrapup_s": "10",
                                   "service_level_s": "20", "overflow": "30:4", "no_answer_limit": "1"}, admin),
    ]


def request(client, method, path, body):
    if method == "GET":
        return client.get(path)
    if path.startswith("/api/"):
        return client.post(path, json=body, headers={"X-CSRF-Token": csrf(client)})
    return client.post(path, data={**body, "csrf_token": csrf(client)})


def succeeded(reply) -> bool:
    if reply.status_code in (302, 303):
        return not reply.headers["Location"].endswith("/login")
    return reply.status_code in (200, 201)


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_route_is_open_only_to_its_roles(world, role):
    app, _router, _redis, customer_id = world
    client = login(app, role)
    for method, path, body, allowed in routes(customer_id):
        reply = request(client, method, path, body)
        assert succeeded(reply) == (role in allowed), f"{role} {method} {path}: {reply.status_code}"
        if role is None and path.startswith("/api/"):
            assert reply.status_code == 401


EVENTS = [
    ("agent_state", {"to": "not_ready", "reason": "break"}, {"agent"}),
    ("call_hangup", {"call": MY_CALL}, {"agent"}),
    ("call_hold", {"call": MY_CALL}, {"agent"}),
    ("call_resume", {"call": MY_CALL}, {"agent"}),
    ("call_verify", {"call": MY_CALL}, {"agent"}),
    ("call_transfer", {"call": MY_CALL, "skill": "billing", "note": "wants a refund"}, {"agent"}),
    ("wrapup", {"call": MY_CALL, "disposition": "resolved", "notes": "ok"}, {"agent"}),
    ("supervise_state", {"ext": "1001", "to": "not_ready"}, {"supervisor", "admin"}),
    ("supervise_extend_wrapup", {"ext": "1001", "seconds": 60}, {"supervisor", "admin"}),
]


def connect(app, client, token=None):
    return socketio.test_client(app, flask_test_client=client, auth={"csrf": csrf(client) if token is None else token})


@pytest.mark.parametrize("role", ROLES)
def test_every_socket_event_is_open_only_to_its_roles(world, role):
    app, router, _redis, _ = world
    socket = connect(app, login(app, role))
    assert socket.is_connected()
    for name, payload, allowed in EVENTS:
        reply = socket.emit(name, payload, callback=True)
        assert reply["ok"] == (role in allowed), f"{role} {name}: {reply}"
        if role not in allowed:
            assert reply["code"] == "FORBIDDEN"
    # every allowed event but the wrap-up (written by the desktop itself) went to the router
    assert len(router.sent) == sum(1 for name, _payload, allowed in EVENTS if role in allowed and name != "wrapup")


def test_anonymous_and_forged_sockets_are_refused(world):
    app = world[0]
    assert not connect(app, login(app, None)).is_connected()
    assert not connect(app, login(app, "agent"), token="forged").is_connected()


def test_unsafe_requests_need_the_csrf_token(world):
    app = world[0]
    client = login(app, "admin")
    reply = client.post("/admin/teams", data={"name": "sneaky"})
    assert reply.status_code == 400
    reply = client.post("/logout")
    assert reply.status_code == 400  # even logging out: another site may not do it for you


def test_an_agent_sees_and_acts_only_on_their_own_calls(world):
    app, router, _redis, _ = world
    client = login(app, "agent")
    assert client.get(f"/api/calls/{OTHER_CALL}/pop").status_code == 403
    reply = client.post("/api/work-orders", json={"call": OTHER_CALL, "category": "billing", "description": "x"},
                        headers={"X-CSRF-Token": csrf(client)})
    assert reply.status_code == 403
    socket = connect(app, client)
    assert socket.emit("wrapup", {"call": OTHER_CALL, "disposition": "resolved"}, callback=True)["code"] == "NOT_YOUR_CALL"
    # the router is told which agent asks, never another: it checks the call is theirs
    socket.emit("call_hangup", {"call": OTHER_CALL}, callback=True)
    assert router.sent[-1] == ("hangup", {"ext": "1001", "call": OTHER_CALL})


def test_a_supervisor_manages_only_their_teams(world):
    app, router, _redis, _ = world
    client = login(app, "supervisor")
    board = client.get("/api/wallboard").get_json()
    assert [a["ext"] for a in board["agents"]] == ["1001"]
    socket = connect(app, client)
    reply = socket.emit("supervise_state", {"ext": "1002", "to": "not_ready"}, callback=True)
    assert reply["code"] == "NOT_YOUR_TEAM" and router.sent == []
    assert socket.emit("supervise_state", {"ext": "1001", "to": "ready"}, callback=True)["ok"]
    # who asked travels with the command: the router's manager writes the audit row
    assert router.sent == [("state", {"ext": "1001", "to": "ready", "reason": None, "by": "supervisor"})]


@pytest.mark.parametrize("name,payload,code", [
    ("agent_state", {"to": "on_call"}, "BAD_STATE"),
    ("agent_state", {"to": "not_ready", "reason": "nap"}, "BAD_REASON"),
    ("agent_state", "ready", "BAD_JSON"),
    ("call_hangup", {"call": "1700000000.1; rm -rf /"}, "BAD_CALL_ID"),
    ("call_transfer", {"call": MY_CALL, "to_agent": "1001\r\nAction: Originate", "note": ""}, "BAD_EXTENSION"),
    ("call_transfer", {"call": MY_CALL, "skill": "billing", "to_agent": "1002"}, "BAD_TRANSFER"),
    ("call_transfer", {"call": MY_CALL, "skill": "billing", "note": "x" * 501}, "BAD_TEXT"),
    ("wrapup", {"call": MY_CALL, "disposition": "<script>"}, "BAD_DISPOSITION"),
])
def test_bad_socket_payloads_get_a_clear_error_and_reach_nothing(world, name, payload, code):
    app, router, _redis, _ = world
    socket = connect(app, login(app, "agent"))
    reply = socket.emit(name, payload, callback=True)
    assert reply == {"ok": False, "code": code, "message": errors.message(code, "en", field="note", limit=500,
                                                                          choices=", ".join(DISPOSITIONS))}
    assert router.sent == []


# One error shape everywhere: {"code": STABLE_CODE, "message": words in the user's language}
HTTP_ERRORS = [
    (None, "GET", "/api/me", None, 401, "UNAUTHORIZED"),
    ("supervisor", "GET", "/api/agent/state", None, 403, "FORBIDDEN"),
    ("agent", "GET", "/api/no-such-route", None, 404, "NOT_FOUND"),
    ("agent", "GET", f"/api/customers/999999?call={MY_CALL}", None, 404, "NO_SUCH_CUSTOMER"),
    ("agent", "GET", "/api/customers?q=1", None, 400, "BAD_SEARCH"),
    ("agent", "GET", f"/api/calls/{OTHER_CALL}/pop", None, 403, "NOT_YOUR_CALL"),
    ("agent", "GET", "/api/calls/a%20b/pop", None, 400, "BAD_CALL_ID"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "nope", "description": "x"}, 400, "BAD_CATEGORY"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "billing", "description": " "}, 400,
     "MISSING_FIELD"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "billing", "description": "x",
                                           "customer_id": "1"}, 400, "BAD_CUSTOMER_ID"),
]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_http_api_errors_have_one_shape_in_the_users_language(world, language):
    app = world[0]
    with app.extensions["callcenter"].sessions() as s:
        s.query(User).update({User.language: language})
        s.commit()
    clients = {}
    for role, method, path, body, status, code in HTTP_ERRORS:
        if role not in clients:
            clients[role] = login(app, role)
            clients[role].environ_base["HTTP_ACCEPT_LANGUAGE"] = language  # for the anonymous one
        reply = request(clients[role], method, path, body)
        wanted = errors.message(code, language, field="description", choices=", ".join(CATEGORIES))
        assert (reply.status_code, reply.get_json()) == (status, {"code": code, "message": wanted}), path
        assert "{" not in wanted  # every placeholder was filled


def test_a_json_post_without_the_csrf_token_is_refused_with_a_code(world):
    client = login(world[0], "agent")
    reply = client.post("/api/work-orders", json={"call": MY_CALL})
    assert reply.status_code == 400 and reply.get_json()["code"] == "CSRF_FAILED"


def test_a_router_refusal_reaches_the_agent_as_its_code_in_their_language(world):
    app, router, _redis, _ = world
    router.refuse = CommandResult(False, "INVALID_AGENT_TRANSITION", "an agent who is on_call cannot become ready")
    with app.extensions["callcenter"].sessions() as s:
        s.query(User).filter_by(username="agent").update({User.language: "zh"})
        s.commit()
    reply = connect(app, login(app, "agent")).emit("agent_state", {"to": "ready"}, callback=True)
    assert reply == {"ok": False, "code": "INVALID_AGENT_TRANSITION", "message": "坐席当前状态不能执行此操作"}
    router.refuse = CommandResult(False, "SOME_NEWER_CODE", "words from the router")
    reply = connect(app, login(app, "agent")).emit("agent_state", {"to": "ready"}, callback=True)
    assert reply == {"ok": False, "code": "SOME_NEWER_CODE", "message": "words from the router"}


def test_every_error_code_the_desktop_can_answer_has_words_in_both_languages():
    from acd import protocol
    codes = set(protocol.ERRORS) | set(errors.HTTP_CODES.values())
    assert {c for c in codes if f"error.{c}" not in STRINGS} == set()


def test_pages_escape_what_callers_and_users_typed(world):
    app = world[0]
    page = login(app, "admin").get("/admin/").get_data(as_text=True)
    assert "<b>agent</b>" not in page and "&lt;b&gt;agent&lt;/b&gt;" in page
    found = login(app, "agent").get(f"/api/customers?q=img&call={MY_CALL}").get_json()
    assert found[0]["name"] == "<img src=x onerror=alert(1)>"  # JSON; the page sets it as text


def test_a_team_lead_unlocks_a_password_only_after_checking_identity_and_it_is_audited(world):
    app, _router, _redis, customer_id = world
    client = login(app, "supervisor")
    path, headers = f"/api/customers/{customer_id}/password-unlock", {"X-CSRF-Token": csrf(client)}
    for body in ({}, {"identity_check": "asked nicely"}, {"identity_check": ["id_document"]}):
        reply = client.post(path, json=body, headers=headers)
        assert reply.status_code == 400 and reply.get_json()["code"] == "IDENTITY_NOT_CHECKED"
    assert client.post("/api/customers/999999/password-unlock", json={"identity_check": "id_document"},
                       headers=headers).get_json()["code"] == "NO_SUCH_CUSTOMER"
    reply = client.post(path, json={"identity_check": "account_details", "note": "caller gave the plan\nand ID"},
                        headers=headers)
    assert reply.status_code == 200 and reply.get_json() == {"customer_id": customer_id, "unlocked": True}
    reply = client.post(path, json={"identity_check": "account_details"}, headers=headers)
    assert reply.status_code == 409 and reply.get_json()["code"] == "PASSWORD_NOT_LOCKED"  # nothing to unlock now
    with app.app_context():
        with app.extensions["callcenter"].sessions() as s:
            customer = s.get(Customer, customer_id)
            assert customer.password_locked_until is None and customer.password_failures == 0
            rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "password_unlocked")).all()
    assert [(r.actor, r.target) for r in rows] == [("supervisor", f"customer:{customer_id}")]
    assert "account_details" in rows[0].detail
