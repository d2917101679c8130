"""Which new service passwords are refused: the ones a guesser tries first.

A service password is 6 ASCII digits. Refused: one digit repeated (000000, 111111), a run up or
down (123456, 654321, also across 9-0: 890123), a short pattern repeated (121212, 123123), and
the last six digits of the calling number (whoever knows the number knows those).
"""
from __future__ import annotations

from callcenter.digits import is_digits

COMMON = frozenset({"112233", "123321", "520520", "521521", "147258", "159357", "258369", "147369"})


def is_valid(password: str) -> bool:
    return is_digits(password, 6, 6)


def is_weak(password: str, caller_number: str = "") -> bool:
    """True for a password that must not be set (also for one that is not 6 digits)."""
    if not is_valid(password):
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in zip(password, password[1:])}
    if steps in ({0}, {1}, {9}):  # repeated, ascending, descending
        return True
    if password[:2] * 3 == password or password[:3] * 2 == password:
        return True
    if password in COMMON:
        return True
    return len(caller_number) >= 6 and caller_number[-6:] == password
