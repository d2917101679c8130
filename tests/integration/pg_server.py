"""A real PostgreSQL server for the integration tier (issue 15, scale-out: the database a center
runs more than one of anything on). The session's stack runs on it by default; with
`CC_TEST_DATABASE=sqlite` it runs on its own SQLite file instead, as the demo does. SQLite keeps a
real stack of its own either way (tests/integration/test_sqlite_stack.py) and the unit tier.

Debian's server (package postgresql, installed by `scripts/setup.sh --test`), started by the
test session in a private data folder on a free loopback port and stopped at its end: nothing
is left running and no system cluster is touched. initdb refuses to run as root, so as root the
server runs as the `postgres` user (runuser); the data folder is that user's alone. Trust
authentication is safe here only because it listens on 127.0.0.1 and a socket folder in the
private folder, for one test session.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

DATABASE = "callcenter"
USER = "postgres"


DATABASES = ("postgresql", "sqlite")


def wanted() -> bool:
    """True unless CC_TEST_DATABASE says sqlite; anything else is refused, not guessed at."""
    chosen = os.environ.get("CC_TEST_DATABASE", "").strip().lower() or "postgresql"
    if chosen not in DATABASES:
        raise ValueError(f"CC_TEST_DATABASE={chosen!r}: expected one of {', '.join(DATABASES)}")
    return chosen == "postgresql"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no PostgreSQL server ({name}): scripts/setup.sh --test installs Debian's postgresql")
    return found[-1]  # the newest installed


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    def __init__(self):
        # its own folder right under /tmp (pytest's are root's alone, which postgres cannot pass)
        self.folder = Path(tempfile.mkdtemp(prefix="cc-pg-"))
        self.data = self.folder / "data"
        self.port = _free_port()
        self.as_user = ["runuser", "-u", USER, "--"] if os.geteuid() == 0 else []

    @property
    def url(self) -> str:
        return self._url(DATABASE)

    def _url(self, database: str) -> str:
        return f"postgresql+psycopg://{USER}@127.0.0.1:{self.port}/{database}"

    def database(self, name: str) -> str:
        """A further, empty database on this server (a second stack's own); its URL."""
        if not (name.isascii() and name.isidentifier()):
            raise ValueError(f"refused database name {name!r}")
        self._run(_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)
        return self._url(name)

    def _run(self, *argv: str) -> None:
        done = subprocess.run([*self.as_user, *argv], capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stdout}{done.stderr}")

    def start(self) -> "PgServer":
        if self.as_user:
            shutil.chown(self.folder, USER)
        self._run(_bin("initdb"), "-D", str(self.data), "-U", USER, "-A", "trust", "--no-sync", "-E", "UTF8")
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.folder} -c fsync=off "
                   "-c max_connections=200")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.folder / "server.log"),
                  "-w", "-t", "60", "start")
        self._run(_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, DATABASE)
        return self

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)
