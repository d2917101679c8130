"""Reports from real calls: three calls with known outcomes through the real Asterisk, router and
CDR listener (an unanswered ring then an answer, an abandon, a plain answer) give the expected
report rows and journeys, the router's decisions with the core's reason included; then their
supervisor opens the report in Chromium, sees the chart drawn, and the CSV export carries the
same figures as the page."""
from __future__ import annotations

import csv
import io
import time
from datetime import datetime, timezone

from sqlalchemy import select

from callcenter.business_hours import BusinessHours, hours_file
from callcenter.models import RoutingDecision
from callcenter.simulate import set_sim_phone
from cdr import load
from cdr.journey import journey
from cdr.periods import Period
from cdr.report import report
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import make_user
from tests.integration.helpers import ended_row, make_customer, manager, wait_for_state
from tests.integration.test_desktop import base_url, open_page

ACCESS = "10000"
CONSULT = "w" * 10 + "5"  # the main menu's business enquiry: skill consult


async def ended(ami, sessions, uid: str):
    await ami.events.wait_for(Event="UserEvent", UserEvent="CallEnded", CallId=uid, timeout=60)
    return await wait_until(ended_row(sessions, uid), what=f"call {uid} closed in the ledger")


async def test_real_calls_give_these_report_rows_and_the_supervisor_exports_them(stack, ami, sessions, store, floor,
                                                                                 browser):  # noqa: F811
    floor.queue("consult", ring_time_s=4, wrapup_s=1, no_answer_limit=1, service_level_s=20)
    misses, answers = floor.extension(), floor.extension()  # `misses`: its phone rings, nobody answers
    make_user(sessions, f"r_lead_{answers}", "supervisor", team=f"team-r{answers}", lead=True)
    for ext in (misses, answers):
        make_user(sessions, f"r_agent_{ext}", "agent", ext=ext, team=f"team-r{answers}")
        floor.agent({"consult": 5}, ext=ext)
    await floor.reload()
    await set_sim_phone(ami, misses, answer_after=None)
    await set_sim_phone(ami, answers, answer_after=1, talk_s=3)
    now = time.time()
    await floor.ready(misses, since=now - 300)  # idle longest: offered the first call
    await floor.ready(answers, since=now - 10)
    _, number = make_customer(sessions)

    # 1. rung at `misses` for 4 s, unanswered (not ready: no answer), then answered by `answers`
    first = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=40)
    assert (await ended(ami, sessions, first)).end_reason == "agent_hangup"
    await wait_for_state(store, answers, "ready")  # after its 1 s wrap-up
    # 2. nobody ready: the caller waits about 10 s after the menu, then hangs up
    await manager(store).set_state(answers, "not_ready", "break")
    second = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=15)
    assert (await ended(ami, sessions, second)).end_reason == "abandoned_waiting"
    # 3. answered at once
    await floor.ready(answers)
    third = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=40)
    assert (await ended(ami, sessions, third)).end_reason == "agent_hangup"
    await wait_for_state(store, answers, "ready")

    def decisions_written():  # the router's tick writes them within a second or two
        with sessions() as s:
            rows = s.scalars(select(RoutingDecision).where(RoutingDecision.call_uniqueid.in_((first, third)))).all()
        return rows if len(rows) == 3 else None
    await wait_until(decisions_written, what="the router's decisions written")

    def journey_of(uid):
        with sessions() as s:
            return journey(s, uid)

    def first_journey_complete():  # the state log is drained once a second too
        steps = journey_of(first)
        return steps if any(s.kind == "wrapup_ended" for s in steps) else None
    steps = await wait_until(first_journey_complete, what="the first call's journey complete")
    agent_steps = [(s.kind, s.agent) for s in steps if s.kind in ("routed", "ringing", "no_answer", "answered")]
    assert agent_steps == [("routed", misses), ("ringing", misses), ("no_answer", misses),
                           ("routed", answers), ("ringing", answers), ("answered", answers)]
    reason = next(s.detail["reason"] for s in steps if s.kind == "routed")
    assert reason.startswith(f"agent {misses}: skill consult level 5, idle ")  # the core's own words
    kinds = [s.kind for s in steps]
    assert kinds[0] == "entered" and kinds.index("menu") < kinds.index("queued") < kinds.index("ended")

    # the report rows, from what the processes wrote
    zone = BusinessHours.load(hours_file(stack.home)).zone
    day = datetime.now(timezone.utc).astimezone(zone).date()
    period = Period.local_days(day, day, zone)
    with sessions() as s:
        loaded = load.load(s, period, datetime.now(timezone.utc), short_abandon_s=5)
    facts = {f.uniqueid: f for f in loaded.facts if f.uniqueid in (first, second, third)}
    assert [(facts[u].offered, facts[u].answered, facts[u].abandoned, facts[u].short_abandon)
            for u in (first, second, third)] == [(True, True, False, False), (True, False, True, False),
                                                 (True, True, False, False)]
    assert facts[first].wait.total_seconds() > 4  # a 4 s ring went unanswered first
    part = facts[third].agents[answers]
    assert part["talk"].total_seconds() > 2 and part["wrap"].total_seconds() > 0.5
    rows = {r["key"]: r for r in report(load.report_input(loaded, "period"), "agent", visible={misses, answers})}
    assert {k: (r["answered"], r["rung"], r["missed"]) for k, r in rows.items()} == {
        answers: (2, 2, 0), misses: (0, 1, 1)}
    for r in rows.values():  # the states add up to the logged-in time
        assert abs(sum(r[f"state.{s}"] for s in ("ready", "not_ready", "reserved", "ringing", "on_call", "wrapup"))
                   - r["logged_in"]) < 1e-6

    # the supervisor's report page: the chart drawn, and the CSV export with the page's figures
    page = await open_page(browser, stack, f"r_lead_{answers}", "/wallboard")
    query = f"dim=agent&size=hour&from={day}&to={day}"
    await page.goto(base_url(stack) + "/reports?" + query)
    await page.wait_for_selector("#report-chart[data-drawn]")
    assert await page.evaluate("Chart.getChart(document.getElementById('report-chart')).data.datasets.length") == 2
    cells = await page.eval_on_selector_all(
        "#report-table tbody tr",
        "rows => rows.map(r => [r.dataset.interval, r.dataset.key, ...[...r.querySelectorAll('td[data-code]')].map(c => c.dataset.value)])")
    assert {c[1] for c in cells} == {misses, answers}  # the supervisor's own team only
    async with page.expect_download() as info:
        await page.click("#export-csv")
    download = await info.value
    text = open(await download.path(), encoding="utf-8-sig").read()
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0][:3] == ["interval", "agent", "answered"]  # codes; an agent row has no "offered"
    assert lines[1:] == cells
    answered = lines[0].index("answered")
    assert sum(int(line[answered]) for line in lines[1:] if line[1] == answers) == 2
    await page.context.close()
