"""Where a new order goes first (pure): its group, its kind of complaint, its starting priority.

A complaint registered without a kind ("complaint") is read for what it is about: the first rule
whose word appears in the description names its kind, and the kind names the group (tariff to
billing, staff attitude to service quality, an installer or repairer to field service). Words
are matched case-insensitively as substrings, so Mandarin needs no word splitting. A complaint
no rule matches stays with the complaints group.

A VIP customer's order starts higher: level 1-2 one step, level 3 two steps (never above urgent).
"""
from __future__ import annotations

from callcenter.orders.types import TYPES, raise_priority

# kind -> words that say it; checked in this order (an installer's rudeness is the installer's)
COMPLAINT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("complaint_installer", ("装维", "安装", "维修", "师傅", "上门", "installer", "technician", "engineer",
                             "repairman", "repair man")),
    ("complaint_staff", ("态度", "客服", "营业员", "骂", "rude", "attitude", "staff", "impolite", "shouted")),
    ("complaint_tariff", ("资费", "套餐", "扣费", "收费", "乱扣", "价格", "tariff", "price", "charged", "fees",
                          "overcharg", "plan cost")),
    ("complaint_suggestion", ("建议", "希望", "suggest", "would be better", "please add")),
)
VIP_STEPS = {0: 0, 1: 1, 2: 1, 3: 2}


def classify(code: str, description: str) -> str:
    """The order's type after reading it: a plain complaint gets its kind; others stay as they are."""
    if code != "complaint":
        return code
    text = description.casefold()
    for kind, words in COMPLAINT_RULES:
        if any(word.casefold() in text for word in words):
            return kind
    return code


def start_priority(code: str, requested: str | None, vip_level: int) -> str:
    """The type's priority (or the one asked for), raised for a VIP."""
    return raise_priority(requested or TYPES[code].priority, VIP_STEPS.get(vip_level, 0))
