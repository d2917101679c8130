"""Quality inspection's JSON API (issue 13): the inspector's work list, scoring beside the call,
comments at a time in the recording, the agent's scores and appeals, the decision, calibration
and the quality KPIs. The rules live in quality/ (pure, with their refusal codes); this module
says who may ask (role on the route, the object here) and audits every view of a call's score.

Who sees which score: an inspector or an admin every one, an agent their own, a team lead their
teams' agents'. A score the asker may not see answers 404 NO_SUCH_SCORE, as one that does not
exist (the answer says nothing about other people's scores).
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, request
from sqlalchemy import func, select

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.journeys import audit
from agent_desktop.reports import _period, int_arg, sort_args, zone
from agent_desktop.views import call_id, json_body
from agent_desktop.wallboard import visible_agents
from callcenter.models import (Call, QualityCalibration, QualityScore, QualityWorkItem, Team, User)
from cdr.periods import Period
from quality import calibrations, kpis, scores, worklist
from quality import config as quality_config
from quality.appeals import Asker
from quality.errors import QualityError

bp = Blueprint("quality_api", __name__)

INSPECTORS = ("quality",)
SCORE_READERS = ("agent", "supervisor", "quality", "admin")
DECIDERS = ("supervisor", "quality", "admin")
KPI_READERS = ("supervisor", "quality", "admin")


def cfg() -> quality_config.QualityConfig:
    return quality_config.load(desktop().settings.home)


def now() -> datetime:
    return datetime.now(timezone.utc)


def asker(s, user: User) -> Asker:
    lead_of = frozenset(visible_agents(s, user)) if user.role == "supervisor" else frozenset()
    return Asker(user.username, user.role, user.agent_extension, lead_of)


def may_see(s, user: User, agent_ext: str) -> bool:
    if user.role in ("quality", "admin"):
        return True
    if user.role == "agent":
        return bool(user.agent_extension) and user.agent_extension == agent_ext
    return agent_ext in visible_agents(s, user)


def score_for(s, user: User, score_id: int) -> QualityScore:
    score = s.get(QualityScore, score_id)
    if score is None or not may_see(s, user, score.agent_extension):
        raise QualityError("NO_SUCH_SCORE")
    return score


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value).isoformat()


# ---------------------------------------------------------------- the work list
@bp.get("/api/quality/worklist")
@require(*INSPECTORS)
def work_list():
    user = current_user()
    with desktop().sessions() as s:
        rows = s.execute(select(QualityWorkItem, Call.started_at, Call.skill, QualityScore.id, QualityScore.total,
                                QualityScore.grade)
                         .outerjoin(Call, Call.uniqueid == QualityWorkItem.call_uniqueid)
                         .outerjoin(QualityScore, QualityScore.call_uniqueid == QualityWorkItem.call_uniqueid)
                         .where(QualityWorkItem.inspector == user.username)
                         .order_by(QualityWorkItem.status, QualityWorkItem.picked_at.desc(), QualityWorkItem.id)
                         .limit(500)).all()
        return {"items": [{"call": w.call_uniqueid, "agent": w.agent_extension, "week": w.week, "reasons": w.reasons,
                           "status": w.status, "started_at": _iso(started), "queue": skill or "",
                           "score_id": sid, "total": total, "grade": grade}
                          for w, started, skill, sid, total, grade in rows]}


@bp.post("/api/quality/sample")
@require("quality", "admin")
def draw_sample():
    body = json_body()
    week = body.get("week") or worklist.week_of(now().astimezone(zone()).date() - timedelta(days=7))
    user = current_user()
    with desktop().sessions() as s:
        items = worklist.draw(s, week, zone(), cfg().sampling, now())
        audit(s, "quality_sample", week if isinstance(week, str) else "-", f"{len(items)} call(s) listed")
        s.commit()
        mine = sum(1 for i in items if i.inspector == user.username)
        return {"week": week, "listed": len(items), "mine": mine}, 201


# ---------------------------------------------------------------- one call, scored
@bp.get("/api/quality/calls/<uniqueid>")
@require(*INSPECTORS)
def call_for_scoring(uniqueid: str):
    """What the scoring screen needs: why the call was picked, the cards, the score if any. Opening
    it is a view of the call, for the reason "quality inspection": audited."""
    uniqueid, c = call_id(uniqueid), cfg()
    with desktop().sessions() as s:
        item = s.scalar(select(QualityWorkItem).where(QualityWorkItem.call_uniqueid == uniqueid))
        if item is None:
            raise QualityError("NO_SUCH_WORK_ITEM")
        call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
        score = s.scalar(select(QualityScore).where(QualityScore.call_uniqueid == uniqueid))
        audit(s, "view_quality_call", uniqueid, "reason=quality_inspection")
        s.commit()
        return {"call": uniqueid, "agent": item.agent_extension, "inspector": item.inspector, "reasons": item.reasons,
                "mine": item.inspector == current_user().username, "queue": call.skill if call else "",
                "started_at": _iso(call.started_at) if call else None,
                "suggested": suggest_category(call.skill if call else None),
                "cards": {k: v.as_dict() for k, v in c.cards.items()},
                "score": scores.view(s, c, score, now()) if score else None}


def suggest_category(skill: str | None) -> str:
    """The scorecard the call's queue suggests; the inspector may choose another."""
    return {"complaint": "complaint", "fault": "fault", "consult": "consultation", "billing": "query",
            "business": "acceptance"}.get(skill or "", "query")


@bp.post("/api/quality/calls/<uniqueid>/score")
@require(*INSPECTORS)
def score_call(uniqueid: str):
    uniqueid, body, c = call_id(uniqueid), json_body(), cfg()
    with desktop().sessions() as s:
        item = s.scalar(select(QualityWorkItem).where(QualityWorkItem.call_uniqueid == uniqueid))
        if item is None:
            raise QualityError("NO_SUCH_WORK_ITEM")
        score = scores.create(s, c, item, body.get("category"), body.get("answers"), asker(s, current_user()), now())
        audit(s, "quality_score", uniqueid, f"score {score.id}: {score.total} {score.grade}")
        s.commit()
        return scores.view(s, c, score, now()), 201


@bp.post("/api/quality/scores/<int:score_id>/answers")
@require(*INSPECTORS)
def correct_score(score_id: int):
    body, c = json_body(), cfg()
    with desktop().sessions() as s:
        score = score_for(s, current_user(), score_id)
        scores.correct(s, c, score, body.get("answers"), asker(s, current_user()), now())
        audit(s, "quality_score_corrected", score.call_uniqueid, f"score {score.id}: {score.total} {score.grade}")
        s.commit()
        return scores.view(s, c, score, now())


@bp.post("/api/quality/scores/<int:score_id>/comments")
@require(*INSPECTORS)
def comment(score_id: int):
    body, c = json_body(), cfg()
    with desktop().sessions() as s:
        score = score_for(s, current_user(), score_id)
        scores.comment(s, c, score, body.get("text"), body.get("at_s"), asker(s, current_user()), now())
        s.commit()
        return scores.view(s, c, score, now()), 201


# ---------------------------------------------------------------- scores: read, appeal, decide
# a sort is a key of SCORE_SORTS, never a column named by the request (else BAD_SORT, as the
# recordings search and the order queue); a page is at most MAX_PER_PAGE scores
SCORE_SORTS = {"scored": QualityScore.scored_at, "total": QualityScore.total, "agent": QualityScore.agent_extension,
               "status": QualityScore.status}
PER_PAGE, MAX_PER_PAGE, MAX_PAGE = 25, 100, 10000


def _list_args() -> dict:
    status = request.args.get("status", "")
    if status and status not in ("scored", "appealed", "final"):
        raise ApiError("BAD_STATUS_FILTER")
    sort, direction = sort_args(SCORE_SORTS, "scored")
    return {"status": status, "sort": sort, "dir": direction, "page": int_arg("page", 1, 1, MAX_PAGE),
            "per_page": int_arg("per_page", PER_PAGE, 1, MAX_PER_PAGE)}


@bp.get("/api/quality/scores")
@require(*SCORE_READERS)
def score_list():
    """The scores the asker may see (an agent's own, a lead's teams', all others'), a page at a
    time, newest first unless sorted otherwise (ties: newest id first, so pages never overlap)."""
    user, c = current_user(), cfg()
    f = _list_args()
    column = SCORE_SORTS[f["sort"]]
    with desktop().sessions() as s:
        query = select(QualityScore)
        if user.role == "agent":
            query = query.where(QualityScore.agent_extension == (user.agent_extension or ""))
        elif user.role == "supervisor":
            query = query.where(QualityScore.agent_extension.in_(set(visible_agents(s, user)) or {""}))
        if f["status"]:
            query = query.where(QualityScore.status == f["status"])
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        found = s.scalars(query.order_by(column.asc() if f["dir"] == "asc" else column.desc(), QualityScore.id.desc())
                          .offset((f["page"] - 1) * f["per_page"]).limit(f["per_page"])).all()
        audit(s, "list_quality_scores", user.role,
              f"page {f['page']} sort {f['sort']} {f['dir']}: {len(found)} of {total} score(s)")
        s.commit()
        t = now()
        return {"total": total, **{k: f[k] for k in ("page", "per_page", "sort", "dir")},
                "scores": [{k: v for k, v in scores.view(s, c, x, t).items() if k not in ("card", "comments")}
                           for x in found]}


@bp.get("/api/quality/scores/<int:score_id>")
@require(*SCORE_READERS)
def score_detail(score_id: int):
    c = cfg()
    with desktop().sessions() as s:
        score = score_for(s, current_user(), score_id)
        audit(s, "view_quality_score", score.call_uniqueid, f"score {score.id}")
        s.commit()
        return scores.view(s, c, score, now())


@bp.post("/api/quality/scores/<int:score_id>/appeal")
@require("agent")
def appeal(score_id: int):
    body, c = json_body(), cfg()
    with desktop().sessions() as s:
        score = score_for(s, current_user(), score_id)
        scores.appeal(s, c, score, body.get("reason"), asker(s, current_user()), now())
        audit(s, "quality_appeal", score.call_uniqueid, f"score {score.id}")
        s.commit()
        return scores.view(s, c, score, now()), 201


@bp.post("/api/quality/scores/<int:score_id>/decision")
@require(*DECIDERS)
def decide(score_id: int):
    body, c = json_body(), cfg()
    with desktop().sessions() as s:
        score = score_for(s, current_user(), score_id)
        row = scores.decide(s, c, score, body.get("outcome"), body.get("answers"), body.get("note", ""),
                            asker(s, current_user()), now())
        audit(s, "quality_appeal_decided", score.call_uniqueid, f"score {score.id}: {row.outcome}, {score.total}")
        s.commit()
        return scores.view(s, c, score, now())


# ---------------------------------------------------------------- calibration
def calibration_for(s, cal_id: int) -> QualityCalibration:
    cal = s.get(QualityCalibration, cal_id)
    if cal is None:
        raise QualityError("NO_SUCH_CALIBRATION")
    return cal


@bp.post("/api/quality/calibrations")
@require(*INSPECTORS)
def start_calibration():
    body, c = json_body(), cfg()
    uniqueid = call_id(body.get("call"))
    with desktop().sessions() as s:
        if s.scalar(select(Call.id).where(Call.uniqueid == uniqueid)) is None:
            raise ApiError("NO_SUCH_CALL", 404)
        cal = calibrations.start(s, c, uniqueid, body.get("category"), current_user().username, now())
        audit(s, "quality_calibration", uniqueid, f"calibration {cal.id}")
        s.commit()
        return calibrations.view(s, cal, current_user().username), 201


@bp.get("/api/quality/calibrations")
@require(*INSPECTORS)
def calibration_list():
    with desktop().sessions() as s:
        rows = s.scalars(select(QualityCalibration).order_by(QualityCalibration.id.desc()).limit(100)).all()
        return {"calibrations": [{"id": r.id, "call": r.call_uniqueid, "status": r.status,
                                  "reference_total": r.reference_total} for r in rows]}


@bp.get("/api/quality/calibrations/<int:cal_id>")
@require(*INSPECTORS)
def calibration_detail(cal_id: int):
    with desktop().sessions() as s:
        return calibrations.view(s, calibration_for(s, cal_id), current_user().username)


@bp.post("/api/quality/calibrations/<int:cal_id>/score")
@require(*INSPECTORS)
def calibration_score(cal_id: int):
    body, c = json_body(), cfg()
    with desktop().sessions() as s:
        cal = calibration_for(s, cal_id)
        calibrations.submit(s, c, cal, body.get("answers"), current_user().username, now())
        s.commit()
        return calibrations.view(s, cal, current_user().username)


@bp.post("/api/quality/calibrations/<int:cal_id>/close")
@require(*INSPECTORS)
def calibration_close(cal_id: int):
    c = cfg()
    with desktop().sessions() as s:
        cal = calibration_for(s, cal_id)
        calibrations.close(s, c, cal)
        s.commit()
        return calibrations.view(s, cal, current_user().username)


# ---------------------------------------------------------------- KPIs
@bp.get("/api/quality/kpis")
@require(*KPI_READERS)
def quality_kpis():
    """Quality figures for the chosen days, per agent, team, queue or the center. A team lead's
    agent and team rows are their own teams' only; queues and the center are over the scores of
    every agent, as the other reports show them."""
    dim = request.args.get("dim", "agent")
    if dim not in kpis.DIMS:
        raise ApiError("BAD_REPORT_DIM", choices=", ".join(kpis.DIMS))
    first, last = _period()
    period = Period.local_days(first, last, zone())
    user = current_user()
    with desktop().sessions() as s:
        rows = kpis.load(s, period.start, period.end)
        if user.role == "supervisor" and dim in ("agent", "team"):
            agents = set(visible_agents(s, user))
            teams = set(s.scalars(select(Team.name).where(Team.supervisor_id == user.id)))
            rows = [r for r in rows if (r.agent in agents if dim == "agent" else r.team in teams)]
    return {"dim": dim, "from": first.isoformat(), "to": last.isoformat(), "rows": kpis.figures(rows, dim)}
