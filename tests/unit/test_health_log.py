"""The supervisor's health log, written by the real supervisor over real processes: a service
that crashes is logged down then up again, a stop is logged, and the availability read from it
is below 100 % while the crasher was down."""
import signal
import subprocess
import sys
import time

import pytest

from callcenter.runtime.health_log import read_health_log
from cdr.availability import availability
from tests.unit.test_supervisor import SCRIPT, wait_for


@pytest.mark.slow  # 2-3 s: real processes and the supervisor's back-off
def test_the_supervisor_logs_each_service_up_and_down_and_its_stop(tmp_path):
    path = tmp_path / "logs" / "service_health.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(tmp_path)], stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: [e for e in read_health_log(path)
                          if e.get("service") == "crasher" and e.get("up") is False])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)
    entries = read_health_log(path)
    assert entries[0]["event"] == "start" and entries[0]["services"] == ["steady", "crasher"]
    assert entries[-1]["event"] == "stop"
    crasher = [(e["up"], e["why"]) for e in entries if e.get("service") == "crasher"]
    assert crasher[:2] == [(True, "running"), (False, "backoff")]
    start, stop = entries[0]["at"], entries[-1]["at"]
    found = availability(entries, start, stop, now=time.time())
    assert found.observed_s == pytest.approx(stop - start)
    assert 0 < found.up_s < found.observed_s  # up at first, down while the crasher backed off
