"""Scorecards: per call category, sections of weighted items, each answered yes/no or on a
scale; a fatal item missed scores the whole call 0. Pure (parsed from quality.toml's mapping).

A card carries an explicit ``version``. A score stores the card it was made with (its row in
quality_scorecards: category, version and the card itself as JSON), so a later edit of
quality.toml never changes an old score; the store refuses a changed card under an old version
number (quality.store.card_row), so "version 3" always means one card.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Mapping

from callcenter.config import ConfigError

CATEGORIES = ("query", "consultation", "acceptance", "complaint", "fault", "outbound")
KINDS = ("yesno", "scale")
#: KPI tags an item may carry: query accuracy and answer overtime are counted over them (quality.kpis)
KPI_TAGS = ("accuracy", "answer_time")
CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")


@dataclass(frozen=True)
class Item:
    code: str
    weight: int
    kind: str = "yesno"
    scale_max: int = 1  # a yes/no item is a scale of 0..1
    fatal: bool = False
    kpi: str = ""


@dataclass(frozen=True)
class Section:
    code: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Scorecard:
    category: str
    version: int
    sections: tuple[Section, ...]

    @property
    def items(self) -> tuple[Item, ...]:
        return tuple(i for s in self.sections for i in s.items)

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    def as_dict(self) -> dict:
        return asdict(self)

    def digest(self) -> str:
        """What the card says, so one version number names one card."""
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:32]


def _item(raw: Mapping, where: str) -> Item:
    code = raw.get("code")
    if not isinstance(code, str) or not CODE.fullmatch(code):
        raise ConfigError(f"quality.toml: {where}: item code must be lower-case letters, digits, _")
    weight, kind = raw.get("weight"), raw.get("kind", "yesno")
    # weight 0: a fatal-only item (it earns nothing, but a "no" still scores the call 0)
    if not isinstance(weight, int) or isinstance(weight, bool) or not 0 <= weight <= 100 \
            or (weight == 0 and raw.get("fatal") is not True):
        raise ConfigError(f"quality.toml: {where}.{code}: weight must be a whole number 1..100 (0: fatal only)")
    if kind not in KINDS:
        raise ConfigError(f"quality.toml: {where}.{code}: kind must be one of {', '.join(KINDS)}")
    scale_max = raw.get("max", 1 if kind == "yesno" else 5)
    if kind == "scale" and (not isinstance(scale_max, int) or not 2 <= scale_max <= 10):
        raise ConfigError(f"quality.toml: {where}.{code}: max must be 2..10")
    fatal = raw.get("fatal", False)
    if fatal is not False and (fatal is not True or kind != "yesno"):
        raise ConfigError(f"quality.toml: {where}.{code}: only a yes/no item can be fatal (true/false)")
    kpi = raw.get("kpi", "")
    if kpi and kpi not in KPI_TAGS:
        raise ConfigError(f"quality.toml: {where}.{code}: kpi must be one of {', '.join(KPI_TAGS)}")
    return Item(code, weight, kind, 1 if kind == "yesno" else scale_max, fatal, kpi)


def parse(category: str, raw: Mapping) -> Scorecard:
    if category not in CATEGORIES:
        raise ConfigError(f"quality.toml: unknown scorecard category {category!r}")
    version = raw.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ConfigError(f"quality.toml: scorecards.{category}: version must be a whole number >= 1")
    sections = []
    for raw_section in raw.get("sections", []):
        code = raw_section.get("code")
        if not isinstance(code, str) or not CODE.fullmatch(code):
            raise ConfigError(f"quality.toml: scorecards.{category}: section code must be lower-case letters")
        items = tuple(_item(i, f"scorecards.{category}.{code}") for i in raw_section.get("items", []))
        if not items:
            raise ConfigError(f"quality.toml: scorecards.{category}.{code}: a section needs items")
        sections.append(Section(code, items))
    card = Scorecard(category, version, tuple(sections))
    codes = [i.code for i in card.items]
    if not codes or not sum(i.weight for i in card.items):
        raise ConfigError(f"quality.toml: scorecards.{category}: no items with weight")
    if len(set(codes)) != len(codes):
        raise ConfigError(f"quality.toml: scorecards.{category}: an item code is used twice")
    return card


def from_dict(data: Mapping) -> Scorecard:
    """A card as stored with a score (Scorecard.as_dict) back into its dataclasses."""
    return Scorecard(data["category"], data["version"], tuple(
        Section(s["code"], tuple(Item(**i) for i in s["items"])) for s in data["sections"]))
