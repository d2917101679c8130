"""Socket event floods on the real stack (issue 15): a web worker of its own (python -m
agent_desktop on the stack's Redis and database, Werkzeug, real websockets from python-socketio's
client) refuses one user's 6th socket with TOO_MANY_SOCKETS and a flood of one event with
RATE_LIMITED, while another user's events go on. Checked to fail with either limit switched off
in agent_desktop/socket_limits.py (the cap admitting every socket; the bucket never empty).

The worker's refill rate is set near zero (CC_SOCKET_EVENTS_PER_S), so the burst (20) is what is
allowed and the 21st event is refused however fast or slow the machine is: no timing in the test.
"""
from __future__ import annotations

import subprocess
import sys

import pytest
import socketio

from agent_desktop.socket_limits import BURST, MAX_SOCKETS
from callcenter.runtime.ports import is_listening
from tests.integration.conftest import free_port, wait_until
from tests.integration.desktop_helpers import make_user, socket_client, web_login


def connected_or_none(base: str, http, token: str) -> socketio.Client | None:
    try:
        return socket_client(base, http, token)
    except socketio.exceptions.ConnectionError:
        return None


@pytest.fixture
async def flood_worker(stack_env):
    port = free_port()
    env = {**stack_env, "CC_WEB_PORT": str(port), "CC_SOCKET_EVENTS_PER_S": "0.0001"}
    worker = subprocess.Popen([sys.executable, "-m", "agent_desktop"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        await wait_until(lambda: worker.poll() is not None or is_listening(port), timeout=30,
                         what="the flood test's web worker listening")
        assert worker.poll() is None, f"the web worker exited with {worker.returncode}"
        yield f"http://127.0.0.1:{port}"
    finally:
        worker.terminate()
        worker.wait(10)


async def test_a_users_extra_socket_and_event_flood_are_refused(stack, sessions, flood_worker):
    make_user(sessions, "flood_lead", "supervisor")
    make_user(sessions, "calm_lead", "supervisor")
    http, token = web_login(flood_worker, "flood_lead")
    sockets = [socket_client(flood_worker, http, token) for _ in range(MAX_SOCKETS)]
    calm = socket_client(flood_worker, *web_login(flood_worker, "calm_lead"))
    try:
        refused = []
        extra = socketio.Client(http_session=http, reconnection=False)
        extra.on("connect_error", refused.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            extra.connect(flood_worker, auth={"csrf": token}, transports=["websocket"], wait_timeout=10)
        # socket.io's connect_error carries the words, and the project's error shape as its data
        assert refused and refused[0]["data"]["code"] == "TOO_MANY_SOCKETS", refused

        bad = {"ext": "not-an-extension", "to": "ready"}  # refused by validation: nothing reaches the router
        replies = [sockets[0].call("supervise_state", bad, timeout=10) for _ in range(BURST + 1)]
        assert [r["code"] for r in replies] == ["BAD_EXTENSION"] * BURST + ["RATE_LIMITED"]
        assert replies[-1]["message"]  # the words in the user's language (en)
        # the same user on another socket: the same bucket (per user, not per socket)
        assert sockets[1].call("supervise_state", bad, timeout=10)["code"] == "RATE_LIMITED"
        # the flood goes on without waiting for answers, on every socket of the user, and another
        # user's command is still answered (the flooder's events are refused before any work)
        for _ in range(10):
            for flooding in sockets:
                flooding.emit("supervise_state", bad)
        # another event of this user, and another user, go on
        assert sockets[1].call("supervise_extend_wrapup", bad, timeout=10)["code"] == "BAD_EXTENSION"
        assert calm.call("supervise_state", bad, timeout=10)["code"] == "BAD_EXTENSION"

        sockets.pop().disconnect()  # one closed: room for one more, once the worker has seen it close
        sockets.append(await wait_until(lambda: connected_or_none(flood_worker, http, token),
                                        what="a socket admitted after one of five closed"))
    finally:
        for client in [*sockets, calm]:
            client.disconnect()
