"""Quality inspection's pure core, table-driven: scoring with weights and fatal items, grade
bands, sampling rules and the seeded share, appeals and locking, calibration spread, KPIs."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from callcenter.config import ConfigError
from quality import appeals, calibration, kpis, sampling, scorecards, scoring
from quality.appeals import Asker, ScoreFacts
from quality.config import DEFAULT_FILE, QualityConfig, Sampling
from quality.errors import QualityError

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday

CARD = scorecards.parse("query", {"version": 2, "sections": [
    {"code": "open", "items": [{"code": "greet", "weight": 10}, {"code": "verify", "weight": 10, "fatal": True}]},
    {"code": "body", "items": [{"code": "right", "weight": 50, "kpi": "accuracy"},
                               {"code": "polite", "weight": 30, "kind": "scale", "max": 5}]},
]})
ALL = {"greet": 1, "verify": 1, "right": 1, "polite": 5}


# ---------------------------------------------------------------- scoring
@pytest.mark.parametrize("answers, total, grade, fatal", [
    (ALL, 100.0, "excellent", ()),
    ({**ALL, "polite": 4}, 94.0, "good", ()),  # 30 x 4/5 = 24: 94
    ({**ALL, "greet": 0}, 90.0, "good", ()),  # 90 is good (90-95), not pass
    ({**ALL, "polite": 2, "greet": 0}, 72.0, "fail", ()),
    ({**ALL, "right": 0, "polite": 5}, 50.0, "fail", ()),
    ({**ALL, "polite": 0, "greet": 0}, 60.0, "fail", ()),
    ({**ALL, "verify": 0}, 0.0, "fail", ("verify",)),  # a fatal miss: 0 whatever the rest
    ({**ALL, "verify": False}, 0.0, "fail", ("verify",)),
])
def test_score_weights_and_fatal_items(answers, total, grade, fatal):
    result = scoring.score(CARD, answers)
    assert (result.total, result.grade, result.fatal_missed) == (total, grade, fatal)


@pytest.mark.parametrize("total, grade", [
    (100, "excellent"), (95, "excellent"), (94.9, "good"), (90, "good"), (89.9, "pass"), (80, "pass"),
    (79.9, "fail"), (0, "fail")])
def test_grade_bands(total, grade):
    assert scoring.grade(total) == grade


def test_grade_bands_come_from_the_file():
    import tomllib
    data = tomllib.loads(DEFAULT_FILE)
    data["grades"] = {"excellent": 98, "good": 85, "pass": 60}
    cfg = QualityConfig.from_mapping(data)
    assert [scoring.grade(t, cfg.bands) for t in (98, 97, 85, 60, 59)] == ["excellent", "good", "good", "pass", "fail"]
    data["grades"] = {"excellent": 80, "good": 90, "pass": 60}
    with pytest.raises(ConfigError):
        QualityConfig.from_mapping(data)


@pytest.mark.parametrize("answers, item", [
    ({k: v for k, v in ALL.items() if k != "right"}, "right"),  # missing
    ({**ALL, "polite": 6}, "polite"),  # over the scale
    ({**ALL, "greet": 2}, "greet"),  # yes/no is 0/1
    ({**ALL, "polite": "5"}, "polite"),
    ({**ALL, "bonus": 1}, "bonus"),  # not on the card
])
def test_bad_answers_are_refused_naming_the_item(answers, item):
    with pytest.raises(QualityError) as err:
        scoring.score(CARD, answers)
    assert err.value.code == "BAD_ANSWERS" and err.value.params["item"] == item


def test_a_card_round_trips_through_its_stored_form_and_changes_its_digest_when_edited():
    assert scorecards.from_dict(CARD.as_dict()) == CARD
    edited = scorecards.parse("query", {"version": 2, "sections": [
        {"code": "open", "items": [{"code": "greet", "weight": 20}, {"code": "verify", "weight": 10, "fatal": True}]},
        {"code": "body", "items": [{"code": "right", "weight": 50}, {"code": "polite", "weight": 30, "kind": "scale"}]}]})
    assert edited.digest() != CARD.digest()


@pytest.mark.parametrize("item", [
    {"code": "x", "weight": 0},  # weight 0 only for a fatal item
    {"code": "x", "weight": 5, "kind": "scale", "fatal": True},  # only yes/no items are fatal
    {"code": "X y", "weight": 5},
    {"code": "x", "weight": 5, "kpi": "speed"},
])
def test_bad_cards_are_refused(item):
    with pytest.raises(ConfigError):
        scorecards.parse("query", {"version": 1, "sections": [{"code": "s", "items": [item]}]})


# ---------------------------------------------------------------- sampling
RULES = Sampling(share=0.0, seed="s", hold_over_s=60, low_survey=(3,), repeat_hours=48)


def call(uid, agent="1001", number="13800000001", hours=0, **kw):
    return sampling.SampleCall(uid, agent, number, T0 + timedelta(hours=hours), **kw)


def test_sampling_picks_exactly_the_calls_the_rules_name_with_their_reasons():
    calls = [
        call("plain", number="13800000009"),
        call("complaint", number="13800000010", complaint_order=True),
        call("survey3", number="13800000011", survey_answer=3),
        call("survey2", number="13800000012", survey_answer=2),  # not a low answer
        call("survey_none", number="13800000013", survey_answer=None),
        call("repeat", number="13800000014", hours=1),
        call("transfer", number="13800000015", transferred=True),
        call("hold61", number="13800000016", hold_s=61),
        call("hold60", number="13800000017", hold_s=60),  # not longer than 60
        call("callback", number="13800000018", callback=True),
        call("two", number="13800000019", transferred=True, hold_s=300),
    ]
    later = [("13800000014", T0 + timedelta(hours=48)),  # 47 h after "repeat"
             ("13800000009", T0 + timedelta(hours=49)),  # 49 h after "plain": not a repeat
             *((c.caller_number, c.started_at) for c in calls)]  # a call is no repeat of itself
    picks = {p.uniqueid: p.reasons for p in sampling.pick(calls, later, RULES, "2026-W48")}
    assert picks == {"complaint": ("complaint_order",), "survey3": ("low_survey",), "repeat": ("repeat_call",),
                     "transfer": ("transfer",), "hold61": ("long_hold",), "callback": ("callback",),
                     "two": ("transfer", "long_hold")}


def test_the_random_share_is_per_agent_and_stable_for_a_seed():
    calls = [call(f"a{i:03d}", "1001", number="", hours=i) for i in range(100)]
    calls += [call(f"b{i:03d}", "1002", number="", hours=i) for i in range(40)]
    rules = Sampling(share=0.05, seed="audit-2026")
    first = sampling.pick(calls, [], rules, "2026-W48")
    again = sampling.pick(list(reversed(calls)), [], rules, "2026-W48")
    assert {p.uniqueid for p in first} == {p.uniqueid for p in again}  # the same draw, whatever the row order
    per_agent = {a: sum(1 for p in first if p.agent == a) for a in ("1001", "1002")}
    assert per_agent == {"1001": 5, "1002": 2}  # ceil(5 % of 100), ceil(5 % of 40)
    assert all(p.reasons == ("random",) for p in first)
    other_seed = sampling.pick(calls, [], Sampling(share=0.05, seed="other"), "2026-W48")
    other_week = sampling.pick(calls, [], rules, "2026-W49")
    assert {p.uniqueid for p in other_seed} != {p.uniqueid for p in first}
    assert {p.uniqueid for p in other_week} != {p.uniqueid for p in first}


def test_picks_are_shared_out_evenly_among_inspectors():
    picks = [sampling.Pick(f"c{i}", "1001", ("random",)) for i in range(5)]
    owners = sampling.share_out(picks, ["qa1", "qa2"], {"qa1": 2})
    # qa1 holds 2 open entries already: qa2 gets the first two, then they alternate (ties: by name)
    assert list(owners.values()) == ["qa2", "qa2", "qa1", "qa2", "qa1"]
    assert sampling.share_out(picks, [], {}) == {}


# ---------------------------------------------------------------- appeals and locking
SCORE = ScoreFacts("scored", "qa1", "1001", T0, appealed=False)
AGENT = Asker("agent1", "agent", "1001")
OTHER_AGENT = Asker("agent2", "agent", "1002")
LEAD = Asker("lead1", "supervisor", lead_of=frozenset({"1001"}))
OTHER_LEAD = Asker("lead2", "supervisor", lead_of=frozenset({"1002"}))
QA1, QA2 = Asker("qa1", "quality"), Asker("qa2", "quality")


@pytest.mark.parametrize("score, who, days_later, reason, code", [
    (SCORE, AGENT, 1, "the caller asked twice", None),
    (SCORE, AGENT, 7, "on the last day", None),
    (SCORE, AGENT, 7.01, "too late", "APPEAL_WINDOW_CLOSED"),
    (SCORE, OTHER_AGENT, 1, "not mine", "NOT_YOUR_SCORE"),
    (SCORE, LEAD, 1, "a lead is not the agent", "NOT_YOUR_SCORE"),
    (SCORE, QA2, 1, "nor an inspector", "NOT_YOUR_SCORE"),
    (ScoreFacts("scored", "qa1", "1001", T0, appealed=True), AGENT, 1, "again", "ALREADY_APPEALED"),
    (ScoreFacts("appealed", "qa1", "1001", T0, appealed=True), AGENT, 1, "again", "ALREADY_APPEALED"),
    (ScoreFacts("final", "qa1", "1001", T0, appealed=True), AGENT, 1, "locked", "SCORE_LOCKED"),
    (SCORE, AGENT, 1, "   ", "BAD_APPEAL_REASON"),
    (SCORE, AGENT, 1, "x" * 1001, "BAD_APPEAL_REASON"),
    (SCORE, AGENT, 1, None, "BAD_APPEAL_REASON"),
])
def test_an_appeal_is_allowed_once_within_its_window_only_by_the_calls_agent(score, who, days_later, reason, code):
    now = T0 + timedelta(days=days_later)
    if code is None:
        assert appeals.check_appeal(score, who, now, 7, reason) == reason.strip()
    else:
        with pytest.raises(QualityError) as err:
            appeals.check_appeal(score, who, now, 7, reason)
        assert err.value.code == code


APPEALED = ScoreFacts("appealed", "qa1", "1001", T0, appealed=True)


@pytest.mark.parametrize("score, who, outcome, code", [
    (APPEALED, LEAD, "upheld", None),
    (APPEALED, QA2, "revised", None),  # another inspector
    (APPEALED, Asker("admin", "admin"), "upheld", None),
    (APPEALED, QA1, "upheld", "OWN_SCORE_DECISION"),  # not the one who scored it
    (APPEALED, OTHER_LEAD, "upheld", "NOT_YOUR_TEAM"),
    (APPEALED, AGENT, "upheld", "NOT_YOUR_SCORE"),
    (APPEALED, LEAD, "maybe", "BAD_DECISION"),
    (SCORE, LEAD, "upheld", "NO_OPEN_APPEAL"),
    (ScoreFacts("final", "qa1", "1001", T0, appealed=True), LEAD, "upheld", "SCORE_LOCKED"),
])
def test_who_decides_an_appeal(score, who, outcome, code):
    if code is None:
        appeals.check_decide(score, who, outcome)
    else:
        with pytest.raises(QualityError) as err:
            appeals.check_decide(score, who, outcome)
        assert err.value.code == code


@pytest.mark.parametrize("score, who, days_later, code", [
    (SCORE, QA1, 1, None),  # the inspector corrects their own score
    (SCORE, QA2, 1, "NOT_YOUR_SCORE"),
    (SCORE, LEAD, 1, "NOT_YOUR_SCORE"),
    (APPEALED, QA1, 1, "SCORE_UNDER_APPEAL"),
    (ScoreFacts("final", "qa1", "1001", T0, appealed=True), QA1, 1, "SCORE_LOCKED"),
    (SCORE, QA1, 8, "SCORE_LOCKED"),  # nobody appealed within the window: final
])
def test_a_locked_score_refuses_changes(score, who, days_later, code):
    now = T0 + timedelta(days=days_later)
    assert appeals.is_final(score, now, 7) == (code == "SCORE_LOCKED")
    if code is None:
        appeals.check_change(score, who, now, 7)
    else:
        with pytest.raises(QualityError) as err:
            appeals.check_change(score, who, now, 7)
        assert err.value.code == code


# ---------------------------------------------------------------- calibration
def test_calibration_spread_per_item_and_in_total_and_the_reference():
    answers = [{**ALL}, {**ALL, "polite": 3}, {**ALL, "polite": 4, "greet": 0}]
    totals = [scoring.score(CARD, a).total for a in answers]
    assert totals == [100.0, 88.0, 84.0]
    rows = {r.item: r for r in calibration.spreads(CARD, answers, totals)}
    assert (rows["greet"].spread, rows["verify"].spread, rows["polite"].spread) == (1.0, 0.0, 0.4)
    assert (rows["total"].low, rows["total"].high, rows["total"].spread) == (84.0, 100.0, 16.0)
    assert calibration.reference(CARD, answers) == {"greet": 1, "verify": 1, "right": 1, "polite": 3}  # tie: lower
    assert calibration.spreads(CARD, answers[:1], totals[:1]) == []


# ---------------------------------------------------------------- KPIs
def row(agent, total, grade, **kw):
    defaults = dict(team="t1", queue="billing", category="query", accuracy_met=True, answer_overtime=False)
    return kpis.ScoreRow(agent, total=total, grade=grade, **{**defaults, **kw})


def test_quality_kpis_per_agent():
    rows = [row("1001", 100, "excellent"),
            row("1001", 0, "fail", accuracy_met=False, answer_overtime=True, appeal="upheld",
                survey_offered=True, survey_answer=3),
            row("1001", 92, "good", category="complaint", accuracy_met=False, survey_offered=True, survey_answer=1),
            row("1002", 85, "pass", accuracy_met=None, answer_overtime=None, survey_offered=True, appeal="open")]
    out = {r["key"]: r for r in kpis.figures(rows, "agent")}
    a = out["1001"]
    assert (a["scored"], a["average"]) == (3, 64.0)
    assert a["grades"] == {"excellent": 1, "good": 1, "pass": 0, "fail": 1}
    assert (a["query_accuracy"], a["queries"]) == (0.5, 2)  # the complaint call is no query
    assert (a["answer_overtime_rate"], a["timed"]) == (round(1 / 3, 6), 3)
    assert (a["satisfaction"], a["survey_response"]) == (0.5, 1.0)
    assert a["appeal_outcomes"] == {"open": 0, "upheld": 1, "revised": 0}
    b = out["1002"]
    assert (b["query_accuracy"], b["answer_overtime_rate"], b["satisfaction"], b["survey_response"]) == (
        None, None, None, 0.0)  # not available, never 0; offered, unanswered: a response rate of 0
    assert [r["key"] for r in kpis.figures(rows, "center")] == ["all"]
    assert kpis.figures([], "team") == []
