"""The web worker on a production server (issue 15): gunicorn's gthread worker is the default (the
stack's own web worker runs on it); CC_WEB_SERVER=werkzeug runs the same app on Werkzeug's development
server, for debugging. Against the real stack: a pop made by Asterisk's dialplan reaches the same
agent's sockets on the stack's gunicorn worker and on a Werkzeug one (one floor through the Redis
message queue), and the socket's checks (CSRF token, Origin) hold on gunicorn too."""
from __future__ import annotations

import time

import pytest
import requests
import socketio
from sqlalchemy import delete

from callcenter import dialplan
from callcenter.models import Call, Customer, utcnow
from tests.integration.conftest import free_port, wait_until
from tests.integration.desktop_helpers import make_user, socket_client, start_web_worker, web_login
from tests.integration.helpers import make_customer


@pytest.fixture
def gunicorn_worker(stack):
    """The stack's own web worker: `callcenter up` starts it on the default server."""
    return f"http://{stack.web_host}:{stack.web_port}"


@pytest.fixture
def werkzeug_worker(stack_env, stack, tmp_path):
    """A web worker on Werkzeug (asked for) on its own port, behind the stack's Redis."""
    port = free_port()
    env = {**stack_env, "CC_WEB_PORT": str(port), "CC_WEB_SERVER": "werkzeug"}
    worker = start_web_worker(env, port, tmp_path / "werkzeug-web.log")
    yield f"http://127.0.0.1:{port}"
    worker.terminate()
    worker.wait(20)


@pytest.fixture
def ringing_call(sessions):
    """A call row with a real customer, for the pop; removed afterwards with its customer."""
    customer_id, number = make_customer(sessions, name="Gunicorn Pop")
    uid = f"gpop-{time.time_ns()}"
    with sessions() as s:
        s.add(Call(uniqueid=uid, caller_number=number, customer_id=customer_id, started_at=utcnow(),
                   skill="billing"))
        s.commit()
    yield uid
    with sessions() as s:
        s.execute(delete(Call).where(Call.uniqueid == uid))
        s.commit()
        s.delete(s.get(Customer, customer_id))  # its phones, accounts and bills go with it
        s.commit()


async def test_a_pop_reaches_the_agent_on_gunicorn_and_on_werkzeug(stack, sessions, ami, floor, gunicorn_worker,
                                                                   werkzeug_worker, ringing_call):
    ext = floor.extension()
    make_user(sessions, "g_agent", "agent", ext=ext)
    served_by = requests.get(f"{gunicorn_worker}/login", timeout=10).headers.get("Server", "")
    assert served_by.startswith("gunicorn"), served_by  # the default really is gunicorn
    werkzeug = werkzeug_worker
    served_by = requests.get(f"{werkzeug}/login", timeout=10).headers.get("Server", "")
    assert served_by.startswith("Werkzeug"), served_by  # and the option really changes it
    on_gunicorn = socket_client(gunicorn_worker, *web_login(gunicorn_worker, "g_agent"))
    on_werkzeug = socket_client(werkzeug, *web_login(werkzeug, "g_agent"))
    pops: dict[str, list] = {"gunicorn": [], "werkzeug": []}
    on_gunicorn.on("screen_pop", pops["gunicorn"].append)
    on_werkzeug.on("screen_pop", pops["werkzeug"].append)
    try:
        # Asterisk's dialplan sends AgentRinging (as cc-connect does when a phone rings): the push
        # process builds the pop and emits it through Redis; each worker delivers to its socket
        reply = await ami.send_action({
            "Action": "Originate", "Channel": f"Local/{ext}@{dialplan.SIM_AGENT_RINGING}/n",
            "ChannelId": f"ring-{ringing_call}", "OtherChannelId": ringing_call, "Application": "Wait",
            "Data": "1", "Timeout": "5000", "Async": "true"})
        replies = reply if isinstance(reply, list) else [reply]  # an Async Originate: its Response, then events
        assert replies[0].success, replies
        for server in ("gunicorn", "werkzeug"):
            await wait_until(lambda server=server: [p for p in pops[server] if p["call"] == ringing_call],
                             timeout=20, what=f"the pop on the {server} worker")
        pop = next(p for p in pops["gunicorn"] if p["call"] == ringing_call)
        # no service password keyed on this call: the minimum profile (issue 15), the name masked
        assert (pop["customer"]["name"], pop["customer"]["verified"]) == ("G" + "*" * 11, False)
        assert pop == next(p for p in pops["werkzeug"] if p["call"] == ringing_call)  # one emit, two workers
    finally:
        on_gunicorn.disconnect()
        on_werkzeug.disconnect()
    for half in (ringing_call, f"ring-{ringing_call}"):  # both halves of the Local channel have hung up
        await ami.events.wait_for(Event="Hangup", Uniqueid=half, timeout=20)


async def test_the_socket_checks_hold_under_gunicorn(stack, sessions, floor, gunicorn_worker):
    ext = floor.extension()
    make_user(sessions, "g_agent2", "agent", ext=ext)
    http, token = web_login(gunicorn_worker, "g_agent2")
    with pytest.raises(socketio.exceptions.ConnectionError):
        socket_client(gunicorn_worker, http, token, headers={"Origin": "http://evil.example"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        socket_client(gunicorn_worker, http, "not-the-token")
    client = socket_client(gunicorn_worker, http, token)  # and the right token is let in
    try:
        assert client.connected
    finally:
        client.disconnect()
    # an API refusal keeps the project's one error shape under gunicorn too
    reply = http.get(f"{gunicorn_worker}/api/customers/not-a-number", timeout=10)
    assert 400 <= reply.status_code < 500 and set(reply.json()) >= {"code", "message"}
