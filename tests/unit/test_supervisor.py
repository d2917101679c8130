"""The supervisor restarts a crashed service (logging it) and stops everything on SIGTERM."""
import json
import signal
import subprocess
import sys
import time

import pytest

from callcenter.runtime.supervisor import pid_alive, read_status

SCRIPT = """
import sys
from pathlib import Path
from callcenter.runtime.supervisor import Service, Supervisor
py = sys.executable
home = Path(sys.argv[1])
Supervisor([
    Service("steady", [py, "-c", "import time; time.sleep(120)"]),
    Service("crasher", [py, "-c", "import sys, time; print('crashing', flush=True); time.sleep(0.3); sys.exit(3)"]),
], home / "run", home / "logs").run()
"""


def wait_for(predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


@pytest.mark.slow  # 2.6 s: real processes, and the supervisor's back-off between two restarts
def test_crashed_service_is_restarted_and_everything_stops_on_sigterm(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], stderr=subprocess.PIPE, text=True)
    try:
        status = wait_for(lambda: (s := read_status(tmp_path / "run")) and
                          s["services"]["crasher"]["restarts"] >= 2 and s)
        steady_pid = status["services"]["steady"]["pid"]
        assert status["services"]["crasher"]["last_exit"] == 3
        assert status["services"]["steady"]["restarts"] == 0 and pid_alive(steady_pid)
        assert (tmp_path / "logs" / "crasher.log").read_text().count("crashing") >= 2
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    assert not pid_alive(steady_pid)
    final = json.loads((tmp_path / "run" / "status.json").read_text())
    assert final["supervisor_pid"] is None
    assert "crasher: exited with code 3" in err and "restart 1" in err
