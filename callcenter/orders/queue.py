"""A group's queue: filters, search and sorting by a fixed set of fields; and the deadline counts.

Every parameter comes from a URL, so each is checked against its own list and refused with a
code (BAD_SORT, BAD_STATUS ...) rather than passed on: a sort field is a key of SORTS, never a
column name from the request. A flag is a comparison of stored deadlines with ``now``, so
filtering by it and counting it for the wallboard are plain queries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from callcenter.models import WorkOrder
from callcenter.orders import lifecycle
from callcenter.orders.deadlines import NEAR, OVERDUE
from callcenter.orders.errors import OrderError
from callcenter.orders.types import CODES, PRIORITIES

PRIORITY_RANK = case({p: i for i, p in enumerate(PRIORITIES)}, value=WorkOrder.priority, else_=0)
SORTS = {
    "created": WorkOrder.created_at,
    "updated": WorkOrder.updated_at,
    "priority": PRIORITY_RANK,
    "reply_due": WorkOrder.reply_due_at,
    "resolve_due": WorkOrder.resolve_due_at,
    "status": WorkOrder.status,
    "number": WorkOrder.number,
}
FLAG_FILTERS = (NEAR, OVERDUE, "escalated")
PAGE_SIZE = 50
SEARCH_LIMIT = 40


@dataclass(frozen=True)
class Filters:
    groups: tuple[str, ...] = ()  # empty: every group the viewer works
    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    priorities: tuple[str, ...] = ()
    assignee: str | None = None  # a username, or "none" (unassigned)
    flag: str | None = None
    search: str = ""
    sort: str = "resolve_due"
    descending: bool = False
    page: int = 1
    allowed_groups: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def from_args(cls, args, allowed_groups: frozenset[str], me: str) -> "Filters":
        """From a request's query (a werkzeug MultiDict or a plain dict of lists)."""
        def many(name: str, choices, code: str) -> tuple[str, ...]:
            values = tuple(v for v in _getlist(args, name) if v)
            bad = [v for v in values if v not in choices]
            if bad:
                raise OrderError(code, choices=", ".join(choices))
            return values

        groups = many("group", tuple(sorted(allowed_groups)) or ("-",), "NOT_YOUR_GROUP")
        sort = _one(args, "sort") or "resolve_due"
        if sort not in SORTS:
            raise OrderError("BAD_SORT", choices=", ".join(SORTS))
        direction = _one(args, "dir") or "asc"
        if direction not in ("asc", "desc"):
            raise OrderError("BAD_SORT_DIRECTION")
        flag = _one(args, "flag") or None
        if flag is not None and flag not in FLAG_FILTERS:
            raise OrderError("BAD_FLAG", choices=", ".join(FLAG_FILTERS))
        page = _one(args, "page") or "1"
        if not (page.isascii() and page.isdigit() and 1 <= int(page) <= 10_000):
            raise OrderError("BAD_NUMBER", field="page", low=1, high=10_000)
        search = (_one(args, "q") or "").strip()
        if len(search) > SEARCH_LIMIT or any(not c.isprintable() for c in search):
            raise OrderError("BAD_TEXT", field="q", limit=SEARCH_LIMIT)
        assignee = _one(args, "assignee") or None
        if assignee == "me":
            assignee = me
        if assignee is not None and (len(assignee) > 40 or not assignee.isprintable()):
            raise OrderError("BAD_TEXT", field="assignee", limit=40)
        return cls(groups, many("status", lifecycle.STATUSES, "BAD_STATUS"), many("type", CODES, "BAD_ORDER_TYPE"),
                   many("priority", PRIORITIES, "BAD_PRIORITY"), assignee, flag, search, sort, direction == "desc",
                   int(page), allowed_groups)


def _getlist(args, name: str) -> list[str]:
    values = args.getlist(name) if hasattr(args, "getlist") else args.get(name, [])
    values = [values] if isinstance(values, str) else list(values)
    flat = [part.strip() for v in values if isinstance(v, str) for part in v.split(",")]
    if any(not isinstance(v, str) for v in values) or len(flat) > 20:
        raise OrderError("BAD_REQUEST")
    return flat


def _one(args, name: str) -> str | None:
    values = args.getlist(name) if hasattr(args, "getlist") else args.get(name)
    if values is None or values == []:
        return None
    if isinstance(values, list):
        if len(values) != 1 or not isinstance(values[0], str):
            raise OrderError("BAD_REQUEST")
        return values[0]
    if not isinstance(values, str):
        raise OrderError("BAD_REQUEST")
    return values


def _passed(column, now: datetime):
    return and_(column.is_not(None), column <= now)  # never NULL: NOT of it must mean something


def _running(now: datetime, reply, resolve):
    """A reply deadline runs until the first reply; a resolve deadline stands still while the order
    waits for the customer (store.act moves it on by the time waited)."""
    return or_(and_(WorkOrder.replied_at.is_(None), _passed(reply, now)),
               and_(WorkOrder.paused_at.is_(None), _passed(resolve, now)))


def overdue_clause(now: datetime):
    return _running(now, WorkOrder.reply_due_at, WorkOrder.resolve_due_at)


def near_clause(now: datetime):
    return and_(~overdue_clause(now), _running(now, WorkOrder.reply_warn_at, WorkOrder.resolve_warn_at))


def _where(f: Filters, now: datetime) -> list:
    groups = f.groups or tuple(f.allowed_groups)
    clauses = [WorkOrder.group_code.in_(groups)]
    if f.statuses:
        clauses.append(WorkOrder.status.in_(f.statuses))
    if f.types:
        clauses.append(WorkOrder.category.in_(f.types))
    if f.priorities:
        clauses.append(WorkOrder.priority.in_(f.priorities))
    if f.assignee == "none":
        clauses.append(WorkOrder.assignee.is_(None))
    elif f.assignee:
        clauses.append(WorkOrder.assignee == f.assignee)
    if f.flag is not None:
        clauses.append(WorkOrder.status.in_(lifecycle.OPEN))
        clauses.append({OVERDUE: overdue_clause(now), NEAR: near_clause(now),
                        "escalated": WorkOrder.escalation > 0}[f.flag])
    if f.search:
        like = "%" + f.search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        clauses.append(or_(WorkOrder.number.like(like, escape="\\"), WorkOrder.description.like(like, escape="\\"),
                           WorkOrder.caller_number == f.search))
    return clauses


def list_orders(s: Session, now: datetime, f: Filters) -> tuple[list[WorkOrder], int]:
    """One page of the queue, and how many orders match in all."""
    where = _where(f, now)
    total = s.scalar(select(func.count()).select_from(WorkOrder).where(*where))
    column = SORTS[f.sort]
    ordering = (column.desc() if f.descending else column.asc()).nulls_last()
    rows = s.scalars(select(WorkOrder).where(*where).order_by(ordering, WorkOrder.id)
                     .limit(PAGE_SIZE).offset((f.page - 1) * PAGE_SIZE)).all()
    return list(rows), total


def deadline_counts(s: Session, now: datetime, groups: frozenset[str] | None = None) -> dict:
    """Open orders near or past a deadline, and escalated ones, in all and per group (the
    wallboard's figures). ``groups``: only these (None: every group)."""
    base = [WorkOrder.status.in_(lifecycle.OPEN)]
    if groups is not None:
        base.append(WorkOrder.group_code.in_(groups))
    rows = s.execute(select(WorkOrder.group_code,
                            func.sum(case((overdue_clause(now), 1), else_=0)),
                            func.sum(case((near_clause(now), 1), else_=0)),
                            func.sum(case((WorkOrder.escalation > 0, 1), else_=0)),
                            func.count())
                     .where(*base).group_by(WorkOrder.group_code)).all()
    per_group = {g or "": {"overdue": int(o or 0), "near": int(n or 0), "escalated": int(e or 0), "open": int(c)}
                 for g, o, n, e, c in rows}
    total = {k: sum(v[k] for v in per_group.values()) for k in ("overdue", "near", "escalated", "open")}
    return {**total, "groups": per_group}
