"""The post-call survey (issue 13): the offer rule (a seeded share, once a day per number), the
answer stored on the call (none stays NULL, never a score), the team lead's follow-up on a
"not satisfied", and the AGI route's keys, over a real migrated SQLite file."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from callcenter import db
from callcenter.config import ConfigError
from callcenter.models import Call, SurveyOffer, Team, User, WorkOrder, WorkOrderEvent
from ivr.service import survey_writers
from ivr.survey import SurveyRoute
from quality import survey, survey_store
from quality.survey import SurveyRule, in_share, offer_day

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=timezone.utc)  # 11:00 in Beijing
IDS = [f"1795957{i:03d}.{i}" for i in range(4000)]


# ---------------------------------------------------------------- the share (pure)
def test_share_none_and_all():
    assert not any(in_share(uid, SurveyRule(0.0)) for uid in IDS)
    assert all(in_share(uid, SurveyRule(1.0)) for uid in IDS)


def test_a_seed_picks_the_same_calls_every_time_and_about_its_share():
    rule = SurveyRule(0.25, "week-48")
    picked = [uid for uid in IDS if in_share(uid, rule)]
    assert picked == [uid for uid in IDS if in_share(uid, SurveyRule(0.25, "week-48"))]
    assert 900 <= len(picked) <= 1100  # sha256 is fixed: the same count every run, near a quarter
    other = [uid for uid in IDS if in_share(uid, SurveyRule(0.25, "another seed"))]
    assert other != picked


def test_a_larger_share_keeps_every_call_a_smaller_one_picked():
    small = {uid for uid in IDS if in_share(uid, SurveyRule(0.1, "s"))}
    large = {uid for uid in IDS if in_share(uid, SurveyRule(0.5, "s"))}
    assert small < large


# share, seed, what load says
RULES = """
1.0     | "survey" | ok
0       | "x"      | ok
0.35    | "wk48"   | ok
1.5     | "x"      | ConfigError
-0.1    | "x"      | ConfigError
true    | "x"      | ConfigError
"0.5"   | "x"      | ConfigError
0.5     | ""       | ConfigError
"""


@pytest.mark.parametrize("share,seed,expected", [tuple(c.strip() for c in line.split("|"))
                                                 for line in RULES.strip().splitlines()])
def test_survey_toml_is_checked_with_a_one_line_error(tmp_path, share, seed, expected):
    (tmp_path / "survey.toml").write_text(f"share = {share}\nseed = {seed}\n")
    if expected == "ConfigError":
        with pytest.raises(ConfigError, match="survey.toml"):
            SurveyRule.load(tmp_path)
    else:
        rule = SurveyRule.load(tmp_path)
        assert rule.share == float(share) and rule.seed == seed.strip('"')


def test_survey_toml_is_written_with_the_defaults_on_first_use_and_unknown_settings_refused(tmp_path):
    assert SurveyRule.load(tmp_path) == SurveyRule(1.0, "survey")
    assert "share" in (tmp_path / "survey.toml").read_text()
    (tmp_path / "survey.toml").write_text("share = 1\nshares = 0.5\n")
    with pytest.raises(ConfigError, match="shares"):
        SurveyRule.load(tmp_path)


# now (UTC)               | the center's day
DAYS = """
2026-11-29T03:00:00+00:00 | 2026-11-29
2026-11-29T15:59:59+00:00 | 2026-11-29
2026-11-29T16:00:00+00:00 | 2026-11-30
2026-11-28T23:00:00+00:00 | 2026-11-29
"""


@pytest.mark.parametrize("now,day", [tuple(c.strip() for c in line.split("|")) for line in DAYS.strip().splitlines()])
def test_once_a_day_is_the_centers_own_day(now, day):
    assert offer_day(datetime.fromisoformat(now), SHANGHAI).isoformat() == day


# ---------------------------------------------------------------- the offer and the answer (database)
@pytest.fixture
def sessions(migrated_db):
    return db.session_factory(migrated_db)


def a_call(sessions, uid: str, number: str | None = "13800000001", agent: str | None = "1001") -> None:
    with sessions() as s:
        s.add(Call(uniqueid=uid, caller_number=number, started_at=NOW, answered_at=NOW, agent_extension=agent,
                   ended_at=None))
        s.commit()


def claim(sessions, uid: str, number: str, now=NOW, rule=SurveyRule()) -> bool:
    with sessions() as s:
        taken = survey_store.claim_offer(s, uid, number, now, rule, SHANGHAI)
        s.commit()
        return taken


def test_a_number_is_offered_once_on_a_day_and_again_the_next_day(sessions):
    for uid in ("c1", "c2", "c3", "c4"):
        a_call(sessions, uid)
    assert claim(sessions, "c1", "13800000001")
    assert not claim(sessions, "c2", "13800000001", now=NOW.replace(hour=15))  # 23:00 in Beijing: same day
    assert claim(sessions, "c3", "13800000001", now=NOW.replace(hour=16))  # 00:00 the next day there
    assert claim(sessions, "c4", "13900000002")  # another number
    with sessions() as s:
        offered = {c.uniqueid: (c.survey_offered, c.survey_answer) for c in s.scalars(select(Call))}
        assert offered == {"c1": (True, None), "c2": (False, None), "c3": (True, None), "c4": (True, None)}
        assert s.scalar(select(Call.survey_offered_at).where(Call.uniqueid == "c1")).replace(tzinfo=timezone.utc) == NOW


def test_a_withheld_number_a_call_the_share_leaves_out_and_a_second_run_get_nothing(sessions):
    for uid in ("w", "s", "twice"):
        a_call(sessions, uid, number=None)
    assert not claim(sessions, "w", "")
    assert not claim(sessions, "s", "13800000005", rule=SurveyRule(0.0))
    assert claim(sessions, "twice", "13800000006")
    assert not claim(sessions, "twice", "13800000006")  # the dialplan ran it twice: asked once
    with sessions() as s:
        assert [o.number for o in s.scalars(select(SurveyOffer))] == ["13800000006"]
        assert s.scalar(select(Call.survey_offered).where(Call.uniqueid == "s")) is False


def answer(sessions, uid: str, value: int, home: Path | None = None):
    with sessions() as s:
        order = survey_store.record_answer(s, uid, value, NOW, home)
        s.commit()
        return order.number if order else None


def test_the_answer_lands_on_the_call_the_first_stands_and_none_is_never_a_score(sessions):
    for uid in ("a", "b", "quiet", "never"):
        a_call(sessions, uid, number=f"1380000{len(uid):04d}")
    for uid in ("a", "b", "quiet"):
        assert claim(sessions, uid, f"1381111{len(uid):04d}" if uid != "a" else "13811110000")
    assert answer(sessions, "a", 1) is None
    assert answer(sessions, "a", 2) is None  # keyed again (a retry, a replay): the first answer stands
    assert answer(sessions, "b", 2) is None
    assert answer(sessions, "never", 1) is None  # never offered: nothing stored
    with pytest.raises(ValueError):
        answer(sessions, "b", 4)
    with sessions() as s:
        assert survey.answers(s, ["a", "b", "quiet", "never", "nobody"]) == {
            "a": (True, 1), "b": (True, 2), "quiet": (True, None)}
        rows = {c.uniqueid: c for c in s.scalars(select(Call))}
        assert [survey.survey_answer(rows[u]) for u in ("a", "b", "quiet", "never")] == [1, 2, None, None]
        assert rows["never"].survey_answer is None and not rows["never"].survey_offered
        assert s.scalar(select(WorkOrder.id)) is None  # only "not satisfied" opens a follow-up


def test_not_satisfied_opens_a_follow_up_for_the_agents_team_lead(sessions, tmp_path):
    with sessions() as s:
        lead = User(username="lead7", display_name="Lead", password_hash="x", role="supervisor")
        s.add(lead)
        s.flush()
        team = Team(name="T7", supervisor_id=lead.id)
        s.add(team)
        s.flush()
        s.add(User(username="agent7", display_name="Agent", password_hash="x", role="agent",
                   agent_extension="1007", team_id=team.id))
        s.commit()
    a_call(sessions, "unhappy", agent="1007")
    a_call(sessions, "no-team", number="13800000009", agent="1008")
    assert claim(sessions, "unhappy", "13800000001") and claim(sessions, "no-team", "13800000009")
    number = answer(sessions, "unhappy", 3, tmp_path)
    other = answer(sessions, "no-team", 3, tmp_path)
    with sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert (order.category, order.group_code, order.status, order.assignee, order.call_uniqueid) == (
            "survey_followup", "service_quality", "assigned", "lead7", "unhappy")
        steps = [(e.action, e.to_status, e.actor) for e in s.scalars(
            select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id).order_by(WorkOrderEvent.id))]
        assert steps == [("created", "new", "survey"), ("assign", "assigned", "survey")]
        unled = s.scalar(select(WorkOrder).where(WorkOrder.number == other))
        assert (unled.status, unled.assignee, unled.group_code) == ("new", None, "service_quality")  # the group's queue
        assert s.scalar(select(Call.survey_answer).where(Call.uniqueid == "unhappy")) == 3


# ---------------------------------------------------------------- the voice side (AGI route, fake channel)
@dataclass
class FakeAgi:
    """The caller: each stream_file/wait_for_digit takes the next key ("" is silence)."""
    callerid: str
    keys: list[str]
    uniqueid: str
    played: list[str] = field(default_factory=list)
    language: str = "en"

    @property
    def headers(self):
        return {"agi_callerid": self.callerid}

    async def get_variable(self, name):
        return self.language if name == "CC_LANGUAGE" else ""

    async def stream_file(self, path, keys=""):
        self.played.append(f"{Path(path).parent.name}/{Path(path).name}")
        return self.keys.pop(0) if keys and self.keys else ""

    async def wait_for_digit(self, timeout):
        return self.keys.pop(0) if self.keys else ""


# keys the caller gives (per ask: during the question, then after it) | stored | prompts heard
KEYS = """
2                | 2    | survey_ask survey_thanks
,3               | 3    | survey_ask survey_thanks
,                | none | survey_ask survey_ask
7,,1             | 1    | survey_ask survey_ask survey_thanks
*,,,             | none | survey_ask survey_ask
9,,9,            | none | survey_ask survey_ask
"""


@pytest.mark.parametrize("keys,stored,heard", [tuple(c.strip() for c in line.split("|"))
                                               for line in KEYS.strip().splitlines()])
def test_the_route_asks_at_most_twice_and_stores_only_a_valid_key(sessions, tmp_path, keys, stored, heard):
    a_call(sessions, "r1")
    route = SurveyRoute(tmp_path / "prompts", *survey_writers(sessions, tmp_path))
    agi = FakeAgi("13800000001", keys.split(","), "r1")
    asyncio.run(route(agi))
    assert [p.split("/")[1] for p in agi.played] == heard.split()
    assert all(p.startswith("en/") for p in agi.played)  # the call's language
    with sessions() as s:
        call = s.scalar(select(Call).where(Call.uniqueid == "r1"))
        assert call.survey_offered and call.survey_answer == (None if stored == "none" else int(stored))


def test_the_route_plays_nothing_to_a_caller_not_picked_or_asked_today(sessions, tmp_path):
    a_call(sessions, "first")
    a_call(sessions, "second")
    route = SurveyRoute(tmp_path / "prompts", *survey_writers(sessions, tmp_path))
    asyncio.run(route(FakeAgi("13800000001", ["1"], "first")))
    again = FakeAgi("13800000001", ["3"], "second", language="zh")
    asyncio.run(route(again))
    assert again.played == []
    (tmp_path / "survey.toml").write_text("share = 0\n")
    a_call(sessions, "third", number="13800000003")
    left_out = FakeAgi("13800000003", ["3"], "third")
    asyncio.run(route(left_out))
    assert left_out.played == []
    with sessions() as s:
        assert survey.answers(s, ["first", "second", "third"]) == {"first": (True, 1)}


# ---------------------------------------------------------------- the reports read it (cdr/load.py)
def test_the_reports_count_satisfaction_and_response_from_the_stored_answers(sessions):
    from datetime import date, timedelta

    from cdr import kpi, load
    from cdr.periods import Period

    with sessions() as s:  # answered 1, answered 3, offered and not answered, never offered
        for uid, offered, value in (("k1", True, 1), ("k2", True, 3), ("k3", True, None), ("k4", False, None)):
            s.add(Call(uniqueid=uid, caller_number="13800000001", started_at=NOW, queued_at=NOW,
                       answered_at=NOW + timedelta(seconds=5), ended_at=NOW + timedelta(minutes=2),
                       end_reason="agent_hangup", survey_offered=offered, survey_answer=value))
        s.commit()
        loaded = load.load(s, Period.local_days(date(2026, 11, 29), date(2026, 11, 29), SHANGHAI),
                           NOW + timedelta(hours=1), 5)
        empty = load.load(s, Period.local_days(date(2026, 11, 28), date(2026, 11, 28), SHANGHAI),
                          NOW + timedelta(hours=1), 5)
    assert loaded.surveys_exist and not empty.surveys_exist  # no survey in a period: not available, never 0
    assert {f.uniqueid: (f.survey_offered, f.survey_answer) for f in loaded.facts} == {
        "k1": (True, 1), "k2": (True, 3), "k3": (True, None), "k4": (False, None)}
    found = kpi.satisfaction(loaded.facts, loaded.surveys_exist)
    assert (found.top, found.bottom) == (1, 2)  # satisfied over answered: the unanswered one is no score


# ---------------------------------------------------------------- the router (acd/router.py), fakes
async def test_agent_hung_up_starts_the_agents_wrap_up_while_the_caller_stays_for_the_survey():
    from acd.protocol import AgentSnapshot, LiveCall
    from tests.unit.fakes import FakeStore, make_router

    channel = "Local/10000@hotline-0001;2"
    store = FakeStore(live_agents={"1001": AgentSnapshot("1001", "on_call", call="c1")},
                      live_calls={"c1": LiveCall("c1", channel=channel, skill="billing", agent="1001")})
    router = make_router(store, skills={"1001": {"billing": 5}}, clock=lambda: 100.0)

    def event(name: str, context: str, **headers) -> dict:
        return {"Event": "UserEvent", "UserEvent": name, "CallId": "c1", "Uniqueid": "c1", "Channel": channel,
                "Context": context, **headers}

    forged = event("AgentHungUp", "cc-connect")  # not from cc-survey: not ours, changes nothing
    await router.on_user_event(forged)
    assert store.live_agents["1001"].state == "on_call"
    await router.on_user_event(event("AgentHungUp", "cc-survey"))
    assert store.live_agents["1001"].state == "wrapup" and "c1" not in store.live_calls
    await router.on_user_event(event("CallEnded", "cc-hangup", Stage="survey", End="agent"))  # the caller leaves
    assert store.live_agents["1001"].state == "wrapup" and not router.actions.ami.named("Hangup")
