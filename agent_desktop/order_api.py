"""The work orders' JSON API (described in agent_desktop/work_orders.openapi.json), for the desktop's
own pages and for a CRM or self-service portal: the same roles, the same object checks, the one
error shape ``{"code", "message"}`` with stable codes. Creating an order from a call is
views.create_work_order (POST /api/work-orders, agents).
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request

from agent_desktop import order_common as oc
from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from callcenter.orders import access, queue
from callcenter.orders.types import CODES, TYPES

bp = Blueprint("order_api", __name__)

WORKERS = ("backoffice", "supervisor", "admin")  # roles with order queues
READERS = ("agent", *WORKERS)  # an agent: the orders they own, or whose return visit they are on


def body() -> dict:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError("BAD_JSON")
    return data


@bp.get("/api/work-order-types")
@require(*READERS)
def types():
    return jsonify([{"code": k.code, "family": k.family, "group": k.group, "priority": k.priority,
                     "needs_password": k.needs_password, "reply": k.reply, "resolve": k.resolve,
                     "fields": [{"name": f.name, "kind": f.kind, "required": f.required, "choices": list(f.choices)}
                                for f in k.fields]} for k in (TYPES[c] for c in CODES)])


@bp.get("/api/work-orders")
@require(*WORKERS)
def list_orders():
    user = current_user()
    with desktop().sessions() as s:
        actor = access.actor_for(s, user)
        filters = queue.Filters.from_args(request.args, actor.groups, user.username)
        at = oc.now()
        rows, total = queue.list_orders(s, at, filters)
        return {"total": total, "page": filters.page, "page_size": queue.PAGE_SIZE,
                "orders": [oc.summary(o, at) for o in rows]}


@bp.get("/api/work-orders/deadlines")
@require(*WORKERS)
def deadlines():
    """Open orders near or past a deadline, and escalated: the wallboard's figures (the user's groups)."""
    user = current_user()
    with desktop().sessions() as s:
        actor = access.actor_for(s, user)
        return queue.deadline_counts(s, oc.now(), None if actor.admin else actor.groups)


@bp.get("/api/work-orders/<number>")
@require(*READERS)
def order(number: str):
    """The order with its timeline, linked calls and the actions this user may take; its customer
    only with ?reason= (one of order_common.VIEW_REASONS), and that view is audited."""
    user = current_user()
    reason = oc.view_reason(request.args.get("reason"))
    with desktop().sessions() as s:
        found, actor, visit = oc.load(s, number, user)
        data = oc.detail(s, found, actor, visit, user.role, oc.now())
        if reason is not None:
            data["customer"] = oc.customer_view(s, found, user, reason)
        return data


@bp.post("/api/work-orders/<number>/actions")
@require(*READERS)
def act(number: str):
    """{"action", "comment", "version", and for assign "group"/"assignee", for hand_over "to"}."""
    data, user = body(), current_user()
    with desktop().sessions() as s:
        found, actor, visit = oc.act_and_commit(s, number, user, data)
        return oc.detail(s, found, actor, visit, user.role, oc.now())


@bp.post("/api/work-orders/bulk-assign")
@require(*WORKERS)
def bulk_assign():
    """{"numbers": [...], "group" and/or "assignee", "comment"}: every order or none; the lead of
    each order's group (or an admin) only."""
    data, user = body(), current_user()
    with desktop().sessions() as s:
        orders = oc.bulk_assign_and_commit(s, user, data.get("numbers"), data.get("group"), data.get("assignee"),
                                           data.get("comment", ""))
        return {"assigned": [o.number for o in orders]}
