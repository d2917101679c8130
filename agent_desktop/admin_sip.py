"""Admin screen for real phones: carriers' trunks, the access numbers they deliver, and agents'
SIP credentials (shown here, to admins only; reset or set). Every change is audited, stored, and
applied to the running Asterisk by the SIP service without a restart (callcenter/sip); the page
then says whether it was applied, and if not, why (a stable code in the admin's language).
"""
from __future__ import annotations

from contextlib import contextmanager

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import select

from agent_desktop.admin import audit, form
from agent_desktop.auth import require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.views import page
from callcenter.models import AccessNumber, AgentPhone, Carrier, User
from callcenter.sip import names, phones, store
from callcenter.sip.names import SipConfigError

bp = Blueprint("admin_sip", __name__, url_prefix="/admin/sip")

#: what the page says after a change: applied now, stored for the next start, or refused
OUTCOMES = ("applied", "stored")


@bp.get("/")
@require("admin")
def index():
    d = desktop()
    with d.sessions() as s:
        carriers = s.scalars(select(Carrier).order_by(Carrier.name)).all()
        carrier_rows = [{"name": c.name, "host": c.host, "port": c.port, "username": c.username or "",
                         "register": c.register, "outbound": c.outbound,
                         "numbers": sorted(n.number for n in c.numbers)} for c in carriers]
        numbers = [{"number": n.number, "carrier": n.carrier.name, "entry": n.entry, "skill": n.skill, "label": n.label}
                   for n in s.scalars(select(AccessNumber).order_by(AccessNumber.number))]
        agents = s.execute(select(User.agent_extension, User.display_name, AgentPhone)
                           .outerjoin(AgentPhone, AgentPhone.extension == User.agent_extension)
                           .where(User.agent_extension.is_not(None), User.role == "agent")
                           .order_by(User.agent_extension)).all()
    phone_rows = [{"ext": ext, "name": name, "password": row.sip_password if row else None,
                   "web": names.phone_endpoint(ext, "webrtc"), "device": phones.chosen(d.redis, ext)}
                  for ext, name, row in agents]
    outcome = request.args.get("outcome", "")
    return page("admin_sip.html", carriers=carrier_rows, numbers=numbers, phones=phone_rows,
                outcome=outcome if outcome in OUTCOMES else "", settings=d.settings)


def _checked(flag: str) -> bool:
    return request.form.get(flag) == "1"


def _apply(s, action: str, target: str, detail: str = ""):
    """Audit and store the change, then have the running Asterisk apply it; back to the page."""
    from callcenter.sip.service import announce

    audit(s, action, target, detail)
    s.commit()
    outcome = announce(desktop().redis)
    if outcome is None:
        return redirect(url_for("admin_sip.index", outcome="stored"))
    if not outcome.get("ok"):
        raise ApiError(outcome.get("code") or "APPLY_FAILED", 502)
    return redirect(url_for("admin_sip.index", outcome="applied"))


@contextmanager
def _refusals():
    """A change the SIP configuration refuses answers its stable code, naming what the form named."""
    try:
        yield
    except SipConfigError as exc:
        raise ApiError(exc.code, name=form("extension", 4) or form("name", 24) or form("number", 20)) from None


@bp.post("/carriers")
@require("admin")
def save_carrier():
    with desktop().sessions() as s:
        with _refusals():
            name = form("name", 24)
            existing = s.scalar(select(Carrier).where(Carrier.name == name))
            password = form("password", 128) or (existing.password if existing else None)
            store.save_carrier(s, name, form("host", 253), form("port", 5) or 5060, form("username", 64) or None,
                               password, register=_checked("register"), outbound=_checked("outbound"))
        return _apply(s, "save_carrier", name, f"{form('host', 253)}:{form('port', 5) or 5060}")


@bp.post("/carriers/remove")
@require("admin")
def remove_carrier():
    with desktop().sessions() as s:
        with _refusals():
            store.remove_carrier(s, form("name", 24))
        return _apply(s, "remove_carrier", form("name", 24))


@bp.post("/numbers")
@require("admin")
def save_number():
    from ivr.service import load_hotline

    kind, value = form("target", 8), form("value", 40) or None
    if kind not in ("menu", "entry", "skill"):
        raise ApiError("BAD_TARGET_KIND")
    with desktop().sessions() as s:
        with _refusals():
            store.save_number(s, form("number", 20), form("carrier", 24), entry=value if kind == "entry" else None,
                              skill=value if kind == "skill" else None, label=form("label", 80),
                              flow_nodes=set(load_hotline().nodes))
        return _apply(s, "save_number", form("number", 20), f"{form('carrier', 24)} {kind} {value or ''}")


@bp.post("/numbers/remove")
@require("admin")
def remove_number():
    with desktop().sessions() as s:
        with _refusals():
            store.remove_number(s, form("number", 20))
        return _apply(s, "remove_number", form("number", 20))


@bp.post("/phones")
@require("admin")
def reset_phone():
    """A new password for an agent's desk phone: the one typed, or generated when left empty."""
    with desktop().sessions() as s:
        with _refusals():
            ext = names.extension(form("extension", 4))
            store.set_password(s, ext, form("password", 128) or None)
        return _apply(s, "reset_phone", ext, "desk phone password changed")
