"""Database models (SQLAlchemy 2.0, typed). Migrations in callcenter/migrations follow these.

Money is in integer cents (no float rounding on balances); times are UTC.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, validates
from werkzeug.security import check_password_hash, generate_password_hash

from callcenter.digits import is_digits

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")
LANGUAGES = ("zh", "en")
AGENT_EXTENSION = re.compile(r"1[0-9]{3}")  # the dialplan's _1XXX; ASCII only, unlike str.isdigit


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("vip_level BETWEEN 0 AND 3", name="ck_customers_vip_level"),
        CheckConstraint("language IN ('zh', 'en')", name="ck_customers_language"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(2), default="zh")
    vip_level: Mapped[int] = mapped_column(Integer, default=0)  # 0 ordinary .. 3 top VIP
    plan: Mapped[str] = mapped_column(String(40), default="")
    # hashed 6-digit service password; None until the customer sets one
    service_password_hash: Mapped[str | None] = mapped_column(String(256))
    # wrong tries since the last success, and the lock they caused: in the database so a
    # restart of the IVR does not hand a caller three fresh tries
    password_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    password_locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    phones: Mapped[list[CustomerPhone]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    accounts: Mapped[list[Account]] = relationship(back_populates="customer", cascade="all, delete-orphan")

    def set_service_password(self, password: str) -> None:
        if not is_digits(password, 6, 6):  # ASCII: isdigit() alone takes '١٢٣٤٥٦'
            raise ValueError("a service password is exactly 6 digits")
        self.service_password_hash = generate_password_hash(password)

    def check_service_password(self, password: str) -> bool:
        return bool(self.service_password_hash) and check_password_hash(self.service_password_hash, password)


class CustomerPhone(Base):
    """A customer may call from several numbers; a number belongs to one customer."""
    __tablename__ = "customer_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)

    customer: Mapped[Customer] = relationship(back_populates="phones")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # the service number (phone line)
    balance_cents: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")

    customer: Mapped[Customer] = relationship(back_populates="accounts")
    bills: Mapped[list[Bill]] = relationship(back_populates="account", cascade="all, delete-orphan",
                                             order_by="Bill.period.desc()")


class Bill(Base):
    __tablename__ = "bills"
    __table_args__ = (UniqueConstraint("account_id", "period", name="uq_bills_account_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    period: Mapped[str] = mapped_column(String(7))  # "YYYY-MM"
    amount_cents: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    paid: Mapped[bool] = mapped_column(Boolean, default=False)

    account: Mapped[Account] = relationship(back_populates="bills")


class Team(Base):
    """A group of agents led by a supervisor, who sees and manages only their own teams."""
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL", use_alter=True,
                                                                 name="fk_teams_supervisor"), index=True)


class User(Base):
    """Someone who logs in to the desktop: agent, supervisor, quality, back office, admin."""
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('agent', 'supervisor', 'quality', 'backoffice', 'admin')", name="ck_users_role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(2), default="zh")
    agent_extension: Mapped[str | None] = mapped_column(String(4), unique=True)  # "1XXX" for agents
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL", name="fk_users_team"), index=True)

    # The role CHECK constraint guards the database; these give the caller a clear error at
    # assignment time instead of an IntegrityError at commit. The extension must match the
    # dialplan's _1XXX pattern, or the agent's phone could never be dialled.
    @validates("role")
    def _check_role(self, _key: str, role: str) -> str:
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
        return role

    @validates("agent_extension")
    def _check_extension(self, _key: str, extension: str | None) -> str | None:
        if extension is not None and not AGENT_EXTENSION.fullmatch(extension):
            raise ValueError(f"agent extension must be 1XXX, got {extension!r}")
        return extension

    def set_password(self, password: str) -> None:
        if len(password) < 6:
            raise ValueError("a password has at least 6 characters")
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Call(Base):
    """One row per call that entered the hotline, from entry to how it ended."""
    __tablename__ = "calls"
    __table_args__ = (CheckConstraint("survey_answer IS NULL OR survey_answer IN (1, 2, 3)",
                                      name="ck_calls_survey_answer"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uniqueid: Mapped[str] = mapped_column(String(64), unique=True)  # Asterisk uniqueid of the caller channel
    linkedid: Mapped[str | None] = mapped_column(String(64), index=True)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    caller_name: Mapped[str | None] = mapped_column(String(80))
    access_number: Mapped[str | None] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(120))  # a cdr.end_reason.EndReason code
    end_detail: Mapped[str | None] = mapped_column(String(32))  # EndDetail: why the IVR failed, if it did
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16), default="entered")
    skill: Mapped[str | None] = mapped_column(String(32))
    agent_extension: Mapped[str | None] = mapped_column(String(4))
    language: Mapped[str | None] = mapped_column(String(2))
    password_verified: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    handoff_reason: Mapped[str | None] = mapped_column(String(64))  # why the menu passed the call on
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # first time it waited for an agent
    recording_path: Mapped[str | None] = mapped_column(String(255))
    # the post-call survey (quality/survey.py): offered when the agent hung up first and the call
    # was picked; the answer 1 satisfied, 2 acceptable, 3 not satisfied, NULL none (never a score)
    survey_offered: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    survey_offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    survey_answer: Mapped[int | None] = mapped_column(Integer)
    survey_answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SurveyOffer(Base):
    """A number offered the post-call survey on a day (the center's own day): the unique pair is
    what keeps the survey to once a day per number, whichever IVR process asks first."""
    __tablename__ = "survey_offers"
    __table_args__ = (UniqueConstraint("number", "day", name="uq_survey_offers_number_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32))
    day: Mapped[date] = mapped_column(Date)
    call_uniqueid: Mapped[str] = mapped_column(String(64))
    offered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RechargeCard(Base):
    """A prepaid recharge card: number + PIN, worth a fixed amount, usable once."""
    __tablename__ = "recharge_cards"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    pin_hash: Mapped[str] = mapped_column(String(256))
    amount_cents: Mapped[int] = mapped_column(Integer)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    used_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))

    def set_pin(self, pin: str) -> None:
        self.pin_hash = generate_password_hash(pin)

    def check_pin(self, pin: str) -> bool:
        return check_password_hash(self.pin_hash, pin)


class WorkOrder(Base):
    """A work order (fault report, complaint, business acceptance ...) and where it stands.

    Its life is callcenter.orders.lifecycle; every change is a WorkOrderEvent (the timeline).
    Deadlines are fixed when it opens (callcenter.orders.deadlines) and stored here, so a flag is
    a comparison with the clock; ``version`` makes a change made on a stale view fail, not win.
    """
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(12), unique=True)  # spoken to the caller digit by digit
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    caller_number: Mapped[str | None] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(24))  # the order type: callcenter.orders.types.CODES
    # callcenter.orders.lifecycle.STATUSES: new assigned in_progress waiting_customer resolved closed reopened cancelled
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    description: Mapped[str] = mapped_column(String(500), default="")
    call_uniqueid: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    priority: Mapped[str] = mapped_column(String(8), default="normal", server_default="normal")  # low normal high urgent
    created_by: Mapped[str | None] = mapped_column(String(40))  # username; None when the menu opened it
    fields: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # the type's own (types.py)
    group_code: Mapped[str | None] = mapped_column(ForeignKey("order_groups.code", ondelete="SET NULL",
                                                              name="fk_work_orders_group"), index=True)
    assignee: Mapped[str | None] = mapped_column(String(40), index=True)  # username working it now
    owner: Mapped[str | None] = mapped_column(String(40))  # first responder, until handed over
    reply_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolve_warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    close_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # closes unconfirmed then
    paused_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # waiting for the customer since
    escalation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0 none, 1 near, 2 overdue
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    __mapper_args__ = {"version_id_col": version}


class OrderGroup(Base):
    """A back-office group that works orders (repair, complaints, billing ...), with its lead,
    to whom orders nearing or past their deadline are escalated."""
    __tablename__ = "order_groups"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class OrderGroupMember(Base):
    __tablename__ = "order_group_members"

    group_code: Mapped[str] = mapped_column(ForeignKey("order_groups.code", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)


class WorkOrderEvent(Base):
    """One step of an order's timeline: who did what, when, with their comment."""
    __tablename__ = "work_order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(40))  # a username, or "system" / "ivr"
    action: Mapped[str] = mapped_column(String(24))  # created, a lifecycle action, hand_over, escalated ...
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(String(1000), default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")  # codes and names only


class WorkOrderCall(Base):
    """A call linked to an order: the one that opened it, a repeat report, a return visit."""
    __tablename__ = "work_order_calls"
    __table_args__ = (UniqueConstraint("order_id", "call_uniqueid", name="uq_work_order_calls"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id", ondelete="CASCADE"), index=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # opened, repeat, return_visit
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CallbackRequest(Base):
    """A caller asked to be called back (out of hours, or instead of waiting): a task for agents."""
    __tablename__ = "callback_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(20))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    call_uniqueid: Mapped[str | None] = mapped_column(String(64), unique=True)  # one request per call
    reason: Mapped[str] = mapped_column(String(24))  # out_of_hours, queue, return_visit
    language: Mapped[str] = mapped_column(String(2), default="zh")
    # pending -> queued (in the router's live queue) -> done | no_answer (tried again later) | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_try_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a return visit (reason "return_visit"): the resolved order the customer is asked to confirm
    work_order_id: Mapped[int | None] = mapped_column(ForeignKey("work_orders.id", ondelete="SET NULL",
                                                                 name="fk_callback_requests_work_order"), index=True)


class JourneyStep(Base):
    """One node of the voice menu a call went through: when, what the caller keyed (secrets masked)."""
    __tablename__ = "call_journey"
    __table_args__ = (UniqueConstraint("call_uniqueid", "seq", name="uq_call_journey_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    node: Mapped[str] = mapped_column(String(40))
    input: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(80))


class AgentSkill(Base):
    """An agent holds a skill at a level (1 lowest .. 5 best)."""
    __tablename__ = "agent_skills"
    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 5", name="ck_agent_skills_level"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    skill: Mapped[str] = mapped_column(String(32), primary_key=True)
    level: Mapped[int] = mapped_column(Integer)


class QueueConfig(Base):
    """One queue per skill: how long an agent's phone rings, wrap-up, service level, overflow."""
    __tablename__ = "queues"

    skill: Mapped[str] = mapped_column(String(32), primary_key=True)
    ring_time_s: Mapped[int] = mapped_column(Integer, default=15)
    wrapup_s: Mapped[int] = mapped_column(Integer, default=10)
    service_level_s: Mapped[int] = mapped_column(Integer, default=20)
    # "30:4,90:2": after 30 s general agents of level >= 4 may take the call, after 90 s level >= 2
    overflow: Mapped[str] = mapped_column(String(100), default="")
    no_answer_limit: Mapped[int] = mapped_column(Integer, default=1)  # misses before Not ready
    # Wallboard alerts (agent_desktop.wallboard.alerts); NULL takes AlertLimits' default.
    alert_service_level_pct: Mapped[int | None] = mapped_column(Integer)  # alert below this %
    alert_wait_s: Mapped[int | None] = mapped_column(Integer)  # a caller waiting longer than this
    alert_not_ready_min: Mapped[int | None] = mapped_column(Integer)  # an agent Not ready longer
    alert_on_call_min: Mapped[int | None] = mapped_column(Integer)  # an agent on one call longer


class AgentStateLog(Base):
    """Every agent state change, so time in each state adds up to the logged-in time exactly."""
    __tablename__ = "agent_state_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(32), unique=True)  # its entry in Redis acd:state-log
    extension: Mapped[str] = mapped_column(String(4), index=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(32))
    call_uniqueid: Mapped[str | None] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class CallTransfer(Base):
    """An agent passed the call on, with a note the next agent's screen-pop shows."""
    __tablename__ = "call_transfers"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    from_extension: Mapped[str] = mapped_column(String(4))
    to_skill: Mapped[str | None] = mapped_column(String(32))
    to_extension: Mapped[str | None] = mapped_column(String(4))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CallWrapup(Base):
    """What the agent recorded after the call: a disposition code and notes (one per agent and call)."""
    __tablename__ = "call_wrapups"
    __table_args__ = (UniqueConstraint("call_uniqueid", "extension", name="uq_call_wrapups_call_agent"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    extension: Mapped[str] = mapped_column(String(4))
    disposition: Mapped[str] = mapped_column(String(24))
    notes: Mapped[str] = mapped_column(String(1000), default="")
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who changed what on someone else's behalf (a supervisor setting an agent's state, an admin)."""
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))
    target: Mapped[str] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(String(500), default="")


class IvrAttempt(Base):
    """A secret tried in the voice menu (the service password, a recharge card's PIN), kept to
    limit guessing per customer, card, account and calling number, and per call and day
    (ivr/guard.py). No secret and no full card number is stored: the card by its id."""
    __tablename__ = "ivr_attempts"
    __table_args__ = (
        Index("ix_ivr_attempts_number", "kind", "caller_number", "at"),
        Index("ix_ivr_attempts_customer", "kind", "customer_id", "at"),
        Index("ix_ivr_attempts_account", "kind", "account_id", "at"),
        Index("ix_ivr_attempts_card", "kind", "card_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(16))  # password, recharge
    # pending (being checked: counts as a failure until it is), ok, wrong, used, refused (a limit
    # was reached: not checked at all)
    outcome: Mapped[str] = mapped_column(String(16))
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    caller_number: Mapped[str] = mapped_column(String(20))  # "" when withheld
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    card_id: Mapped[int | None] = mapped_column(ForeignKey("recharge_cards.id", ondelete="SET NULL"))


class RoutingDecision(Base):
    """One choice of the router: the agent taken for a call, and the decision core's own reason
    (acd.core.Decision.reason), kept for the call's journey. Written by the router process
    (acd.call_log), duplicates ignored."""
    __tablename__ = "routing_decisions"
    __table_args__ = (UniqueConstraint("call_uniqueid", "agent_extension", "decided_at", name="uq_routing_decisions"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    agent_extension: Mapped[str] = mapped_column(String(4))
    skill: Mapped[str] = mapped_column(String(32))
    service_class: Mapped[str] = mapped_column(String(12))  # transferred, vip, normal (acd.core's order)
    callback: Mapped[bool] = mapped_column(Boolean, default=False)  # a call back, dialled for the agent
    reason: Mapped[str] = mapped_column(String(300), default="")


class CallHold(Base):
    """An agent put the caller on hold, or took them back (acd.manager), for the journey and the
    hold part of handle time."""
    __tablename__ = "call_holds"
    __table_args__ = (
        UniqueConstraint("call_uniqueid", "extension", "at", "action", name="uq_call_holds"),
        CheckConstraint("action IN ('hold', 'resume')", name="ck_call_holds_action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    extension: Mapped[str] = mapped_column(String(4))
    action: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Carrier(Base):
    """A carrier's SIP trunk: calls from its address enter the hotline (for the numbers it
    delivers); call backs may leave through it. Rendered to pjsip by callcenter/sip/render.py.

    The password is kept as given: SIP digest needs the secret itself (or its MD5 "HA1", which
    authenticates just as well), so a hash would protect nothing."""
    __tablename__ = "carriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(24), unique=True)  # [a-z][a-z0-9_]: endpoint trunk-<name>
    host: Mapped[str] = mapped_column(String(253))  # IP address or host name: matched and dialled
    port: Mapped[int] = mapped_column(Integer, default=5060)
    username: Mapped[str | None] = mapped_column(String(64))  # for registration and outbound auth
    password: Mapped[str | None] = mapped_column(String(128))
    register: Mapped[bool] = mapped_column(Boolean, default=False)  # register to the carrier for its calls
    outbound: Mapped[bool] = mapped_column(Boolean, default=False)  # call backs leave through it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    numbers: Mapped[list[AccessNumber]] = relationship(back_populates="carrier", cascade="all, delete-orphan")


class AccessNumber(Base):
    """A number the center answers, delivered by a carrier: it starts the menu at a flow entry
    (the flow's start when none) or goes straight to a skill's queue."""
    __tablename__ = "access_numbers"
    __table_args__ = (CheckConstraint("entry IS NULL OR skill IS NULL", name="ck_access_numbers_one_target"),)

    number: Mapped[str] = mapped_column(String(20), primary_key=True)  # digits, as the carrier sends it
    carrier_id: Mapped[int] = mapped_column(ForeignKey("carriers.id", ondelete="CASCADE"), index=True)
    entry: Mapped[str | None] = mapped_column(String(40))  # a node of ivr/flows/hotline.toml
    skill: Mapped[str | None] = mapped_column(String(32))
    label: Mapped[str] = mapped_column(String(80), default="")
    # callers to this number hear that the call is recorded before the menu (issue 11); off only
    # where the notice is given another way (the carrier's own announcement)
    recording_notice: Mapped[bool] = mapped_column(Boolean, default=True, server_default="1")

    carrier: Mapped[Carrier] = relationship(back_populates="numbers")


class AgentPhone(Base):
    """An agent's SIP credentials: the desk phone (endpoint <ext>) and the desktop's softphone
    (endpoint web<ext>), generated, shown to admins, changeable. Kept as given, like a carrier's."""
    __tablename__ = "agent_phones"

    extension: Mapped[str] = mapped_column(String(4), primary_key=True)  # the agent's 1XXX
    sip_password: Mapped[str] = mapped_column(String(64))
    webrtc_password: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Recording(Base):
    """A call's recording (MixMonitor's file), known by an id nobody can guess: the desktop serves
    it by this id only, never by a path a client sends (recordings/store.py).

    ``path`` is relative to the recordings folder. Size, duration and SHA-256 are taken when the
    file is closed; ``problem`` flags an answered call without a playable file (missing,
    unplayable) or a file that changed since (altered), and ``callcenter status`` counts them.
    ``retain_until`` comes from the category's retention; a legal hold keeps the file past it."""
    __tablename__ = "recordings"
    __table_args__ = (
        CheckConstraint("problem IS NULL OR problem IN ('missing', 'unplayable', 'altered')",
                        name="ck_recordings_problem"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # secrets.token_hex(16)
    call_uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    path: Mapped[str | None] = mapped_column(String(255))  # relative to Settings.recordings_dir
    category: Mapped[str] = mapped_column(String(32), default="standard")
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    problem: Mapped[str | None] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retain_until: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    hold_by: Mapped[str | None] = mapped_column(String(40))
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- quality inspection (issue 13, quality/)
class QualityScorecard(Base):
    """A scorecard as it was used (quality.scorecards.Scorecard.as_dict): one row per category and
    version, never changed, so a score keeps the card it was made with."""
    __tablename__ = "quality_scorecards"
    __table_args__ = (UniqueConstraint("category", "version", name="uq_quality_scorecards_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(32))
    definition: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QualityWorkItem(Base):
    """A sampled call on one inspector's work list, with why it was picked (quality.sampling
    REASONS). One row per call: the unique call is what keeps a call off two lists at once."""
    __tablename__ = "quality_work_items"
    __table_args__ = (CheckConstraint("status IN ('open', 'scored')", name="ck_quality_work_items_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    agent_extension: Mapped[str] = mapped_column(String(4), index=True)
    inspector: Mapped[str] = mapped_column(String(40), index=True)  # username
    week: Mapped[str] = mapped_column(String(8))  # ISO week drawn in, "2026-W48"
    reasons: Mapped[list] = mapped_column(JSON)  # codes
    status: Mapped[str] = mapped_column(String(8), default="open")
    picked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QualityScore(Base):
    """An inspector's score of a call on the card of its category and version; its life in
    quality.appeals (scored, appealed, final)."""
    __tablename__ = "quality_scores"
    __table_args__ = (CheckConstraint("status IN ('scored', 'appealed', 'final')", name="ck_quality_scores_status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), unique=True)
    agent_extension: Mapped[str] = mapped_column(String(4), index=True)
    inspector: Mapped[str] = mapped_column(String(40), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("quality_scorecards.id"))
    answers: Mapped[dict] = mapped_column(JSON)  # item code -> 0/1 or 0..max
    total: Mapped[float] = mapped_column(Float)
    grade: Mapped[str] = mapped_column(String(12))
    fatal: Mapped[bool] = mapped_column(Boolean, default=False)  # a fatal item missed: total 0
    status: Mapped[str] = mapped_column(String(8), default="scored", index=True)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QualityComment(Base):
    """An inspector's comment on a score, tied to a moment of the recording (seconds) or not."""
    __tablename__ = "quality_comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("quality_scores.id", ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(40))
    at_s: Mapped[int | None] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class QualityAppeal(Base):
    """The agent's one appeal of a score (unique per score) and its decision."""
    __tablename__ = "quality_appeals"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(ForeignKey("quality_scores.id", ondelete="CASCADE"), unique=True)
    filed_by: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(1000))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total_before: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str | None] = mapped_column(String(8))  # upheld, revised
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str] = mapped_column(String(1000), default="")


class QualityCalibration(Base):
    """Several inspectors score one call blind; closed, its reference answers stand for the call."""
    __tablename__ = "quality_calibrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_uniqueid: Mapped[str] = mapped_column(String(64), index=True)
    scorecard_id: Mapped[int] = mapped_column(ForeignKey("quality_scorecards.id"))
    created_by: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(8), default="open")  # open, closed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    reference: Mapped[dict | None] = mapped_column(JSON)
    reference_total: Mapped[float | None] = mapped_column(Float)


class QualityCalibrationScore(Base):
    __tablename__ = "quality_calibration_scores"
    __table_args__ = (UniqueConstraint("calibration_id", "inspector", name="uq_quality_calibration_scores"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    calibration_id: Mapped[int] = mapped_column(ForeignKey("quality_calibrations.id", ondelete="CASCADE"), index=True)
    inspector: Mapped[str] = mapped_column(String(40))
    answers: Mapped[dict] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    scored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
