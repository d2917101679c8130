"""Numbers shown to people with their middle hidden: a recharge card in the call journey and the
screen-pop, a card in an alert. One rule for every place that shows one."""
from __future__ import annotations

import re

KEEP = 4  # digits shown at each end, as on a printed receipt
_LONG_RUN = re.compile(r"[0-9]{13,}")  # longer than any phone or order number the menu takes


def mask_middle(keys: str, keep: int = KEEP) -> str:
    """'8800123456781234' -> '8800********1234'; anything shorter than 3 * keep is hidden whole,
    so that the ends shown are never most of it."""
    if len(keys) < 3 * keep:
        return "*" * len(keys)
    return keys[:keep] + "*" * (len(keys) - 2 * keep) + keys[-keep:]


def mask_long_numbers(text: str | None) -> str | None:
    """Every run of 13 or more digits in `text` with its middle hidden: what a screen shows of
    stored input, so that a card number stored before it was masked is not shown either."""
    if not text:
        return text
    return _LONG_RUN.sub(lambda m: mask_middle(m.group()), text)
