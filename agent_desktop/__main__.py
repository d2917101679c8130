"""`python -m agent_desktop`: the desktop's web worker on CC_WEB_HOST:CC_WEB_PORT.

CC_WEB_SERVER picks the HTTP server (issue 15, "a production server"):
- werkzeug (default): Werkzeug's threaded server, websockets through simple-websocket.
- gunicorn: gunicorn's gthread worker, the deployment Flask-SocketIO's docs give for its threading
  mode; the app is unchanged (same async mode, Redis clients, handlers). One gunicorn worker process
  per web worker: Socket.IO needs every request of a client on the process that holds its session,
  which gunicorn's own balancing does not do, so a floor scales by more web workers (more ports)
  on one Redis behind a sticky balancer. A websocket holds one of the worker's threads for its
  life, so CC_WEB_THREADS (default 1000) is how many sockets (and requests) one worker carries.
"""
import logging
import os

from agent_desktop import create_app, socketio
from callcenter.config import Settings
from callcenter.runtime.files import owner_only

SERVERS = ("werkzeug", "gunicorn")
KEEPALIVE_SLOTS = 200


def server_choice(env=os.environ) -> tuple[str, int]:
    """CC_WEB_SERVER and CC_WEB_THREADS, checked: a typo stops the worker with one clear line."""
    server = env.get("CC_WEB_SERVER", "werkzeug").strip().lower() or "werkzeug"
    if server not in SERVERS:
        raise SystemExit(f"CC_WEB_SERVER must be one of {', '.join(SERVERS)}, not {server!r}")
    raw = env.get("CC_WEB_THREADS", "1000").strip()
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= 20000:
        raise SystemExit(f"CC_WEB_THREADS must be a whole number from 1 to 20000, not {raw!r}")
    return server, int(raw)


def run_gunicorn(settings: Settings, threads: int) -> None:
    from gunicorn.app.base import BaseApplication

    class Worker(BaseApplication):
        def load_config(self):
            for key, value in {
                "bind": f"{settings.web_host}:{settings.web_port}", "workers": 1, "worker_class": "gthread",
                "threads": threads,
                # gthread caps open connections here (default 1000); the part above the threads is
                # for idle keep-alive connections, which wait without a thread
                "worker_connections": threads + KEEPALIVE_SLOTS,
                "control_socket_disable": True,  # else every worker shares one $HOME/.gunicorn/gunicorn.ctl
                "timeout": 30, "graceful_timeout": 5,  # open websockets would hold a stop for 30 s
                "accesslog": None, "errorlog": "-", "loglevel": "info", "proc_name": "callcenter-web",
            }.items():
                self.cfg.set(key, value)

        def load(self):
            # built in the worker after the fork, so no database or Redis connection crosses it
            return create_app(settings)

    Worker().run()


def main() -> None:
    owner_only()  # before any file is created: logs, secrets, the database (issue 15)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings = Settings.from_env()
    server, threads = server_choice()
    if server == "gunicorn":
        run_gunicorn(settings, threads)
        return
    app = create_app(settings)
    # Werkzeug's threaded server carries websockets through simple-websocket; one process per worker.
    socketio.run(app, host=settings.web_host, port=settings.web_port, allow_unsafe_werkzeug=True,
                 log_output=False)


if __name__ == "__main__":
    main()
