"""Database models (SQLAlchemy 2.0, typed). Migrations in callcenter/migrations follow these.

Money is in integer cents (no float rounding on balances); times are UTC.
"""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")
LANGUAGES = ("zh", "en")


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
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    phones: Mapped[list[CustomerPhone]] = relationship(back_populates="customer", cascade="all, delete-orphan")
    accounts: Mapped[list[Account]] = relationship(back_populates="customer", cascade="all, delete-orphan")

    def set_service_password(self, password: str) -> None:
        if not (len(password) == 6 and password.isdigit()):
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

    def set_password(self, password: str) -> None:
        if len(password) < 6:
            raise ValueError("a password has at least 6 characters")
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Call(Base):
    """One row per call that entered the hotline, from entry to how it ended."""
    __tablename__ = "calls"

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
    end_reason: Mapped[str | None] = mapped_column(String(120))
    hangup_cause: Mapped[int | None] = mapped_column(Integer)
    stage: Mapped[str] = mapped_column(String(16), default="entered")
    skill: Mapped[str | None] = mapped_column(String(32))
    agent_extension: Mapped[str | None] = mapped_column(String(4))
    recording_path: Mapped[str | None] = mapped_column(String(255))
