"""Demo data: customers with numbers, accounts and bills, and desktop users. Idempotent."""
from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.models import (Account, AgentSkill, Bill, QueueConfig, Customer, Team, CustomerPhone, OrderGroup,
                               OrderGroupMember, RechargeCard, User, WorkOrder)
from callcenter.orders.types import TYPES

DEMO_SERVICE_PASSWORD = "123456"  # every demo customer's 6-digit service password
DEMO_USER_PASSWORD = "demo-pass"  # every demo desktop user's password

# name, language, VIP level, plan, phone number, balance (cents)
CUSTOMERS = [
    ("张伟", "zh", 0, "畅享套餐 59", "13800000001", 4_250),
    ("王芳", "zh", 3, "尊享套餐 199", "13800000002", 120_000),
    ("李娜", "zh", 1, "畅享套餐 99", "13800000003", -1_580),
    ("John Smith", "en", 0, "Global 79", "13800000004", 8_800),
    ("刘洋", "zh", 2, "家庭融合 129", "13800000005", 15_600),
    ("陈静", "zh", 0, "宽带 100M", "13800000006", 0),
    ("Emily Chen", "en", 3, "Premier 299", "13800000007", 250_000),
    ("赵磊", "zh", 0, "畅享套餐 39", "13800000008", 730),
]

# username, display name, role, extension, language
USERS = [
    ("admin", "系统管理员", "admin", None, "zh"),
    ("lead1", "班长 周敏", "supervisor", None, "zh"),
    ("agent1", "坐席 孙丽", "agent", "1001", "zh"),
    ("agent2", "坐席 吴强", "agent", "1002", "zh"),
    ("agent3", "Agent Grace", "agent", "1003", "en"),
    ("agent4", "坐席 郑凯", "agent", "1004", "zh"),
    ("qa1", "质检 冯雪", "quality", None, "zh"),
    ("bo1", "后台 何涛", "backoffice", None, "zh"),
]

# recharge cards: number, PIN, value (cents); the last one is already used. Numbers drawn at
# random, as an issuer's are: one card's number must not lead to another's (the PIN is then all
# that stands between a guesser and its value).
CARDS = [
    ("8831467591707476", "246810", 5_000, False),
    ("8809135533791424", "135790", 10_000, False),
    ("8856755415186840", "112233", 3_000, False),
    ("8838943041673036", "999999", 5_000, True),
]

# open work orders: number, customer's phone number, category, status
WORK_ORDERS = [
    ("2610000001", "13800000001", "fault_broadband", "in_progress"),
    ("2610000002", "13800000003", "complaint", "new"),
    ("2610000003", "13800000005", "fault_phone", "resolved"),
]

DEMO_TEAM = "floor-1"

# queues: skill, ring time, wrap-up, service level threshold, overflow ("after_s:min_general_level")
QUEUES = [
    ("general", 15, 5, 20, ""),
    ("consult", 15, 5, 20, "30:3"),
    ("complaint", 15, 10, 30, "45:4"),
    ("billing", 15, 10, 20, "30:3"),
]

# agents' skills: username -> {skill: level}
SKILLS = {
    "agent1": {"general": 3, "consult": 5},
    "agent2": {"general": 5, "complaint": 4},
    "agent3": {"general": 2, "consult": 3, "billing": 4},
    "agent4": {"general": 4, "complaint": 5},
}

BILL_PERIODS = [("2026-08", date(2026, 9, 15)), ("2026-09", date(2026, 10, 15)), ("2026-10", date(2026, 11, 15))]


def seed(session: Session) -> dict[str, int]:
    added = {"customers": 0, "users": 0}
    for i, (name, language, vip, plan, number, balance) in enumerate(CUSTOMERS):
        if session.scalar(select(CustomerPhone).where(CustomerPhone.number == number)):
            continue
        customer = Customer(name=name, language=language, vip_level=vip, plan=plan)
        customer.set_service_password(DEMO_SERVICE_PASSWORD)
        customer.phones.append(CustomerPhone(number=number))
        account = Account(number=number, balance_cents=balance, status="active")
        for j, (period, due) in enumerate(BILL_PERIODS):
            account.bills.append(Bill(period=period, amount_cents=3_900 + 1_000 * ((i + j) % 5), due_date=due,
                                      paid=j < len(BILL_PERIODS) - 1))
        customer.accounts.append(account)
        session.add(customer)
        added["customers"] += 1
    for username, display, role, extension, language in USERS:
        if session.scalar(select(User).where(User.username == username)):
            continue
        user = User(username=username, display_name=display, role=role, agent_extension=extension, language=language)
        user.set_password(DEMO_USER_PASSWORD)
        session.add(user)
        added["users"] += 1
    session.flush()
    for skill, ring, wrapup, threshold, overflow in QUEUES:
        if session.get(QueueConfig, skill) is None:
            session.add(QueueConfig(skill=skill, ring_time_s=ring, wrapup_s=wrapup, service_level_s=threshold,
                                    overflow=overflow))
    # one team: lead1 supervises every demo agent (the wallboard shows a supervisor their teams)
    team = session.scalar(select(Team).where(Team.name == DEMO_TEAM))
    if team is None:
        team = Team(name=DEMO_TEAM, supervisor_id=session.scalar(select(User.id).where(User.username == "lead1")))
        session.add(team)
        session.flush()
    for username, skills in SKILLS.items():
        user = session.scalar(select(User).where(User.username == username))
        user.team_id = user.team_id or team.id
        for skill, level in skills.items():
            if session.get(AgentSkill, (user.id, skill)) is None:
                session.add(AgentSkill(user_id=user.id, skill=skill, level=level))
    session.flush()
    for number, pin, value, used in CARDS:
        if session.scalar(select(RechargeCard).where(RechargeCard.number == number)):
            continue
        card = RechargeCard(number=number, amount_cents=value)
        card.set_pin(pin)
        if used:
            card.used_at = datetime(2026, 10, 1, tzinfo=timezone.utc)
        session.add(card)
    for number, phone, category, status in WORK_ORDERS:
        if session.scalar(select(WorkOrder).where(WorkOrder.number == number)):
            continue
        owner = session.scalar(select(CustomerPhone).where(CustomerPhone.number == phone))
        session.add(WorkOrder(number=number, customer_id=owner.customer_id if owner else None, caller_number=phone,
                              category=category, status=status, description="demo order",
                              group_code=TYPES[category].group))  # deadlines: the orders sweep gives them
    # the back office: bo1 works every group's orders, lead1 leads them (escalations go to lead1)
    bo1, lead1 = (session.scalar(select(User.id).where(User.username == name)) for name in ("bo1", "lead1"))
    for group in session.scalars(select(OrderGroup)):
        group.lead_id = group.lead_id or lead1
        if session.get(OrderGroupMember, (group.code, bo1)) is None:
            session.add(OrderGroupMember(group_code=group.code, user_id=bo1))
    session.flush()
    return added
