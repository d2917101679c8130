"""The desktop's side of real phones: an agent's choice of where calls ring and the softphone's
account (only their own), and the admin screen for carriers, access numbers and agents' phones
(admins only, every change audited, every refusal a stable code in the admin's language)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from agent_desktop import create_app
from agent_desktop.acd_client import CommandResult
from callcenter import db
from callcenter.config import Settings
from callcenter.models import AccessNumber, AgentPhone, AuditEntry, Carrier, User
from callcenter.sip import phones
from tests import db_template
from tests.unit.session_redis import SessionRedis  # login throttle, session tokens (issue 15)

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")


@dataclass
class FakeRedis(SessionRedis):
    hashes: dict = field(default_factory=dict)
    sets: dict = field(default_factory=dict)
    published: list = field(default_factory=list)
    counter: int = 0

    def hget(self, key, name):
        return self.hashes.get(key, {}).get(name)

    def hgetall(self, key):
        return dict(self.hashes.get(key, {}))

    def hset(self, key, mapping=None, **kw):
        self.hashes.setdefault(key, {}).update(mapping or {})

    def sadd(self, key, member):
        self.sets.setdefault(key, set()).add(member)

    def smembers(self, key):
        return set(self.sets.get(key, ()))

    def incr(self, key):
        self.counter += 1
        return self.counter

    def publish(self, channel, message):
        self.published.append((channel, message))
        return 0  # no SIP service listening: changes are stored for the next start


class FakeRouter:
    def send(self, op, **args):
        return CommandResult(True, data={})


@pytest.fixture(scope="module")
def world_template(tmp_path_factory, migrated_template):
    path = tmp_path_factory.mktemp("sip-desktop") / "callcenter.db"
    sessions = db.session_factory(db_template.copy(migrated_template, path))
    with sessions() as s:
        for role in ROLES:
            user = User(username=role, display_name=role.title(), role=role, language="en",
                        agent_extension="1001" if role == "agent" else None)
            user.set_password("secret-" + role)
            s.add(user)
        other = User(username="agent2", display_name="Agent Two", role="agent", language="zh", agent_extension="1002")
        other.set_password("secret-agent2")
        s.add(other)
        s.commit()
    db_template.settle(f"sqlite:///{path}")
    return path


@pytest.fixture
def world(tmp_path, world_template):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "CC_SIP_PORT": "5070", "CC_SIP_WS_PORT": "8089"})
    db_template.copy(world_template, tmp_path / "callcenter.db")
    redis = FakeRedis()
    app = create_app(settings, router=FakeRouter(), redis=redis, message_queue=False)
    app.config["TESTING"] = True
    return app, redis, db.session_factory(settings.database_url)


def login(app, username):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    if username is None:
        return client
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    reply = client.post("/login", data={"username": username, "password": f"secret-{username}", "csrf_token": token})
    assert reply.status_code == 302
    return client


def csrf(client) -> str:
    with client.session_transaction() as session:
        return session.get("csrf", "")


def post_json(client, path, body):
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf(client)})


def post_form(client, path, data):
    return client.post(path, data={**data, "csrf_token": csrf(client)})


ROUTES = [
    ("GET", "/api/agent/phone", None, {"agent"}),
    ("POST", "/api/agent/phone", {"device": "sip"}, {"agent"}),
    ("GET", "/api/monitor/phone", None, set()),  # supervisors and inspectors with an extension: the test below
    ("GET", "/admin/sip/", None, {"admin"}),
    ("POST", "/admin/sip/carriers", {"name": "telco", "host": "192.0.2.10", "port": "5060"}, {"admin"}),
    ("POST", "/admin/sip/numbers", {"number": "10000", "carrier": "telco", "target": "menu"}, {"admin"}),
    ("POST", "/admin/sip/phones", {"extension": "1002"}, {"admin"}),
    ("POST", "/admin/sip/numbers/remove", {"number": "10000"}, {"admin"}),
    ("POST", "/admin/sip/carriers/remove", {"name": "telco"}, {"admin"}),
]


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_route_is_open_only_to_its_roles(world, role):
    app, _redis, sessions = world
    if role != "admin":  # what the admin routes act on exists, so a refusal is the role's
        with sessions() as s:
            s.add(Carrier(name="telco", host="192.0.2.10", port=5060))
            s.flush()
            s.add(AccessNumber(number="10000", carrier_id=s.scalar(select(Carrier.id)), label=""))
            s.commit()
    client = login(app, role)
    for method, path, body, allowed in ROUTES:
        if method == "GET":
            reply = client.get(path)
        elif path.startswith("/api/"):
            reply = post_json(client, path, body)
        else:
            reply = post_form(client, path, body)
        ok = reply.status_code in (200, 201) or (reply.status_code == 302 and "/login" not in reply.headers["Location"])
        assert ok == (role in allowed), f"{role} {method} {path}: {reply.status_code}"


def test_an_agent_chooses_where_calls_ring_and_gets_only_their_own_softphone_account(world):
    app, redis, sessions = world
    agent = login(app, "agent")
    first = agent.get("/api/agent/phone").get_json()
    assert first == {"device": None, "extension": "1001", "webrtc": None,
                     "sip": {"user": "1001", "server": "127.0.0.1:5070"}}
    with sessions() as s:
        assert s.get(AgentPhone, "1001") is None  # a page load makes no credentials
    chosen = post_json(agent, "/api/agent/phone", {"device": "webrtc"}).get_json()
    with sessions() as s:
        row = s.get(AgentPhone, "1001")
    assert chosen["device"] == "webrtc" and chosen["webrtc"] == {
        "ws_url": "ws://127.0.0.1:8089/ws", "uri": "sip:web1001@127.0.0.1", "user": "web1001",
        "password": row.webrtc_password}
    assert row.sip_password not in str(chosen)  # the desk phone's password is an admin's to hand out
    assert redis.hashes[phones.phone_key("1001")]["device"] == "webrtc"
    assert (phones.PHONE_CHANGES, "1001") in redis.published
    refused = post_json(agent, "/api/agent/phone", {"device": "pstn"})
    assert refused.status_code == 400 and refused.get_json()["code"] == "BAD_DEVICE"
    other = login(app, "agent2")
    assert other.get("/api/agent/phone").get_json()["webrtc"] is None  # agent 1001's stays theirs


def test_a_monitor_chooses_where_their_monitoring_leg_rings_and_an_agent_only_thing_stays_agents(world):
    """Supervisors and inspectors with an extension choose on the wallboard (issue 11): their own
    route; the agents' route stays agents' only, and every refusal has its stable code."""
    app, redis, sessions = world
    with sessions() as s:
        for username, ext in (("supervisor", "1801"), ("quality", "1802")):
            s.scalar(select(User).where(User.username == username)).agent_extension = ext
        s.commit()
    for role, ext in (("supervisor", "1801"), ("quality", "1802")):
        client = login(app, role)
        assert client.get("/api/monitor/phone").get_json()["webrtc"] is None
        chosen = post_json(client, "/api/monitor/phone", {"device": "webrtc"}).get_json()
        assert chosen["device"] == "webrtc" and chosen["webrtc"]["user"] == f"web{ext}"
        assert redis.hashes[phones.phone_key(ext)]["device"] == "webrtc"
        for reply in (client.get("/api/agent/phone"), post_json(client, "/api/agent/phone", {"device": "sip"})):
            assert reply.status_code == 403 and reply.get_json()["code"] == "FORBIDDEN"
        refused = post_json(client, "/api/monitor/phone", {"device": "sip\r\nx"})
        assert refused.status_code == 400 and refused.get_json()["code"] == "BAD_DEVICE"
    for role in ("agent", "admin", "backoffice"):
        reply = login(app, role).get("/api/monitor/phone")
        assert reply.status_code == 403 and reply.get_json()["code"] == "FORBIDDEN", role
    assert login(app, None).get("/api/monitor/phone").get_json()["code"] == "UNAUTHORIZED"
    with sessions() as s:  # the monitors' endpoints are rendered into Asterisk's configuration
        from callcenter.sip import store
        assert {"1801", "1802"} <= {ph.extension for ph in store.phones(s)}
        s.scalar(select(User).where(User.username == "supervisor")).agent_extension = None
        s.commit()
    reply = login(app, "supervisor").get("/api/monitor/phone")
    assert reply.status_code == 409 and reply.get_json()["code"] == "NO_EXTENSION"


def test_an_admin_declares_a_carrier_its_numbers_and_sees_and_changes_agents_passwords(world):
    app, _redis, sessions = world
    admin = login(app, "admin")
    reply = post_form(admin, "/admin/sip/carriers", {"name": "telco", "host": "sip.example.com", "port": "5060",
                                                    "username": "cc", "password": "s3cret-pass", "register": "1"})
    assert reply.status_code == 302 and "outcome=stored" in reply.headers["Location"]
    post_form(admin, "/admin/sip/numbers", {"number": "10086", "carrier": "telco", "target": "skill", "value": "vip"})
    post_form(admin, "/admin/sip/numbers", {"number": "10010", "carrier": "telco", "target": "entry",
                                            "value": "main_menu", "label": "fault desk"})
    assert post_form(admin, "/admin/sip/phones", {"extension": "1001"}).status_code == 302
    with sessions() as s:
        carrier = s.scalar(select(Carrier))
        assert (carrier.host, carrier.username, carrier.register) == ("sip.example.com", "cc", True)
        assert {(n.number, n.entry, n.skill) for n in s.scalars(select(AccessNumber))} == {
            ("10086", None, "vip"), ("10010", "main_menu", None)}
        password = s.get(AgentPhone, "1001").sip_password
        audited = {e.action for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "admin"))}
    assert audited == {"save_carrier", "save_number", "reset_phone"}
    page = admin.get("/admin/sip/?outcome=stored").get_data(as_text=True)
    assert password in page and "sip.example.com:5060" in page and "Saved; applied when" in page
    assert "s3cret-pass" not in page  # a carrier's password is not shown back
    # saving the carrier again without typing the password keeps it
    post_form(admin, "/admin/sip/carriers", {"name": "telco", "host": "sip.example.com", "username": "cc", "register": "1"})
    with sessions() as s:
        assert s.scalar(select(Carrier.password)) == "s3cret-pass"
    post_form(admin, "/admin/sip/phones", {"extension": "1001", "password": "chosen-by-admin"})
    with sessions() as s:
        assert s.get(AgentPhone, "1001").sip_password == "chosen-by-admin"


@pytest.mark.parametrize("path, data, code", [
    ("/admin/sip/carriers", {"name": "telco\n[evil]", "host": "192.0.2.1"}, "BAD_CARRIER_NAME"),
    ("/admin/sip/carriers", {"name": "telco", "host": "192.0.2.1;transport=tcp"}, "BAD_HOST"),
    ("/admin/sip/carriers", {"name": "telco", "host": "192.0.2.1", "port": "70000"}, "BAD_PORT"),
    ("/admin/sip/carriers", {"name": "telco", "host": "192.0.2.1", "register": "1"}, "REGISTER_NEEDS_CREDENTIALS"),
    ("/admin/sip/numbers", {"number": "10000,1", "carrier": "telco", "target": "menu"}, "BAD_NUMBER"),
    ("/admin/sip/numbers", {"number": "10000", "carrier": "nobody", "target": "menu"}, "NO_SUCH_CARRIER"),
    ("/admin/sip/numbers", {"number": "10000", "carrier": "telco", "target": "entry", "value": "nope"}, "NO_SUCH_ENTRY"),
    ("/admin/sip/numbers", {"number": "10000", "carrier": "telco", "target": "dial"}, "BAD_TARGET_KIND"),
    ("/admin/sip/phones", {"extension": "1001", "password": "short"}, "BAD_SECRET"),
    ("/admin/sip/phones", {"extension": "1999"}, "NO_SUCH_AGENT"),
    ("/admin/sip/phones", {"extension": "１００１"}, "BAD_EXTENSION"),
])
def test_refusals_are_stable_codes_in_the_admins_language(world, path, data, code):
    app, _redis, sessions = world
    with sessions() as s:
        s.add(Carrier(name="telco", host="192.0.2.10", port=5060))
        s.commit()
    admin = login(app, "admin")
    reply = admin.post(path, data={**data, "csrf_token": csrf(admin)}, headers={"Accept": "application/json"})
    assert reply.status_code == 400, reply.get_data(as_text=True)[:300]
    from html import escape

    from agent_desktop.errors import message
    name = data.get("extension") or data.get("name") or data.get("number")
    assert escape(message(code, "en", name=name), quote=False) in reply.get_data(as_text=True).replace("&#39;", "'")


def test_every_refusal_code_of_the_sip_package_has_words_in_both_languages():
    from pathlib import Path

    from agent_desktop.i18n import STRINGS
    source = "".join(p.read_text() for p in Path("callcenter/sip").glob("*.py"))
    codes = set(re.findall(r'SipConfigError\(\s*"([A-Z_]+)"', source)) | {"APPLY_FAILED", "APPLY_TIMEOUT"}
    assert {"BAD_HOST", "UNSAFE_CONFIG", "REGISTER_NEEDS_CREDENTIALS"} <= codes
    for code in codes:
        assert set(STRINGS[f"error.{code}"]) == {"en", "zh"}, code
