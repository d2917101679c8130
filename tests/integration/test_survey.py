"""The post-call survey on the real Asterisk (issue 13): the agent hangs up first (their simulated
phone, or the desktop's hang-up through the real router), the caller stays on and hears the
question from the real IVR, and the key they press lands on the call; a caller who hangs up first
hears nothing and nothing is stored; no key is stored as none; "not satisfied" opens the team
lead's follow-up; a second call of the day from the same number is not asked.

The caller keys with AMI PlayDTMF (Receive) on their own hotline channel once the IVR has started
playing the prompt that asks for it (its AGIExecStart), as a person presses a key while hearing
it: the main menu's 5 (consult), then the survey's answer. The session's
survey.toml offers the survey to no call (tests/integration/conftest.py); the `every_call` fixture
offers it to every call for the test's length and puts the file back.
"""
from __future__ import annotations

import pytest
import redis as sync_redis
from sqlalchemy import delete, select

from agent_desktop.acd_client import RouterClient
from callcenter.models import Call, SurveyOffer, Team, User, WorkOrder, WorkOrderCall, WorkOrderEvent
from callcenter.simulate import set_sim_phone
from cdr.journey import journey as call_journey
from quality.survey import survey_file
from tests.integration.conftest import wait_until
from tests.integration.helpers import ended_row, make_customer, streamed, wait_for_state

ACCESS = "10000"
CONSULT = "5"  # the main menu's key for a business enquiry: skill consult
SURVEY_TIMEOUT = 60  # the question twice with its answer time, on a loaded machine


@pytest.fixture
def every_call(stack):
    path = survey_file(stack.home)
    before = path.read_text() if path.exists() else None
    path.write_text('share = 1.0\nseed = "integration"\n')
    yield
    if before is None:
        path.unlink()
    else:
        path.write_text(before)


async def agent_on_call(ami, store, floor, talk_s: float) -> str:
    """An agent of this test holding consult, whose simulated phone answers at once and hangs up
    after talk_s (a long talk_s: only the desktop's hang-up or the caller ends the call)."""
    ext = floor.agent({"consult": 5})
    await floor.reload()
    await set_sim_phone(ami, ext, answer_after=0.5, talk_s=talk_s)
    await floor.ready(ext)
    return ext


async def connected(ami, store, uid: str, ext: str) -> None:
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, Agent=ext, timeout=60)
    await wait_for_state(store, ext, "on_call")


async def playing(ami, uid: str, prompt: str) -> dict:
    """The IVR started playing this prompt to the call: its AGIExecStart."""
    def started():
        return next((e for e in ami.events.matching(Event="AGIExecStart", Uniqueid=uid)
                     if f"/{prompt}" in e.get("Command", "")), None)
    return await wait_until(started, timeout=SURVEY_TIMEOUT, what=f"{prompt} played to {uid}")


async def question_playing(ami, uid: str) -> dict:
    return await playing(ami, uid, "survey_ask")


async def consult_call(ami, floor, number: str) -> str:
    """A call from a known caller who keys 5 (consult) as the main menu plays; it stays on."""
    uid = await floor.call(ACCESS, number, hold_s=180)
    await caller_keys(ami, (await playing(ami, uid, "main_menu"))["Channel"], CONSULT)
    return uid


async def caller_keys(ami, channel: str, digit: str) -> None:
    # "Async": panoramisk reads that header of any action Asterisk answers "...successfully queued"
    # (as PlayDTMF does) and drops the connection with a KeyError when the action has none
    reply = await ami.send_action({"Action": "PlayDTMF", "Channel": channel, "Digit": digit, "Duration": "200",
                                   "Receive": "true", "Async": "false"})
    assert reply.get("Response") == "Success", reply


def survey_of(sessions, uid: str) -> tuple[bool, int | None]:
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == uid))
        return call.survey_offered, call.survey_answer


def prompts(ami, uid: str) -> list[str]:
    """The survey's prompts the call was played, as language/name."""
    return ["/".join(path.rsplit("/", 2)[-2:]) for path in streamed(ami.events, uid)
            if path.rsplit("/", 1)[-1].startswith("survey_")]


def journey_survey(sessions, uid: str) -> list[dict]:
    with sessions() as s:
        return [step.detail for step in call_journey(s, uid) if step.kind == "survey"]


async def test_agent_hangs_up_first_the_caller_hears_the_survey_and_their_key_lands_on_the_call(
        ami, sessions, store, floor, every_call):
    ext = await agent_on_call(ami, store, floor, talk_s=2)
    _, number = make_customer(sessions)
    uid = await consult_call(ami, floor, number)
    await connected(ami, store, uid, ext)
    # the simulated phone hangs up after 2 s: the agent's side ended, the caller is still on
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentHungUp", CallId=uid, timeout=30)
    await wait_for_state(store, ext, "wrapup")  # the agent's wrap-up starts now, not after the survey
    question = await question_playing(ami, uid)
    await caller_keys(ami, question["Channel"], "2")
    row = await wait_until(ended_row(sessions, uid), timeout=SURVEY_TIMEOUT, what="the call ended after the survey")
    assert (row.survey_offered, row.survey_answer) == (True, 2)
    assert row.end_reason == "agent_hangup" and row.answered_at is not None  # the end is the agent's, as before
    assert prompts(ami, uid) == ["zh/survey_ask", "zh/survey_thanks"]
    assert journey_survey(sessions, uid) == [{"answer": "2"}]


async def test_the_caller_hanging_up_first_gets_no_survey_and_nothing_is_stored(ami, sessions, store, floor,
                                                                              every_call):
    ext = await agent_on_call(ami, store, floor, talk_s=120)
    _, number = make_customer(sessions)
    uid = await consult_call(ami, floor, number)
    await connected(ami, store, uid, ext)
    # the caller hangs up: their hotline channel goes (the near half of the simulated caller)
    replies = await ami.send_action({"Action": "CoreShowChannels"}, as_list=True)
    channel = next(r["Channel"] for r in replies if r.get("Event") == "CoreShowChannel" and r.get("Uniqueid") == uid)
    await ami.send_action({"Action": "Hangup", "Channel": channel})
    row = await wait_until(ended_row(sessions, uid), what="the call ended")
    assert row.end_reason == "caller_hangup"
    assert (row.survey_offered, row.survey_answer) == (False, None)
    assert prompts(ami, uid) == [] and not ami.events.matching(Event="UserEvent", UserEvent="AgentHungUp", CallId=uid)
    with sessions() as s:
        assert s.scalar(select(SurveyOffer).where(SurveyOffer.number == number)) is None
    assert journey_survey(sessions, uid) == []
    await wait_for_state(store, ext, "wrapup")


async def test_a_caller_who_keys_nothing_is_stored_as_none(ami, sessions, store, floor, every_call):
    ext = await agent_on_call(ami, store, floor, talk_s=2)
    _, number = make_customer(sessions)
    uid = await consult_call(ami, floor, number)
    await connected(ami, store, uid, ext)
    await question_playing(ami, uid)
    row = await wait_until(ended_row(sessions, uid), timeout=2 * SURVEY_TIMEOUT, what="the survey given up, call ended")
    assert (row.survey_offered, row.survey_answer) == (True, None)  # none: never a score
    assert row.end_reason == "agent_hangup"
    assert prompts(ami, uid) == ["zh/survey_ask", "zh/survey_ask"]  # asked again once, no thanks
    assert journey_survey(sessions, uid) == [{"answer": "none"}]


async def test_not_satisfied_after_the_desktops_hang_up_opens_the_team_leads_follow_up(
        stack, ami, sessions, store, floor, every_call):
    ext = await agent_on_call(ami, store, floor, talk_s=300)
    with sessions() as s:  # the agent's team and its lead, this test's own
        lead = User(username=f"lead{ext}", display_name="Lead", role="supervisor")
        lead.set_password("test-pass")
        s.add(lead)
        s.flush()
        team = Team(name=f"survey-{ext}", supervisor_id=lead.id)
        s.add(team)
        s.flush()
        s.scalar(select(User).where(User.agent_extension == ext)).team_id = team.id
        s.commit()
        lead_id, team_id = lead.id, team.id
    order_id = None
    try:
        _, number = make_customer(sessions, language="en")
        uid = await consult_call(ami, floor, number)
        await connected(ami, store, uid, ext)
        # the agent ends the call on the desktop: the real router, the real AMI redirect
        router = RouterClient(sync_redis.Redis.from_url(stack.effective_redis_url, decode_responses=True))
        assert router.send("hangup", ext=ext, call=uid).ok
        question = await question_playing(ami, uid)
        await caller_keys(ami, question["Channel"], "3")
        row = await wait_until(ended_row(sessions, uid), timeout=SURVEY_TIMEOUT, what="the call ended")
        assert (row.survey_offered, row.survey_answer, row.end_reason) == (True, 3, "agent_hangup")
        assert prompts(ami, uid) == ["en/survey_ask", "en/survey_thanks"]  # the call's language
        with sessions() as s:
            order = s.scalar(select(WorkOrder).where(WorkOrder.call_uniqueid == uid))
            order_id = order.id
            assert (order.category, order.group_code, order.status, order.assignee) == (
                "survey_followup", "service_quality", "assigned", f"lead{ext}")
            assert order.caller_number == number
        await wait_for_state(store, ext, "wrapup")
    finally:
        with sessions() as s:
            if order_id is not None:
                s.execute(delete(WorkOrderEvent).where(WorkOrderEvent.order_id == order_id))
                s.execute(delete(WorkOrderCall).where(WorkOrderCall.order_id == order_id))
                s.execute(delete(WorkOrder).where(WorkOrder.id == order_id))
            s.scalar(select(User).where(User.agent_extension == ext)).team_id = None
            s.execute(delete(Team).where(Team.id == team_id))
            s.execute(delete(User).where(User.id == lead_id))
            s.commit()


async def test_the_second_call_of_the_day_from_the_same_number_is_not_asked(ami, sessions, store, floor,
                                                                            every_call):
    ext = await agent_on_call(ami, store, floor, talk_s=2)
    _, number = make_customer(sessions)
    first = await consult_call(ami, floor, number)
    await connected(ami, store, first, ext)
    question = await question_playing(ami, first)
    await caller_keys(ami, question["Channel"], "1")
    assert (await wait_until(ended_row(sessions, first), timeout=SURVEY_TIMEOUT, what="first call ended")
            ).survey_answer == 1
    await wait_for_state(store, ext, "wrapup", timeout=30)
    await floor.ready(ext)
    second = await consult_call(ami, floor, number)
    await connected(ami, store, second, ext)
    await ami.events.wait_for(Event="UserEvent", UserEvent="AgentHungUp", CallId=second, timeout=30)
    row = await wait_until(ended_row(sessions, second), what="second call ended without a survey")
    assert (row.survey_offered, row.survey_answer, row.end_reason) == (False, None, "agent_hangup")
    assert prompts(ami, second) == []
    with sessions() as s:
        assert [o.call_uniqueid for o in s.scalars(select(SurveyOffer).where(SurveyOffer.number == number))] == [first]
