"""How long recordings are kept: ``<home>/retention.toml``, per category, never under 90 days.

A recording's category is the skill its call was served under (a complaint may be kept longer
than a bill query); a category the file does not name gets the default. The floor is the
center's promise (issue 11: kept at least 90 days), so a file asking for less is refused at
load with one clear line, never applied. Pure: the clock is passed in.

    default_days = 90
    [categories]
    complaint = 365
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

from callcenter.config import ConfigError, read_rules_file

MIN_DAYS = 90
MAX_DAYS = 3650 * 3  # thirty years: beyond is a typo
CATEGORY = re.compile(r"[a-z_]{1,32}")
DEFAULT_CATEGORY = "standard"
DEFAULT_FILE = "# How long call recordings are kept, in days (at least 90).\ndefault_days = 90\n\n[categories]\ncomplaint = 365\n"


def _days(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"retention: {name} must be a whole number of days, got {value!r}")
    if not MIN_DAYS <= value <= MAX_DAYS:
        raise ConfigError(f"retention: {name} = {value} days: recordings are kept {MIN_DAYS} to {MAX_DAYS} days")
    return value


@dataclass(frozen=True)
class RetentionRules:
    default_days: int = MIN_DAYS
    categories: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_mapping(cls, data: Mapping) -> "RetentionRules":
        unknown = set(data) - {"default_days", "categories"}
        if unknown:
            raise ConfigError(f"retention: unknown setting(s) {sorted(unknown)}")
        categories = data.get("categories", {})
        if not isinstance(categories, Mapping):
            raise ConfigError("retention: [categories] must be a table of category = days")
        for name in categories:
            if not CATEGORY.fullmatch(name):
                raise ConfigError(f"retention: category {name!r} must be lower-case letters and _")
        return cls(default_days=_days("default_days", data.get("default_days", MIN_DAYS)),
                   categories={name: _days(name, days) for name, days in categories.items()})

    def category_for(self, skill: str | None) -> str:
        return skill if skill and skill in self.categories else DEFAULT_CATEGORY

    def days_for(self, category: str) -> int:
        return self.categories.get(category, self.default_days)

    def retain_until(self, category: str, ended_at: datetime) -> datetime:
        return ended_at + timedelta(days=self.days_for(category))


def may_purge(retain_until: datetime, legal_hold: bool, now: datetime) -> bool:
    """A recording goes only after its date (never on it: the date is the last day kept whole,
    to the second) and never while a legal hold is on it."""
    return not legal_hold and now > retain_until


def rules_file(home: Path) -> Path:
    return home / "retention.toml"


def load(home: Path) -> RetentionRules:
    """The rules as the file says now (written with the defaults when there is none)."""
    return RetentionRules.from_mapping(read_rules_file(rules_file(home), DEFAULT_FILE))
