"""Work orders end to end on the real stack: the voice menu reading a real order's status (and
telling nobody else), the router dialling a resolved order's return visit, and the whole story
in a real Chromium: an agent opens an order on a call, the back office works it to resolved, the
return visit confirms it, and the timeline shows every step with its author.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, update

from callcenter.models import CallbackRequest, OrderGroup, OrderGroupMember, User, WorkOrder, WorkOrderEvent
from callcenter.orders import store as orders
from callcenter.orders.access import Actor
from callcenter.orders.sweep import sweep
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import make_user
from tests.integration.helpers import make_customer
from tests.integration.test_desktop import open_page

ACCESS = "10000"
GREETED = "w" * 10  # a known caller first hears the greeting, which keys do not cut
COMPLAINT = GREETED + "6"
BO = Actor("wo_bo", "backoffice", frozenset({"repair", "billing"}))


def streamed(ami, uid) -> list[str]:
    return [e["Command"].split('"')[1].rsplit("/", 1)[-1] for e in ami.events.matching(Event="AGIExecStart",
                                                                                        Uniqueid=uid)
            if e.get("Command", "").startswith("STREAM FILE")]


def open_fault(sessions, customer_id, number) -> str:
    with sessions() as s:
        order, _ = orders.create(s, datetime.now(timezone.utc), orders.Rules.default(), code="fault_broadband",
                                 description="no connection", customer_id=customer_id, caller_number=number)
        s.commit()
        return order.number


def act(sessions, number, action, comment="") -> None:
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        orders.act(s, datetime.now(timezone.utc), orders.Rules.default(), order, BO, action, comment)
        s.commit()


def close_visits(sessions, number) -> None:
    """No return visit of this test's is left for the router to dial to the next test's agents."""
    with sessions() as s:
        order_id = s.scalar(select(WorkOrder.id).where(WorkOrder.number == number))
        s.execute(update(CallbackRequest).where(CallbackRequest.work_order_id == order_id,
                                                CallbackRequest.status.in_(("pending", "no_answer", "queued")))
                  .values(status="failed"))
        s.commit()


async def hear_status(ami, floor, caller, number, prompt) -> list[str]:
    uid = await floor.call(ACCESS, caller, dtmf=GREETED + f"4wwww{number}#", hold_s=45)
    await ami.events.wait_for(Event="AGIExecStart", Uniqueid=uid, timeout=45, Command=f'STREAM FILE "{prompt}" ""')
    return streamed(ami, uid)


async def test_the_menu_reads_the_orders_real_status_and_tells_nobody_else(stack, ami, sessions, floor):
    customer_id, caller = make_customer(sessions)
    number = open_fault(sessions, customer_id, caller)
    prompts = stack.prompts_dir / "zh"
    heard = await hear_status(ami, floor, caller, number, prompts / "order_updated_on")
    assert heard[heard.index("order_is"):][-2:] == ["status_new", "order_updated_on"]

    act(sessions, number, "start")  # the back office takes it: the menu says so at once
    heard = await hear_status(ami, floor, caller, number, prompts / "order_updated_on")
    assert heard[-2:] == ["status_in_progress", "order_updated_on"] and "status_new" not in heard

    # another customer, calling from their own number, keys this order's number: nothing about it
    _, other = make_customer(sessions)
    heard = await hear_status(ami, floor, other, number, prompts / "order_not_found")
    assert "order_is" not in heard and not any(p.startswith("status_") for p in heard)


async def test_a_resolved_orders_return_visit_is_dialled_and_an_unanswered_one_lands_on_the_timeline(
        stack, ami, sessions, store, floor):
    agent = floor.agent({"general": 5})
    await set_sim_phone(ami, agent, answer_after=1, talk_s=3)
    customer_id, caller = make_customer(sessions)
    number = open_fault(sessions, customer_id, caller)
    busy = {"Action": "Setvar", "Variable": f"SIMCUSTOMER_{caller}"}
    try:
        await ami.send_action({**busy, "Value": "busy"})  # the customer does not pick up
        act(sessions, number, "start")
        act(sessions, number, "resolve", "replaced the modem")
        with sessions() as s:
            visit = s.scalar(select(CallbackRequest).join(WorkOrder, WorkOrder.id == CallbackRequest.work_order_id)
                             .where(WorkOrder.number == number))
            visit.attempts = 2  # the last of the router's three tries
            s.commit()
            live_id = floor.own_call(f"callback-request-{visit.id}")
        await floor.ready(agent)
        await floor.reload()  # the router looks for due call backs at once after a reload
        answered = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=live_id, timeout=40)
        assert answered["Agent"] == agent  # the agent's phone first, then the customer's
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=live_id, timeout=40)
        assert ended["DialStatus"] != "ANSWER"

        def given_up():
            with sessions() as s:
                return s.get(CallbackRequest, visit.id).status == "failed"
        await wait_until(given_up, what="the router gave the visit up")
        assert sweep(sessions, datetime.now(timezone.utc), orders.Rules.load(stack.home))["visits_unanswered"] >= 1
        with sessions() as s:
            order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
            last = s.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id)
                             .order_by(WorkOrderEvent.id.desc())).first()
            assert (last.actor, last.action, last.detail) == ("system", "no_answer", {"attempts": 3})
            assert order.status == "resolved"  # not confirmed: it closes on the timeout
    finally:
        await ami.send_action({**busy, "Value": ""})
        close_visits(sessions, number)


def groups_for(sessions, member: str, lead: str, group: str) -> None:
    with sessions() as s:
        ids = dict(s.execute(select(User.username, User.id).where(User.username.in_((member, lead)))).all())
        s.get(OrderGroup, group).lead_id = ids[lead]
        if s.get(OrderGroupMember, (group, ids[member])) is None:
            s.add(OrderGroupMember(group_code=group, user_id=ids[member]))
        s.commit()


async def timeline(page) -> list[tuple[str, str]]:
    rows = await page.eval_on_selector_all("#timeline tbody tr", "rows => rows.map(r => [r.dataset.actor, "
                                                                  "r.dataset.action])")
    return [tuple(r) for r in rows]


async def order_status(page) -> str:
    return await page.get_attribute("#order-status-words", "data-status")


async def submit(page, action: str, comment: str = "") -> None:
    form = f'form.action-form[data-action="{action}"]'
    if comment:
        await page.fill(f"{form} textarea[name=comment]", comment)
    async with page.expect_navigation():
        await page.click(f"#act-{action}")


@pytest.mark.timeout(400)
async def test_an_order_from_a_call_to_the_customers_confirmation_in_the_browser(stack, sessions, ami, store, browser,
                                                                                 floor):
    ext = floor.extension()
    make_user(sessions, "wo_agent", "agent", ext=ext)
    make_user(sessions, "wo_bo", "backoffice")
    make_user(sessions, "wo_lead", "supervisor")
    groups_for(sessions, "wo_bo", "wo_lead", "billing")
    floor.agent({"complaint": 5, "general": 5}, ext=ext)
    floor.queue("complaint", ring_time_s=15, wrapup_s=120, service_level_s=30, overflow="", no_answer_limit=1)
    floor.queue("general", ring_time_s=15, wrapup_s=120, service_level_s=20, overflow="", no_answer_limit=1)
    await floor.reload()
    customer_id, caller = make_customer(sessions, vip_level=0)
    await set_sim_phone(ami, ext, answer_after=2, talk_s=300)
    number = ""
    try:
        agent = await open_page(browser, stack, "wo_agent", "/agent")
        await agent.click("#btn-ready")
        await agent.wait_for_selector('#state[data-state="ready"]')

        # 1. on a call, the agent opens a billing dispute from the screen-pop
        uid = await floor.call(ACCESS, caller, dtmf=COMPLAINT, hold_s=300)
        await agent.wait_for_selector('#state[data-state="on_call"]', timeout=60_000)
        # business by phone needs the service password, which this caller did not give in the menu
        await agent.select_option("#wo-category", "biz_suspend")
        await agent.fill("#wo-field-line_number", caller)
        await agent.fill("#wo-description", "going abroad for a year")
        await agent.click("#btn-work-order")
        await agent.wait_for_selector('#message[data-code="PASSWORD_NOT_VERIFIED"]', timeout=10_000)
        assert "service password" in await agent.text_content("#message")
        assert await agent.text_content("#wo-result") == ""
        await agent.fill("#wo-description", "charged twice for October")
        await agent.select_option("#wo-category", "billing")
        await agent.fill("#wo-field-disputed_cents", "3900")
        await agent.eval_on_selector("#order-form", "form => form.requestSubmit()")  # the toast covers the button
        await agent.wait_for_function("/^[0-9]{12}$/.test(document.getElementById('wo-result').textContent)",
                                      timeout=10_000)
        number = await agent.text_content("#wo-result")
        await agent.click("#btn-hangup")
        await agent.wait_for_selector('#state[data-state="wrapup"]', timeout=15_000)

        # 2. the back office finds it on its group's queue and works it to resolved
        bo = await open_page(browser, stack, "wo_bo", "/orders")
        row = f'#orders tr[data-number="{number}"]'
        await bo.wait_for_selector(row)
        assert await bo.get_attribute(row, "data-status") == "new"
        async with bo.expect_navigation():
            await bo.click(f"{row} a.order-link")
        assert await order_status(bo) == "new"
        assert await bo.text_content("#order-owner") == "wo_agent"  # the first responder
        await submit(bo, "start")
        assert await order_status(bo) == "in_progress"
        await submit(bo, "resolve", "refunded the double charge")
        assert await order_status(bo) == "resolved"

        # 3. the return visit: the router calls the customer back through the agent, who records
        #    the customer's answer on the order
        with sessions() as s:
            visit = s.scalar(select(CallbackRequest).join(WorkOrder, WorkOrder.id == CallbackRequest.work_order_id)
                             .where(WorkOrder.number == number))
            live_id = floor.own_call(f"callback-request-{visit.id}")
        await agent.select_option("#disposition", "order_created")
        await agent.click("#btn-wrapup-ready")
        await agent.wait_for_selector('#state[data-state="ready"]', timeout=15_000)
        await floor.reload()
        await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=live_id, timeout=60)
        pop = await agent.evaluate(f"fetch('/api/calls/{live_id}/pop').then(r => r.json())")
        assert pop["return_visit"]["order"] == number and pop["customer"]["id"] == customer_id
        visit_page = await agent.context.new_page()
        await visit_page.goto(f"{stack_url(stack)}/orders/{number}")
        assert await order_status(visit_page) == "resolved"
        await submit(visit_page, "confirm", "customer says the refund arrived")
        assert await order_status(visit_page) == "closed"

        # 4. every step on the timeline, with its author, for everyone who sees the order
        await bo.reload()
        assert await timeline(bo) == [("wo_agent", "created"), ("wo_bo", "start"), ("wo_bo", "resolve"),
                                      ("wo_agent", "confirm")]
        assert await bo.text_content('#timeline tr[data-action="resolve"] .comment') == "refunded the double charge"
        seen = json.loads(await bo.evaluate(f"fetch('/api/work-orders/{number}').then(r => r.text())"))
        assert [(c["call"], c["kind"]) for c in seen["calls"]] == [(uid, "opened")]
        assert seen["fields"] == {"disputed_cents": 3900} and seen["group"] == "billing"
        # the group's lead sees the deadline figures on the wallboard
        lead = await open_page(browser, stack, "wo_lead", "/wallboard")
        await lead.wait_for_function("/^[0-9]+$/.test(document.getElementById('orders-overdue').textContent)",
                                     timeout=10_000)
        assert agent.alerts == [] and bo.alerts == [] and lead.alerts == []
    finally:
        if number:
            close_visits(sessions, number)


def stack_url(stack) -> str:
    return f"http://{stack.web_host}:{stack.web_port}"
