"""The recordings search (issue 11): by date, agent, queue, customer number, disposition and
duration, a page at a time, sorted by one of a fixed set of fields (anything else: BAD_SORT).

Each filter is checked against its own shape before it reaches the query (a sort is a key of
SORTS, never a column name from the request); the rows are those the user may hear
(recordings/access.py: an agent their calls, a supervisor their teams', inspectors and admins all).
A search shows customers' numbers, so each is audited with what was asked.
"""
from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, request
from sqlalchemy import exists, func, select

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.journeys import agents_of
from agent_desktop.recordings import describe
from agent_desktop.reports import date_arg, int_arg, sort_args, today, zone
from agent_desktop.views import DISPOSITIONS, page
from callcenter.models import AgentStateLog, AuditEntry, Call, CallWrapup, Recording
from cdr.periods import local_midnight
from recordings.access import EVERY_CALL, LISTENERS

bp = Blueprint("recording_search", __name__)

PAGE_SIZE = 25
MAX_DAYS = 93
SORTS = {"started": Call.started_at, "duration": Recording.duration_ms, "agent": Call.agent_extension,
         "queue": Call.skill}
AGENT = re.compile(r"1[0-9]{3}")
SKILL = re.compile(r"[a-z_]{1,32}")
NUMBER = re.compile(r"[0-9]{1,20}")
MAX_DURATION_S = 24 * 3600


def _text_arg(name: str, shape: re.Pattern, code: str) -> str:
    raw = request.args.get(name, "")
    if raw and not shape.fullmatch(raw):
        raise ApiError(code, field=name)
    return raw


def _filters() -> dict:
    last = date_arg("to", today())
    first = date_arg("from", last)
    if last < first or (last - first).days + 1 > MAX_DAYS:
        raise ApiError("BAD_PERIOD", days=MAX_DAYS)
    disposition = request.args.get("disposition", "")
    if disposition and disposition not in DISPOSITIONS:
        raise ApiError("BAD_DISPOSITION", choices=", ".join(DISPOSITIONS))
    sort, direction = sort_args(SORTS, "started")
    min_s = int_arg("min_s", 0, 0, MAX_DURATION_S)
    max_s = int_arg("max_s", MAX_DURATION_S, 0, MAX_DURATION_S)
    if max_s < min_s:
        raise ApiError("BAD_DURATION_RANGE")
    return {"from": first, "to": last, "agent": _text_arg("agent", AGENT, "BAD_EXTENSION"),
            "queue": _text_arg("queue", SKILL, "UNKNOWN_SKILL"), "number": _text_arg("number", NUMBER, "BAD_NUMBER_FILTER"),
            "disposition": disposition, "min_s": min_s, "max_s": max_s, "sort": sort, "dir": direction,
            "page": int_arg("page", 1, 1, 10000)}


def _query(s, f: dict):
    center = zone()
    query = (select(Recording, Call).join(Call, Call.uniqueid == Recording.call_uniqueid)
             .where(Recording.purged_at.is_(None),
                    Call.started_at >= local_midnight(f["from"], center),
                    Call.started_at < local_midnight(f["to"] + timedelta(days=1), center)))
    user = current_user()
    if user.role not in EVERY_CALL:
        exts = agents_of(s, user) or {""}
        query = query.where(Call.uniqueid.in_(select(AgentStateLog.call_uniqueid).where(AgentStateLog.extension.in_(exts))))
    if f["agent"]:
        query = query.where(Call.agent_extension == f["agent"])
    if f["queue"]:
        query = query.where(Call.skill == f["queue"])
    if f["number"]:
        query = query.where(Call.caller_number == f["number"])
    if f["disposition"]:
        query = query.where(exists().where(CallWrapup.call_uniqueid == Call.uniqueid,
                                           CallWrapup.disposition == f["disposition"]))
    if f["min_s"]:
        query = query.where(Recording.duration_ms >= f["min_s"] * 1000)
    if f["max_s"] < MAX_DURATION_S:
        query = query.where(Recording.duration_ms <= f["max_s"] * 1000)
    return query


@bp.get("/recordings")
@require(*LISTENERS)
def search_page():
    return page("recordings.html", data={"today": today().isoformat(), "sorts": list(SORTS), "page_size": PAGE_SIZE},
                dispositions=DISPOSITIONS, sorts=tuple(SORTS))


@bp.get("/api/recordings")
@require(*LISTENERS)
def search():
    f = _filters()
    column = SORTS[f["sort"]]
    order = column.asc() if f["dir"] == "asc" else column.desc()
    with desktop().sessions() as s:
        query = _query(s, f)
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        rows = s.execute(query.order_by(order, Recording.id).offset((f["page"] - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        asked = ", ".join(f"{k}={v}" for k, v in f.items() if v not in ("", None))
        s.add(AuditEntry(actor=current_user().username[:40], action="search_recordings", target=f["from"].isoformat(),
                         detail=f"{asked}; {total} found"[:500]))
        s.commit()
        return {"total": total, "page": f["page"], "page_size": PAGE_SIZE, "sort": f["sort"], "dir": f["dir"],
                "recordings": [describe(rec, call) for rec, call in rows]}
