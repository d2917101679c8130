"""The back office's screens: a group's queue (filters, search, a fixed set of sort fields, bulk
assignment) and the order page (timeline, customer for a stated reason, linked calls, one form
per allowed action). Plain forms, rendered on the server, on the shared layout (base.html); a
refused form answers the one error shape as a page, and changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import select

from agent_desktop import order_common as oc
from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.i18n import STRINGS, translate
from agent_desktop.order_api import READERS, WORKERS
from agent_desktop.views import page
from callcenter.business_hours import BusinessHours, hours_file
from callcenter.digits import is_digits
from callcenter.models import OrderGroup
from callcenter.orders import access, lifecycle, queue
from callcenter.orders.types import CODES, PRIORITIES, TYPES

bp = Blueprint("order_pages", __name__)


def words(language: str):
    def w(prefix: str, code) -> str:
        key = f"{prefix}.{code}"
        return translate(key, language) if key in STRINGS else str(code if code is not None else "")
    return w


def clock():
    zone = BusinessHours.load(hours_file(desktop().settings.home)).zone

    def when(value) -> str:
        if not value:
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        moment = moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    return when


def screen(template: str, **values):
    user = current_user()
    return page(template, w=words(user.language), when=clock(), **values)


def form_body() -> dict:
    """A form as the API's JSON body: the version as a number, empty fields as absent."""
    data = {k: v for k, v in request.form.items() if k != "csrf_token" and v != ""}
    if "version" in data:
        raw = data["version"]
        if not is_digits(raw, max_len=9):
            raise ApiError("BAD_NUMBER", field="version", low=1, high=2 ** 31)
        data["version"] = int(raw)
    return data


@bp.get("/orders")
@require(*WORKERS)
def queue_page():
    user = current_user()
    with desktop().sessions() as s:
        actor = access.actor_for(s, user)
        filters = queue.Filters.from_args(request.args, actor.groups, user.username)
        at = oc.now()
        rows, total = queue.list_orders(s, at, filters)
        orders = [oc.summary(o, at) for o in rows]
        return screen("orders.html", orders=orders, total=total, filters=filters, groups=sorted(actor.groups),
                      leads=sorted(actor.leads), statuses=lifecycle.STATUSES, types=CODES, priorities=PRIORITIES,
                      flags=queue.FLAG_FILTERS, sorts=tuple(queue.SORTS), page_size=queue.PAGE_SIZE,
                      counts=queue.deadline_counts(s, at, None if actor.admin else actor.groups),
                      query=request.args.to_dict(flat=False))


@bp.get("/orders/<number>")
@require(*READERS)
def order_page(number: str):
    user = current_user()
    reason = oc.view_reason(request.args.get("reason"))
    with desktop().sessions() as s:
        found, actor, visit = oc.load(s, number, user)
        data = oc.detail(s, found, actor, visit, user.role, oc.now())
        customer = oc.customer_view(s, found, user, reason) if reason else None
        groups = sorted(s.scalars(select(OrderGroup.code)))
        return screen("order.html", order=data, customer=customer, reason=reason, reasons=oc.VIEW_REASONS,
                      groups=groups, kind=TYPES.get(found.category))


@bp.post("/orders/<number>/act")
@require(*READERS)
def order_act(number: str):
    user, data = current_user(), form_body()
    with desktop().sessions() as s:
        oc.act_and_commit(s, number, user, data)
    return redirect(url_for("order_pages.order_page", number=number), 303)


@bp.post("/orders/bulk-assign")
@require(*WORKERS)
def bulk_assign():
    user = current_user()
    with desktop().sessions() as s:
        oc.bulk_assign_and_commit(s, user, request.form.getlist("numbers"), request.form.get("group"),
                                  request.form.get("assignee"), request.form.get("comment", ""))
    return redirect(request.form.get("back") if _local(request.form.get("back")) else url_for("order_pages.queue_page"),
                    303)


def _local(target) -> bool:
    """Only a path on this site (the queue with its filters): never another site."""
    return (isinstance(target, str) and len(target) < 2000 and target.startswith("/orders") and target.isprintable()
            and "//" not in target and "\\" not in target)
