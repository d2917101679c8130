"""`callcenter quality sample`: draw a week's quality sample into the inspectors' work lists, as
the work list page's "Draw" does (by hand: the desktop push process draws each week itself,
quality/sample_job.py). The week defaults to the last whole
one on the center's clock; a call already listed stays where it is, so running it twice lists
nothing new. Written to the audit log (actor "cli").

    callcenter quality sample [--week 2026-W48] [--json]
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone

from callcenter import audit, db
from callcenter.business_hours import BusinessHours, hours_file
from quality import config, worklist
from quality.errors import QualityError

COMMANDS = ("quality",)


def add_parsers(sub) -> None:
    p = sub.add_parser("quality", help="quality inspection: draw a week's sample into the work lists")
    actions = p.add_subparsers(dest="quality_action", required=True)
    sample = actions.add_parser("sample", help="draw a week's sample (default: last week)")
    sample.add_argument("--week", help="ISO week, e.g. 2026-W48")
    sample.add_argument("--json", action="store_true")


def run(settings, args) -> int:
    zone = BusinessHours.load(hours_file(settings.home)).zone
    now = datetime.now(timezone.utc)
    week = args.week or worklist.week_of(now.astimezone(zone).date() - timedelta(days=7))
    sessions = db.session_factory(settings.database_url)
    with sessions() as s:
        try:
            items = worklist.draw(s, week, zone, config.load(settings.home).sampling, now)
        except QualityError as exc:  # a week not written like 2026-W48
            print(f"callcenter: error {exc.code}: a week is written like 2026-W48", file=sys.stderr)
            return 2
        s.commit()
        per_inspector = Counter(i.inspector for i in items)
        reasons = Counter(r for i in items for r in i.reasons)
    audit.write(sessions, "cli", "quality_sample", week, f"{len(items)} call(s) listed")
    if args.json:
        print(json.dumps({"week": week, "listed": len(items), "per_inspector": dict(sorted(per_inspector.items())),
                          "per_reason": dict(sorted(reasons.items()))}))
    else:
        print(f"week {week}: {len(items)} call(s) listed"
              + "".join(f"\n  {who}: {n}" for who, n in sorted(per_inspector.items())))
    return 0
