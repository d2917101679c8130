"""`callcenter recordings ...`: the recordings' checks by hand (the CDR listener's process runs
them on a schedule, recordings/job.py).

    callcenter recordings register   # ended calls' closed files: size, duration, SHA-256
    callcenter recordings verify     # every kept file against its checksum; flags what changed
    callcenter recordings purge      # remove what is past its retention date and not held (audited)
    callcenter recordings flagged    # the flagged recordings, one a line
    callcenter recordings notice 10000 off   # callers to this access number hear no recording notice
"""
from __future__ import annotations

import json
import sys
from datetime import datetime, timezone

from sqlalchemy import select

from callcenter import db
from callcenter.models import Recording
from recordings import job, store

COMMANDS = ("recordings",)


def add_parsers(sub) -> None:
    p = sub.add_parser("recordings", help="register, verify (checksums) and purge (retention) call recordings")
    p.add_argument("action", choices=("register", "verify", "purge", "flagged", "notice"))
    p.add_argument("number", nargs="?", help="notice: the access number")
    p.add_argument("setting", nargs="?", choices=("on", "off"), help="notice: on (the default) or off")
    p.add_argument("--json", action="store_true")


def run(settings, args) -> int:
    now = datetime.now(timezone.utc)
    db.upgrade(settings.database_url)
    if args.action == "notice":
        return set_notice(settings, args.number, args.setting)
    if args.action == "register":
        report = {"registered": job.register_pass(settings, now)}
    elif args.action == "verify":
        result = job.verify_pass(settings, now)
        report = {"checked": result.checked, "flagged": [{"id": i, "problem": p} for i, p in result.flagged]}
    elif args.action == "purge":
        report = {"purged": job.purge_pass(settings, now)}
    else:
        with db.session_factory(settings.database_url)() as s:
            rows = s.scalars(select(Recording).where(Recording.problem.is_not(None), Recording.purged_at.is_(None))
                             .order_by(Recording.created_at))
            report = {"flagged": [{"id": r.id, "call": r.call_uniqueid, "problem": r.problem} for r in rows]}
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            if isinstance(value, list):
                print(f"{key}: {len(value)}")
                for item in value:
                    print("  " + (" ".join(str(v) for v in item.values()) if isinstance(item, dict) else str(item)))
            else:
                print(f"{key}: {value}")
    # verify: a newly flagged file is news the operator must see (exit 1), as `status` does
    return 1 if args.action == "verify" and report["flagged"] else 0


def set_notice(settings, number: str | None, setting: str | None) -> int:
    """Whether callers to an access number hear the recording notice (it must exist: `callcenter
    number add`); the IVR reads it on each call, so the change needs no restart."""
    from callcenter.models import AccessNumber

    if not number or not setting:
        print("callcenter: error BAD_ARGUMENTS: usage: callcenter recordings notice NUMBER on|off", file=sys.stderr)
        return 2
    with db.session_factory(settings.database_url)() as s:
        row = s.get(AccessNumber, number)
        if row is None:
            print(f"callcenter: error NO_SUCH_NUMBER: no access number {number!r} (`callcenter number add` first)",
                  file=sys.stderr)
            return 2
        row.recording_notice = setting == "on"
        s.commit()
    print(f"recording notice for {number}: {setting}")
    return 0


def flagged_count(settings) -> int:
    with db.session_factory(settings.database_url)() as s:
        return store.flagged_count(s)
