"""The hotline flow's services: the database work behind menu nodes (outside the pure engine).

Each service takes the call's state and returns (outcome, data); data goes into the call's slots.
They run in a worker thread (blocking database I/O) and take the clock from the caller, so tests
can set the time. Secrets (password, card PIN) are compared against hashes and never stored.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callcenter.business_hours import BusinessHours
from callcenter.models import Account, CallbackRequest, Customer, CustomerPhone, RechargeCard, WorkOrder
from callcenter.work_orders import open_work_order
from ivr.engine import CallState

Outcome = tuple[str, dict]

#: every service and the outcomes it may return (the flow loader checks each is handled)
SERVICES: dict[str, tuple[str, ...]] = {
    "identify_caller": ("known", "unknown"),
    "identify_by_number": ("known", "unknown"),
    "business_hours": ("open", "closed"),
    "create_callback": ("ok",),
    "verify_password": ("ok", "wrong", "locked"),
    "bill_summary": ("ok",),
    "recharge": ("ok", "used", "invalid"),
    "report_phone_fault": ("ok",),
    "report_broadband_fault": ("ok",),
    "order_status": ("found", "not_found"),
}

@dataclass(frozen=True)
class CallContext:
    uniqueid: str
    caller_number: str  # digits only ("" when withheld)


class HotlineServices:
    def __init__(self, sessions: Callable[[], Session], hours_path: Path, lock_minutes: int = 30,
                 max_password_failures: int = 3, clock: Callable[[], datetime] | None = None):
        self.sessions = sessions
        self.hours_path = hours_path
        self.lock = timedelta(minutes=lock_minutes)
        self.max_failures = max_password_failures
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def run(self, name: str, state: CallState, call: CallContext) -> Outcome:
        if name not in SERVICES:
            raise KeyError(f"unknown service {name!r}")
        return getattr(self, name)(state, call)

    # ---- who is calling ----
    def _identify(self, state: CallState, number: str) -> Outcome:
        if not number:
            return "unknown", {}
        with self.sessions() as s:
            customer = s.scalar(select(Customer).join(CustomerPhone).where(CustomerPhone.number == number))
            if customer is None:
                customer = s.scalar(select(Customer).join(Account).where(Account.number == number))
            if customer is None:
                return "unknown", {}
            state.customer_id, state.language = customer.id, customer.language
            state.priority = min(customer.vip_level, 9)
            return "known", {}

    def identify_caller(self, state: CallState, call: CallContext) -> Outcome:
        return self._identify(state, call.caller_number)

    def identify_by_number(self, state: CallState, call: CallContext) -> Outcome:
        return self._identify(state, state.slots.get("service_number", ""))

    def business_hours(self, state: CallState, call: CallContext) -> Outcome:
        hours = BusinessHours.load(self.hours_path)
        if hours.is_open(self.clock()):
            return "open", {}
        return "closed", {"open_hour": hours.open.hour, "close_hour": hours.close.hour if hours.close else 24,
                          "callback_number": call.caller_number or "0"}

    def create_callback(self, state: CallState, call: CallContext) -> Outcome:
        number = state.slots.get("callback_number") or call.caller_number
        with self.sessions() as s:
            existing = s.scalar(select(CallbackRequest).where(CallbackRequest.call_uniqueid == call.uniqueid))
            if existing is None:  # one request per call, even if the caller confirms twice
                s.add(CallbackRequest(number=number, customer_id=state.customer_id, call_uniqueid=call.uniqueid,
                                      reason="out_of_hours", language=state.language, created_at=self.clock()))
            else:
                existing.number = number
            s.commit()
        return "ok", {}

    # ---- the service password ----
    def verify_password(self, state: CallState, call: CallContext) -> Outcome:
        password = state.slots.pop("password", "")  # never kept after the check
        if state.customer_id is None:
            state.handoff_reason = "password_unknown_caller"
            return "locked", {}
        now = self.clock()
        with self.sessions() as s:
            customer = s.get(Customer, state.customer_id, with_for_update=True)
            locked_until = customer.password_locked_until
            if locked_until is not None and locked_until.replace(tzinfo=locked_until.tzinfo or timezone.utc) > now:
                return "locked", {}
            if customer.check_service_password(password):
                customer.password_failures, customer.password_locked_until = 0, None
                s.commit()
                state.verified = True
                return "ok", {}
            customer.password_failures = (customer.password_failures or 0) + 1
            if customer.password_failures >= self.max_failures:
                customer.password_failures, customer.password_locked_until = 0, now + self.lock
                s.commit()
                return "locked", {}
            s.commit()
            return "wrong", {}

    # ---- 1: bill and balance ----
    def bill_summary(self, state: CallState, call: CallContext) -> Outcome:
        with self.sessions() as s:
            account = s.scalar(select(Account).where(Account.customer_id == state.customer_id).order_by(Account.id))
            bill = account.bills[0] if account and account.bills else None
            return "ok", {
                "balance_cents": account.balance_cents if account else 0,
                "bill_cents": bill.amount_cents if bill else 0,
                "bill_due": bill.due_date if bill else self.clock().date(),
                "bill_paid_prompt": "bill_paid" if (bill is None or bill.paid) else "bill_unpaid",
            }

    # ---- 2: recharge card ----
    def recharge(self, state: CallState, call: CallContext) -> Outcome:
        number, pin = state.slots.get("card_number", ""), state.slots.pop("card_pin", "")
        with self.sessions() as s:
            card = s.scalar(select(RechargeCard).where(RechargeCard.number == number))
            if card is None or not card.check_pin(pin):
                return "invalid", {}
            account = s.scalar(select(Account).where(Account.customer_id == state.customer_id).order_by(Account.id))
            if account is None:
                return "invalid", {}
            # Claim the card and credit the account in one transaction; the claim only succeeds
            # for an unused card, so two calls racing with one card credit it once.
            claimed = s.execute(update(RechargeCard).where(RechargeCard.id == card.id, RechargeCard.used_at.is_(None))
                                .values(used_at=self.clock(), used_by_account_id=account.id)).rowcount
            if claimed != 1:
                return "used", {}
            s.execute(update(Account).where(Account.id == account.id)
                      .values(balance_cents=Account.balance_cents + card.amount_cents))
            s.commit()
            balance = s.scalar(select(Account.balance_cents).where(Account.id == account.id))
            return "ok", {"recharge_cents": card.amount_cents, "balance_cents": balance}

    # ---- 3: fault report ----
    def _fault(self, state: CallState, call: CallContext, category: str) -> Outcome:
        with self.sessions() as s:
            order = open_work_order(s, self.clock(), category=category, description="reported in the voice menu",
                                    customer_id=state.customer_id, caller_number=call.caller_number or None,
                                    call_uniqueid=call.uniqueid)
            s.commit()
            return "ok", {"order_number": order.number}

    def report_phone_fault(self, state: CallState, call: CallContext) -> Outcome:
        return self._fault(state, call, "fault_phone")

    def report_broadband_fault(self, state: CallState, call: CallContext) -> Outcome:
        return self._fault(state, call, "fault_broadband")

    # ---- 4: work order progress ----
    def order_status(self, state: CallState, call: CallContext) -> Outcome:
        number = state.slots.get("order_number")
        with self.sessions() as s:
            if number:
                order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
            else:  # the caller's latest: by customer, else by the number they call from
                who = (WorkOrder.customer_id == state.customer_id) if state.customer_id else (
                    WorkOrder.caller_number == call.caller_number)
                order = s.scalar(select(WorkOrder).where(who).order_by(WorkOrder.created_at.desc(),
                                                                        WorkOrder.id.desc()))
            if order is None:
                return "not_found", {}
            return "found", {"order_number": order.number, "order_status_prompt": f"status_{order.status}"}
