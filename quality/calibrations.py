"""Calibration sessions in the database. Blind: an inspector sees the others' answers only once
they have sent their own, and everyone sees them when the session is closed; closing takes the
reference answers (quality.calibration.reference) and keeps them as the call's reference."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.models import QualityCalibration, QualityCalibrationScore, QualityScorecard
from quality import calibration, scoring
from quality.config import QualityConfig
from quality.errors import QualityError
from quality.scores import card_row
from quality.scorecards import CATEGORIES, from_dict


def start(s: Session, cfg: QualityConfig, uniqueid: str, category: object, who: str, now: datetime) -> QualityCalibration:
    if category not in cfg.cards:
        raise QualityError("UNKNOWN_SCORECARD", choices=", ".join(CATEGORIES))
    if s.scalar(select(QualityCalibration.id).where(QualityCalibration.call_uniqueid == uniqueid,
                                                    QualityCalibration.status == "open")) is not None:
        raise QualityError("ALREADY_IN_CALIBRATION")
    row = QualityCalibration(call_uniqueid=uniqueid, scorecard_id=card_row(s, cfg.cards[category]).id,
                             created_by=who, status="open", created_at=now)
    s.add(row)
    s.flush()
    return row


def _card(s: Session, cal: QualityCalibration):
    return from_dict(s.get(QualityScorecard, cal.scorecard_id).definition)


def submit(s: Session, cfg: QualityConfig, cal: QualityCalibration, answers: object, who: str,
           now: datetime) -> QualityCalibrationScore:
    if cal.status != "open":
        raise QualityError("CALIBRATION_CLOSED")
    card = _card(s, cal)
    result = scoring.score(card, answers, cfg.bands)
    row = s.scalar(select(QualityCalibrationScore).where(QualityCalibrationScore.calibration_id == cal.id,
                                                         QualityCalibrationScore.inspector == who))
    if row is None:
        row = QualityCalibrationScore(calibration_id=cal.id, inspector=who)
        s.add(row)
    row.answers, row.total, row.scored_at = scoring.check_answers(card, answers), result.total, now
    return row


def close(s: Session, cfg: QualityConfig, cal: QualityCalibration) -> None:
    if cal.status != "open":
        raise QualityError("CALIBRATION_CLOSED")
    rows = _rows(s, cal)
    if len(rows) < 2:
        raise QualityError("CALIBRATION_INCOMPLETE")
    card = _card(s, cal)
    cal.reference = calibration.reference(card, [r.answers for r in rows])
    cal.reference_total = scoring.score(card, cal.reference, cfg.bands).total
    cal.status = "closed"


def _rows(s: Session, cal: QualityCalibration) -> list[QualityCalibrationScore]:
    return list(s.scalars(select(QualityCalibrationScore).where(QualityCalibrationScore.calibration_id == cal.id)
                          .order_by(QualityCalibrationScore.inspector)))


def view(s: Session, cal: QualityCalibration, who: str) -> dict:
    card, rows = _card(s, cal), _rows(s, cal)
    mine = next((r for r in rows if r.inspector == who), None)
    open_book = cal.status == "closed" or mine is not None  # blind until you have scored
    return {"id": cal.id, "call": cal.call_uniqueid, "status": cal.status, "card": card.as_dict(),
            "scored_by": len(rows), "mine": mine.answers if mine else None,
            "scores": [{"inspector": r.inspector, "answers": r.answers, "total": r.total} for r in rows]
            if open_book else [],
            "spread": [asdict(x) for x in calibration.spreads(card, [r.answers for r in rows], [r.total for r in rows])]
            if open_book else [],
            "reference": cal.reference, "reference_total": cal.reference_total}
