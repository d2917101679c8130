"""bench/load.py's smoke run: three real SIP calls through its own stack (a private home, its own
`callcenter up` and `down`, so nothing is shared with the session's stack), each through the
menu (key 0 heard), the queue and an agent's registered SIPp phone, recorded, with the survey
answered, and every record and recording found afterwards."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_three_real_sip_calls_through_the_bench_leave_nothing_missing():
    done = subprocess.run([sys.executable, "bench/load.py", "--calls", "3", "--rate", "1", "--concurrent", "3",
                           "--talk", "3"], cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.stdout.strip(), done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    problems = {k: result[k] for k in ("failed", "records_missing", "recordings_missing", "menu_key_missed")}
    assert problems == dict.fromkeys(problems, 0), (result, done.stderr[-2000:])
    assert result["calls"] == result["sipp_successful"] == 3
    assert result["agents_on_call_max"] >= 1 and result["concurrent_calls"] >= 1
    assert result["surveys_offered"] == result["surveys_answered"] == 3  # the survey's share is 1.0 by default
    assert result["cpu_s"]["asterisk"] > 0 and {"acd", "ivr", "cdr", "redis"} <= set(result["cpu_s"])
    assert done.returncode == 0
