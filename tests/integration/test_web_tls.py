"""Serving the floor (issue 15): the web desktop beyond loopback on its default server (gunicorn)
with TLS, against the real stack. A certificate made here with openssl; a real headless Chromium logs
in over https: the session cookie is Secure and HttpOnly, responses carry HSTS, and the agent page's
socket connects over wss and shows the agent's state from the real router. Plain HTTP beyond
loopback is refused with what to set; a stop (SIGTERM) ends the worker and its gunicorn child."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from callcenter.runtime.ports import is_listening
from tests.integration.conftest import free_port
from tests.integration.desktop_helpers import PASSWORD, make_user, start_web_worker


@pytest.fixture
def tls_pair(tmp_path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its key (owner-only), made for this test."""
    cert, key = tmp_path / "web.crt", tmp_path / "web.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)
    key.chmod(0o600)
    return cert, key


def children(pid: int) -> set[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return {int(c) for c in path.read_text().split()} if path.exists() else set()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] == "Z")  # a zombie is gone


@pytest.fixture
def tls_worker(stack_env, stack, tmp_path, tls_pair):
    """A web worker bound beyond loopback (0.0.0.0) with the certificate, on the default server,
    behind the stack's Redis; stopped as the runtime stops one (SIGTERM), and checked gone."""
    port = free_port()
    env = {**stack_env, "CC_WEB_PORT": str(port), "CC_WEB_HOST": "0.0.0.0", "CC_WEB_TLS_CERT": str(tls_pair[0]),
           "CC_WEB_TLS_KEY": str(tls_pair[1]), "CC_WEB_THREADS": "40"}
    env.pop("CC_WEB_SERVER", None)  # the default server
    log_path = tmp_path / "tls-web.log"
    # gunicorn's master listens, then forks its worker
    worker = start_web_worker(env, port, log_path, up=lambda process: bool(children(process.pid)))
    gunicorn_children = children(worker.pid)
    yield f"https://127.0.0.1:{port}"
    worker.terminate()
    assert worker.wait(20) == 0, log_path.read_text()[-3000:]  # graceful_timeout 5 s: open sockets do not hold it
    assert gunicorn_children and not any(alive(pid) for pid in gunicorn_children)  # its worker went with it
    assert not is_listening(port)


def test_plain_http_beyond_loopback_is_refused_with_what_to_set(stack_env):
    env = {**stack_env, "CC_WEB_PORT": str(free_port()), "CC_WEB_HOST": "0.0.0.0"}
    for name in ("CC_WEB_TLS_CERT", "CC_WEB_TLS_KEY", "CC_WEB_TLS_PROXY"):
        env.pop(name, None)
    done = subprocess.run([sys.executable, "-m", "agent_desktop"], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "serves the desktop beyond loopback in plain HTTP: set CC_WEB_TLS_CERT and CC_WEB_TLS_KEY" in done.stderr


async def test_an_agent_logs_in_over_https_and_the_page_socket_runs_over_wss(stack, sessions, floor, browser,
                                                                             tls_worker):
    ext = floor.extension()
    make_user(sessions, "tls_agent", "agent", ext=ext)
    floor.agent({"billing": 5}, ext=ext)
    await floor.reload()

    context = await browser.new_context(ignore_https_errors=True)  # the test's own self-signed certificate
    try:
        page = await context.new_page()
        sockets: list[str] = []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        login = await page.goto(tls_worker + "/login?lang=en")
        assert login.ok and login.url.startswith("https://")
        assert login.headers["server"].startswith("gunicorn")  # the default server now
        assert login.headers["strict-transport-security"] == "max-age=31536000"
        await page.fill("#username", "tls_agent")
        await page.fill("#password", PASSWORD)
        async with page.expect_response(lambda r: r.url.endswith("/login") and r.request.method == "POST") as posted:
            await page.click("#login")
        assert (await posted.value).headers["strict-transport-security"] == "max-age=31536000"
        await page.wait_for_url(tls_worker + "/agent")
        cookie = next(c for c in await context.cookies() if c["name"] == "cc_session")
        assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

        # the page's socket: over wss, and live both ways (the router's answer comes back on it)
        await page.click("#btn-ready")
        await page.wait_for_selector('#state[data-state="ready"]', timeout=15_000)
        assert [url for url in sockets if "/socket.io/" in url]
        assert all(url.startswith("wss://127.0.0.1:") for url in sockets if "/socket.io/" in url), sockets
    finally:
        await context.close()
