"""The hotline flow's services: the database work behind menu nodes (outside the pure engine).

Each service takes the call's state and returns (outcome, data); data goes into the call's slots.
They run in a worker thread (blocking database I/O) and take the clock from the caller, so tests
can set the time. Secrets (password, card PIN) are compared against hashes and never stored; how
often they may be tried is ivr/guard.py's, and a lock is logged at WARNING and audited.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from callcenter import audit, callback_rules, service_password
from callcenter.business_hours import BusinessHours
from callcenter.masking import mask_middle
from callcenter.models import Account, Call, CallbackRequest, Customer, CustomerPhone, RechargeCard, WorkOrder
from callcenter.orders import store as orders_store
from ivr import guard
from ivr.engine import CallState
from ivr.guard import Limits

log = logging.getLogger("ivr.services")

Outcome = tuple[str, dict]

#: every service and the outcomes it may return (the flow loader checks each is handled)
SERVICES: dict[str, tuple[str, ...]] = {
    "identify_caller": ("known", "unknown"),
    "identify_by_number": ("known", "unknown"),
    "identify_call": ("known", "unknown"),
    "business_hours": ("open", "closed"),
    "create_callback": ("ok", "refused"),
    "verify_password": ("ok", "wrong", "locked", "throttled", "unknown"),
    "password_change_start": ("change", "set", "not_own", "unknown", "locked"),
    "verify_old_password": ("ok", "wrong", "locked", "throttled", "unknown"),
    "change_password": ("ok", "weak", "mismatch", "gave_up", "refused"),
    "bill_summary": ("ok",),
    "recharge": ("ok", "used", "invalid", "locked"),
    "report_phone_fault": ("ok", "repeat"),
    "report_broadband_fault": ("ok", "repeat"),
    "order_status": ("found", "not_found", "verify"),
}

OLD_PASSWORD_CHECKED = "_old_password_checked"  # slots no input node can fill (a flow's slot names
CHANGE_TRIES = "_password_change_tries"          # start with a letter: ivr/flow.py SLOT)


@dataclass(frozen=True)
class CallContext:
    uniqueid: str
    caller_number: str  # digits only ("" when withheld)


def _aware(value: datetime | None) -> datetime | None:
    return value.replace(tzinfo=value.tzinfo or timezone.utc) if value is not None else None  # SQLite: naive UTC


class HotlineServices:
    def __init__(self, sessions: Callable[[], Session], hours_path: Path, limits: Limits = Limits(),
                 clock: Callable[[], datetime] | None = None, new_password_tries: int = 3):
        self.sessions = sessions
        self.new_password_tries = new_password_tries  # weak or mismatched new passwords before "not changed"
        self.hours_path = hours_path
        self.limits = limits
        self.clock = clock or (lambda: datetime.now(timezone.utc))

    def _alert(self, action: str, target: str, call: CallContext, detail: str) -> None:
        """A lock or throttle someone may be guessing behind: a WARNING for the operator's log
        watch, and a row in the audit log."""
        log.warning("%s %s: %s (call %s from %s)", action, target, detail, call.uniqueid,
                    call.caller_number or "a withheld number")
        audit.write(self.sessions, "ivr", action, target,
                    f"{detail}; call {call.uniqueid} from {call.caller_number or 'withheld'}")

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
            # the language and greeting from the number; its VIP priority waits for the password
            state.customer_id, state.language, state.vip_level = customer.id, customer.language, customer.vip_level
            return "known", {}

    def identify_caller(self, state: CallState, call: CallContext) -> Outcome:
        return self._identify(state, call.caller_number)

    def identify_by_number(self, state: CallState, call: CallContext) -> Outcome:
        return self._identify(state, state.slots.get("service_number", ""))

    def identify_call(self, state: CallState, call: CallContext) -> Outcome:
        """The agent's password check: the customer the menu found for this very call (by the
        number or a keyed service number), else the calling number's."""
        with self.sessions() as s:
            customer = s.scalar(select(Customer).join(Call, Call.customer_id == Customer.id)
                                .where(Call.uniqueid == call.uniqueid))
            if customer is not None:
                state.customer_id, state.language = customer.id, customer.language
                return "known", {}
        return self._identify(state, call.caller_number)

    def business_hours(self, state: CallState, call: CallContext) -> Outcome:
        hours = BusinessHours.load(self.hours_path)
        if hours.is_open(self.clock()):
            return "open", {}
        return "closed", {"open_hour": hours.open.hour, "close_hour": hours.close.hour if hours.close else 24,
                          "callback_number": call.caller_number or "0"}

    def create_callback(self, state: CallState, call: CallContext) -> Outcome:
        """Out of hours: a call back to the caller's number or one keyed in, if the call-back rules
        (callcenter/callback_rules.py, <home>/callbacks.toml) let the center call it."""
        number = state.slots.get("callback_number") or call.caller_number
        rules = callback_rules.load(self.hours_path.parent)
        with self.sessions() as s:
            refused = callback_rules.admit(s, rules, number, state.customer_id, self.clock())
            if refused:
                callback_rules.record_refusal(s, refused, number, call.uniqueid, "out_of_hours")
                s.commit()
                return "refused", {}
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
        """Three wrong tries in a row lock the customer's password (a counter on the customer,
        raised by one UPDATE before the hash is compared, so parallel calls cannot get more tries
        between them). Before that, a calling number that has failed on customers other than its
        own N times in a window is throttled: one caller cannot lock anyone out by keying their
        number. Locked and throttled callers go to an agent."""
        password = state.slots.pop("password", "")  # never kept after the check
        if state.customer_id is None:  # nothing to check, and nothing is locked: "number unknown"
            state.handoff_reason = "password_unknown_caller"
            return "unknown", {}
        limits, now, number = self.limits, self.clock(), call.caller_number
        with self.sessions() as s:
            customer = s.get(Customer, state.customer_id)
            if (_aware(customer.password_locked_until) or now) > now:
                return "locked", {}
            own = self._own_number(s, customer.id, number)
            attempt = guard.start(s, now, guard.PASSWORD, call.uniqueid, number, customer_id=customer.id)
            s.commit()
            if not own and guard.count(s, guard.PASSWORD, now - limits.number_window, failed_only=True,
                                       other_than=attempt, caller_number=number) >= limits.number_password_failures:
                guard.finish(s, attempt, guard.REFUSED)
                s.commit()
                return "throttled", {}  # the flow's handoff reason: password_throttled
            # The try is counted before it is checked: a lost update cannot hand out extra tries.
            tries = s.scalar(update(Customer).where(Customer.id == customer.id, or_(
                Customer.password_locked_until.is_(None), Customer.password_locked_until <= now))
                .values(password_failures=Customer.password_failures + 1).returning(Customer.password_failures)
                .execution_options(synchronize_session=False))  # not compared in Python (naive SQLite times)
            if tries is None or tries > limits.password_failures:  # locked meanwhile, or tries in flight
                guard.finish(s, attempt, guard.REFUSED)
                s.commit()
                return "locked", {}
            s.commit()
            right = customer.check_service_password(password)  # no write lock held while it hashes
            if right:
                s.execute(update(Customer).where(Customer.id == customer.id)
                          .values(password_failures=0, password_locked_until=None))
                guard.finish(s, attempt, guard.OK)
                s.commit()
                state.verified = True
                return "ok", {}
            guard.finish(s, attempt, guard.WRONG)
            if tries >= limits.password_failures:
                s.execute(update(Customer).where(Customer.id == customer.id)
                          .values(password_failures=0, password_locked_until=now + limits.password_lock))
            s.commit()
            if tries >= limits.password_failures:
                self._alert("password_locked", f"customer:{customer.id}", call,
                            f"{tries} wrong service passwords; locked for {limits.password_lock}")
                return "locked", {}
            if not own and guard.count(s, guard.PASSWORD, now - limits.number_window, failed_only=True,
                                       caller_number=number) == limits.number_password_failures:
                self._alert("password_throttled", f"number:{number or 'withheld'}", call,
                            f"{limits.number_password_failures} wrong service passwords on customers not its own "
                            f"within {limits.number_window}")
            return "wrong", {}

    # ---- 7: set or change the service password ----
    def password_change_start(self, state: CallState, call: CallContext) -> Outcome:
        """Only a customer calling from their own registered number may set or change the
        password: "change" asks the old one first, "set" (no password yet) goes to the new one."""
        state.slots.pop(OLD_PASSWORD_CHECKED, None)
        state.slots.pop(CHANGE_TRIES, None)
        if state.customer_id is None:
            state.handoff_reason = "password_unknown_caller"
            return "unknown", {}
        with self.sessions() as s:
            customer = s.get(Customer, state.customer_id)
            if not self._own_number(s, customer.id, call.caller_number):
                return "not_own", {}
            if not customer.service_password_hash:
                return "set", {}
            now = self.clock()
            if (_aware(customer.password_locked_until) or now) > now:
                return "locked", {}
            return "change", {}

    def verify_old_password(self, state: CallState, call: CallContext) -> Outcome:
        """The current password, checked (and counted) exactly like every other password try."""
        outcome, data = self.verify_password(state, call)
        if outcome == "ok":
            state.slots[OLD_PASSWORD_CHECKED] = True
        return outcome, data

    def change_password(self, state: CallState, call: CallContext) -> Outcome:
        """Store the new password if both entries agree and it is not weak; the old one stops
        working at once, and a lock or failure count is cleared. Checked again here, whatever
        the flow: the caller's own number, and the old password verified in this branch."""
        new, again = state.slots.pop("new_password", ""), state.slots.pop("new_password_again", "")
        if state.customer_id is None:
            return "refused", {}
        with self.sessions() as s:
            customer = s.get(Customer, state.customer_id)
            if not self._own_number(s, customer.id, call.caller_number) or (
                    customer.service_password_hash and not state.slots.get(OLD_PASSWORD_CHECKED)):
                return "refused", {}
            outcome = "mismatch" if new != again else "weak" if (
                service_password.is_weak(new, call.caller_number) or customer.check_service_password(new)) else "ok"
            if outcome != "ok":
                tries = state.slots[CHANGE_TRIES] = state.slots.get(CHANGE_TRIES, 0) + 1
                return ("gave_up" if tries >= self.new_password_tries else outcome), {}
            action = "password_changed" if customer.service_password_hash else "password_set"
            customer.set_service_password(new)
            customer.password_failures, customer.password_locked_until = 0, None
            s.commit()
        old_checked = bool(state.slots.pop(OLD_PASSWORD_CHECKED, None))
        state.slots.pop(CHANGE_TRIES, None)
        # A change proved the caller (they keyed the old password); a first password set from the
        # registered number proves only the caller ID, which gives neither VIP priority nor the
        # full screen-pop (issue 15), so it leaves the call as unverified as it was.
        state.verified = state.verified or old_checked
        audit.write(self.sessions, "ivr", action, f"customer:{state.customer_id}",
                    f"from the voice menu; call {call.uniqueid} from {call.caller_number}")
        return "ok", {}

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
        """Top up the caller's account with a card. Every try is counted first (ivr/guard.py):
        over a limit (tries per call or day, wrong PINs per card, account or calling number) the
        caller hears why and goes to an agent, and no PIN is checked."""
        number, pin = state.slots.pop("card_number", ""), state.slots.pop("card_pin", "")
        now = self.clock()
        with self.sessions() as s:
            card = s.scalar(select(RechargeCard).where(RechargeCard.number == number))
            account = s.scalar(select(Account).where(Account.customer_id == state.customer_id).order_by(Account.id))
            keys = {"card_id": card.id if card else None, "account_id": account.id if account else None}
            attempt = guard.start(s, now, guard.RECHARGE, call.uniqueid, call.caller_number,
                                  customer_id=state.customer_id, **keys)
            s.commit()
            refusal = self._recharge_refusal(s, attempt, now, call, **keys)
            if refusal:
                guard.finish(s, attempt, guard.REFUSED)
                s.commit()
                log.info("recharge refused (%s): call %s from %s", refusal, call.uniqueid,
                         call.caller_number or "a withheld number")
                return "locked", {}  # the flow's handoff reason: recharge_locked; the why is in the log
            if card is None or account is None or not check_password_hash(card.pin_hash, pin):
                guard.finish(s, attempt, guard.WRONG)
                s.commit()
                if self._recharge_locks(s, now, call, number, **keys):
                    return "locked", {}  # this wrong PIN completed a lock: hear why now, not next time
                return "invalid", {}
            # Claim the card and credit the account in one transaction; the claim only succeeds
            # for an unused card, so two calls racing with one card credit it once.
            claimed = s.execute(update(RechargeCard).where(RechargeCard.id == card.id, RechargeCard.used_at.is_(None))
                                .values(used_at=now, used_by_account_id=account.id)).rowcount
            if claimed != 1:
                guard.finish(s, attempt, guard.USED)
                s.commit()
                return "used", {}
            s.execute(update(Account).where(Account.id == account.id)
                      .values(balance_cents=Account.balance_cents + card.amount_cents))
            guard.finish(s, attempt, guard.OK)
            s.commit()
            balance = s.scalar(select(Account.balance_cents).where(Account.id == account.id))
            return "ok", {"recharge_cents": card.amount_cents, "balance_cents": balance}

    def _recharge_limits(self, call: CallContext, card_id: int | None,
                         account_id: int | None) -> list[tuple[str, bool, int, dict]]:
        """(code, failures only?, limit, what is counted) for each limit on this try, in the order
        they are checked. A withheld number has no count of its own: the account behind the
        verified password bounds it."""
        limits = self.limits
        caller = {"caller_number": call.caller_number} if call.caller_number else None
        return [(code, failed, limit, where) for code, failed, limit, where in (
            ("call_limit", False, limits.recharges_per_call, {"call_uniqueid": call.uniqueid}),
            ("day_limit", False, limits.recharges_per_day, account_id and {"account_id": account_id}),
            ("day_limit", False, limits.recharges_per_day, caller),
            ("card_locked", True, limits.card_failures, card_id and {"card_id": card_id}),
            ("account_locked", True, limits.account_card_failures, account_id and {"account_id": account_id}),
            ("number_locked", True, limits.number_card_failures, caller),
        ) if where]

    def _recharge_refusal(self, s: Session, attempt: int, now: datetime, call: CallContext,
                          card_id: int | None, account_id: int | None) -> str | None:
        """The first limit this try is over (other tries in flight count as failures), or None."""
        for code, failed, limit, where in self._recharge_limits(call, card_id, account_id):
            if guard.count(s, guard.RECHARGE, now - self.limits.day, failed_only=failed, other_than=attempt,
                           **where) >= limit:
                return code
        return None

    def _recharge_locks(self, s: Session, now: datetime, call: CallContext, card: str,
                        card_id: int | None, account_id: int | None) -> str | None:
        """After a wrong PIN: the first lock it completed, each one alerted (logged and audited)."""
        found = None
        for code, failed, limit, where in self._recharge_limits(call, card_id, account_id):
            if failed and guard.count(s, guard.RECHARGE, now - self.limits.day, failed_only=True, **where) >= limit:
                target = {"card_locked": f"card:{mask_middle(card)}", "account_locked": f"account:{account_id}",
                          "number_locked": f"number:{call.caller_number}"}[code]
                self._alert(f"recharge_{code}", target, call, f"{limit} wrong card PINs within {self.limits.day}")
                found = found or code
        return found

    # ---- 3: fault report ----
    def _fault(self, state: CallState, call: CallContext, category: str) -> Outcome:
        """A new order on its group's queue; or, if this caller's same fault is already open, that
        order (the call linked to it, a step on its timeline): "repeat"."""
        with self.sessions() as s:
            order, repeat = orders_store.create(
                s, self.clock(), orders_store.Rules.load(self.hours_path.parent), code=category,
                description="reported in the voice menu", customer_id=state.customer_id,
                caller_number=call.caller_number or None, call_uniqueid=call.uniqueid)
            s.commit()
            return ("repeat" if repeat else "ok"), {"order_number": order.number}

    def report_phone_fault(self, state: CallState, call: CallContext) -> Outcome:
        return self._fault(state, call, "fault_phone")

    def report_broadband_fault(self, state: CallState, call: CallContext) -> Outcome:
        return self._fault(state, call, "fault_broadband")

    # ---- 4: work order progress ----
    def order_status(self, state: CallState, call: CallContext) -> Outcome:
        """The order's real status and the day it last changed, told only to its own customer: one
        calling from their own number, or verified by the service password ("verify" sends an
        identified caller through the password first). Anyone else hears "not found", the same as
        for a number that does not exist, so a guess learns nothing."""
        number = state.slots.get("order_number")
        with self.sessions() as s:
            if number:
                order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
            elif state.customer_id is not None or call.caller_number:  # the caller's latest
                who = (WorkOrder.customer_id == state.customer_id) if state.customer_id is not None else (
                    (WorkOrder.caller_number == call.caller_number) & WorkOrder.customer_id.is_(None))
                order = s.scalar(select(WorkOrder).where(who).order_by(WorkOrder.created_at.desc(),
                                                                        WorkOrder.id.desc()))
            else:
                order = None
            if order is None:
                return "not_found", {}
            if order.customer_id is None:  # reported by a caller we did not know: only from that number
                mine = bool(call.caller_number) and order.caller_number == call.caller_number
                trusted = True
            else:
                mine = order.customer_id == state.customer_id
                trusted = state.verified or self._own_number(s, order.customer_id, call.caller_number)
            if not mine:
                return "not_found", {}
            if not trusted:
                return "verify", {}
            zone = BusinessHours.load(self.hours_path).zone
            changed = order.updated_at.replace(tzinfo=order.updated_at.tzinfo or timezone.utc)
            return "found", {"order_number": order.number, "order_status_prompt": f"status_{order.status}",
                             "order_date": changed.astimezone(zone).date()}

    @staticmethod
    def _own_number(s: Session, customer_id: int, number: str) -> bool:
        """Is the caller on one of this customer's numbers (a phone of theirs, or a line they hold)?"""
        if not number:
            return False
        return bool(s.scalar(select(CustomerPhone.id).where(CustomerPhone.customer_id == customer_id,
                                                           CustomerPhone.number == number))
                    or s.scalar(select(Account.id).where(Account.customer_id == customer_id, Account.number == number)))
