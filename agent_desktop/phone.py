"""Where the agent's calls ring, and the desktop's own softphone (static/softphone.js).

GET  /api/agent/phone  the agent's choice (desk phone "sip", the browser "webrtc", or none yet),
                       their desk phone's SIP account (no password: an admin hands that out), and
                       what the softphone signs in with: Asterisk's websocket, the web<ext>
                       endpoint and its password, given to this agent only (null until the agent
                       first chooses a phone: the credentials are made then, not on a page load)
POST /api/agent/phone  {"device": "sip" | "webrtc"}: calls ring there from now on; the same
                       answer as GET
GET/POST /api/monitor/phone  the same for a supervisor or a quality inspector who has an extension:
                       where their monitoring leg rings (acd/monitoring.py rings their extension as an
                       agent's), on the wallboard. Its own route, so /api/agent/phone stays agents'
                       only (FORBIDDEN for any other role), and this one monitors' only; a monitor
                       without an extension gets NO_EXTENSION (409), as an agent without one does.

The choice is live state in Redis (callcenter/sip/phones.py); the SIP service tells the dialplan
and takes the agent off (Not ready, phone_unregistered) whenever the chosen phone cannot ring.
"""
from __future__ import annotations

import ipaddress

from flask import Blueprint, request

from acd.monitor import MONITOR_ROLES
from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from callcenter.sip import names, phones, store
from callcenter.sip.names import SipConfigError

bp = Blueprint("phone", __name__)


def _extension() -> str:
    ext = current_user().agent_extension
    if not ext:
        raise ApiError("NO_EXTENSION", 409)
    return ext


def _sip_host() -> str:
    """The address a browser or phone reaches Asterisk at: its SIP address, or, when that is every
    address of the machine (0.0.0.0), the host name this page was loaded from."""
    host = desktop().settings.sip_host
    if ipaddress.ip_address(host).is_unspecified:
        return request.host.rsplit(":", 1)[0].strip("[]")
    return f"[{host}]" if ":" in host else host


def _credentials(ext: str):
    """The agent's phone row, created (and applied to Asterisk) on first use."""
    d = desktop()
    with d.sessions() as s:
        row = store.phone(s, ext, create=False)
        if row is not None:
            return row
        try:
            row = store.phone(s, ext)
        except SipConfigError as exc:
            raise ApiError(exc.code, 409) from None
        s.commit()
    from callcenter.sip.service import announce
    announce(d.redis)  # the new endpoints exist in Asterisk before the softphone registers
    return row


def _account(ext: str, row) -> dict:
    settings, host = desktop().settings, _sip_host()
    web = names.phone_endpoint(ext, "webrtc")
    return {"device": phones.chosen(desktop().redis, ext), "extension": ext,
            "sip": {"user": ext, "server": f"{host}:{settings.sip_port}"},
            "webrtc": None if row is None else {"ws_url": f"ws://{host}:{settings.sip_ws_port}/ws",
                                                "uri": f"sip:{web}@{host}", "user": web,
                                                "password": row.webrtc_password}}


def _show() -> dict:
    ext = _extension()
    with desktop().sessions() as s:
        row = store.phone(s, ext, create=False)
    return _account(ext, row)


def _choose() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("device") not in names.DEVICES:
        raise ApiError("BAD_DEVICE")
    ext = _extension()
    row = _credentials(ext)
    phones.choose(desktop().redis, ext, body["device"])
    return _account(ext, row)


@bp.get("/api/agent/phone")
@require("agent")
def phone():
    return _show()


@bp.post("/api/agent/phone")
@require("agent")
def choose():
    return _choose()


@bp.get("/api/monitor/phone")
@require(*MONITOR_ROLES)
def monitor_phone():
    return _show()


@bp.post("/api/monitor/phone")
@require(*MONITOR_ROLES)
def monitor_choose():
    return _choose()
