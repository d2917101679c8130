"""A call's score from its scorecard and the inspector's answers. Pure.

Each item earns weight x answer / max (a yes is 1 of 1, a 4 on a 1..5 scale 4 of 5); the total
is the points earned over all the card's weights, times 100, rounded to one decimal. A fatal
item answered "no" makes the total 0 whatever the rest says (a wrong tariff quoted, a customer's
data read to the wrong caller). The grade is the first band whose floor the total reaches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from quality.errors import QualityError
from quality.scorecards import Scorecard

#: (floor, grade), highest first: 95+ excellent, 90-95 good, 80-90 pass, below 80 fail
DEFAULT_BANDS: tuple[tuple[float, str], ...] = ((95.0, "excellent"), (90.0, "good"), (80.0, "pass"), (0.0, "fail"))
GRADES = ("excellent", "good", "pass", "fail")


@dataclass(frozen=True)
class Result:
    total: float
    grade: str
    fatal_missed: tuple[str, ...]  # the fatal items answered no
    points: dict[str, float]  # item -> points earned


def check_answers(card: Scorecard, answers: object) -> dict[str, int]:
    """Every item of the card answered, each within its range (yes/no: 1/0; a scale: 0..max), and
    nothing else: else BAD_ANSWERS naming the first item at fault."""
    if not isinstance(answers, Mapping):
        raise QualityError("BAD_ANSWERS", item="-")
    unknown = sorted(set(answers) - {i.code for i in card.items})
    if unknown:
        raise QualityError("BAD_ANSWERS", item=str(unknown[0])[:40])
    clean = {}
    for item in card.items:
        value = answers.get(item.code)
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or not 0 <= value <= item.scale_max:
            raise QualityError("BAD_ANSWERS", item=item.code)
        clean[item.code] = value
    return clean


def grade(total: float, bands: tuple[tuple[float, str], ...] = DEFAULT_BANDS) -> str:
    for floor, name in bands:
        if total >= floor:
            return name
    return bands[-1][1]


def score(card: Scorecard, answers: object, bands: tuple[tuple[float, str], ...] = DEFAULT_BANDS) -> Result:
    clean = check_answers(card, answers)
    points = {i.code: i.weight * clean[i.code] / i.scale_max for i in card.items}
    fatal = tuple(i.code for i in card.items if i.fatal and clean[i.code] == 0)
    total = 0.0 if fatal else round(100 * sum(points.values()) / sum(i.weight for i in card.items), 1)
    return Result(total, grade(total, bands), fatal, points)
