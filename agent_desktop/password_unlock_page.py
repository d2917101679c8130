"""The team lead's screen for a locked service password (issue 12): find the customer by a phone
number they own, see whether the password is locked, and unlock it after saying how the caller's
identity was checked. The unlock is password_unlock.unlock_password, as for the JSON API: same
refusals, same audit. Finding the customer shows their name, so the look-up is audited as a view
of customer data with its reason (the lead's identity check).

A plain server-rendered form like the order pages: a refusal answers the one error shape as a page
and changes nothing; an unlock answers with a redirect to the customer's state, marked unlocked.
"""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, redirect, request, url_for
from sqlalchemy import select

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.order_pages import clock
from agent_desktop.password_unlock import IDENTITY_CHECKS, locked_until, unlock_password
from agent_desktop.views import page
from callcenter import audit
from callcenter.digits import is_digits
from callcenter.models import Customer, CustomerPhone

bp = Blueprint("password_unlock_page", __name__)

LEADS = ("supervisor", "admin")
MAX_NOTE = 200


def phone_number(value) -> str:
    """A number as the menu stores it (caller ID digits): ASCII digits only, never a pattern."""
    if not is_digits(value, 3, 20):
        raise ApiError("BAD_PHONE_NUMBER")
    return value


def customer_id_arg(value) -> int:
    if not is_digits(value, max_len=9):
        raise ApiError("BAD_CUSTOMER_ID")
    return int(value)


def lookup(number: str | None, customer_id: int | None) -> dict | None:
    """The customer and their lock state; audited as a view (who, which customer, why)."""
    with desktop().sessions() as s:
        if customer_id is not None:
            customer = s.get(Customer, customer_id)
        else:
            customer = s.scalar(select(Customer).join(CustomerPhone).where(CustomerPhone.number == number))
        if customer is None:
            raise ApiError("NO_SUCH_CUSTOMER", 404)
        until = locked_until(customer)
        locked = until is not None and until > datetime.now(timezone.utc)
        found = {"id": customer.id, "name": customer.name, "locked": locked, "until": until if locked else None,
                 "failures": customer.password_failures or 0}
    audit.write(desktop().sessions, current_user().username, "view_customer", f"customer:{found['id']}",
                "service password unlock screen; reason identity_check")
    return found


@bp.get("/customers/password")
@require(*LEADS)
def unlock_page():
    number, raw_id = request.args.get("number"), request.args.get("customer")
    customer = None
    if raw_id:
        customer = lookup(None, customer_id_arg(raw_id))
    elif number:
        customer = lookup(phone_number(number), None)
    return page("password_unlock.html", customer=customer, checks=IDENTITY_CHECKS, number=number or "",
                unlocked=request.args.get("unlocked") == "1", note_limit=MAX_NOTE, when=clock())


@bp.post("/customers/<int:customer_id>/password-unlock")
@require(*LEADS)
def unlock_form(customer_id: int):
    note = request.form.get("note", "")
    if len(note) > MAX_NOTE:
        raise ApiError("BAD_TEXT", field="note", limit=MAX_NOTE)
    unlock_password(customer_id, request.form.get("identity_check"), note.strip())
    return redirect(url_for("password_unlock_page.unlock_page", customer=customer_id, unlocked=1), 303)
