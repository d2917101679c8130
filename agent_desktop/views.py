"""Pages and the JSON API of the desktop. Every route names the roles allowed; object checks
(whose call, which team) are in the route itself, next to the data they guard."""
from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from flask import Blueprint, jsonify, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from acd.agent_state import NOT_READY_REASONS, SYSTEM_REASONS
from acd.monitor import allowed_modes
from agent_desktop import live
from agent_desktop.auth import csrf_token, current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.i18n import strings
from agent_desktop import customer_lookup as lookup
from agent_desktop.screen_pop import agent_handled, build_pop, customer_profile, unverified_profile
from agent_desktop.wallboard import snapshot
from callcenter.business_hours import BusinessHours, hours_file, start_of_today
from callcenter.models import ROLES, AgentStateLog, Call, Customer, CustomerPhone, QueueConfig
from callcenter.work_orders import CATEGORIES, PRIORITIES, open_order

bp = Blueprint("views", __name__)

DISPOSITIONS = ("resolved", "order_created", "transferred", "callback_needed", "info_given", "complaint_logged",
                "wrong_number", "other")
AGENT_REASONS = tuple(r for r in NOT_READY_REASONS if r not in (*SYSTEM_REASONS, "supervisor"))
# Asterisk's "1700000000.42", or an id an Originate chose (ChannelId): plain characters only
UNIQUEID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


CURRENCY = "CNY"  # balances and bills are in fen (cents of a yuan)


def center() -> dict[str, str]:
    """What pages format with: the center's time zone (business_hours.toml) and currency."""
    hours = BusinessHours.load(hours_file(desktop().settings.home))
    return {"tz": hours.zone.key, "currency": CURRENCY}


def page(template: str, data: dict | None = None, **values):
    """A page in the user's language; `data` goes to the page's script (#page-data) with the
    words, the language, the center's time zone and currency."""
    user = current_user()
    t = strings(user.language)
    page_data = {"t": t, "lang": user.language, "ext": user.agent_extension, **center(), **(data or {})}
    return render_template(template, user=user, t=t, csrf=csrf_token(), page_data=page_data, **values)


def skills() -> list[str]:
    with desktop().sessions() as s:
        return sorted(set(s.scalars(select(QueueConfig.skill))) | {"general"})


@bp.get("/")
def home():
    user = current_user()
    if user is None:
        return redirect(url_for("auth.login"))
    if user.role == "agent":
        return redirect(url_for("views.agent_page"))
    if user.role in ("supervisor", "admin"):
        return redirect(url_for("views.wallboard_page"))
    if user.role == "backoffice":
        return redirect(url_for("order_pages.queue_page"))
    if user.role == "quality":  # the inspector's work list (issue 13)
        return redirect(url_for("quality_pages.work_list_page"))
    return page("other.html")


@bp.get("/agent")
@require("agent")
def agent_page():
    return page("agent.html", reasons=AGENT_REASONS, skills=skills(), dispositions=DISPOSITIONS,
                categories=CATEGORIES, priorities=PRIORITIES, lookup_reasons=lookup.REASONS)


@bp.get("/wallboard")
@require("supervisor", "admin", "quality")
def wallboard_page():
    with desktop().sessions() as s:  # each queue's answer target (s), for its thresholds
        targets = {q.skill: q.service_level_s for q in s.scalars(select(QueueConfig))}
    # which controls the page offers: state changes (supervise_*) and the monitoring modes
    # (acd/monitor.py); the socket events check the same rules again
    role = current_user().role
    controls = {"supervise": role in ("supervisor", "admin"), "monitor": [m.value for m in allowed_modes(role)]}
    # a monitor with an extension chooses here where their monitoring leg rings (desk phone or this
    # browser's softphone, agent_desktop/phone.py's monitors' route); one without has no phone to offer
    extra = {"softphone_api": "/api/monitor/phone"} if controls["monitor"] and current_user().agent_extension else {}
    return page("wallboard.html", data={"targets": targets, "controls": controls}, reasons=NOT_READY_REASONS, **extra)


# ---------------------------------------------------------------- JSON API
def json_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("BAD_JSON")
    return body


def text_field(body: dict, name: str, limit: int, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit:
        raise ApiError("BAD_TEXT", field=name, limit=limit)
    if required and not value.strip():
        raise ApiError("MISSING_FIELD", field=name)
    return value.strip()


def call_id(value) -> str:
    if not isinstance(value, str) or not UNIQUEID.fullmatch(value):
        raise ApiError("BAD_CALL_ID")
    return value


@bp.get("/api/me")
@require(*ROLES)
def me():
    user = current_user()
    return {"username": user.username, "name": user.display_name, "role": user.role, "language": user.language,
            "extension": user.agent_extension}


@bp.get("/api/agent/state")
@require("agent")
def agent_state():
    redis = desktop().redis
    state = live.agent(redis, current_user().agent_extension or "")
    call = live.call(redis, state.call) if state.call else None
    return {**state.as_dict(), "held": bool(call and call.held)}  # the page offers resume, not hold


@bp.get("/api/agent/today")
@require("agent")
def agent_today():
    ext = current_user().agent_extension or ""
    now = datetime.now(timezone.utc)
    midnight = start_of_today(desktop().settings.home, now.timestamp())
    with desktop().sessions() as s:
        log = s.execute(select(AgentStateLog.state, AgentStateLog.started_at).where(
            AgentStateLog.extension == ext, AgentStateLog.started_at >= midnight)
            .order_by(AgentStateLog.started_at, AgentStateLog.id)).all()
    talk, answered = 0.0, 0
    for (state, start), nxt in zip(log, [*log[1:], (None, now)]):
        if state == "on_call":
            answered += 1
            start = start.replace(tzinfo=timezone.utc) if start.tzinfo is None else start
            end = nxt[1].replace(tzinfo=timezone.utc) if nxt[1].tzinfo is None else nxt[1]
            talk += (end - start).total_seconds()
    return {"calls_answered": answered, "talk_time_s": round(talk)}


@bp.get("/api/calls/<uniqueid>/pop")
@require("agent")
def call_pop(uniqueid: str):
    uniqueid = call_id(uniqueid)
    d = desktop()
    with d.sessions() as s:
        if not agent_handled(s, d.redis, current_user().agent_extension or "", uniqueid):
            raise ApiError("NOT_YOUR_CALL", 403)
        return build_pop(s, uniqueid, live.call(d.redis, uniqueid), time.time())


@bp.get("/api/customers")
@require("agent")
def customer_search():
    """Search by name or number, only with the agent's call (`call`) or a reason and a note
    (customer_lookup.REASONS); counted per agent per hour (customer_lookup.count_lookup), audited
    with the query."""
    q = request.args.get("q", "").strip()
    if not 2 <= len(q) <= 40 or any(not c.isprintable() for c in q):
        raise ApiError("BAD_SEARCH")
    user, d = current_user(), desktop()
    pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with d.sessions() as s:
        allowed = lookup.grant(s, d.redis, user.agent_extension or "", request.args, call_id, note_required=True)
        lookup.count_lookup(d.redis, user.username)
        found = s.execute(select(Customer.id, Customer.name, Customer.vip_level).outerjoin(CustomerPhone)
                          .where(or_(Customer.name.like(pattern, escape="\\"),
                                     CustomerPhone.number.like(pattern, escape="\\")))
                          .distinct().order_by(Customer.name).limit(20)).all()
    lookup.record(d.sessions, user.username, "search_customers", f"query:{q}", allowed)
    if allowed.call_id:  # a caller not yet identified: names to ask about, not their VIP level
        return jsonify([{"id": i, "name": n} for i, n, _v in found])
    return jsonify([{"id": i, "name": n, "vip_level": v} for i, n, v in found])


@bp.get("/api/customers/<int:customer_id>")
@require("agent")
def customer(customer_id: int):
    """A profile, with the same permission as a search; through a call whose caller has not proved
    to be this customer (service password), only screen_pop.unverified_profile. Audited; counted
    as a search unless it is the call's own customer (else profile ids could be walked instead)."""
    user, d = current_user(), desktop()
    with d.sessions() as s:
        allowed = lookup.grant(s, d.redis, user.agent_extension or "", request.args, call_id, note_required=False)
        if not (allowed.call_id and allowed.call_customer == customer_id):
            lookup.count_lookup(d.redis, user.username)
        profile = customer_profile(s, customer_id)
    if profile is None:
        raise ApiError("NO_SUCH_CUSTOMER", 404)
    lookup.record(d.sessions, user.username, "view_customer", f"customer:{customer_id}", allowed)
    return profile if allowed.verified_for(customer_id) else unverified_profile(profile)


@bp.post("/api/work-orders")
@require("agent")
def create_work_order():
    body = json_body()
    uniqueid = call_id(body.get("call"))
    category, priority = body.get("category"), body.get("priority")  # None: the type's own
    if category not in CATEGORIES:
        raise ApiError("BAD_CATEGORY", choices=", ".join(CATEGORIES))
    if priority is not None and priority not in PRIORITIES:
        raise ApiError("BAD_PRIORITY", choices=", ".join(PRIORITIES))
    description = text_field(body, "description", 500, required=True)
    customer_id = body.get("customer_id")
    if customer_id is not None and (not isinstance(customer_id, int) or isinstance(customer_id, bool)):
        raise ApiError("BAD_CUSTOMER_ID")
    user, d = current_user(), desktop()
    with d.sessions() as s:
        if not agent_handled(s, d.redis, user.agent_extension or "", uniqueid):
            raise ApiError("NOT_YOUR_CALL", 403)
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        if customer_id is None and call is not None:
            customer_id = call.customer_id
        if customer_id is not None and s.get(Customer, customer_id) is None:
            raise ApiError("NO_SUCH_CUSTOMER")
        # business acceptance: only for the customer whose service password the menu verified on this call
        verified = bool(call and call.password_verified and call.customer_id == customer_id)
        order, repeat = open_order(s, datetime.now(timezone.utc), category=category, description=description,
                                   customer_id=customer_id, caller_number=call.caller_number if call else None,
                                   call_uniqueid=uniqueid, priority=priority, created_by=user.username,
                                   fields=body.get("fields"), password_verified=verified, home=d.settings.home)
        s.commit()
        return {"number": order.number, "customer_id": customer_id, "repeat": repeat}, 200 if repeat else 201


@bp.get("/api/wallboard")
@require("supervisor", "admin", "quality")
def wallboard():
    d = desktop()
    with d.sessions() as s:
        now = time.time()
        return snapshot(s, current_user(), live.agents(d.redis), live.calls(d.redis), now,
                        start_of_today(d.settings.home, now))
