"""The web worker's gunicorn settings and its gthread worker (agent_desktop/__main__.py and
gunicorn_worker.py, issue 15). The worker: a connection that is done is closed, with its linger
(close_graceful: up to 2 s waiting for the client's FIN), by the thread that served it, never by the
main loop whose pass is the worker's heartbeat. That linger on the main loop, 60 sockets a pass,
is what let the arbiter kill a worker (WORKER TIMEOUT) when 2500 websockets closed at once."""
from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest
from gunicorn.config import Config
from gunicorn.workers import gthread

from agent_desktop.__main__ import gunicorn_config
from agent_desktop.gunicorn_worker import FloorWorker
from callcenter.config import Settings


def test_the_settings_gunicorn_is_given(tmp_path):
    config = gunicorn_config(Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "CC_WEB_PORT": "9123"}), 1000)
    assert config["bind"] == "127.0.0.1:9123" and config["workers"] == 1 and config["threads"] == 1000
    assert config["worker_class"] == "agent_desktop.gunicorn_worker.FloorWorker"
    assert config["timeout"] == 300 and config["graceful_timeout"] == 5
    assert config["secure_scheme_headers"] == {}  # no X-Forwarded-Proto believed unless the proxy is declared
    assert "certfile" not in config and "keyfile" not in config
    cfg = Config()
    for key, value in config.items():
        cfg.set(key, value)  # gunicorn's own validators accept every one
    assert cfg.worker_class is FloorWorker and not cfg.is_ssl


def test_a_certificate_makes_gunicorn_serve_tls(tmp_path):
    base = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    cert, key = Path(tmp_path / "web.crt"), Path(tmp_path / "web.key")
    config = gunicorn_config(dataclasses.replace(base, web_tls_cert=cert, web_tls_key=key), 50)
    assert (config["certfile"], config["keyfile"]) == (str(cert), str(key))
    cfg = Config()
    for name, value in config.items():
        cfg.set(name, value)
    assert cfg.is_ssl


class Conn:
    """A connection as the worker sees it: records who closed it, and how."""

    def __init__(self):
        self.closed_on: list[tuple[str, bool]] = []

    def close(self, graceful=False):
        self.closed_on.append((threading.current_thread().name, graceful))


@pytest.fixture
def worker(monkeypatch):
    """A FloorWorker as gunicorn builds it in its process (not started); the parent's handle() is
    replaced by what each test says a request ended with."""
    cfg = Config()
    cfg.set("threads", 4)
    w = FloorWorker(0, 0, [], None, 30, cfg, None)
    w.nr_conns = 1
    return w


def served_in_a_thread(worker, conn) -> Future:
    """handle() in a thread of its own, as gunicorn's pool runs it; its future, done."""
    future = Future()
    thread = threading.Thread(target=lambda: future.set_result(worker.handle(conn)), name="request-thread")
    thread.start()
    thread.join()
    return future


def test_a_finished_connection_is_closed_by_its_own_thread_not_the_main_loop(worker, monkeypatch):
    monkeypatch.setattr(gthread.ThreadWorker, "handle", lambda self, conn: False)  # e.g. a websocket ended
    conn = Conn()
    future = served_in_a_thread(worker, conn)
    assert conn.closed_on == [("request-thread", True)]  # the linger, in the request's thread
    worker.finish_request(conn, future)  # the main loop's part
    assert conn.closed_on == [("request-thread", True)] and worker.nr_conns == 0


def test_gunicorn_itself_would_close_it_on_the_main_loop(worker, monkeypatch):
    """The finding, shown on gunicorn's own worker: its finish_request does the graceful close."""
    monkeypatch.setattr(gthread.ThreadWorker, "handle", lambda self, conn: False)
    plain = gthread.ThreadWorker(0, 0, [], None, 30, worker.cfg, None)
    plain.nr_conns = 1
    conn, future = Conn(), Future()
    future.set_result(plain.handle(conn))
    plain.finish_request(conn, future)
    assert conn.closed_on == [(threading.current_thread().name, True)] and plain.nr_conns == 0


@pytest.mark.parametrize("outcome", [True, gthread._DEFER])
def test_kept_alive_and_deferred_connections_go_back_to_gunicorn_untouched(worker, monkeypatch, outcome):
    monkeypatch.setattr(gthread.ThreadWorker, "handle", lambda self, conn: outcome)
    handed_back = []
    monkeypatch.setattr(gthread.ThreadWorker, "finish_request", lambda self, conn, fs: handed_back.append(fs.result()))
    conn = Conn()
    future = served_in_a_thread(worker, conn)
    worker.finish_request(conn, future)
    assert conn.closed_on == [] and handed_back == [outcome] and worker.nr_conns == 1


def test_a_late_heartbeat_is_logged_long_before_the_kill(worker, monkeypatch):
    warned, beats = [], []
    monkeypatch.setattr(gthread.ThreadWorker, "notify", lambda self: beats.append(1))
    worker.log = type("Log", (), {"warning": lambda self, msg, *args: warned.append(msg % args)})()
    now = [100.0]
    worker.clock = lambda: now[0]
    for step in (0.0, 1.0, 4.9, 7.5):  # the poller's 1 s passes, then a main thread held 7.5 s
        now[0] += step
        worker.notify()
    assert len(beats) == 4  # gunicorn's heartbeat itself, every time
    assert warned == ["heartbeat late: 7.5 s since the last (the arbiter kills at 30 s)"]
