"""Quality figures for a period, per agent, team, queue or the whole center. Pure over ScoreRows
(quality.kpis.load reads them). Over the scored (sampled) calls:

- average score and the count of each grade;
- query accuracy: scored query calls whose accuracy item was fully met, over scored query calls
  (the operator's "correct answers / sampled queries");
- answer overtime rate: scored calls whose answer-time item was missed, over scored calls that
  have such an item ("answers over the time limit / sampled answers");
- satisfaction: surveys answered 1 over surveys answered; response rate: answered over offered;
- appeals filed and their outcomes (upheld, revised, still open).
A figure without a denominator is None ("not available"), never 0.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.models import Call, QualityAppeal, QualityScore, QualityScorecard
from cdr.load import teams as team_of
from quality import survey
from quality.scoring import GRADES

DIMS = ("agent", "team", "queue", "center")


@dataclass(frozen=True)
class ScoreRow:
    agent: str
    team: str
    queue: str
    category: str
    total: float
    grade: str
    accuracy_met: bool | None  # None: the card has no accuracy item
    answer_overtime: bool | None  # None: no answer-time item
    appeal: str | None = None  # None, "open", "upheld", "revised"
    survey_offered: bool = False
    survey_answer: int | None = None


@dataclass
class _Acc:
    scores: list[float] = field(default_factory=list)
    grades: dict[str, int] = field(default_factory=lambda: {g: 0 for g in GRADES})
    queries: int = 0
    accurate: int = 0
    timed: int = 0
    overtime: int = 0
    offered: int = 0
    answered: int = 0
    satisfied: int = 0
    appeals: dict[str, int] = field(default_factory=lambda: {"open": 0, "upheld": 0, "revised": 0})


def _ratio(top: int, bottom: int) -> float | None:
    return round(top / bottom, 6) if bottom else None


def figures(rows: list[ScoreRow], dim: str) -> list[dict]:
    accs: dict[str, _Acc] = defaultdict(_Acc)
    for r in rows:
        acc = accs["all" if dim == "center" else getattr(r, dim)]
        acc.scores.append(r.total)
        acc.grades[r.grade] = acc.grades.get(r.grade, 0) + 1
        if r.category == "query" and r.accuracy_met is not None:
            acc.queries += 1
            acc.accurate += r.accuracy_met
        if r.answer_overtime is not None:
            acc.timed += 1
            acc.overtime += r.answer_overtime
        if r.survey_offered:
            acc.offered += 1
            if r.survey_answer is not None:
                acc.answered += 1
                acc.satisfied += r.survey_answer == 1
        if r.appeal:
            acc.appeals[r.appeal] += 1
    return [{"key": key, "scored": len(a.scores), "average": round(sum(a.scores) / len(a.scores), 1),
             "grades": a.grades, "query_accuracy": _ratio(a.accurate, a.queries), "accurate": a.accurate, "queries": a.queries,
             "answer_overtime_rate": _ratio(a.overtime, a.timed), "overtime": a.overtime, "timed": a.timed,
             "satisfaction": _ratio(a.satisfied, a.answered), "survey_response": _ratio(a.answered, a.offered),
             "appeals": sum(a.appeals.values()), "appeal_outcomes": a.appeals}
            for key, a in sorted(accs.items())]


def sampled(rows: list[ScoreRow]) -> dict[str, tuple[int, int]]:
    """The operator's two KPIs over sampled calls, as (top, bottom), for cdr.kpi.kpis."""
    total = figures(rows, "center")
    if not total:
        return {}
    t = total[0]
    return {"query_accuracy": (t["accurate"], t["queries"]), "answer_overtime_rate": (t["overtime"], t["timed"])}


def _tagged(card: dict, answers: dict, tag: str) -> bool | None:
    """Whether every item of the card with this KPI tag got full marks; None: no such item."""
    items = [i for s in card["sections"] for i in s["items"] if i.get("kpi") == tag]
    if not items:
        return None
    return all(answers.get(i["code"]) == i["scale_max"] for i in items)


def load(s: Session, start: datetime, end: datetime) -> list[ScoreRow]:
    """The scores made in [start, end), as rows."""
    found = s.execute(select(QualityScore, QualityScorecard.definition, Call.skill)
                      .join(QualityScorecard, QualityScorecard.id == QualityScore.scorecard_id)
                      .outerjoin(Call, Call.uniqueid == QualityScore.call_uniqueid)
                      .where(QualityScore.scored_at >= start, QualityScore.scored_at < end)).all()
    ids = [score.id for score, _card, _skill in found]
    appeals = {a.score_id: a.outcome or "open" for a in s.scalars(
        select(QualityAppeal).where(QualityAppeal.score_id.in_(ids)))}
    surveys = survey.answers(s, {score.call_uniqueid for score, _c, _k in found})
    teams = team_of(s)
    rows = []
    for score, card, skill in found:
        accuracy = _tagged(card, score.answers, "accuracy")
        in_time = _tagged(card, score.answers, "answer_time")
        offered, answer = surveys.get(score.call_uniqueid, (False, None))
        rows.append(ScoreRow(score.agent_extension, teams.get(score.agent_extension, ""), skill or "",
                             card["category"], score.total, score.grade, accuracy,
                             None if in_time is None else not in_time, appeals.get(score.id), offered, answer))
    return rows
