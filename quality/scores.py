"""Scores in the database: made from a work-list entry, corrected, commented, appealed, decided.
The rules are quality.appeals' (pure); this module reads and writes the rows. The caller commits."""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.models import QualityAppeal, QualityComment, QualityScore, QualityScorecard, QualityWorkItem
from cdr.periods import utc  # SQLite gives naive UTC back: the API writes it with its zone
from quality import appeals, scorecards, scoring
from quality.appeals import Asker, ScoreFacts
from quality.config import QualityConfig
from quality.errors import QualityError

log = logging.getLogger(__name__)

COMMENT_LIMIT = 1000
MAX_RECORDING_S = 6 * 3600


def card_row(s: Session, card: scorecards.Scorecard) -> QualityScorecard:
    """The stored row of this card and version, added on first use. A card changed without a new
    version number is refused: old scores would no longer say what they were scored on."""
    row = s.scalar(select(QualityScorecard).where(QualityScorecard.category == card.category,
                                                  QualityScorecard.version == card.version))
    if row is None:
        row = QualityScorecard(category=card.category, version=card.version, digest=card.digest(),
                               definition=card.as_dict())
        s.add(row)
        s.flush()
    elif row.digest != card.digest():
        # the operator's mistake, not the inspector's: logged for them, a stable refusal for the page
        log.error("quality.toml: scorecard %s changed without a new version (version %s is already in use)",
                  card.category, card.version)
        raise QualityError("SCORECARD_CHANGED", category=card.category, version=card.version)
    return row


def facts(s: Session, score: QualityScore) -> ScoreFacts:
    appealed = s.scalar(select(QualityAppeal.id).where(QualityAppeal.score_id == score.id)) is not None
    return ScoreFacts(score.status, score.inspector, score.agent_extension, score.scored_at, appealed)


def card_of(s: Session, score: QualityScore) -> scorecards.Scorecard:
    return scorecards.from_dict(s.get(QualityScorecard, score.scorecard_id).definition)


def create(s: Session, cfg: QualityConfig, item: QualityWorkItem, category: object, answers: object,
           who: Asker, now: datetime) -> QualityScore:
    if item.inspector != who.username:
        raise QualityError("NOT_YOUR_WORK_ITEM")
    if category not in cfg.cards:
        raise QualityError("UNKNOWN_SCORECARD", choices=", ".join(scorecards.CATEGORIES))
    if s.scalar(select(QualityScore.id).where(QualityScore.call_uniqueid == item.call_uniqueid)) is not None:
        raise QualityError("ALREADY_SCORED")
    card = cfg.cards[category]
    result = scoring.score(card, answers, cfg.bands)
    score = QualityScore(call_uniqueid=item.call_uniqueid, agent_extension=item.agent_extension,
                         inspector=who.username, scorecard_id=card_row(s, card).id,
                         answers=scoring.check_answers(card, answers), total=result.total, grade=result.grade,
                         fatal=bool(result.fatal_missed), status="scored", scored_at=now, updated_at=now)
    s.add(score)
    item.status = "scored"
    s.flush()
    return score


def _rescore(s: Session, cfg: QualityConfig, score: QualityScore, answers: object, now: datetime) -> None:
    """New answers on the card the score was made with (its version kept), today's grade bands."""
    card = card_of(s, score)
    result = scoring.score(card, answers, cfg.bands)
    score.answers, score.total, score.grade = scoring.check_answers(card, answers), result.total, result.grade
    score.fatal, score.updated_at = bool(result.fatal_missed), now


def correct(s: Session, cfg: QualityConfig, score: QualityScore, answers: object, who: Asker,
            now: datetime) -> None:
    appeals.check_change(facts(s, score), who, now, cfg.appeal_days)
    _rescore(s, cfg, score, answers, now)


def comment(s: Session, cfg: QualityConfig, score: QualityScore, text: object, at_s: object, who: Asker,
            now: datetime) -> QualityComment:
    appeals.check_change(facts(s, score), who, now, cfg.appeal_days)
    if not isinstance(text, str) or not text.strip() or len(text) > COMMENT_LIMIT:
        raise QualityError("BAD_COMMENT", limit=COMMENT_LIMIT)
    if at_s is not None and (not isinstance(at_s, int) or isinstance(at_s, bool) or not 0 <= at_s <= MAX_RECORDING_S):
        raise QualityError("BAD_COMMENT", limit=COMMENT_LIMIT)
    row = QualityComment(score_id=score.id, author=who.username, at_s=at_s, text=text.strip(), created_at=now)
    s.add(row)
    return row


def appeal(s: Session, cfg: QualityConfig, score: QualityScore, reason: object, who: Asker,
           now: datetime) -> QualityAppeal:
    clean = appeals.check_appeal(facts(s, score), who, now, cfg.appeal_days, reason)
    row = QualityAppeal(score_id=score.id, filed_by=who.username, reason=clean, filed_at=now, total_before=score.total)
    s.add(row)
    score.status, score.updated_at = "appealed", now
    return row


def decide(s: Session, cfg: QualityConfig, score: QualityScore, outcome: object, answers: object, note: object,
           who: Asker, now: datetime) -> QualityAppeal:
    appeals.check_decide(facts(s, score), who, outcome)
    if not isinstance(note, str) or len(note) > COMMENT_LIMIT:
        raise QualityError("BAD_COMMENT", limit=COMMENT_LIMIT)
    if outcome == "revised":
        _rescore(s, cfg, score, answers, now)
    row = s.scalar(select(QualityAppeal).where(QualityAppeal.score_id == score.id))
    row.outcome, row.decided_by, row.decided_at, row.note = outcome, who.username, now, note.strip()
    score.status, score.updated_at = "final", now
    return row


def view(s: Session, cfg: QualityConfig, score: QualityScore, now: datetime) -> dict:
    """A score as the pages show it: the card it was made with, answers, comments, the appeal."""
    card = card_of(s, score)
    fact = facts(s, score)
    appeal_row = s.scalar(select(QualityAppeal).where(QualityAppeal.score_id == score.id))
    comments = s.scalars(select(QualityComment).where(QualityComment.score_id == score.id)
                         .order_by(QualityComment.at_s.is_(None), QualityComment.at_s, QualityComment.id))
    return {
        "id": score.id, "call": score.call_uniqueid, "agent": score.agent_extension, "inspector": score.inspector,
        "category": card.category, "version": card.version, "card": card.as_dict(), "answers": score.answers,
        "total": score.total, "grade": score.grade, "fatal": score.fatal, "status": score.status,
        "locked": appeals.is_final(fact, now, cfg.appeal_days), "scored_at": utc(score.scored_at).isoformat(),
        "comments": [{"author": c.author, "at_s": c.at_s, "text": c.text} for c in comments],
        "appeal": None if appeal_row is None else {
            "by": appeal_row.filed_by, "reason": appeal_row.reason, "filed_at": utc(appeal_row.filed_at).isoformat(),
            "total_before": appeal_row.total_before, "outcome": appeal_row.outcome,
            "decided_by": appeal_row.decided_by, "note": appeal_row.note},
    }
