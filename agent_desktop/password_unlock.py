"""A team lead unlocks a customer's locked service password, after checking who is asking.

The menu locks a password after wrong tries (ivr/services.py, counted by ivr/guard.py) and sends
the caller to an agent; waiting out the lock is the only other way back. The lead says how the
identity was checked (one of a fixed set of codes, worded at the edge) and the unlock clears the
lock and the failure count. Who, which customer, how and why go to the audit log.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint
from sqlalchemy import update

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.views import json_body, text_field
from callcenter import audit
from callcenter.models import Customer

bp = Blueprint("password_unlock", __name__)

#: how the lead checked the caller is the customer (i18n: identity_check.<code>)
IDENTITY_CHECKS = ("id_document", "account_details", "registered_number_callback")


def locked_until(customer: Customer) -> datetime | None:
    until = customer.password_locked_until
    return until.replace(tzinfo=until.tzinfo or timezone.utc) if until is not None else None  # SQLite: naive UTC


@bp.post("/api/customers/<int:customer_id>/password-unlock")
@require("supervisor", "admin")
def unlock(customer_id: int):
    body = json_body()
    unlock_password(customer_id, body.get("identity_check"), text_field(body, "note", 200))
    return {"customer_id": customer_id, "unlocked": True}


def unlock_password(customer_id: int, check, note: str) -> datetime:
    """The unlock itself, for the JSON API and the lead's page alike: refused (nothing changed)
    without a known identity check, for an unknown customer or one not locked now. Returns when
    the lock would have ended."""
    if check not in IDENTITY_CHECKS:
        raise ApiError("IDENTITY_NOT_CHECKED", choices=", ".join(IDENTITY_CHECKS))
    user, d, now = current_user(), desktop(), datetime.now(timezone.utc)
    with d.sessions() as s:
        customer = s.get(Customer, customer_id)
        if customer is None:
            raise ApiError("NO_SUCH_CUSTOMER", 404)
        until = locked_until(customer)
        if until is None or until <= now:
            raise ApiError("PASSWORD_NOT_LOCKED", 409)
        s.execute(update(Customer).where(Customer.id == customer_id)
                  .values(password_failures=0, password_locked_until=None))
        s.commit()
    audit.write(d.sessions, user.username, "password_unlocked", f"customer:{customer_id}",
                f"identity checked by {check}; locked until {until:%Y-%m-%d %H:%M} UTC; {note}".rstrip("; "))
    return until
