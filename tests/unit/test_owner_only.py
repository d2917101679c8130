"""Owner-only from the first byte (issue 15): a stack's files made through the real code paths,
from a process whose umask was the usual 022, come out 0600 and their folders 0700: the home, the
database, the secrets, Redis's and Asterisk's configuration, the logs, the supervisor's status and
what a supervised child (as Asterisk writing a recording) creates. Without the entry point's
umask (callcenter/runtime/files.py, owner_only) the database, logs and recordings are 0644."""
from __future__ import annotations

import ast
import os
import signal
import stat
import sys
from pathlib import Path

import pytest

from callcenter import cli
from callcenter.business_hours import BusinessHours, hours_file
from callcenter.config import Settings
from callcenter.runtime import asterisk, redis_server
from callcenter.runtime.supervisor import Service, Supervisor

REPO = Path(__file__).resolve().parents[2]
#: every process entry of ours: the CLI (which also runs the supervisor) and each service's module
ENTRIES = {"callcenter/cli.py": "main", "acd/__main__.py": None, "ivr/__main__.py": None, "cdr/__main__.py": None,
           "callcenter/sip/__main__.py": None, "agent_desktop/__main__.py": "main", "agent_desktop/push.py": "main",
           "callcenter/demo_calls.py": "main"}


@pytest.fixture
def usual_umask():
    """The umask a shell usually hands a process; the test process's own is put back after."""
    old = os.umask(0o022)
    handlers = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    yield
    os.umask(old)
    signal.signal(signal.SIGTERM, handlers[0])
    signal.signal(signal.SIGINT, handlers[1])


def modes(root: Path) -> dict[str, str]:
    """Every folder and file under root (root included) with its permission bits, octal."""
    found = {".": oct(stat.S_IMODE(root.stat().st_mode))}
    for path in root.rglob("*"):
        if not path.is_symlink():
            found[str(path.relative_to(root))] = oct(stat.S_IMODE(path.stat().st_mode))
    return found


def test_a_stacks_files_are_owner_only_as_created(tmp_path, monkeypatch, usual_umask):
    home = tmp_path / "home"
    monkeypatch.setenv("CALLCENTER_HOME", str(home))
    for name in ("DATABASE_URL", "REDIS_URL", "CC_SIP_TLS"):
        monkeypatch.delenv(name, raising=False)
    assert cli.main(["db", "upgrade"]) == 0  # the entry point: the home and the SQLite database
    settings = Settings.from_env()
    settings.secret("web")  # secrets.json
    redis_server.render_config(settings)  # redis/redis.conf, with the password
    install = asterisk.AsteriskInstall(root=None, binary="/usr/sbin/asterisk", module_dir="/usr/lib/asterisk/modules",
                                       data_dir="/usr/share/asterisk")
    asterisk.render_config(settings, install)  # asterisk/etc/manager.conf with the AMI secret ...
    BusinessHours.load(hours_file(settings.home))  # a rules file written with its defaults

    # a supervised child (as Asterisk, writing a recording) inherits the umask; it stops the
    # supervisor when its file is written, so the supervisor's own stop path runs too
    recording = settings.recordings_dir / "2026" / "call.wav"
    child = ("import os, pathlib, signal; p = pathlib.Path(os.environ['REC']); p.parent.mkdir(parents=True); "
             "p.write_bytes(b'RIFF'); print('written', flush=True); os.kill(os.getppid(), signal.SIGTERM); signal.pause()")
    Supervisor([Service("writer", [sys.executable, "-c", child], env={"REC": str(recording)})],
               settings.run_dir, settings.log_dir).run()
    assert recording.exists() and "written" in (settings.log_dir / "writer.log").read_text()

    found = modes(home)
    for must in ("callcenter.db", "secrets.json", "redis/redis.conf", "asterisk/etc/manager.conf", "logs/writer.log",
                 "run/status.json", "recordings/2026/call.wav", "recordings/2026", "logs", "run", "redis"):
        assert must in found, must
    loose = {path: mode for path, mode in found.items()
             if mode != (oct(0o700) if (home / path).is_dir() else oct(0o600))}
    assert loose == {}


def test_every_entry_sets_the_umask_before_anything_else():
    """Each entry calls owner_only() first: a script-style module before its first statement that is
    not an import, a main() as its first statement."""
    for relative, function in ENTRIES.items():
        tree = ast.parse((REPO / relative).read_text())
        body = tree.body
        if function:
            body = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == function).body
        statements = [node for node in body if not isinstance(node, (ast.Import, ast.ImportFrom))
                      and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]  # docstrings
        first = statements[0]
        assert (isinstance(first, ast.Expr) and isinstance(first.value, ast.Call)
                and getattr(first.value.func, "id", "") == "owner_only"), relative
