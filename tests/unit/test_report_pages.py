"""The report, KPI, staffing and call-journey screens on the real Flask app and a real SQLite
database: who may open what (table-driven, every role and an anonymous client), which rows a
supervisor sees, every journey and call list audited, the CSV export carrying the page's
figures, refusals with stable codes, and words for every code in both languages."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import select

from agent_desktop import create_app
from agent_desktop.i18n import STRINGS
from agent_desktop.reports import number_text
from callcenter import db
from callcenter.config import Settings
from callcenter.models import AgentStateLog, AuditEntry, Call, Team, User
from cdr.journey import KINDS
from cdr.kpi import NEEDS_QUALITY
from cdr.report import FIGURES
from tests.unit import report_tables as t
from agent_desktop import login_guard
from tests.unit.session_redis import SessionRedis  # login throttle, session tokens (issue 15)

ROLES = ("agent", "supervisor", "quality", "backoffice", "admin")
MINE, OTHERS = "1795900000.1", "1795900000.2"
DAY = t.DAY.isoformat()
PERIOD = f"from={DAY}&to={DAY}"


@dataclass
class FakeRedis(SessionRedis):
    hashes: dict = field(default_factory=dict)

    def hgetall(self, key):
        return {}

    def smembers(self, key):
        return set()


@pytest.fixture
def app(tmp_path, migrated_db):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    sessions = db.session_factory(migrated_db)
    with sessions() as s:
        users = {}
        for role in ROLES:
            user = User(username=role, display_name=role.title(), role=role, language="en",
                        agent_extension="1001" if role == "agent" else None)
            user.password_hash = "x"
            s.add(user)
            users[role] = user
        other = User(username="agent2", display_name="Agent Two", role="agent", agent_extension="1002", password_hash="x")
        s.add(other)
        s.flush()
        team = Team(name="=red", supervisor_id=users["supervisor"].id)  # a name a spreadsheet would run
        s.add(team)
        s.flush()
        users["agent"].team_id = team.id
        # MINE: 1001 answered after 10 s, talked 120 s, wrapped 10 s; OTHERS: 1002, after 30 s
        for uid, ext, start in ((MINE, "1001", "08:00:00"), (OTHERS, "1002", "09:00:00")):
            at = t.at(start)
            wait = 10 if ext == "1001" else 30
            s.add(Call(uniqueid=uid, started_at=at, queued_at=at + timedelta(seconds=5), skill="billing",
                       answered_at=at + timedelta(seconds=5 + wait), ended_at=at + timedelta(seconds=125 + wait),
                       end_reason="agent_hangup", access_number="10000", caller_number="13800000001",
                       agent_extension=ext))
            for i, (state, offset, call) in enumerate((("ready", -60, None), ("ringing", 3 + wait, uid),
                                                       ("on_call", 5 + wait, uid), ("wrapup", 125 + wait, uid),
                                                       ("ready", 135 + wait, None))):
                s.add(AgentStateLog(stream_id=f"{uid}-{i}", extension=ext, state=state, call_uniqueid=call,
                                    started_at=at + timedelta(seconds=offset)))
        s.commit()
    flask_app = create_app(settings, router=object(), redis=FakeRedis(), message_queue=False)
    flask_app.config["TESTING"] = True
    return flask_app


def login(app, role):
    client = app.test_client()
    if role is None:
        return client
    with app.extensions["callcenter"].sessions() as s:
        uid = s.scalar(select(User.id).where(User.username == role))
    with client.session_transaction() as session:  # the login form is tested elsewhere; scrypt is slow
        session["uid"] = uid
        session["sess"] = login_guard.session_token(app.extensions["callcenter"].redis, uid)  # as a login does
        session["csrf"] = "token"
    return client


LEADS, READERS = {"supervisor", "admin"}, {"agent", "supervisor", "quality", "admin"}  # inspectors: all calls
ROUTES = [
    ("/reports", LEADS), (f"/api/reports?dim=queue&size=hour&{PERIOD}", LEADS),
    (f"/api/reports.csv?dim=agent&size=day&{PERIOD}", LEADS),
    ("/reports/kpi", LEADS), (f"/api/kpi?{PERIOD}", LEADS),
    ("/reports/staffing", LEADS), ("/api/staffing?days=7", LEADS),
    ("/calls", READERS), (f"/api/calls?day={DAY}", READERS), (f"/calls/{MINE}", READERS),
    (f"/api/calls/{MINE}/journey", READERS),
    (f"/api/calls/{OTHERS}/journey", {"admin", "quality"}),  # 1002 is in no team of this supervisor's
]


ROLE_OF = {"agent2": "agent"}
# object checks: agent2 took OTHERS, not MINE
EXCEPTIONS = {("agent2", f"/api/calls/{MINE}/journey"): False, ("agent2", f"/api/calls/{OTHERS}/journey"): True}


@pytest.mark.parametrize("user", [None, *ROLES, "agent2"])
def test_every_report_route_is_open_only_to_its_roles(app, user):
    client = login(app, user)
    for path, allowed in ROUTES:
        reply = client.get(path)
        wanted = EXCEPTIONS.get((user, path), ROLE_OF.get(user, user) in allowed)
        assert (reply.status_code == 200) == wanted, f"{user} {path}: {reply.status_code}"
        if user is None and path.startswith("/api/"):
            assert reply.status_code == 401
        if not wanted and user is not None and path.endswith("/journey") and ROLE_OF.get(user, user) in READERS:
            assert (reply.status_code, reply.get_json()["code"]) == (404, "NO_SUCH_CALL")  # says nothing more


def test_a_supervisor_sees_their_teams_agents_and_all_queues(app):
    client = login(app, "supervisor")
    agents = client.get(f"/api/reports?dim=agent&size=day&{PERIOD}").get_json()
    assert [r["key"] for r in agents["rows"]] == ["1001"] and agents["names"] == {"1001": "Agent"}
    queues = client.get(f"/api/reports?dim=queue&size=day&{PERIOD}").get_json()
    (row,) = queues["rows"]
    # both calls; waits 10 and 30 s: one within billing's default 20 s
    assert (row["key"], row["offered"], row["answered"], row["service_level"], row["asa"]) == ("billing", 2, 2, 0.5, 20)
    assert row["satisfaction"] is None  # no survey data: not available
    calls = login(app, "supervisor").get(f"/api/calls?day={DAY}").get_json()["calls"]
    assert [c["uniqueid"] for c in calls] == [MINE]


def test_the_csv_carries_the_figures_of_the_page(app):
    client = login(app, "admin")
    data = client.get(f"/api/reports?dim=team&size=hour&{PERIOD}").get_json()
    # as the page links it: the figures as they stood when the page got them (a state still runs)
    reply = client.get(f"/api/reports.csv?dim=team&size=hour&{PERIOD}&as_of={data['as_of']}")
    assert reply.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in reply.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(reply.get_data(as_text=True).lstrip("\ufeff"))))
    codes = [c["code"] for c in data["columns"]]
    assert rows[0] == ["interval", "team", *codes]
    assert len(rows) - 1 == len(data["rows"])  # a row per team and hour its agents were logged in
    for line, row in zip(rows[1:], data["rows"]):
        assert line[0] == row["interval"]
        assert line[1] == ("'" + row["key"] if row["key"].startswith("=") else row["key"])  # not a formula
        assert line[2:] == ["n/a" if row[c] is None else number_text(row[c]) for c in codes]
    answered = {(line[0], line[1]): line[2 + codes.index("answered")] for line in rows[1:]}
    assert answered[("2026-11-23 08:00", "'=red")] == "1" and answered[("2026-11-23 09:00", "")] == "1"


def test_every_journey_and_call_list_is_audited(app):
    client = login(app, "agent")
    assert client.get(f"/api/calls/{MINE}/journey").status_code == 200
    assert client.get(f"/api/calls?day={DAY}&number=13800000001").status_code == 200
    assert client.get(f"/api/calls/{OTHERS}/journey").status_code == 404
    with app.extensions["callcenter"].sessions() as s:
        rows = [(a.actor, a.action, a.target) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert rows == [("agent", "view_journey", MINE), ("agent", "list_calls", DAY)]  # a refusal shows nothing


def test_a_journey_as_the_page_gets_it(app):
    steps = login(app, "supervisor").get(f"/api/calls/{MINE}/journey").get_json()["steps"]
    assert [(s["kind"], s["agent"]) for s in steps] == [
        ("entered", None), ("queued", None), ("ringing", "1001"), ("answered", "1001"), ("ended", None),
        ("wrapup", "1001"), ("wrapup_ended", "1001")]


@pytest.mark.parametrize("path,code", [
    (f"/api/reports?dim=nope&{PERIOD}", "BAD_REPORT_DIM"),
    (f"/api/reports?size=5min&{PERIOD}", "BAD_INTERVAL"),
    ("/api/reports?from=2026-13-01&to=2026-13-01", "BAD_DATE"),
    ("/api/reports?from=2026-11-23%0a&to=2026-11-23", "BAD_DATE"),
    ("/api/reports?from=2026-11-24&to=2026-11-23", "BAD_PERIOD"),
    ("/api/reports?size=15min&from=2026-01-01&to=2026-11-23", "BAD_PERIOD"),
    (f"/api/reports?short=%D9%A3&{PERIOD}", "BAD_NUMBER"),  # an Arabic-Indic digit
    (f"/api/reports.csv?as_of=1&{PERIOD}", "BAD_NUMBER"),  # not a way back in time
    ("/api/staffing?size=day", "BAD_INTERVAL"),
    ("/api/kpi?limit=0", "BAD_NUMBER"),
    ("/api/calls?number=138;drop", "BAD_NUMBER_FILTER"),
    ("/api/calls/..%2f..%2fetc/journey", "NOT_FOUND"),
    ("/api/calls/a%20b/journey", "BAD_CALL_ID"),
])
def test_bad_queries_are_refused_with_a_code_in_words(app, path, code):
    reply = login(app, "admin").get(path)
    assert reply.status_code in (400, 404) and reply.get_json()["code"] == code, reply.get_json()
    assert "{" not in reply.get_json()["message"]


def test_every_code_the_screens_show_has_words_in_both_languages():
    keys = [f"figure.{f.code}" for f in FIGURES if "." not in f.code]
    keys += [k + ".def" for k in keys] + ["figure.state", "figure.not_ready", "figure.state.def", "figure.not_ready.def"]
    keys += [f"kpi.{c}" for c in ("answer_time_limit", "connect_rate", "availability", "satisfaction",
                                  "acceptance_reply", *NEEDS_QUALITY)]
    keys += [f"journey.{k}" for k in KINDS if k not in ("menu",)] + ["journey.menu"]
    keys += [f"dim.{d}" for d in ("all", "queue", "access", "agent", "team")]
    keys += [f"size.{s}" for s in ("15min", "30min", "hour", "day", "period")]
    for key in keys:
        assert key in STRINGS and STRINGS[key].get("en") and STRINGS[key].get("zh"), key


def test_pages_load_the_report_script_and_the_vendored_chart(app):
    page = login(app, "admin").get("/reports").get_data(as_text=True)
    assert re.search(r'src="/static/vendor/chart\.umd\.min\.js"', page) and "reports.js" in page


@pytest.mark.parametrize("value,text", [(0, "0"), (0.0, "0"), (360.0, "360"), (44.6, "44.6"), (0.012715, "0.012715"),
                                        (1e-06, "0.000001"), (2 / 3, "0.666667"), ("=red", "=red")])
def test_numbers_are_written_as_the_page_writes_them(value, text):
    assert number_text(value) == text  # reports.js valueText: no exponent, no trailing ".0"
