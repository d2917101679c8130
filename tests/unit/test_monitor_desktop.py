"""The desktop's side of live monitoring (agent_desktop/monitor_events.py): every role tries the
three socket events; the team check, listen-only, payload validation, what reaches the router
(the call's id and a mode from the enum: never a channel), the agent's "being coached" notice,
and which controls the wallboard offers each role.

The real Flask app and SQLite, with the router and Redis faked as in test_desktop_access.py.
"""
from __future__ import annotations

import dataclasses
import json
import re

import pytest
from sqlalchemy import select

from acd import protocol as p
from agent_desktop.acd_client import CommandResult
from agent_desktop.monitor_push import monitor_room, tell
from callcenter.models import User
from tests.unit.test_desktop_access import MY_CALL, OTHER_CALL, ROLES, connect, login, world, world_db  # noqa: F401

MONITOR_ID = "mon0123456789abcdef0123"


@pytest.fixture
def floor(world):  # noqa: F811 - the fixture imported above
    """world, with two live calls in Redis (1001's, whose team the supervisor leads; 1002's, in no
    team of theirs), an extension for the supervisor and the inspector, and a router that answers
    as acd/commands.py does."""
    app, router, redis, _customer = world
    redis.hashes[p.call_key(MY_CALL)] = {"channel": "Local/10000@hotline-0001;2", "agent": "1001"}
    redis.hashes[p.agent_key("1002")] = {"state": "on_call", "call": OTHER_CALL, "since": "1"}
    redis.hashes[p.call_key(OTHER_CALL)] = {"channel": "Local/10000@hotline-0002;2", "agent": "1002"}
    with app.extensions["callcenter"].sessions() as s:
        for username, ext in (("supervisor", "1801"), ("quality", "1802")):
            s.scalar(select(User).where(User.username == username)).agent_extension = ext
        s.commit()
    router.refuse = CommandResult(True, data={"monitor": MONITOR_ID, "call": MY_CALL, "agent": "1001",
                                              "mode": "listen", "answered": False})
    return app, router


@pytest.mark.parametrize("role", ROLES)
def test_only_supervisors_and_inspectors_may_monitor(floor, role):
    app, router = floor
    socket = connect(app, login(app, role))
    reply = socket.emit("monitor_start", {"call": MY_CALL, "mode": "listen"}, callback=True)
    allowed = role in ("supervisor", "quality")
    assert reply["ok"] == allowed, reply
    if not allowed:
        assert reply["code"] == "FORBIDDEN" and router.sent == []
    for name, payload in (("monitor_mode", {"monitor": MONITOR_ID, "mode": "listen"}),
                          ("monitor_stop", {"monitor": MONITOR_ID})):
        reply = socket.emit(name, payload, callback=True)
        assert reply["ok"] == allowed and (allowed or reply["code"] == "FORBIDDEN"), (name, reply)


def test_the_router_gets_the_call_id_the_mode_and_who_asks_never_a_channel(floor):
    app, router = floor
    socket = connect(app, login(app, "supervisor"))
    reply = socket.emit("monitor_start", {"call": MY_CALL, "mode": "whisper", "channel": "PJSIP/9999",
                                          "listener": "1999", "options": "qBX"}, callback=True)
    assert reply["ok"]
    assert router.sent == [("monitor_start", {"call": MY_CALL, "mode": "whisper", "by": "supervisor",
                                              "role": "supervisor", "listener": "1801"})]


def test_another_teams_supervisor_is_refused_with_a_code(floor):
    app, router = floor
    socket = connect(app, login(app, "supervisor"))
    reply = socket.emit("monitor_start", {"call": OTHER_CALL, "mode": "listen"}, callback=True)
    assert reply["ok"] is False and reply["code"] == "NOT_YOUR_TEAM" and reply["message"]
    assert router.sent == []


def test_an_inspector_listens_to_any_team_but_only_listens(floor):
    app, router = floor
    socket = connect(app, login(app, "quality"))
    assert socket.emit("monitor_start", {"call": OTHER_CALL, "mode": "listen"}, callback=True)["ok"]
    assert router.sent[-1][1]["role"] == "quality"
    for name, payload in (("monitor_start", {"call": MY_CALL, "mode": "whisper"}),
                          ("monitor_start", {"call": MY_CALL, "mode": "barge"}),
                          ("monitor_mode", {"monitor": MONITOR_ID, "mode": "barge"})):
        reply = socket.emit(name, payload, callback=True)
        assert reply["ok"] is False and reply["code"] == "LISTEN_ONLY", (name, reply)
    assert len(router.sent) == 1


@pytest.mark.parametrize("name, payload, code", [
    ("monitor_start", {"call": MY_CALL, "mode": "shout"}, "BAD_MONITOR_MODE"),
    ("monitor_start", {"call": MY_CALL, "mode": ["listen"]}, "BAD_MONITOR_MODE"),
    ("monitor_start", {"call": "../../etc/passwd", "mode": "listen"}, "BAD_CALL_ID"),
    ("monitor_start", {"call": "1700000000.1,qB", "mode": "listen"}, "BAD_CALL_ID"),
    ("monitor_start", {"call": "1700000009.9", "mode": "listen"}, "NO_SUCH_CALL"),
    ("monitor_mode", {"monitor": "mon1\r\nAction: Hangup", "mode": "listen"}, "BAD_MONITOR_ID"),
    ("monitor_mode", {"monitor": MONITOR_ID, "mode": "B"}, "BAD_MONITOR_MODE"),
    ("monitor_stop", {"monitor": "x" * 500}, "BAD_MONITOR_ID"),
    ("monitor_stop", {}, "BAD_MONITOR_ID"),
])
def test_bad_payloads_get_a_clear_error_and_reach_no_router(floor, name, payload, code):
    app, router = floor
    reply = connect(app, login(app, "supervisor")).emit(name, payload, callback=True)
    assert reply["ok"] is False and reply["code"] == code and reply["message"], reply
    assert router.sent == []


def test_a_monitor_with_no_phone_is_told_so(floor):
    app, router = floor
    with app.extensions["callcenter"].sessions() as s:
        s.scalar(select(User).where(User.username == "supervisor")).agent_extension = None
        s.commit()
    reply = connect(app, login(app, "supervisor")).emit("monitor_start", {"call": MY_CALL, "mode": "listen"},
                                                        callback=True)
    assert reply["code"] == "NO_EXTENSION" and router.sent == []


def test_the_agent_is_told_of_a_whisper_not_of_a_listen_by_default(floor):
    app, router = floor
    agent = connect(app, login(app, "agent"))
    lead = connect(app, login(app, "supervisor"))
    agent.get_received()
    def told():
        return [m["args"][0] for m in agent.get_received() if m["name"] == "coaching"]

    def router_says(mode, was=None):
        router.refuse = CommandResult(True, data={"monitor": MONITOR_ID, "call": MY_CALL, "agent": "1001",
                                                  "mode": mode, "was": was, "answered": True})
    assert lead.emit("monitor_start", {"call": MY_CALL, "mode": "listen"}, callback=True)["ok"]
    assert told() == []  # not even "inactive": any message would tell them someone listens
    router_says("whisper", was="listen")
    assert lead.emit("monitor_mode", {"monitor": MONITOR_ID, "mode": "whisper"}, callback=True)["ok"]
    assert told() == [{"active": True, "mode": "whisper"}]
    router_says("listen", was="whisper")
    assert lead.emit("monitor_mode", {"monitor": MONITOR_ID, "mode": "listen"}, callback=True)["ok"]
    assert told() == [{"active": False, "mode": None}]  # back to a quiet listen: the notice goes
    router_says("listen")
    assert lead.emit("monitor_stop", {"monitor": MONITOR_ID}, callback=True)["ok"]
    assert told() == []  # a listen's end is as quiet as its start
    router_says("barge")
    assert lead.emit("monitor_stop", {"monitor": MONITOR_ID}, callback=True)["ok"]
    assert told() == [{"active": False, "mode": None}]


def page_controls(app, role) -> dict:
    html = login(app, role).get("/wallboard").get_data(as_text=True)
    data = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))["controls"]


def test_the_wallboard_offers_each_role_only_its_controls(floor):
    app, _router = floor
    assert page_controls(app, "supervisor") == {"supervise": True, "monitor": ["listen", "whisper", "barge"]}
    assert page_controls(app, "quality") == {"supervise": False, "monitor": ["listen"]}
    assert page_controls(app, "admin") == {"supervise": True, "monitor": []}


@pytest.mark.parametrize("setting, told", [("never", []), ("always", [{"active": True, "mode": "listen"}])])
def test_the_centers_setting_decides_what_the_agent_is_told_of_a_listen(floor, setting, told):
    app, _router = floor
    desk = app.extensions["callcenter"]
    desk.settings = dataclasses.replace(desk.settings, monitor_notice=setting)
    agent = connect(app, login(app, "agent"))
    agent.get_received()
    lead = connect(app, login(app, "supervisor"))
    assert lead.emit("monitor_start", {"call": MY_CALL, "mode": "listen"}, callback=True)["ok"]
    assert [m["args"][0] for m in agent.get_received() if m["name"] == "coaching"] == told


# ---------------------------------------------------------------- the wallboard's softphone, a mode keyed on the phone
def test_a_monitor_with_an_extension_gets_the_softphone_on_the_wallboard_others_do_not(floor):
    app, _router = floor
    for role, offered in (("supervisor", True), ("quality", True), ("admin", False)):
        html = login(app, role).get("/wallboard").get_data(as_text=True)
        assert ('data-api="/api/monitor/phone"' in html) == offered, role
        assert ("softphone.js" in html and 'id="sp-answer"' in html and 'id="sp-mute"' in html
                and 'id="sp-hangup"' in html) == offered, role
        assert 'id="sp-hold"' not in html  # a monitor holds no call
    with app.extensions["callcenter"].sessions() as s:
        s.scalar(select(User).where(User.username == "supervisor")).agent_extension = None
        s.commit()
    assert "softphone.js" not in login(app, "supervisor").get("/wallboard").get_data(as_text=True)


def test_the_agents_page_keeps_its_softphone_with_hold(floor):
    app, _router = floor
    html = login(app, "agent").get("/agent").get_data(as_text=True)
    assert 'data-api="/api/agent/phone"' in html and 'id="sp-hold"' in html


def test_a_monitor_joins_the_room_their_phones_switches_are_told_in(floor):
    app, _router = floor
    from agent_desktop import socketio
    lead, agent = connect(app, login(app, "supervisor")), connect(app, login(app, "agent"))
    lead.get_received(), agent.get_received()
    with app.app_context():
        socketio.emit("monitor_mode", {"monitor": MONITOR_ID, "mode": "barge"}, to=monitor_room("supervisor"))
    assert [m["args"][0]["mode"] for m in lead.get_received() if m["name"] == "monitor_mode"] == ["barge"]
    assert [m for m in agent.get_received() if m["name"] == "monitor_mode"] == []


@pytest.mark.parametrize("setting, mode, was, coaching", [
    ("coaching", "whisper", "listen", [{"active": True, "mode": "whisper"}]),
    ("coaching", "barge", "whisper", [{"active": True, "mode": "barge"}]),
    ("coaching", "listen", "barge", [{"active": False, "mode": None}]),
    ("never", "barge", "listen", []),
    ("always", "barge", "listen", [{"active": True, "mode": "barge"}]),
    ("coaching", "", "whisper", [{"active": False, "mode": None}]),  # ended (the monitor hung up) while whispering
    ("coaching", "", "listen", []),  # a quiet listen's end is as quiet
])
async def test_a_switch_keyed_on_the_phone_or_an_end_is_told_to_the_monitor_and_as_the_setting_says_to_the_agent(
        setting, mode, was, coaching):
    sent: list[tuple] = []

    async def emit(event, data, room):
        sent.append((event, data, room))
    switched = p.MonitorChanged(monitor=MONITOR_ID, call=MY_CALL, agent="1001", by="lead", mode=mode, was=was)
    await tell(p.MonitorChanged.from_json(switched.to_json()), emit, setting)
    about = {"monitor": MONITOR_ID, "call": MY_CALL, "agent": "1001"}
    if mode:
        assert sent[0] == ("monitor_mode", {**about, "mode": mode, "was": was, "keyed": True}, "monitor:lead")
    else:
        assert sent[0] == ("monitor_ended", about, "monitor:lead")
    assert [data for event, data, room in sent[1:] if event == "coaching" and room == "agent:1001"] == coaching
    assert len(sent) == 1 + len(coaching)


@pytest.mark.parametrize("text", ["", "{}", "[1]", json.dumps({"monitor": 1, "call": "c", "agent": "1001", "by": "b",
                                                               "mode": "listen", "was": "barge"}),
                                  json.dumps({"monitor": "m", "call": "c", "agent": "../x", "by": "b",
                                              "mode": "listen", "was": "barge"})])
def test_a_message_that_is_no_switch_is_refused(text):
    with pytest.raises(ValueError):
        p.MonitorChanged.from_json(text)
