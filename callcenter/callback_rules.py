"""Which numbers the center calls back, and how often: ``<home>/callbacks.toml``.

A call back is a call the center places through its trunk, at its cost, to a number a caller
chose: the out-of-hours menu takes any digits keyed in, and key 1 while waiting takes the caller
ID, which the caller's network or SIP client sets at will. Unchecked, that is toll fraud (premium
and international numbers called at the center's expense) and harassment (the center ringing a
third party again and again). So a number is called back only if

- it matches one of ``allow`` and begins with none of ``deny`` (the dial plan; checked again by
  the router just before it dials, against the file as it is then);
- with ``registered_only`` (the default), it is a registered number (customer_phones) of the
  customer the call was identified as;
- fewer than ``per_number_per_day`` requests for it, and fewer than ``per_day`` in all, were taken
  in the last 24 hours.

A refused request is not stored: the caller hears so, the IVR logs a warning and writes an audit
row (actor ``ivr``, action ``callback_refused``, the refusal's code in its detail).

Patterns are Asterisk's, matched against the whole number: ``X`` any digit, ``Z`` 1-9, ``N`` 2-9,
``[13-5]`` one of a set, and a final ``.`` one or more digits. Read at every request, like
business_hours.toml, so the operator edits the file while the center runs.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from callcenter.config import ConfigError, read_rules_file
from callcenter.models import AuditEntry, CallbackRequest, CustomerPhone

log = logging.getLogger("callcenter.callbacks")

DEFAULT_RULES = """# Which numbers the center calls back, and how often (callcenter/callback_rules.py).
# Read at every request: edit while running.
# Patterns as in Asterisk: X any digit, Z 1-9, N 2-9, [13-9] one of a set, a final . one or more digits.
# National numbers only: mobiles, and fixed lines as 0 + area code + number. International
# numbers (00...) and short premium or information numbers (95xxx, 168xxxxx ...) match none;
# add "00." to allow international calls.
allow = ["1[3-9]XXXXXXXXX", "0ZXXXXXXXX", "0ZXXXXXXXXX", "0ZXXXXXXXXXX"]
deny = []                    # prefixes never called back, even where a pattern matches
registered_only = true       # only the identified customer's registered numbers
per_number_per_day = 3       # requests per number in 24 h
per_day = 1000               # requests in all in 24 h
"""

#: why a request was refused: stable codes (logs, audit rows); the caller hears one prompt for all
REFUSALS = {
    "not_dialable": "the number matches no allowed pattern (national numbers only)",
    "denied_prefix": "the number begins with a denied prefix",
    "not_registered": "the number is not a registered number of the identified customer",
    "number_limit": "too many call backs to this number in 24 hours",
    "daily_limit": "too many call backs in all in 24 hours",
}
DAY = timedelta(hours=24)
_PATTERN = re.compile(r"(?:[0-9XZN]|\[(?:[0-9](?:-[0-9])?)+\])+\.?")
_CLASSES = {"X": "[0-9]", "Z": "[1-9]", "N": "[2-9]", ".": "[0-9]+"}


def _regex(pattern: str) -> re.Pattern:
    if not _PATTERN.fullmatch(pattern):
        raise ConfigError(f"callbacks.toml: pattern {pattern!r} is not digits, X, Z, N, [..] and a final .")
    return re.compile("".join(_CLASSES.get(ch, ch) for ch in pattern))


@dataclass(frozen=True)
class CallbackRules:
    allow: tuple[str, ...] = ("1[3-9]XXXXXXXXX", "0ZXXXXXXXX", "0ZXXXXXXXXX", "0ZXXXXXXXXXX")
    deny: tuple[str, ...] = ()
    registered_only: bool = True
    per_number_per_day: int = 3
    per_day: int = 1000

    def __post_init__(self):
        object.__setattr__(self, "_allow", tuple(_regex(p) for p in self.allow))
        for prefix in self.deny:
            if not (isinstance(prefix, str) and prefix.isascii() and prefix.isdigit()):
                raise ConfigError(f"callbacks.toml: deny prefix {prefix!r} is not digits")

    @classmethod
    def from_mapping(cls, data: Mapping) -> CallbackRules:
        unknown = set(data) - {"allow", "deny", "registered_only", "per_number_per_day", "per_day"}
        if unknown:
            raise ConfigError(f"callbacks.toml: unknown setting(s) {sorted(unknown)}")
        for key in ("per_number_per_day", "per_day"):
            if key in data and not (type(data[key]) is int and data[key] >= 0):
                raise ConfigError(f"callbacks.toml: {key} must be a whole number >= 0")
        if not isinstance(data.get("registered_only", True), bool):
            raise ConfigError("callbacks.toml: registered_only must be true or false")
        for key in ("allow", "deny"):
            if key in data and not (isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])):
                raise ConfigError(f"callbacks.toml: {key} must be a list of strings")
        defaults = cls()
        return cls(allow=tuple(data.get("allow", defaults.allow)), deny=tuple(data.get("deny", defaults.deny)),
                   registered_only=data.get("registered_only", defaults.registered_only),
                   per_number_per_day=data.get("per_number_per_day", defaults.per_number_per_day),
                   per_day=data.get("per_day", defaults.per_day))

    def dialable(self, number: str) -> str | None:
        """None when the dial plan lets the center call this number, else the refusal's code."""
        if not (isinstance(number, str) and number.isascii() and number.isdigit() and len(number) <= 20):
            return "not_dialable"
        if not any(regex.fullmatch(number) for regex in self._allow):
            return "not_dialable"
        if any(number.startswith(prefix) for prefix in self.deny):
            return "denied_prefix"
        return None

    def refusal(self, number: str, *, registered: bool, number_today: int, all_today: int) -> str | None:
        """None when a new request for this number may be taken, else the refusal's code (pure:
        the counts are of requests taken in the last 24 hours)."""
        code = self.dialable(number)
        if code is not None:
            return code
        if self.registered_only and not registered:
            return "not_registered"
        if number_today >= self.per_number_per_day:
            return "number_limit"
        if all_today >= self.per_day:
            return "daily_limit"
        return None


def rules_file(home: Path) -> Path:
    return home / "callbacks.toml"


def load(home: Path) -> CallbackRules:
    """The rules as the file says now (written with the defaults when there is none)."""
    return CallbackRules.from_mapping(read_rules_file(rules_file(home), DEFAULT_RULES))


# ---------------------------------------------------------------- the database's side
def admit(s: Session, rules: CallbackRules, number: str, customer_id: int | None, now: datetime) -> str | None:
    """Whether a new request for this number may be taken now: None, or the refusal's code."""
    registered = customer_id is not None and s.scalar(
        select(CustomerPhone.id).where(CustomerPhone.customer_id == customer_id, CustomerPhone.number == number)
    ) is not None
    since = now - DAY
    number_today = s.scalar(select(func.count()).select_from(CallbackRequest).where(
        CallbackRequest.number == number, CallbackRequest.created_at >= since)) or 0
    all_today = s.scalar(select(func.count()).select_from(CallbackRequest).where(
        CallbackRequest.created_at >= since)) or 0
    return rules.refusal(number, registered=registered, number_today=number_today, all_today=all_today)


def record_refusal(s: Session, code: str, number: str, call_uniqueid: str, reason: str) -> None:
    """A refused request: a warning in the log and a row in the audit log (the caller commits)."""
    log.warning("call back to %s refused (%s): %s; call %s", number, reason, code, call_uniqueid)
    s.add(AuditEntry(actor="ivr", action="callback_refused", target=number[:64],
                     detail=f"{code}: {REFUSALS.get(code, code)}; {reason} request, call {call_uniqueid}"[:500]))
