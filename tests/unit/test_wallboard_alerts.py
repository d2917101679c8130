"""Wallboard alerts, table-driven: queue figures and agent rows in, alerts out; each kind just at
its threshold (quiet) and just past it (alerting). Then the admin's thresholds: validated, stored,
audited, and empty meaning the default."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from agent_desktop import create_app
from agent_desktop.wallboard import AlertLimits, agent_limits, alerts
from callcenter import db
from callcenter.config import Settings
from callcenter.models import AuditEntry, QueueConfig, User
from tests import db_template
from tests.unit.test_sip_desktop import FakeRedis, FakeRouter, login, post_form

LIMITS = {"billing": AlertLimits(service_level_pct=80, wait_s=30, not_ready_min=10, on_call_min=20),
          "vip": AlertLimits(service_level_pct=90, wait_s=10, not_ready_min=5, on_call_min=30),
          "general": AlertLimits(service_level_pct=70, wait_s=60, not_ready_min=15, on_call_min=12)}


def queue(skill="billing", waiting=0, longest=0, level=None):
    return {"skill": skill, "waiting": waiting, "longest_wait_s": longest, "answered": 0, "abandoned": 0,
            "service_level": level}


def agent(ext="1001", state="ready", in_state_s=0):
    return {"ext": ext, "name": "", "state": state, "reason": None, "call": None, "in_state_s": in_state_s, "since": 0}


SKILLS = {"1001": {"billing"}, "1002": {"billing", "vip"}, "1003": set(), "1004": {"unconfigured"}}

CASES = [
    # (what, queues, agents, expected alerts)
    ("service level at target", [queue(level=80.0)], [], []),
    ("service level below target", [queue(level=79.9)], [],
     [{"code": "service_level_low", "queue": "billing", "value": 79.9, "threshold": 80}]),
    ("no calls yet: no service level", [queue(level=None)], [], []),
    ("caller waiting exactly the limit", [queue(waiting=1, longest=30)], [], []),
    ("caller waiting past the limit", [queue(waiting=2, longest=31)], [],
     [{"code": "caller_waiting_long", "queue": "billing", "value": 31, "threshold": 30}]),
    ("an unconfigured queue takes the general queue's", [queue("fax", waiting=1, longest=61, level=69.0)], [],
     [{"code": "service_level_low", "queue": "fax", "value": 69.0, "threshold": 70},
      {"code": "caller_waiting_long", "queue": "fax", "value": 61, "threshold": 60}]),
    ("not ready exactly the limit", [], [agent(state="not_ready", in_state_s=600)], []),
    ("not ready past the limit", [], [agent(state="not_ready", in_state_s=601)],
     [{"code": "not_ready_long", "ext": "1001", "value": 601, "threshold": 600}]),
    ("on call exactly the limit", [], [agent(state="on_call", in_state_s=1200)], []),
    ("on call past the limit", [], [agent(state="on_call", in_state_s=1201)],
     [{"code": "on_call_long", "ext": "1001", "value": 1201, "threshold": 1200}]),
    ("other states never alert", [], [agent(state=s, in_state_s=99999) for s in ("ready", "wrapup", "ringing")], []),
    ("the strictest of the agent's queues: vip's 5 min", [], [agent("1002", "not_ready", 301)],
     [{"code": "not_ready_long", "ext": "1002", "value": 301, "threshold": 300}]),
    ("the strictest of the agent's queues: billing's 20 min", [], [agent("1002", "on_call", 1201)],
     [{"code": "on_call_long", "ext": "1002", "value": 1201, "threshold": 1200}]),
    ("no skills: the general queue's", [], [agent("1003", "on_call", 721), agent("1004", "on_call", 720)],
     [{"code": "on_call_long", "ext": "1003", "value": 721, "threshold": 720}]),
    ("queues first, then agents by extension",
     [queue(level=50.0)], [agent("1003", "not_ready", 901), agent("1001", "not_ready", 601)],
     [{"code": "service_level_low", "queue": "billing", "value": 50.0, "threshold": 80},
      {"code": "not_ready_long", "ext": "1001", "value": 601, "threshold": 600},
      {"code": "not_ready_long", "ext": "1003", "value": 901, "threshold": 900}]),
]


@pytest.mark.parametrize("what, queues, agents, expected", CASES, ids=[c[0] for c in CASES])
def test_alerts(what, queues, agents, expected):
    assert alerts(queues, agents, LIMITS, SKILLS) == expected


def test_without_any_configured_queue_the_defaults_apply():
    assert agent_limits({"billing"}, {}) == AlertLimits()
    found = alerts([queue(waiting=1, longest=61, level=79.0)], [agent(state="not_ready", in_state_s=15 * 60 + 1)], {}, {})
    assert [(a["code"], a["threshold"]) for a in found] == [
        ("service_level_low", 80), ("caller_waiting_long", 60), ("not_ready_long", 900)]


def test_unset_columns_take_the_defaults():
    q = QueueConfig(skill="billing", alert_wait_s=45)
    assert AlertLimits.of(q) == AlertLimits(wait_s=45)


# ---- the admin screen ----
@pytest.fixture
def admin_app(tmp_path, migrated_template):
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path)})
    db_template.copy(migrated_template, tmp_path / "callcenter.db")
    sessions = db.session_factory(settings.database_url)
    with sessions() as s:
        user = User(username="admin", display_name="Admin", role="admin", language="en")
        user.set_password("secret-admin")
        s.add(user)
        s.commit()
    app = create_app(settings, router=FakeRouter(), redis=FakeRedis(), message_queue=False)
    app.config["TESTING"] = True
    return app, sessions


BASE = {"skill": "billing", "ring_time_s": "15", "wrapup_s": "10", "service_level_s": "20", "overflow": "",
        "no_answer_limit": "1"}


def test_admin_saves_alert_thresholds_and_audits_them(admin_app):
    app, sessions = admin_app
    client = login(app, "admin")
    reply = post_form(client, "/admin/queues", {**BASE, "alert_service_level_pct": "85", "alert_wait_s": "45",
                                                 "alert_not_ready_min": "", "alert_on_call_min": "12"})
    assert reply.status_code == 302
    with sessions() as s:
        q = s.get(QueueConfig, "billing")
        assert (q.alert_service_level_pct, q.alert_wait_s, q.alert_not_ready_min, q.alert_on_call_min) == (85, 45, None, 12)
        detail = s.scalar(select(AuditEntry.detail).where(AuditEntry.action == "save_queue"))
    assert "alert_wait_s 45" in detail and "alert_not_ready_min -" in detail
    page = client.get("/admin/").get_data(as_text=True)
    assert "85 % · 45 seconds" in page and "15 / 12 min" in page  # the unset one shows its default


@pytest.mark.parametrize("field, value", [
    ("alert_service_level_pct", "0"), ("alert_service_level_pct", "101"), ("alert_wait_s", "-5"),
    ("alert_wait_s", "3601"), ("alert_not_ready_min", "1.5"), ("alert_on_call_min", "481"),
    ("alert_on_call_min", "١٢"),  # Arabic-Indic digits: isdigit() but not ours
    ("alert_wait_s", "9" * 200)])
def test_admin_refuses_bad_thresholds(admin_app, field, value):
    app, sessions = admin_app
    client = login(app, "admin")
    reply = post_form(client, "/admin/queues", {**BASE, field: value})
    assert reply.status_code == 400
    assert "BAD_NUMBER" in reply.get_data(as_text=True) or field in reply.get_data(as_text=True)
    with sessions() as s:
        assert s.get(QueueConfig, "billing") is None
