"""Order numbers: the month, then eight random digits ("261100042719").

Twelve digits are still short enough to be keyed and spoken digit by digit, and the random part
(from the OS's CSPRNG) means a caller cannot step from their own order to a neighbour's, which
the old month-and-row-id numbers allowed. The menu also tells an order's status only to its own
customer (ivr/services.py), so a guess that hits learns nothing either.
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Callable

NUMBER = re.compile(r"[0-9]{6,12}")  # what a caller or a URL may name (the old numbers had 10 digits)
RANDOM_DIGITS = 8


def new_number(now: datetime, taken: Callable[[str], bool], draw: Callable[[int], int] = secrets.randbelow) -> str:
    """A number nobody has (``taken`` asks the database); 10**8 per month, so a retry is rare."""
    for _ in range(20):
        number = f"{now:%y%m}{draw(10 ** RANDOM_DIGITS):0{RANDOM_DIGITS}d}"
        if not taken(number):
            return number
    raise RuntimeError("no free order number after 20 draws")  # only a broken `draw` gets here


def valid_number(value) -> bool:
    return isinstance(value, str) and NUMBER.fullmatch(value) is not None
