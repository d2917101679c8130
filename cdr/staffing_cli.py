"""`callcenter staffing`: agents needed per interval of the day (cdr.staffing), from the last
days' calls in the database, or for a load given on the command line. A table, or --json.

    callcenter staffing                      # the last 28 days, per 30 minutes, 80 % in 20 s
    callcenter staffing --calls 120 --aht 240 --interval 30min --patience 90
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from callcenter.business_hours import BusinessHours, hours_file
from cdr import load, staffing
from cdr.call_facts import DEFAULT_SHORT_ABANDON_S
from cdr.periods import SIZES, Period

COMMANDS = ("staffing",)


def _positive(kind):
    def parse(text: str):
        value = kind(text)
        if value <= 0:
            raise ValueError(text)
        return value
    parse.__name__ = kind.__name__
    return parse


def add_parsers(sub) -> None:
    p = sub.add_parser("staffing", help="agents needed per interval by Erlang C (or A with --patience)")
    p.add_argument("--interval", choices=("15min", "30min", "hour"), default="30min")
    p.add_argument("--days", type=_positive(int), default=28, help="history: this many whole days before today")
    p.add_argument("--calls", type=_positive(float), default=None,
                   help="calls per interval instead of history (with --aht)")
    p.add_argument("--aht", type=_positive(float), default=180.0, help="handle time, seconds (with --calls)")
    p.add_argument("--target", type=_positive(float), default=80.0, help="service level, percent")
    p.add_argument("--threshold", type=_positive(float), default=20.0, help="answered within, seconds")
    p.add_argument("--patience", type=_positive(float), default=None, help="mean patience, seconds: Erlang A")
    p.add_argument("--json", action="store_true")


def run(settings, args) -> int:
    target = staffing.Target(min(args.target, 99.9) / 100, args.threshold, args.patience)
    minutes = SIZES[args.interval]
    if args.calls is not None:
        slots = [staffing.Slot(f"{args.interval}", args.calls, args.aht)]
        source = "given"
    else:
        from callcenter import db
        zone = BusinessHours.load(hours_file(settings.home)).zone
        now = datetime.now(timezone.utc)
        last = now.astimezone(zone).date() - timedelta(days=1)
        history = Period.local_days(last - timedelta(days=args.days - 1), last, zone)
        with db.session_factory(settings.database_url)() as s:
            loaded = load.load(s, history, now, DEFAULT_SHORT_ABANDON_S)
        slots = staffing.slots_from_history(loaded.facts, history, args.interval)
        source = f"{history.start.astimezone(zone).date()}..{last} ({zone.key})"
    needs = staffing.forecast(slots, minutes, target)
    if args.json:
        print(json.dumps({"source": source, "interval": args.interval, "target": target.service_level,
                          "threshold_s": target.threshold_s, "patience_s": target.patience_s,
                          "method": "erlang_a" if target.patience_s else "erlang_c",
                          "rows": [n.as_dict() for n in needs]}, indent=1))
        return 0
    print(f"staffing: {source}, {args.interval}, {target.service_level:.0%} within {target.threshold_s:g} s, "
          f"{'Erlang A, patience %g s' % target.patience_s if target.patience_s else 'Erlang C'}")
    print(f"{'interval':>8} {'calls':>8} {'aht s':>7} {'agents':>6} {'SL':>7} {'ASA s':>7} {'occ.':>6}")
    for n in needs:
        if n.calls == 0 and args.calls is None:
            continue  # a quiet interval: nobody needed
        sl = "-" if n.service_level is None else f"{n.service_level:.1%}"
        asa = "-" if n.asa_s is None else f"{n.asa_s:.1f}"
        occ = "-" if n.occupancy is None else f"{n.occupancy:.0%}"
        print(f"{n.label:>8} {n.calls:>8.2f} {n.aht_s:>7.0f} {n.agents:>6} {sl:>7} {asa:>7} {occ:>6}")
    return 0
