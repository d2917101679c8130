"""Quality inspection in the browser, on a real call (issue 13): a real call through the real
Asterisk, router and CDR listener, answered by an agent's phone; the call on an inspector's work
list (as the week's draw puts it: the draw itself is tested in tests/unit/test_quality_access.py);
the inspector opens the work list in Chromium, opens the call (its journey, and its recording
played in the page's player: issue 11's endpoint), scores it with a fatal item missed and a
comment at a second of the recording; the agent sees the score and the comment and appeals; their
team lead decides; the score is final and every change is refused with SCORE_LOCKED."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import delete, select

from callcenter.models import (AuditEntry, QualityAppeal, QualityComment, QualityScore, QualityWorkItem)
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.desktop_helpers import make_user, web_login
from tests.integration.helpers import make_customer
from tests.integration.test_desktop import base_url, browser, open_page  # noqa: F401  (browser: a fixture)
from tests.integration.test_reports import ACCESS, ended

# the main menu's 5 (business enquiry: skill consult), pressed again and again: a key pressed
# before the menu listens is lost, and what comes before it (a greeting, a recording notice) may
# take longer than a fixed wait; once queued, other keys are ignored (cc-wait's i)
CONSULT = "w" * 10 + "5w" * 20


@pytest.fixture
def quality_rows(sessions):
    """The calls whose quality rows this test made, removed at its end (scores, comments, appeals
    and the work-list entries), so the shared database keeps nothing of it."""
    calls: list[str] = []
    yield calls
    with sessions() as s:
        scores = list(s.scalars(select(QualityScore.id).where(QualityScore.call_uniqueid.in_(calls))))
        s.execute(delete(QualityComment).where(QualityComment.score_id.in_(scores)))
        s.execute(delete(QualityAppeal).where(QualityAppeal.score_id.in_(scores)))
        s.execute(delete(QualityScore).where(QualityScore.id.in_(scores)))
        s.execute(delete(QualityWorkItem).where(QualityWorkItem.call_uniqueid.in_(calls)))
        s.commit()


@pytest.mark.timeout(300)
async def test_inspector_scores_with_a_fatal_item_agent_appeals_lead_decides_score_locked(
        stack, ami, sessions, store, floor, browser, quality_rows):  # noqa: F811
    floor.queue("consult", ring_time_s=10, wrapup_s=1, no_answer_limit=1)
    ext = floor.extension()
    agent, lead, inspector = f"q_agent_{ext}", f"q_lead_{ext}", f"q_qa_{ext}"
    make_user(sessions, agent, "agent", ext=ext, team=f"team-q{ext}")
    make_user(sessions, lead, "supervisor", team=f"team-q{ext}", lead=True)
    make_user(sessions, inspector, "quality")
    floor.agent({"consult": 5}, ext=ext)
    await floor.reload()
    await set_sim_phone(ami, ext, answer_after=1, talk_s=3)
    await floor.ready(ext, since=time.time() - 3600)
    _, number = make_customer(sessions)

    # a real call, answered by the agent, closed in the ledger with its agent
    uid = await floor.call(ACCESS, number, dtmf=CONSULT, hold_s=40)
    row = await ended(ami, sessions, uid)
    assert row.agent_extension == ext and row.answered_at is not None, (row.end_reason, row.end_detail, row.answered_at, row.stage, row.skill)
    quality_rows.append(uid)
    with sessions() as s:  # on this inspector's list, as the week's draw puts it
        s.add(QualityWorkItem(call_uniqueid=uid, agent_extension=ext, inspector=inspector, week="2026-W48",
                              reasons=["random", "transfer"], status="open", picked_at=row.started_at))
        s.commit()

    # the push process registers the call's recording once it has ended (issue 11)
    http, token = web_login(base_url(stack), inspector, "/quality")
    await wait_until(lambda: http.get(f"{base_url(stack)}/api/calls/{uid}/recording", timeout=10).status_code == 200,
                     timeout=30, what="the call's recording registered")

    # 1. the inspector's home is their work list: the call, with why it was picked
    qa = await open_page(browser, stack, inspector, "/quality")
    entry = f'#worklist tr[data-call="{uid}"]'
    await qa.wait_for_selector(entry)
    assert "Random share, Transferred" in await qa.text_content(entry)
    async with qa.expect_navigation():
        await qa.click(f"{entry} a")

    # 2. beside the call's journey and its recording, which plays in the page
    await qa.wait_for_selector('#timeline li[data-kind="ended"]')
    assert await qa.text_content("#call-agent") == ext
    await qa.wait_for_selector("#player")
    assert await qa.evaluate("document.getElementById('player').play().then(() => true)") is True
    await qa.wait_for_function("document.getElementById('player').currentTime > 0", timeout=10_000)

    # 3. scored on the query card: everything met but the fatal identity check; a comment at 0:02
    await qa.select_option("#f-category", "query")
    for item in ("greeting", "accurate_answer", "answered_in_time", "no_false_promise", "work_recorded"):
        await qa.check(f'input[name="item-{item}"][value="1"]')
    await qa.check('input[name="item-identity_checked"][value="0"]')
    await qa.check('input[name="item-courtesy"][value="5"]')
    await qa.fill("#f-comment", "account read out before the identity check")
    await qa.fill("#f-comment-at", "2")
    async with qa.expect_navigation():
        await qa.click("#score-save")
    await qa.wait_for_selector("#score-status")
    assert await qa.get_attribute("#score-status", "data-status") == "scored"
    text = await qa.text_content("#score-box")
    assert "0" in text and "Fail" in text and "fatal item missed" in text
    with sessions() as s:
        score = s.scalar(select(QualityScore).where(QualityScore.call_uniqueid == uid))
        assert (score.total, score.grade, score.fatal, score.inspector) == (0.0, "fail", True, inspector)
        score_id = score.id

    # 4. the agent sees their score and the comment at its time, and appeals
    me = await open_page(browser, stack, agent, "/agent")
    await me.goto(base_url(stack) + "/quality/scores")
    await me.wait_for_selector(f'#scores tr[data-score="{score_id}"]')
    async with me.expect_navigation():
        await me.click(f'#scores tr[data-score="{score_id}"] a')
    await me.wait_for_selector("#comments li")
    assert "0:02" in await me.text_content("#comments") and "identity check" in await me.text_content("#comments")
    await me.wait_for_selector("#appeal-panel:not([hidden])")
    await me.fill("#f-appeal-reason", "the customer was verified by the menu's password check")
    await me.click("#appeal-send")
    await me.wait_for_selector('#score-status[data-status="appealed"]')
    assert await me.is_hidden("#appeal-panel")  # once only

    # 5. their team lead decides: upheld; the score is final and locked
    boss = await open_page(browser, stack, lead, "/wallboard")
    await boss.goto(f"{base_url(stack)}/quality/scores/{score_id}")
    await boss.wait_for_selector("#decide-panel:not([hidden])")
    await boss.check('input[name="outcome"][value="upheld"]')
    await boss.fill("#f-decide-note", "the menu's check is not the agent's")
    await boss.click("#decide-send")
    await boss.wait_for_selector('#score-status[data-status="final"][data-locked="true"]')
    assert "Upheld" in await boss.text_content("#appeal-outcome")

    # 6. locked: the inspector's correction, another appeal, another decision all refused
    reply = http.post(f"{base_url(stack)}/api/quality/scores/{score_id}/answers", json={"answers": {}},
                      headers={"X-CSRF-Token": token}, timeout=10)
    assert (reply.status_code, reply.json()["code"]) == (409, "SCORE_LOCKED")
    agent_http, agent_token = web_login(base_url(stack), agent, "/agent")
    reply = agent_http.post(f"{base_url(stack)}/api/quality/scores/{score_id}/appeal", json={"reason": "again"},
                            headers={"X-CSRF-Token": agent_token}, timeout=10)
    assert (reply.status_code, reply.json()["code"]) == (409, "SCORE_LOCKED")
    await me.reload()
    await me.wait_for_selector('#score-status[data-status="final"]')
    assert await me.is_hidden("#appeal-panel")
    with sessions() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.target == uid)))
    assert {"view_quality_call", "quality_score", "quality_appeal", "quality_appeal_decided"} <= actions
    with sessions() as s:  # the playback too, audited by the recordings endpoint
        assert s.scalar(select(AuditEntry.id).where(AuditEntry.action == "recording_play",
                                                    AuditEntry.actor == inspector)) is not None
    assert qa.alerts == [] and me.alerts == [] and boss.alerts == []
