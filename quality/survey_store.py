"""The post-call survey's writes: taking the day's one offer for a number, storing the answer, and
the team lead's follow-up when the caller was not satisfied. Over a session the caller commits.

The offer is taken before the question is played, as one insert into survey_offers (number, day
unique): of two calls from one number ending together, on any IVR process, one insert wins and
only that caller is asked. A caller who hangs up or keys nothing keeps survey_answer NULL: none,
never counted as a score.
"""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from callcenter import calls
from callcenter.models import Call, SurveyOffer, Team, User, WorkOrder, WorkOrderEvent
from callcenter.orders import lifecycle
from callcenter.work_orders import open_order
from quality.survey import ANSWERS, NOT_SATISFIED, SurveyRule, may_offer, offer_day

log = logging.getLogger("quality.survey")

FOLLOW_UP = "survey_followup"  # the work order type (callcenter/orders/types.py)
ACTOR = "survey"  # who opened the follow-up, on its timeline


def claim_offer(s: Session, uniqueid: str, number: str, now: datetime, rule: SurveyRule, zone: ZoneInfo) -> bool:
    """Whether this call's caller is asked now; if so, the offer is stored on the call and for the
    number's day. False for a withheld number, a call the share did not pick, a number already
    asked today, and a call already offered (the dialplan ran the survey twice: never ask again)."""
    if not may_offer(uniqueid, number, rule):
        return False
    try:
        with s.begin_nested():
            s.add(SurveyOffer(number=calls.fit(SurveyOffer.__table__.c.number, number), day=offer_day(now, zone),
                              call_uniqueid=uniqueid, offered_at=now))
    except IntegrityError:
        return False  # asked today already (on this call or another)
    calls.upsert_call(s, uniqueid, survey_offered=True, survey_offered_at=now)
    return True


def record_answer(s: Session, uniqueid: str, answer: int, now: datetime, home: Path | None = None) -> WorkOrder | None:
    """Store the caller's answer on an offered call (the first one stands); a "not satisfied"
    opens a follow-up order for the team lead of the agent who took the call. Returns it."""
    if answer not in ANSWERS.values():
        raise ValueError(f"a survey answer is 1, 2 or 3, not {answer!r}")
    call = s.scalar(select(Call).where(Call.uniqueid == uniqueid))
    if call is None or not call.survey_offered or call.survey_answer is not None:
        return None
    call.survey_answer, call.survey_answered_at = answer, now
    if answer != NOT_SATISFIED:
        return None
    return open_follow_up(s, call, now, home)


def team_lead(s: Session, extension: str | None) -> str | None:
    """The username of the supervisor who leads the agent's team, if the agent has one."""
    if not extension:
        return None
    agent, lead = aliased(User), aliased(User)
    return s.scalar(select(lead.username).join(Team, Team.supervisor_id == lead.id)
                    .join(agent, agent.team_id == Team.id)
                    .where(agent.agent_extension == extension, lead.active.is_(True)))


def open_follow_up(s: Session, call: Call, now: datetime, home: Path | None = None) -> WorkOrder:
    """A survey_followup order on the call, in the service-quality group's queue, assigned to the
    agent's team lead where there is one (their team's call: the lead calls the customer back)."""
    order, _ = open_order(s, now, category=FOLLOW_UP, customer_id=call.customer_id, caller_number=call.caller_number,
                          call_uniqueid=call.uniqueid, created_by=ACTOR, home=home,
                          description=f"Post-call survey: not satisfied (agent {call.agent_extension or '-'})")
    lead = team_lead(s, call.agent_extension)
    if lead is not None and order.status == lifecycle.NEW:
        # the lead is the agent's by the team, not by the order group's membership, so this is the
        # lifecycle's assign written here rather than store.act's (which asks for group members)
        before = order.status
        order.assignee, order.status = lead, lifecycle.next_status(before, "assign")
        s.add(WorkOrderEvent(order_id=order.id, at=now, actor=ACTOR, action="assign", from_status=before,
                             to_status=order.status, comment="",
                             detail={"group": order.group_code, "assignee": lead}))
    s.flush()
    log.info("survey on call %s: not satisfied; follow-up order %s for %s", call.uniqueid, order.number,
             lead or f"group {order.group_code}")
    return order
