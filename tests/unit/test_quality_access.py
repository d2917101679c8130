"""Quality inspection over HTTP (the real Flask app, a real SQLite database; Redis and the router
are not needed here): who may see and do what, with stable codes; a score's whole life (scored
with a fatal item, appealed once, decided, locked); the version a score was made with; sampling
from stored calls into one inspector's list only; blind calibration; the KPIs it feeds."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agent_desktop import create_app
from agent_desktop.i18n import STRINGS
from callcenter import db
from callcenter.config import Settings
from callcenter.models import (AuditEntry, Call, CallbackRequest, CallHold, CallTransfer, QualityWorkItem,
                               RoutingDecision, Team, User, WorkOrder)
from quality import config as quality_config
from quality import worklist
from quality.errors import CODES, QualityError
from quality.scores import card_row
from quality.scorecards import parse
from tests import db_template
from agent_desktop import login_guard
from tests.unit.session_redis import SessionRedis  # login throttle, session tokens (issue 15)

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")
MINE, OTHERS = "1764400000.1", "1764400000.2"  # 1001's call (the supervisor's team), 1002's (no team)
WEEK = "2026-W48"
CENTER = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # 10:00 in Shanghai, the center's default zone


class FakeRedis(SessionRedis):
    def hget(self, *_):
        return None

    def hgetall(self, *_):
        return {}

    def smembers(self, *_):
        return set()

    def publish(self, *_):
        return 0


@pytest.fixture(scope="session")
def quality_db(tmp_path_factory, migrated_template) -> Path:
    path = tmp_path_factory.mktemp("quality-world") / "callcenter.db"
    sessions = db.session_factory(db_template.copy(migrated_template, path))
    with sessions() as s:
        users = {}
        for name, role, ext in (("agent", "agent", "1001"), ("agent2", "agent", "1002"), ("supervisor", "supervisor", None),
                                ("qa1", "quality", None), ("qa2", "quality", None), ("backoffice", "backoffice", None),
                                ("admin", "admin", None)):
            users[name] = User(username=name, display_name=name, role=role, language="en", agent_extension=ext,
                               password_hash="-")  # sessions are set directly: no password needed
            s.add(users[name])
        s.flush()
        team = Team(name="team-a", supervisor_id=users["supervisor"].id)
        s.add(team)
        s.flush()
        users["agent"].team_id = team.id
        for uid, ext in ((MINE, "1001"), (OTHERS, "1002")):
            s.add(Call(uniqueid=uid, caller_number="13800000001", started_at=MONDAY, answered_at=MONDAY,
                       ended_at=MONDAY + timedelta(minutes=3), agent_extension=ext, skill="billing"))
            s.add(QualityWorkItem(call_uniqueid=uid, agent_extension=ext, inspector="qa1", week=WEEK,
                                  reasons=["random"], status="open", picked_at=MONDAY))
        s.commit()
    db_template.settle(f"sqlite:///{path}")
    return path


@pytest.fixture
def app(tmp_path, quality_db):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    db_template.copy(quality_db, tmp_path / "callcenter.db")
    flask_app = create_app(settings, router=object(), redis=FakeRedis(), message_queue=False)
    flask_app.config["TESTING"] = True
    return flask_app


def login(app, name):
    client = app.test_client()
    uid = None
    if name is not None:
        with app.extensions["callcenter"].sessions() as s:
            uid = s.scalar(select(User.id).where(User.username == name))
    with client.session_transaction() as session:
        if uid is not None:
            session["uid"] = uid
            session["sess"] = login_guard.session_token(app.extensions["callcenter"].redis, uid)  # as a login does
        session["csrf"] = "token"  # an anonymous client with a token: refused for who it is, not for CSRF
    return client


def post(client, path, body):
    return client.post(path, json=body, headers={"X-CSRF-Token": "token"})


def card(app, category="query"):
    return quality_config.load(app.extensions["callcenter"].settings.home).cards[category]


def answers(app, category="query", **changes):
    full = {i.code: i.scale_max for i in card(app, category).items}
    return {**full, **changes}


def refused(reply, status, code):
    assert (reply.status_code, reply.get_json()["code"]) == (status, code), reply.get_json()
    return True


# ---------------------------------------------------------------- roles
NAME_OF = {"quality": "qa1"}
GET_ROUTES = [
    ("/quality", {"quality"}),
    ("/quality/scores", {"agent", "supervisor", "quality", "admin"}),
    ("/reports/quality", {"supervisor", "quality", "admin"}),
    ("/quality/calibrations", {"quality"}),
    ("/api/quality/worklist", {"quality"}),
    ("/api/quality/scores", {"agent", "supervisor", "quality", "admin"}),
    (f"/api/quality/calls/{MINE}", {"quality"}),
    ("/api/quality/calibrations", {"quality"}),
    ("/api/quality/kpis?dim=agent", {"supervisor", "quality", "admin"}),
]
POST_ROUTES = [  # refused before the body is read: the role decides
    ("/api/quality/sample", {"quality", "admin"}),
    (f"/api/quality/calls/{MINE}/score", {"quality"}),
    ("/api/quality/scores/1/appeal", {"agent"}),
    ("/api/quality/scores/1/decision", {"supervisor", "quality", "admin"}),
    ("/api/quality/calibrations", {"quality"}),
]


@pytest.mark.parametrize("role", [None, *ROLES])
def test_every_quality_route_is_open_only_to_its_roles(app, role):
    client = login(app, NAME_OF.get(role, role))
    for path, allowed in GET_ROUTES:
        reply = client.get(path)
        if role is None:
            assert reply.status_code in (302, 401), path
        elif role in allowed:
            assert reply.status_code == 200, f"{role} {path}: {reply.status_code}"
        else:
            assert refused(reply, 403, "FORBIDDEN") if path.startswith("/api/") else reply.status_code == 403
    for path, allowed in POST_ROUTES:
        reply = post(client, path, {})
        if role is None:
            assert refused(reply, 401, "UNAUTHORIZED")
        elif role not in allowed:
            assert refused(reply, 403, "FORBIDDEN"), f"{role} {path}"
        else:
            assert reply.status_code != 403 or reply.get_json()["code"] != "FORBIDDEN", f"{role} {path}"


def test_the_quality_roles_home_is_the_work_list(app):
    reply = login(app, "qa1").get("/")
    assert reply.status_code == 302 and reply.headers["Location"].endswith("/quality")


# ---------------------------------------------------------------- a score's life
def test_score_with_a_fatal_item_appeal_once_decide_then_locked(app):
    qa1, qa2, agent, agent2, lead = (login(app, n) for n in ("qa1", "qa2", "agent", "agent2", "supervisor"))
    reply = post(qa1, f"/api/quality/calls/{MINE}/score",
                 {"category": "query", "answers": answers(app, identity_checked=0)})
    assert reply.status_code == 201
    score = reply.get_json()
    assert (score["total"], score["grade"], score["fatal"], score["status"]) == (0.0, "fail", True, "scored")
    assert datetime.fromisoformat(score["scored_at"]).utcoffset() == timedelta(0)  # with its zone, for the page
    sid = score["id"]
    assert refused(post(qa1, f"/api/quality/calls/{MINE}/score", {"category": "query", "answers": answers(app)}),
                   409, "ALREADY_SCORED")
    assert post(qa1, f"/api/quality/scores/{sid}/comments", {"text": "no identity check", "at_s": 42}).status_code == 201
    assert refused(post(qa1, f"/api/quality/scores/{sid}/comments", {"text": "x", "at_s": -1}), 400, "BAD_COMMENT")
    assert refused(post(qa2, f"/api/quality/scores/{sid}/answers", {"answers": answers(app)}), 403,
                   "NOT_YOUR_SCORE")  # only the inspector who scored it corrects it

    # the agent sees their score and the comment at its time; another agent does not see it at all
    mine = agent.get(f"/api/quality/scores/{sid}").get_json()
    assert mine["comments"] == [{"author": "qa1", "at_s": 42, "text": "no identity check"}]
    assert [s["id"] for s in agent.get("/api/quality/scores").get_json()["scores"]] == [sid]
    assert agent2.get("/api/quality/scores").get_json()["scores"] == []
    assert refused(agent2.get(f"/api/quality/scores/{sid}"), 404, "NO_SUCH_SCORE")
    assert refused(post(agent2, f"/api/quality/scores/{sid}/appeal", {"reason": "not me"}), 404, "NO_SUCH_SCORE")
    assert lead.get(f"/api/quality/scores/{sid}").status_code == 200  # the agent's team lead
    assert refused(lead.get("/api/quality/scores?status=lost"), 400, "BAD_STATUS_FILTER")

    assert refused(post(agent, f"/api/quality/scores/{sid}/appeal", {"reason": " "}), 400, "BAD_APPEAL_REASON")
    appealed = post(agent, f"/api/quality/scores/{sid}/appeal", {"reason": "I checked it at 0:10"})
    assert appealed.status_code == 201 and appealed.get_json()["status"] == "appealed"
    assert refused(post(agent, f"/api/quality/scores/{sid}/appeal", {"reason": "again"}), 409, "ALREADY_APPEALED")
    assert [s["id"] for s in lead.get("/api/quality/scores?status=appealed").get_json()["scores"]] == [sid]
    assert refused(post(qa1, f"/api/quality/scores/{sid}/answers", {"answers": answers(app)}), 409, "SCORE_UNDER_APPEAL")
    assert refused(post(qa1, f"/api/quality/scores/{sid}/decision", {"outcome": "upheld"}), 403, "OWN_SCORE_DECISION")
    assert refused(post(lead, f"/api/quality/scores/{sid}/decision", {"outcome": "maybe"}), 400, "BAD_DECISION")

    decided = post(lead, f"/api/quality/scores/{sid}/decision",
                   {"outcome": "revised", "answers": answers(app), "note": "the recording shows the check"})
    body = decided.get_json()
    assert (body["status"], body["locked"], body["total"], body["appeal"]["outcome"]) == ("final", True, 100.0, "revised")
    assert body["appeal"]["total_before"] == 0.0

    # final: every change refused with the same code
    assert refused(post(qa1, f"/api/quality/scores/{sid}/answers", {"answers": answers(app)}), 409, "SCORE_LOCKED")
    assert refused(post(qa1, f"/api/quality/scores/{sid}/comments", {"text": "more"}), 409, "SCORE_LOCKED")
    assert refused(post(agent, f"/api/quality/scores/{sid}/appeal", {"reason": "again"}), 409, "SCORE_LOCKED")
    assert refused(post(qa2, f"/api/quality/scores/{sid}/decision", {"outcome": "upheld"}), 409, "SCORE_LOCKED")
    steps = qa1.get(f"/api/calls/{MINE}/journey").get_json()["steps"]  # the call's journey shows the score
    assert [st["detail"] for st in steps if st["kind"] == "quality_score"] == [
        {"total": 100.0, "grade": "excellent", "fatal": False, "status": "final"}]
    with app.extensions["callcenter"].sessions() as s:
        actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.target == MINE)))
    assert {"quality_score", "quality_appeal", "quality_appeal_decided", "view_quality_score"} <= actions


def test_a_lead_sees_and_decides_only_their_teams_scores(app):
    qa1, lead = login(app, "qa1"), login(app, "supervisor")
    sid = post(qa1, f"/api/quality/calls/{OTHERS}/score", {"category": "query", "answers": answers(app)}).get_json()["id"]
    assert lead.get("/api/quality/scores").get_json()["scores"] == []
    assert refused(lead.get(f"/api/quality/scores/{sid}"), 404, "NO_SUCH_SCORE")
    assert refused(post(lead, f"/api/quality/scores/{sid}/decision", {"outcome": "upheld"}), 404, "NO_SUCH_SCORE")


def test_only_the_listed_inspector_scores_a_call_and_answers_are_checked(app):
    qa1, qa2 = login(app, "qa1"), login(app, "qa2")
    assert refused(post(qa2, f"/api/quality/calls/{MINE}/score", {"category": "query", "answers": answers(app)}),
                   403, "NOT_YOUR_WORK_ITEM")
    assert refused(post(qa1, f"/api/quality/calls/{MINE}/score", {"category": "sales", "answers": {}}),
                   400, "UNKNOWN_SCORECARD")
    assert refused(post(qa1, f"/api/quality/calls/{MINE}/score", {"category": "query", "answers": {"greeting": 1}}),
                   400, "BAD_ANSWERS")
    assert refused(post(qa1, "/api/quality/calls/1764400000.9/score", {"category": "query", "answers": {}}),
                   404, "NO_SUCH_WORK_ITEM")
    assert refused(qa1.get("/api/quality/calls/1764400000.1;rm"), 400, "BAD_CALL_ID")


def test_a_score_keeps_the_card_version_it_was_made_with(app):
    qa1, lead, agent = login(app, "qa1"), login(app, "supervisor"), login(app, "agent")
    sid = post(qa1, f"/api/quality/calls/{MINE}/score", {"category": "query", "answers": answers(app)}).get_json()["id"]
    path = quality_config.config_file(app.extensions["callcenter"].settings.home)
    text = path.read_text()
    # version 2 of the query card: greeting now weighs 50
    start = text.index("[scorecards.query]")
    block = text[start:text.index("[scorecards.", start + 1)]
    path.write_text(text.replace(block, block.replace("version = 1", "version = 2")
                                 .replace('{code = "greeting", weight = 10}', '{code = "greeting", weight = 50}')))
    assert card(app).version == 2
    view = agent.get(f"/api/quality/scores/{sid}").get_json()
    assert (view["version"], view["card"]["sections"][0]["items"][0]["weight"]) == (1, 10)
    post(agent, f"/api/quality/scores/{sid}/appeal", {"reason": "greeting was fine"})
    revised = post(lead, f"/api/quality/scores/{sid}/decision", {"outcome": "revised", "answers": {
        **{i.code: i.scale_max for i in card(app).items}, "greeting": 0}}).get_json()
    assert (revised["version"], revised["total"]) == (1, 90.0)  # 10 of 100 lost on version 1; on version 2 it would be 50 of 140
    # a card changed without a new version is refused
    with app.extensions["callcenter"].sessions() as s:
        changed = parse("query", {**card(app).as_dict(), "version": 1, "sections": [
            {"code": "x", "items": [{"code": "y", "weight": 1}]}]})
        with pytest.raises(QualityError) as refused:
            card_row(s, changed)
        assert (refused.value.code, refused.value.status) == ("SCORECARD_CHANGED", 409)


# ---------------------------------------------------------------- sampling from stored calls
def test_sampling_lists_exactly_the_calls_the_rules_name_on_one_list(app, tmp_path):
    sessions = app.extensions["callcenter"].sessions
    t = MONDAY + timedelta(days=1)
    rows = {  # uniqueid: (number, what makes it picked)
        "s.plain": "13900000001", "s.complaint": "13900000002", "s.survey3": "13900000003", "s.survey1": "13900000004",
        "s.repeat": "13900000005", "s.transfer": "13900000006", "s.hold": "13900000007", "s.shorthold": "13900000008"}
    with sessions() as s:
        for i, (uid, number) in enumerate(rows.items()):
            s.add(Call(uniqueid=uid, caller_number=number, started_at=t + timedelta(minutes=i), answered_at=t,
                       ended_at=t + timedelta(minutes=30), agent_extension="1001",
                       survey_offered=uid.startswith("s.survey"), survey_answer={"s.survey3": 3, "s.survey1": 1}.get(uid)))
        s.add(Call(uniqueid="s.unanswered", caller_number="13900000010", started_at=t))  # nobody answered: nothing to score
        s.add(Call(uniqueid="s.again", caller_number="13900000005", started_at=t + timedelta(hours=47)))
        s.add(WorkOrder(number="261100009999", category="complaint_staff", call_uniqueid="s.complaint"))
        s.add(CallTransfer(call_uniqueid="s.transfer", from_extension="1001", to_skill="billing", at=t))
        for uid, seconds in (("s.hold", 61), ("s.shorthold", 40)):
            s.add(CallHold(call_uniqueid=uid, extension="1001", action="hold", at=t))
            s.add(CallHold(call_uniqueid=uid, extension="1001", action="resume", at=t + timedelta(seconds=seconds)))
        # a second hold of 40 s: 80 s in all, but no single hold over the limit
        s.add(CallHold(call_uniqueid="s.shorthold", extension="1001", action="hold", at=t + timedelta(minutes=2)))
        s.add(CallHold(call_uniqueid="s.shorthold", extension="1001", action="resume",
                       at=t + timedelta(minutes=2, seconds=40)))
        # s.left: the caller left the queue for a call back (nobody answered the call itself); agent
        # 1002 called them back. s.left_failed: called back, never reached: nothing to inspect
        for uid, status in (("s.left", "done"), ("s.left_failed", "failed")):
            s.add(Call(uniqueid=uid, caller_number="13900000020", started_at=t, end_reason="callback_requested"))
            s.add(CallbackRequest(number="13900000020", call_uniqueid=uid, reason="queue", status=status))
            s.add(RoutingDecision(call_uniqueid=uid, decided_at=t + timedelta(minutes=5), agent_extension="1002",
                                  skill="billing", service_class="normal", callback=True))
        s.commit()
    rules = quality_config.Sampling(share=0.0, seed="t")
    with sessions() as s:
        items = worklist.draw(s, WEEK, CENTER, rules, MONDAY)
        s.commit()
        picked = {i.call_uniqueid: tuple(i.reasons) for i in items}
        agents = {i.call_uniqueid: i.agent_extension for i in items}
        owners = {i.inspector for i in items}
    assert picked == {"s.complaint": ("complaint_order",), "s.survey3": ("low_survey",), "s.repeat": ("repeat_call",),
                      "s.transfer": ("transfer",), "s.hold": ("long_hold",), "s.left": ("callback",)}
    assert agents["s.left"] == "1002"  # the agent who called back
    assert owners <= {"qa1", "qa2"}
    with sessions() as s:  # drawn again: nothing new, nothing moved
        assert worklist.draw(s, WEEK, CENTER, rules, MONDAY) == []
    with sessions() as s:  # the database keeps a call off a second list
        s.add(QualityWorkItem(call_uniqueid="s.hold", agent_extension="1001", inspector="qa2", week=WEEK,
                              reasons=["random"], status="open", picked_at=MONDAY))
        with pytest.raises(IntegrityError):
            s.commit()


def test_sample_endpoint_checks_the_week(app):
    qa1 = login(app, "qa1")
    assert refused(post(qa1, "/api/quality/sample", {"week": "2026-48"}), 400, "BAD_WEEK")
    assert refused(post(qa1, "/api/quality/sample", {"week": "2026-W54"}), 400, "BAD_WEEK")
    reply = post(qa1, "/api/quality/sample", {"week": WEEK})
    assert reply.status_code == 201 and reply.get_json()["week"] == WEEK


# ---------------------------------------------------------------- calibration
def test_calibration_is_blind_until_scored_and_closes_to_a_reference(app):
    qa1, qa2 = login(app, "qa1"), login(app, "qa2")
    cal = post(qa1, "/api/quality/calibrations", {"call": MINE, "category": "query"}).get_json()
    path = f"/api/quality/calibrations/{cal['id']}"
    assert refused(post(qa2, "/api/quality/calibrations", {"call": MINE, "category": "query"}), 409,
                   "ALREADY_IN_CALIBRATION")
    post(qa1, path + "/score", {"answers": answers(app)})
    blind = qa2.get(path).get_json()
    assert (blind["scored_by"], blind["scores"], blind["spread"]) == (1, [], [])
    assert refused(post(qa1, path + "/close", {}), 409, "CALIBRATION_INCOMPLETE")
    seen = post(qa2, path + "/score", {"answers": answers(app, courtesy=3)}).get_json()
    spread = {r["item"]: r["spread"] for r in seen["spread"]}
    assert (spread["courtesy"], spread["greeting"], spread["total"]) == (0.4, 0.0, 6.0)
    closed = post(qa1, path + "/close", {}).get_json()
    assert closed["status"] == "closed" and closed["reference"]["courtesy"] == 3 and closed["reference_total"] == 94.0
    assert refused(post(qa2, path + "/score", {"answers": answers(app)}), 409, "CALIBRATION_CLOSED")


# ---------------------------------------------------------------- KPIs
def test_scores_feed_the_quality_kpis_and_the_operators_kpi_page(app):
    qa1, lead = login(app, "qa1"), login(app, "supervisor")
    post(qa1, f"/api/quality/calls/{MINE}/score", {"category": "query", "answers": answers(app, accurate_answer=0)})
    post(qa1, f"/api/quality/calls/{OTHERS}/score", {"category": "query", "answers": answers(app)})
    today = datetime.now(CENTER).date().isoformat()  # the center's day, as the period is cut
    period = f"from={today}&to={today}"
    rows = {r["key"]: r for r in qa1.get(f"/api/quality/kpis?dim=agent&{period}").get_json()["rows"]}
    assert (rows["1001"]["query_accuracy"], rows["1002"]["query_accuracy"]) == (0.0, 1.0)
    assert [r["key"] for r in lead.get(f"/api/quality/kpis?dim=agent&{period}").get_json()["rows"]] == ["1001"]
    assert refused(qa1.get(f"/api/quality/kpis?dim=planet&{period}"), 400, "BAD_REPORT_DIM")
    kpis = {k["code"]: k for k in lead.get(f"/api/kpi?{period}").get_json()["kpis"]}
    assert (kpis["query_accuracy"]["top"], kpis["query_accuracy"]["bottom"], kpis["query_accuracy"]["value"]) == (1, 2, 0.5)
    assert kpis["answer_overtime_rate"]["value"] == 0.0


def test_every_quality_code_has_words_in_both_languages():
    missing = [c for c in CODES if not all(STRINGS.get(f"error.{c}", {}).get(lang) for lang in ("zh", "en"))]
    assert missing == []


def test_the_cli_draws_a_week_into_the_work_lists(tmp_path, migrated_db, monkeypatch, capsys):
    from callcenter import cli
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        s.add(User(username="qa9", display_name="qa9", role="quality", password_hash="-"))
        s.add(Call(uniqueid="cli.1", caller_number="13900000001", started_at=MONDAY, answered_at=MONDAY,
                   agent_extension="1001"))
        s.add(CallTransfer(call_uniqueid="cli.1", from_extension="1001", to_skill="billing", at=MONDAY))
        s.commit()
    monkeypatch.setenv("CALLCENTER_HOME", str(tmp_path))
    assert cli.main(["quality", "sample", "--week", "2026-48"]) == 2
    assert "error BAD_WEEK" in capsys.readouterr().err
    assert cli.main(["quality", "sample", "--week", WEEK, "--json"]) == 0
    out = capsys.readouterr().out.strip().splitlines()[-1]
    assert json.loads(out) == {"week": WEEK, "listed": 1, "per_inspector": {"qa9": 1},
                                             "per_reason": {"random": 1, "transfer": 1}}
    assert cli.main(["quality", "sample", "--week", WEEK, "--json"]) == 0  # again: nothing new
    assert '"listed": 0' in capsys.readouterr().out
