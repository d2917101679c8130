"""Orders in a real (migrated SQLite) database: opening, repeats, the lifecycle with its timeline,
first-responder ownership, stale views, return visits, bulk assignment and the sweep, with the
clock passed in (never slept)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from callcenter import db
from callcenter.models import (CallbackRequest, Customer, CustomerPhone, OrderGroup, OrderGroupMember, User,
                               WorkOrder, WorkOrderCall, WorkOrderEvent)
from callcenter.orders import store
from callcenter.orders.access import SYSTEM, Actor, actor_for
from callcenter.orders.calendar import BusinessCalendar
from callcenter.orders.deadlines import Policy
from callcenter.orders.errors import OrderError
from callcenter.orders.queue import deadline_counts
from callcenter.orders.sweep import sweep

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = store.Rules(BusinessCalendar(SHANGHAI, datetime.strptime("09:00", "%H:%M").time(),
                                     datetime.strptime("18:00", "%H:%M").time(), frozenset({"2026-10-01"})), Policy())


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI).astimezone(timezone.utc)


MONDAY = local("2026-11-23 10:00")


@pytest.fixture
def sessions(migrated_db):
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        users = {name: User(username=name, display_name=name, role=role, password_hash="x")
                 for name, role in [("bo1", "backoffice"), ("bo2", "backoffice"), ("lead", "supervisor"),
                                    ("agent1", "agent"), ("qa", "quality")]}
        s.add_all(users.values())
        s.flush()
        s.get(OrderGroup, "repair").lead_id = users["lead"].id
        s.add_all([OrderGroupMember(group_code="repair", user_id=users["bo1"].id),
                   OrderGroupMember(group_code="repair", user_id=users["bo2"].id),
                   OrderGroupMember(group_code="billing", user_id=users["bo2"].id)])
        for name, vip, phone in [("Plain", 0, "13900000001"), ("Vip", 3, "13900000002")]:
            customer = Customer(name=name, vip_level=vip)
            customer.phones.append(CustomerPhone(number=phone))
            s.add(customer)
        s.commit()
    return sessions


def customer(s, name: str) -> int:
    return s.scalar(select(Customer.id).where(Customer.name == name))


def actor(s, username: str) -> Actor:
    return actor_for(s, s.scalar(select(User).where(User.username == username)))


def timeline(s, order) -> list[tuple[str, str, str | None, str | None]]:
    return [(e.actor, e.action, e.from_status, e.to_status) for e in
            s.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id).order_by(WorkOrderEvent.id))]


def fault(s, when=MONDAY, who="Plain", by=None, call="1700000000.1", code="fault_phone"):
    order, repeat = store.create(s, when, RULES, code=code, description="no dial tone", customer_id=customer(s, who),
                                 caller_number="13900000001", call_uniqueid=call, created_by=by)
    s.commit()
    return order, repeat


def test_an_order_opens_on_its_groups_queue_with_deadlines_and_a_first_step(sessions):
    with sessions() as s:
        order, repeat = fault(s, by="agent1")
        assert not repeat and len(order.number) == 12 and order.number.startswith("2611")
        assert (order.status, order.group_code, order.priority, order.owner) == ("new", "repair", "normal", "agent1")
        assert order.reply_due_at.astimezone(SHANGHAI).strftime("%a %H:%M") == "Mon 14:00"
        assert timeline(s, order) == [("agent1", "created", None, "new")]
        assert s.scalars(select(WorkOrderCall.kind).where(WorkOrderCall.order_id == order.id)).all() == ["opened"]


def test_a_vips_order_starts_higher_and_a_complaint_goes_by_what_it_says(sessions):
    with sessions() as s:
        vip, _ = fault(s, who="Vip")
        assert vip.priority == "urgent"
        complaint, _ = store.create(s, MONDAY, RULES, code="complaint", description="套餐乱扣费",
                                    customer_id=customer(s, "Plain"))
        assert (complaint.category, complaint.group_code) == ("complaint_tariff", "billing")


def test_business_by_phone_needs_the_verified_password_and_nothing_is_written_without_it(sessions):
    with sessions() as s:
        asked = dict(code="biz_suspend", description="going abroad", customer_id=customer(s, "Plain"),
                     fields={"line_number": "13900000001"}, created_by="agent1")
        with pytest.raises(OrderError) as refused:
            store.create(s, MONDAY, RULES, **asked)
        assert (refused.value.code, refused.value.status) == ("PASSWORD_NOT_VERIFIED", 403)
        assert s.scalar(select(func.count()).select_from(WorkOrder)) == 0
        order, _ = store.create(s, MONDAY, RULES, **asked, password_verified=True)
        assert order.fields == {"line_number": "13900000001"} and order.group_code == "business"


def test_a_second_report_of_the_same_fault_joins_the_open_order(sessions):
    with sessions() as s:
        first, _ = fault(s)
        again, repeat = fault(s, when=MONDAY + timedelta(hours=1), call="1700000000.2")
        assert repeat and again.id == first.id
        other, repeat = fault(s, call="1700000000.3", code="fault_broadband")  # another fault: its own order
        assert not repeat and other.id != first.id
        assert timeline(s, first) == [("ivr", "created", None, "new"), ("ivr", "repeat_report", "new", "new")]
        calls = s.execute(select(WorkOrderCall.call_uniqueid, WorkOrderCall.kind)
                          .where(WorkOrderCall.order_id == first.id).order_by(WorkOrderCall.id)).all()
        assert calls == [("1700000000.1", "opened"), ("1700000000.2", "repeat")]
        store.act(s, MONDAY, RULES, first, actor(s, "bo1"), "cancel", "duplicate of a line fault")
        _, repeat = fault(s, call="1700000000.4")  # none open any more: a new order
        assert not repeat


def test_the_whole_life_on_the_timeline_with_its_authors_and_the_first_responder(sessions):
    with sessions() as s:
        order, _ = fault(s)
        lead, bo1, bo2 = actor(s, "lead"), actor(s, "bo1"), actor(s, "bo2")
        store.act(s, MONDAY, RULES, order, lead, "assign", "", group="repair", assignee="bo2")
        assert (order.status, order.assignee, order.owner) == ("assigned", "bo2", None)
        store.act(s, MONDAY + timedelta(minutes=5), RULES, order, bo1, "start")
        assert (order.assignee, order.owner) == ("bo1", "bo1")  # took it: first responder
        store.act(s, MONDAY + timedelta(minutes=6), RULES, order, lead, "assign", "", assignee="bo2")
        store.act(s, MONDAY + timedelta(minutes=7), RULES, order, bo2, "start")
        assert order.owner == "bo1"  # working it is not owning it
        store.hand_over(s, MONDAY + timedelta(minutes=8), order, bo1, "bo2", "bo2 knows the street")
        assert order.owner == "bo2"
        store.act(s, MONDAY + timedelta(minutes=9), RULES, order, bo2, "resolve", "replaced the line card")
        s.commit()
        assert timeline(s, order) == [
            ("ivr", "created", None, "new"), ("lead", "assign", "new", "assigned"),
            ("bo1", "start", "assigned", "in_progress"), ("lead", "assign", "in_progress", "assigned"),
            ("bo2", "start", "assigned", "in_progress"), ("bo1", "hand_over", "in_progress", "in_progress"),
            ("bo2", "resolve", "in_progress", "resolved")]
        assert order.replied_at == MONDAY + timedelta(minutes=5)  # the first start replied
        # resolving asks the customer: a return visit for the router to dial
        visit = s.scalar(select(CallbackRequest).where(CallbackRequest.work_order_id == order.id))
        assert (visit.reason, visit.status, visit.number) == ("return_visit", "pending", "13900000001")


@pytest.mark.parametrize("action, kwargs, code", [
    ("resolve", {"comment": "done"}, "INVALID_ORDER_TRANSITION"),
    ("jump", {}, "UNKNOWN_ACTION"),
    ("close", {}, "INVALID_ORDER_TRANSITION"),  # the timeout's, not a person's
    ("cancel", {}, "COMMENT_REQUIRED"),
    ("assign", {}, "MISSING_FIELD"),
    ("assign", {"group": "nope"}, "NO_SUCH_GROUP"),
    ("assign", {"assignee": "qa"}, "NOT_IN_GROUP"),
    ("assign", {"assignee": "ghost"}, "NO_SUCH_USER"),
    ("start", {"version": 99}, "ORDER_CHANGED"),
    ("start", {"comment": "x" * 1001}, "BAD_TEXT"),
])
def test_a_refused_action_changes_nothing(sessions, action, kwargs, code):
    with sessions() as s:
        order, _ = fault(s)
        before = (order.status, order.version, order.assignee, len(timeline(s, order)))
        comment = kwargs.pop("comment", "")
        with pytest.raises(OrderError) as refused:
            store.act(s, MONDAY, RULES, order, actor(s, "bo1"), action, comment, **kwargs)
        assert refused.value.code == code
        s.rollback()
        order = s.get(WorkOrder, order.id)
        assert (order.status, order.version, order.assignee, len(timeline(s, order))) == before


def test_a_change_from_a_stale_view_loses_instead_of_overwriting(sessions):
    with sessions() as s:
        order, _ = fault(s)
        seen = order.version
        store.act(s, MONDAY, RULES, order, actor(s, "bo1"), "start")
        s.commit()
    with sessions() as s:
        order = s.get(WorkOrder, order.id)
        with pytest.raises(OrderError, match="ORDER_CHANGED"):
            store.act(s, MONDAY, RULES, order, actor(s, "bo2"), "cancel", "not ours", version=seen)


def test_waiting_for_the_customer_stops_the_resolve_clock(sessions):
    with sessions() as s:
        order, _ = fault(s)
        bo1 = actor(s, "bo1")
        due = order.resolve_due_at
        store.act(s, MONDAY, RULES, order, bo1, "start")
        store.act(s, MONDAY + timedelta(hours=1), RULES, order, bo1, "wait_customer", "asked for the router's model")
        # the customer answers a week later: the resolve deadline moves by the business time waited
        store.act(s, local("2026-11-30 11:00"), RULES, order, bo1, "customer_replied")
        assert order.resolve_due_at - due.replace(tzinfo=timezone.utc) == timedelta(days=7)


def test_bulk_assignment_is_all_or_nothing(sessions):
    with sessions() as s:
        one, _ = fault(s, call="a1")
        two, _ = fault(s, call="a2", code="fault_broadband")
        done, _ = fault(s, who="Vip", call="a3")
        store.act(s, MONDAY, RULES, done, actor(s, "bo1"), "start")
        store.act(s, MONDAY, RULES, done, actor(s, "bo1"), "resolve", "ok")
        s.commit()
        lead = actor(s, "lead")
        with pytest.raises(OrderError, match="INVALID_ORDER_TRANSITION"):
            store.bulk_assign(s, MONDAY, RULES, [one, two, done], lead, assignee="bo2")
        s.rollback()
        assert [s.get(WorkOrder, o.id).assignee for o in (one, two)] == [None, None]
        store.bulk_assign(s, MONDAY, RULES, [one, two], lead, assignee="bo2", comment="morning share-out")
        assert [(o.status, o.assignee) for o in (one, two)] == [("assigned", "bo2")] * 2


def test_the_sweep_escalates_once_per_level_closes_on_timeout_and_notes_unanswered_visits(sessions):
    with sessions() as s:
        order, _ = fault(s)  # fault_phone, normal: reply 4 h (warned at 3 h 12 min), resolve 2 d
        number = order.number
    now = MONDAY + timedelta(hours=3, minutes=15)
    assert sweep(sessions, now, RULES)["escalated"] == 1
    assert sweep(sessions, now + timedelta(minutes=1), RULES)["escalated"] == 0  # told once
    with sessions() as s:
        assert deadline_counts(s, now) == {"overdue": 0, "near": 1, "escalated": 1, "open": 1,
                                           "groups": {"repair": {"overdue": 0, "near": 1, "escalated": 1, "open": 1}}}
    late = MONDAY + timedelta(hours=4)
    assert sweep(sessions, late, RULES)["escalated"] == 1
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        steps = s.scalars(select(WorkOrderEvent).where(WorkOrderEvent.action == "escalated")
                          .order_by(WorkOrderEvent.id)).all()
        assert [(e.actor, e.detail) for e in steps] == [
            ("system", {"level": "near", "deadline": "reply", "lead": "lead"}),
            ("system", {"level": "overdue", "deadline": "reply", "lead": "lead"})]
        assert deadline_counts(s, late)["overdue"] == 1
        bo1 = actor(s, "bo1")
        store.act(s, late, RULES, order, bo1, "start")
        store.act(s, late, RULES, order, bo1, "resolve", "fixed")
        s.commit()
        assert deadline_counts(s, late)["open"] == 0
        visit = s.scalar(select(CallbackRequest).where(CallbackRequest.work_order_id == order.id))
        visit.status, visit.attempts = "failed", 3  # the router tried three times, nobody answered
        s.commit()
    assert sweep(sessions, late + timedelta(minutes=1), RULES)["visits_unanswered"] == 1
    assert sweep(sessions, late + timedelta(minutes=2), RULES)["visits_unanswered"] == 0
    # not confirmed within close_after (3 business days): closed by the system
    assert sweep(sessions, local("2026-11-26 13:59"), RULES)["closed"] == 0
    assert sweep(sessions, local("2026-11-26 14:00"), RULES)["closed"] == 1
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert order.status == "closed"
        assert timeline(s, order)[-2:] == [("system", "no_answer", "resolved", "resolved"),
                                           ("system", "close", "resolved", "closed")]


def test_the_sweep_gives_deadlines_to_orders_from_before_deadlines(sessions):
    with sessions() as s:
        s.add(WorkOrder(number="2610000001", category="billing", status="new", group_code="billing",
                        created_at=MONDAY, updated_at=MONDAY))
        s.commit()
    assert sweep(sessions, MONDAY, RULES)["backfilled"] == 1
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == "2610000001"))
        assert order.resolve_due_at is not None and order.version == 2
    assert sweep(sessions, MONDAY, RULES)["backfilled"] == 0


def test_a_system_actor_is_never_a_person():
    assert SYSTEM.username == "system" and not SYSTEM.admin


async def test_the_push_process_runs_the_sweep_and_sends_the_wallboard_its_figures(sessions, tmp_path):
    import asyncio
    from types import SimpleNamespace

    from agent_desktop.push import sweep_orders

    with sessions() as s:
        fault(s, when=datetime(2020, 1, 6, 2, 0, tzinfo=timezone.utc))  # long overdue
    sent = []

    async def if_changed(event, data, room, key):
        sent.append((event, data, room))

    pusher = SimpleNamespace(sessions=sessions, home=tmp_path, _if_changed=if_changed)
    task = asyncio.ensure_future(sweep_orders(pusher, every_s=0.01))
    async def first_push() -> None:
        while not sent:
            await asyncio.sleep(0.01)  # the sweep's own period, not a guess
    await asyncio.wait_for(first_push(), 10)
    task.cancel()
    event, counts, room = sent[0]
    assert (event, room, counts["overdue"], counts["escalated"]) == ("wallboard_orders", "wallboard", 1, 1)


def test_a_resolved_orders_return_visit_is_due_for_the_router(sessions):
    from acd import callbacks

    with sessions() as s:
        order, _ = fault(s)
        bo1 = actor(s, "bo1")
        store.act(s, MONDAY, RULES, order, bo1, "start")
        store.act(s, MONDAY, RULES, order, bo1, "resolve", "fixed")
        s.commit()
        visit = s.scalar(select(CallbackRequest).where(CallbackRequest.work_order_id == order.id))
    due = callbacks.due_requests(sessions, MONDAY)
    assert [(d.uniqueid, d.number, d.skill) for d in due] == [
        (f"{callbacks.LIVE_PREFIX}{visit.id}", "13900000001", "general")]
