"""Numbers, amounts, dates and digit strings spoken in the caller's language, as prompt fragments.

Asterisk's Say* applications need its Mandarin sound packs, which Debian does not ship, so we
speak with our own generated fragments ("n4", "n10", "yuan" ...). Pure functions: a value and a
language in, a list of fragment names out; FRAGMENTS holds the text each fragment is made from.
"""
from __future__ import annotations

from datetime import date

from callcenter.digits import is_digits

ZH_DIGITS = "零一二三四五六七八九"
EN_SMALL = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
            "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty",
           90: "ninety"}
EN_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]

FRAGMENTS: dict[str, dict[str, str]] = {
    "zh": {
        **{f"n{i}": ZH_DIGITS[i] for i in range(10)},
        "n10": "十", "n100": "百", "n1000": "千", "n10000": "万", "n100000000": "亿",
        "yuan": "元", "jiao": "角", "fen": "分", "minus": "负", "month": "月", "day": "日",
    },
    "en": {
        **{f"n{i}": w for i, w in enumerate(EN_SMALL)},
        **{f"n{k}": w for k, w in EN_TENS.items()},
        "n100": "hundred", "n1000": "thousand", "n1000000": "million",
        "yuan": "yuan", "fen": "fen", "and": "and", "minus": "minus",
        **{f"m{i + 1}": name for i, name in enumerate(EN_MONTHS)},
    },
}

MAX_NUMBER = 99_999_999


def _check(n: int) -> None:
    if not 0 <= n <= MAX_NUMBER:
        raise ValueError(f"cannot speak {n}: 0..{MAX_NUMBER} only")


def _zh_under_10000(n: int, leading: bool) -> list[str]:
    out: list[str] = []
    units = [(1000, "n1000"), (100, "n100"), (10, "n10"), (1, None)]
    pending_zero = False
    for value, unit in units:
        digit = n // value % 10
        if digit == 0:
            pending_zero = bool(out)  # a zero between non-zero digits is spoken once
            continue
        if pending_zero:
            out.append("n0")
            pending_zero = False
        if not (unit == "n10" and digit == 1 and not out and leading):  # 十二, not 一十二
            out.append(f"n{digit}")
        if unit:
            out.append(unit)
    return out


def zh_number(n: int) -> list[str]:
    _check(n)
    if n == 0:
        return ["n0"]
    high, low = divmod(n, 10_000)
    out: list[str] = []
    if high:
        out += _zh_under_10000(high, leading=True) + ["n10000"]
        if 0 < low < 1000:
            out.append("n0")
    if low:
        out += _zh_under_10000(low, leading=not high)
    return out


def _en_under_1000(n: int) -> list[str]:
    out: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        out += [f"n{hundreds}", "n100"]
    if rest >= 20:
        out.append(f"n{rest // 10 * 10}")
        if rest % 10:
            out.append(f"n{rest % 10}")
    elif rest or not out:
        out.append(f"n{rest}")
    return out


def en_number(n: int) -> list[str]:
    _check(n)
    millions, rest = divmod(n, 1_000_000)
    thousands, units = divmod(rest, 1000)
    out: list[str] = []
    if millions:
        out += _en_under_1000(millions) + ["n1000000"]
    if thousands:
        out += _en_under_1000(thousands) + ["n1000"]
    if units or not out:
        out += _en_under_1000(units)
    return out


def number(n: int, language: str) -> list[str]:
    return zh_number(n) if language == "zh" else en_number(n)


def amount(cents: int, language: str) -> list[str]:
    """42.50 -> 四十二元五角 / forty two yuan and fifty fen."""
    out = ["minus"] if cents < 0 else []
    yuan, rest = divmod(abs(cents), 100)
    if language == "zh":
        jiao, fen = divmod(rest, 10)
        out += zh_number(yuan) + ["yuan"]
        if jiao:
            out += zh_number(jiao) + ["jiao"]
        if fen:
            out += (["n0"] if not jiao else []) + zh_number(fen) + ["fen"]
        return out
    out += en_number(yuan) + ["yuan"]
    if rest:
        out += ["and"] + en_number(rest) + ["fen"]
    return out


def digits(text: str, language: str) -> list[str]:
    """An order or phone number, digit by digit."""
    if not is_digits(text):  # isdigit alone takes '٣' and '²'
        raise ValueError(f"not a digit string: {text!r}")
    return [f"n{d}" for d in text]


def spoken_date(day: date, language: str) -> list[str]:
    if language == "zh":
        return zh_number(day.month) + ["month"] + zh_number(day.day) + ["day"]
    return [f"m{day.month}"] + en_number(day.day)
