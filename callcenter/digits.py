"""ASCII digits: the only digits a phone dials, a card carries or an id is written with.

Python's own checks take more: ``str.isdigit()`` and ``re``'s ``\\d`` accept Arabic-Indic "١٢٣",
full-width "１２３" and superscript "²", and ``int()`` reads the first two as 123. A check written
with them lets such a value through, and it may then be stored or compared as another string than
the number it stands for. Digit checks go through here (or through ``[0-9]``); a few written
before it still test ``isascii() and isdigit()`` inline, the same rule.
"""
from __future__ import annotations

import re

ASCII_INT = r"[0-9]+"  # a regex for routes and patterns: [0-9], never \d


def is_digits(value, min_len: int = 1, max_len: int | None = None) -> bool:
    """True for a str of ASCII digits 0-9 only, min_len..max_len long."""
    if not isinstance(value, str) or not (value.isascii() and value.isdigit()):
        return False
    return min_len <= len(value) and (max_len is None or len(value) <= max_len)


def ascii_int(value, max_len: int = 18) -> int | None:
    """The int an ASCII-digit string stands for, or None for anything else (no sign, no spaces)."""
    return int(value) if is_digits(value, 1, max_len) else None


_ASCII_DIGITS = re.compile(ASCII_INT)


def ascii_int_arg(value: str) -> int:
    """An argparse ``type=``: like int, but ASCII digits only ("５" is refused, not read as 5)."""
    import argparse

    if not _ASCII_DIGITS.fullmatch(value or ""):
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number in ASCII digits 0-9")
    return int(value)
