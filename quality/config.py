"""Quality inspection's settings and scorecards: ``<home>/quality.toml`` (written with these
defaults on first use; read on every use, like callbacks.toml, so edit it while running).
A changed scorecard needs its ``version`` raised: scores keep the card they were made with."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from callcenter.config import ConfigError, read_rules_file
from quality import scorecards
from quality.scorecards import Scorecard
from quality.scoring import DEFAULT_BANDS, GRADES

DEFAULT_FILE = """# Quality inspection (quality/config.py). Read on every use: edit while running.
[grades]          # the lowest total of each grade; below the last: fail
excellent = 95
good = 90
pass = 80

[sampling]
share = 0.05               # of each agent's answered calls per week, drawn at random
seed = "callcenter"        # same seed, week and calls: the same draw (reproducible)
hold_over_s = 60           # a call with one hold longer than this is sampled
low_survey = [3]           # survey answers that sample the call (3: not satisfied)
repeat_hours = 48          # the same number calling again within this is sampled
draw_week = "previous"     # the scheduled draw (desktop push process): "previous" week, "current" or "off"
draw_weekday = 1           # it runs once a week, on this day (1 Monday .. 7 Sunday) ...
draw_hour = 2              # ... at or after this hour, on the center's clock

[appeals]
days = 7                   # an agent may appeal a score within this many days of it

# Scorecards per call category. kind: yesno (default) or scale (0..max); fatal: a "no" scores
# the call 0; kpi: accuracy (query accuracy) or answer_time (answer overtime rate).
""" + "".join(f"""
[scorecards.{category}]
version = 1
[[scorecards.{category}.sections]]
code = "opening"
items = [{{code = "greeting", weight = 10}}, {{code = "identity_checked", weight = 10, fatal = true}}]
[[scorecards.{category}.sections]]
code = "handling"
items = [{{code = "accurate_answer", weight = 40, kpi = "accuracy"}},
         {{code = "answered_in_time", weight = 15, kpi = "answer_time"}},
         {{code = "courtesy", weight = 15, kind = "scale", max = 5}},
         {{code = "no_false_promise", weight = 0, fatal = true}}]
[[scorecards.{category}.sections]]
code = "closing"
items = [{{code = "work_recorded", weight = 10}}]
""" for category in scorecards.CATEGORIES)


@dataclass(frozen=True)
class Sampling:
    share: float = 0.05
    seed: str = "callcenter"
    hold_over_s: int = 60
    low_survey: tuple[int, ...] = (3,)
    repeat_hours: int = 48
    draw_week: str = "previous"  # quality.sample_job: which week the scheduled draw takes, or "off"
    draw_weekday: int = 1  # ISO: 1 Monday .. 7 Sunday
    draw_hour: int = 2


@dataclass(frozen=True)
class QualityConfig:
    bands: tuple[tuple[float, str], ...] = DEFAULT_BANDS
    sampling: Sampling = Sampling()
    appeal_days: int = 7
    cards: Mapping[str, Scorecard] = None  # category -> the current card

    @classmethod
    def from_mapping(cls, data: Mapping) -> QualityConfig:
        unknown = set(data) - {"grades", "sampling", "appeals", "scorecards"}
        if unknown:
            raise ConfigError(f"quality.toml: unknown section(s) {sorted(unknown)}")
        grades = data.get("grades", {})
        defaults = {g: f for f, g in DEFAULT_BANDS}
        floors = [grades.get(g, defaults[g]) for g in GRADES[:-1]]
        if not all(isinstance(f, (int, float)) and not isinstance(f, bool) and 0 < f <= 100 for f in floors) \
                or floors != sorted(floors, reverse=True) or len(set(floors)) != len(floors):
            raise ConfigError("quality.toml: grades must be numbers 1..100, excellent > good > pass")
        bands = (*((float(f), g) for f, g in zip(floors, GRADES)), (0.0, "fail"))
        raw = data.get("sampling", {})
        sampling = Sampling(raw.get("share", 0.05), raw.get("seed", "callcenter"), raw.get("hold_over_s", 60),
                            tuple(raw.get("low_survey", (3,))), raw.get("repeat_hours", 48),
                            raw.get("draw_week", "previous"), raw.get("draw_weekday", 1), raw.get("draw_hour", 2))
        if not (isinstance(sampling.share, (int, float)) and 0 <= sampling.share <= 1):
            raise ConfigError("quality.toml: sampling.share must be 0..1")
        if not isinstance(sampling.seed, str) or not isinstance(sampling.hold_over_s, int) \
                or not isinstance(sampling.repeat_hours, int) or sampling.repeat_hours < 1:
            raise ConfigError("quality.toml: sampling.seed is text; hold_over_s, repeat_hours whole numbers")
        if sampling.draw_week not in ("previous", "current", "off") \
                or sampling.draw_weekday not in range(1, 8) or sampling.draw_hour not in range(24) \
                or isinstance(sampling.draw_weekday, bool) or isinstance(sampling.draw_hour, bool):
            raise ConfigError("quality.toml: sampling.draw_week is previous, current or off; "
                              "draw_weekday 1..7; draw_hour 0..23")
        if not all(a in (1, 2, 3) for a in sampling.low_survey):
            raise ConfigError("quality.toml: sampling.low_survey holds survey answers 1..3")
        days = data.get("appeals", {}).get("days", 7)
        if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= 90:
            raise ConfigError("quality.toml: appeals.days must be 1..90")
        cards = {c: scorecards.parse(c, raw) for c, raw in data.get("scorecards", {}).items()}
        missing = set(scorecards.CATEGORIES) - set(cards)
        if missing:
            raise ConfigError(f"quality.toml: no scorecard for {sorted(missing)}")
        return cls(bands, sampling, days, cards)


def config_file(home: Path) -> Path:
    return home / "quality.toml"


def load(home: Path) -> QualityConfig:
    return QualityConfig.from_mapping(read_rules_file(config_file(home), DEFAULT_FILE))
