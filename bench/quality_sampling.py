"""Drawing a week's quality sample from the database: how long, and how many calls each rule
picks. A fresh SQLite file, migrated, gets one week of answered calls (200 agents, 50 calls each
by default: 10,000 calls) with transfers on 3 %, holds on 10 % (half of them over a minute),
complaint orders on 1 %, surveys on 40 % (a third of them "not satisfied") and repeat callers on
5 %; then quality.worklist.draw lists them for 5 inspectors. Prints a JSON object with calls,
picked, per_reason, draw_s (the whole draw: reading, rules, writing) and a second draw's count
(0: a call already listed is never listed again).

    python bench/quality_sampling.py [--agents 200] [--calls-per-agent 50]
"""
from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from callcenter import db
from callcenter.models import Call, CallHold, CallTransfer, User, WorkOrder
from quality import worklist
from quality.config import Sampling

MONDAY = datetime(2026, 11, 23, 1, 0, tzinfo=timezone.utc)  # 09:00 on the center's clock


def build(sessions, agents: int, per_agent: int, rng: random.Random) -> int:
    with sessions() as s:
        for i in range(5):
            s.add(User(username=f"qa{i}", display_name=f"qa{i}", role="quality", password_hash="-"))
        n = 0
        for a in range(agents):
            ext = str(1000 + a)
            for c in range(per_agent):
                uid = f"{ext}.{c}"
                at = MONDAY + timedelta(minutes=rng.randrange(0, 6 * 24 * 60))
                number = f"139{rng.randrange(10**8):08d}" if rng.random() > 0.05 else "13900000000"
                surveyed = rng.random() < 0.4
                s.add(Call(uniqueid=uid, caller_number=number, started_at=at, answered_at=at + timedelta(seconds=20),
                           ended_at=at + timedelta(minutes=4), agent_extension=ext, skill="billing",
                           survey_offered=surveyed, survey_answer=rng.choice((1, 2, 3)) if surveyed else None))
                if rng.random() < 0.03:
                    s.add(CallTransfer(call_uniqueid=uid, from_extension=ext, to_skill="billing", at=at))
                if rng.random() < 0.10:
                    s.add(CallHold(call_uniqueid=uid, extension=ext, action="hold", at=at + timedelta(seconds=60)))
                    s.add(CallHold(call_uniqueid=uid, extension=ext, action="resume",
                                   at=at + timedelta(seconds=60 + rng.choice((30, 90)))))
                if rng.random() < 0.01:
                    s.add(WorkOrder(number=f"2611{n:08d}", category="complaint_staff", call_uniqueid=uid))
                n += 1
        s.commit()
    return n


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--calls-per-agent", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        db.upgrade(url)
        sessions = db.session_factory(url)
        calls = build(sessions, args.agents, args.calls_per_agent, random.Random(7))
        rules = Sampling(share=0.05, seed="bench")
        start = time.perf_counter()
        with sessions() as s:
            items = worklist.draw(s, "2026-W48", ZoneInfo("Asia/Shanghai"), rules, MONDAY)
            s.commit()
            reasons = Counter(r for i in items for r in i.reasons)
            per_inspector = Counter(i.inspector for i in items)
        elapsed = time.perf_counter() - start
        with sessions() as s:
            again = len(worklist.draw(s, "2026-W48", ZoneInfo("Asia/Shanghai"), rules, MONDAY))
    print(json.dumps({"calls": calls, "picked": len(items), "per_reason": dict(sorted(reasons.items())),
                      "per_inspector": sorted(per_inspector.values()), "draw_s": round(elapsed, 3),
                      "second_draw": again}))


if __name__ == "__main__":
    main()
