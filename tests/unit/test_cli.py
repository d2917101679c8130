"""User-fixable problems are one clear line, `error CODE: message`, and exit code 2, before anything starts."""
import os
import socket
import subprocess
import sys

import pytest

from callcenter.config import Settings
from callcenter.runtime.asterisk import AsteriskSetupError, locate


def run_cli(tmp_path, *args, **env):
    full_env = dict(os.environ, CALLCENTER_HOME=str(tmp_path), CC_ASTERISK_BINARY="", **env)
    return subprocess.run([sys.executable, "-m", "callcenter.cli", *args], env=full_env, capture_output=True,
                          text=True, timeout=60)


def test_port_in_use(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run_cli(tmp_path, "up", CC_AMI_PORT=str(port))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"callcenter: error PORT_IN_USE: port {port} (Asterisk AMI) is already in use: "
                                     "stop what uses it or set CC_AMI_PORT to another port")


def test_bad_config_value(tmp_path):
    result = run_cli(tmp_path, "status", CC_AGI_PORT="http")
    assert result.returncode == 2
    assert result.stderr.strip() == "callcenter: error BAD_CONFIG: CC_AGI_PORT='http' is not a port number (1-65535)"


def test_status_when_nothing_runs(tmp_path):
    result = run_cli(tmp_path, "status")
    assert result.returncode == 3 and "not running" in result.stdout
    assert "calls: 0 in all" in result.stdout or "database unreachable" in result.stdout


def test_missing_asterisk_root_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")  # no system asterisk
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "CC_ASTERISK_CACHE": str(tmp_path / "none")})
    with pytest.raises(AsteriskSetupError, match="no Asterisk: none installed and no root at"):
        locate(settings, build=False)


def test_status_shows_end_reasons_in_words(capsys):
    from callcenter.cli import _print_status

    recent = [{"started_at": "2026-01-01 09:00:00", "caller_number": "13800000001", "access_number": "10000",
               "stage": "waiting", "end_reason": code, "end_detail": detail}
              for code, detail in (("abandoned_waiting", "ivr_unreachable"), ("agent_hangup", None), (None, None))]
    _print_status({"running": False, "home": "/x", "services": {},
                   "calls": {"total": 3, "in_progress": 1, "recent": recent}})
    lines = capsys.readouterr().out.splitlines()
    assert lines[-3].endswith("Abandoned while waiting (menu unreachable)")
    assert lines[-2].endswith("Agent hung up") and lines[-1].endswith("in progress (waiting)")
