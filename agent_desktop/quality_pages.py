"""Quality inspection's pages (issue 13): the inspector's work list (the quality role's home), the
scoring screen beside the call's recording and journey, the scores list (an agent's own, a lead's
teams'), one score with its appeal, and the quality report. The data comes from quality_api's
JSON; these only name the roles and hand the page its ids."""
from __future__ import annotations

from flask import Blueprint

from agent_desktop.auth import current_user, require
from agent_desktop.reports import today
from agent_desktop.views import call_id, page
from quality import kpis, scorecards

bp = Blueprint("quality_pages", __name__)


@bp.get("/quality")
@require("quality")
def work_list_page():
    return page("quality_worklist.html")


@bp.get("/quality/calls/<uniqueid>")
@require("quality")
def scoring_page(uniqueid: str):
    return page("quality_call.html", data={"call": call_id(uniqueid)})


@bp.get("/quality/scores")
@require("agent", "supervisor", "quality", "admin")
def scores_page():
    from agent_desktop.quality_api import MAX_PER_PAGE, PER_PAGE, SCORE_SORTS
    return page("quality_scores.html", data={"sorts": list(SCORE_SORTS), "per_page": PER_PAGE,
                                             "max_per_page": MAX_PER_PAGE})


@bp.get("/quality/scores/<int:score_id>")
@require("agent", "supervisor", "quality", "admin")
def score_page(score_id: int):
    user = current_user()  # which forms the page offers (the API decides again)
    return page("quality_score.html", data={"score": score_id, "role": user.role, "me": user.username})


@bp.get("/quality/calibrations")
@require("quality")
def calibrations_page():
    return page("quality_calibrations.html", data={"categories": list(scorecards.CATEGORIES)})


@bp.get("/quality/calibrations/<int:cal_id>")
@require("quality")
def calibration_page(cal_id: int):
    return page("quality_calibration.html", data={"calibration": cal_id})


@bp.get("/reports/quality")
@require("supervisor", "quality", "admin")
def report_page():
    return page("quality_report.html", data={"today": today().isoformat(), "dims": list(kpis.DIMS)})
