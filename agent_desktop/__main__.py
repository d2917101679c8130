"""`python -m agent_desktop`: the desktop's web worker on CC_WEB_HOST:CC_WEB_PORT.

CC_WEB_SERVER picks the HTTP server (issue 15, "a production server"):
- gunicorn (default): gunicorn's gthread worker, the deployment Flask-SocketIO's docs give for its
  threading mode (websockets through simple-websocket, as under Werkzeug; the app is unchanged),
  with its closing linger moved off the main loop (gunicorn_worker.py). One gunicorn worker process
  per web worker: Socket.IO needs every request of a client on the process that holds its session,
  which gunicorn's own balancing does not do, so a floor scales by more web workers (more ports)
  on one Redis behind a sticky balancer. A websocket holds one of the worker's threads for its
  life, so CC_WEB_THREADS (default 1000) is how many sockets (and requests) one worker carries.
  Chosen over eventlet/gevent servers: those need the app's blocking Redis, database and router
  calls monkey-patched (another async mode), which this code base has never run under.
- werkzeug: Werkzeug's development server, for debugging on loopback only (refused beyond it).

TLS (CC_WEB_TLS_CERT / CC_WEB_TLS_KEY, rules in callcenter/config.py): both servers serve HTTPS and
wss with the operator's certificate.
"""
import logging
import os

from agent_desktop import create_app, socketio
from callcenter.config import Settings
from callcenter.runtime.files import owner_only

SERVERS = ("gunicorn", "werkzeug")
KEEPALIVE_SLOTS = 200


def server_choice(env=os.environ, *, on_loopback: bool = True) -> tuple[str, int]:
    """CC_WEB_SERVER and CC_WEB_THREADS, checked: a typo stops the worker with one clear line.
    on_loopback: whether CC_WEB_HOST is loopback; Werkzeug's development server is refused beyond it."""
    server = env.get("CC_WEB_SERVER", "gunicorn").strip().lower() or "gunicorn"
    if server not in SERVERS:
        raise SystemExit(f"CC_WEB_SERVER must be one of {', '.join(SERVERS)}, not {server!r}")
    if server == "werkzeug" and not on_loopback:
        raise SystemExit("CC_WEB_SERVER=werkzeug is Werkzeug's development server, for debugging on loopback: "
                         "not beyond it (CC_WEB_HOST); leave CC_WEB_SERVER unset for gunicorn")
    raw = env.get("CC_WEB_THREADS", "1000").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 20000:
        raise SystemExit(f"CC_WEB_THREADS must be a whole number from 1 to 20000, not {raw!r}")
    return server, int(raw)


def gunicorn_config(settings: Settings, threads: int) -> dict:
    """The gunicorn settings of one web worker, each with its reason."""
    config = {
        "bind": f"{settings.web_host}:{settings.web_port}", "workers": 1,
        "worker_class": "agent_desktop.gunicorn_worker.FloorWorker",  # gthread, closing off its main loop
        "threads": threads,
        # gthread caps open connections here (default 1000); the part above the threads is
        # for idle keep-alive connections, which wait without a thread
        "worker_connections": threads + KEEPALIVE_SLOTS,
        "control_socket_disable": True,  # else every worker shares one $HOME/.gunicorn/gunicorn.ctl
        # The heartbeat is the worker's main loop, one Python thread among up to 4 per socket (10,000
        # at 2500 sockets) for one GIL: when thousands of sockets close at once it is held up (most
        # likely waiting for the GIL; not measured).
        # Measured (bench/screen_pop.py, 5000 sockets on 2 workers, 2 shared cores, the bench's 10,000
        # client threads on the same cores): heartbeats 28 s and 90 s late while the sockets closed.
        # A worker killed for a late heartbeat drops every agent on it, far worse than noticing a truly
        # hung worker 5 minutes late; so 300 s, not gunicorn's 30 (late beats are logged from 5 s).
        "timeout": 300,
        "graceful_timeout": 5,  # a stop (SIGTERM) waits this long for open requests; websockets never end
        # gunicorn trusts X-Forwarded-Proto from 127.0.0.1 by default: off, so only a declared proxy
        # (CC_WEB_TLS_PROXY, through ProxyFix in agent_desktop/serving.py) can make a request https
        "secure_scheme_headers": {},
        "accesslog": None, "errorlog": "-", "loglevel": "info", "proc_name": "callcenter-web",
    }
    if settings.web_tls_cert is not None:
        config.update(certfile=str(settings.web_tls_cert), keyfile=str(settings.web_tls_key))
    return config


def run_gunicorn(settings: Settings, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Worker(BaseApplication):
        def load_config(self):
            for key, value in gunicorn_config(settings, threads).items():
                self.cfg.set(key, value)

        def load(self):
            # built in the worker after the fork, so no database or Redis connection crosses it
            return create_app(settings)

    Worker().run()


def main() -> None:
    owner_only()  # before any file is created: logs, secrets, the database (issue 15)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    server, threads = server_choice(on_loopback=settings.web_on_loopback)
    if server == "gunicorn":
        run_gunicorn(settings, threads)
        return
    app = create_app(settings)
    # Werkzeug's threaded server carries websockets through simple-websocket; one process per worker.
    tls = (str(settings.web_tls_cert), str(settings.web_tls_key)) if settings.web_tls_cert else None
    socketio.run(app, host=settings.web_host, port=settings.web_port, allow_unsafe_werkzeug=True,
                 log_output=False, ssl_context=tls)


if __name__ == "__main__":
    main()
