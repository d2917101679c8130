"""The operator's KPIs for a period, each a fraction with its own numerator and denominator kept,
so the page shows "412 / 450" beside "91.6 %". Pure. Definitions (issue 14; the page writes
each beside its figure, agent_desktop.i18n "kpi.<code>.def"):

- answer_time_limit: calls answered by an agent within the limit, counted from the call reaching
  the center (entering, before the menu) to the answer, over the calls offered to agents (short
  abandons left out). Every other offered call is "rang too long unanswered" (``over_limit``).
- connect_rate: calls answered by an agent or finished in self-service (the menu ended them:
  EndReason.IVR_ENDED), over every call that reached the center.
- availability: time every service was up over the time observed (cdr.availability).
- satisfaction: surveys answered "1 satisfied" over surveys answered.
- acceptance_reply: business-acceptance orders (family "business") opened in the period and
  replied to by their reply deadline, over those replied to or past their deadline.
- answer_overtime_rate and query_accuracy: over sampled calls, from quality inspection's scores
  (quality/kpis.py counts them; handed in as ``sampled``); with no scored call, not available.
A KPI with no denominator, or no data source, has value None: "not available".
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cdr.availability import Availability
from cdr.call_facts import CallFact
from cdr.periods import utc

DEFAULT_ANSWER_LIMIT_S = 15
BUSINESS = "business"


@dataclass(frozen=True)
class Kpi:
    code: str
    top: float | None
    bottom: float | None
    unit: str = "count"  # what top and bottom count: calls, orders, seconds
    extra: tuple[tuple[str, float], ...] = ()  # more counts shown beside it (over_limit)

    @property
    def value(self) -> float | None:
        return self.top / self.bottom if self.top is not None and self.bottom else None


@dataclass(frozen=True)
class OrderRow:
    family: str
    created_at: datetime
    reply_due_at: datetime | None
    replied_at: datetime | None


def answer_time_limit(facts: list[CallFact], limit_s: float) -> Kpi:
    offered = [f for f in facts if f.offered and not f.short_abandon]
    limit = timedelta(seconds=limit_s)
    within = sum(1 for f in offered
                 if f.answered and f.answer_wait_from_entry is not None and f.answer_wait_from_entry <= limit)
    return Kpi("answer_time_limit", within, len(offered), extra=(("over_limit", len(offered) - within),))


def connect_rate(facts: list[CallFact]) -> Kpi:
    connected = sum(1 for f in facts if f.answered or f.self_service)
    return Kpi("connect_rate", connected, len(facts))


def availability_kpi(found: Availability) -> Kpi:
    return Kpi("availability", found.up_s, found.observed_s or None, unit="seconds")


def satisfaction(facts: list[CallFact], surveys_exist: bool) -> Kpi:
    if not surveys_exist:
        return Kpi("satisfaction", None, None)
    answered = [f for f in facts if f.survey_answer is not None]
    return Kpi("satisfaction", sum(1 for f in answered if f.survey_answer == 1), len(answered))


def acceptance_reply(orders: list[OrderRow], now: datetime) -> Kpi:
    now = utc(now)
    known = [o for o in orders if o.family == BUSINESS and o.reply_due_at is not None
             and (o.replied_at is not None or utc(o.reply_due_at) <= now)]
    on_time = sum(1 for o in known if o.replied_at is not None and utc(o.replied_at) <= utc(o.reply_due_at))
    return Kpi("acceptance_reply", on_time, len(known), unit="orders")


#: KPIs over sampled calls, from quality inspection's scores (issue 13)
NEEDS_QUALITY = ("answer_overtime_rate", "query_accuracy")


def kpis(facts: list[CallFact], *, limit_s: float, found: Availability, orders: list[OrderRow], now: datetime,
         surveys_exist: bool = False, sampled: dict[str, tuple[int, int]] | None = None) -> list[Kpi]:
    """Every KPI, in the order the page shows them. ``sampled``: code -> (top, bottom) of the
    KPIs over sampled calls (quality.kpis); a bottom of 0 reads "not available"."""
    sampled = sampled or {}
    return [
        answer_time_limit(facts, limit_s),
        *(Kpi(code, *sampled.get(code, (None, None)), unit="calls") for code in NEEDS_QUALITY),
        connect_rate(facts),
        availability_kpi(found),
        satisfaction(facts, surveys_exist),
        acceptance_reply(orders, now),
    ]
