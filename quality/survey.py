"""The post-call survey's rules (pure): which calls are offered it, and what a key means.

When the agent hangs up first, the caller stays on for one question ("1 satisfied, 2 acceptable,
3 not satisfied"). It is offered on a share of calls, picked by the call's id with a seed, so a
given seed picks the same calls every time (a test, a replay, an audit of who was asked); and
never twice on one of the center's days to the same number, so nobody is asked after every call.
A withheld number is not offered it: once a day could not be kept for it.

``<home>/survey.toml`` holds the share and the seed, written with the defaults on first use and
read at every call, like business_hours.toml, so the operator changes them while the center runs.
The storing side is quality/survey_store.py; the voice side ivr/survey.py. What quality's
sampling and KPIs read is here: ``survey_answer(call)`` and ``answers(session, uniqueids)``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.config import ConfigError, read_rules_file
from callcenter.models import Call

SATISFIED, ACCEPTABLE, NOT_SATISFIED = 1, 2, 3
ANSWERS = {"1": SATISFIED, "2": ACCEPTABLE, "3": NOT_SATISFIED}  # the key a caller presses -> answer

DEFAULT_FILE = """# The post-call survey (quality/survey.py), read at every call: edit while running.
share = 1.0          # the share of calls whose agent hung up first that are offered it, 0 to 1
seed = "survey"      # which calls the share picks: the same seed picks the same calls
"""


@dataclass(frozen=True)
class SurveyRule:
    share: float = 1.0
    seed: str = "survey"

    def __post_init__(self):
        if isinstance(self.share, bool) or not isinstance(self.share, (int, float)) or not 0 <= self.share <= 1:
            raise ConfigError(f"survey.toml: share must be a number from 0 to 1, not {self.share!r}")
        if not isinstance(self.seed, str) or not 0 < len(self.seed) <= 64:
            raise ConfigError("survey.toml: seed must be a text of 1 to 64 characters")

    @classmethod
    def load(cls, home: Path) -> "SurveyRule":
        data = read_rules_file(survey_file(home), DEFAULT_FILE)
        unknown = set(data) - {"share", "seed"}
        if unknown:
            raise ConfigError(f"survey.toml: unknown setting(s) {sorted(unknown)}")
        return cls(data.get("share", 1.0), data.get("seed", "survey"))


def survey_file(home: Path) -> Path:
    return home / "survey.toml"


def in_share(uniqueid: str, rule: SurveyRule) -> bool:
    """Whether the share picks this call: a hash of the seed and the call's id, read as a number
    in [0, 1). Stable for a seed (Python's hash() is salted per process, so not that)."""
    digest = hashlib.sha256(f"{rule.seed}\x00{uniqueid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2 ** 64 < rule.share


def offer_day(now: datetime, zone: ZoneInfo) -> date:
    """The center's own day (its time zone, not UTC) that ``now`` falls in: "once a day" is the
    day the caller lives in, which in Beijing starts at 16:00 UTC."""
    return now.astimezone(zone).date()


def may_offer(uniqueid: str, number: str, rule: SurveyRule) -> bool:
    """The part of the decision that needs no database: a number to count by, and the share.
    Whether the number was already asked today is the store's (one unique row a day)."""
    return bool(number) and in_share(uniqueid, rule)


def answer_for(key: str) -> int | None:
    """The answer a pressed key gives; None for any other key (asked again) or none."""
    return ANSWERS.get(key)


# ---------------------------------------------------------------- reading (sampling, KPIs, journey)
def survey_answer(call: Call) -> int | None:
    """The caller's answer on this call: 1, 2 or 3; None when not offered or not answered."""
    return call.survey_answer if call.survey_offered else None


def answers(s: Session, uniqueids) -> dict[str, tuple[bool, int | None]]:
    """uniqueid -> (offered, answer) for the calls that were offered the survey; a call missing
    here was not offered it. An offered call with no answer reads (True, None): none, not a score."""
    ids = list(uniqueids)
    found: dict[str, tuple[bool, int | None]] = {}
    for start in range(0, len(ids), 500):  # SQLite allows so many bound parameters in one IN
        rows = s.execute(select(Call.uniqueid, Call.survey_answer).where(
            Call.uniqueid.in_(ids[start:start + 500]), Call.survey_offered.is_(True)))
        found.update({uid: (True, answer) for uid, answer in rows})
    return found
