"""Login throttle and server-side session ends for the desktop (issue 15, "Logins", "Sessions").

Failures are counted in Redis (every web worker sees the same counts) per typed user name and per
client address, each in a window; past its limit the name or the address is refused for a while,
with an audit row. Names are counted whether or not they exist, so a lock tells nothing about who
has an account. A session is valid while the user's token in Redis equals the one its cookie
got at login: ending a user's sessions deletes the token, so a copied cookie dies with them, and its sockets (listed per user in Redis, so any worker can close them) are
disconnected.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Mapping

from callcenter import audit

FAILURES = "desk:login-fail:{kind}:{who}"  # kind: user | addr; a counter living one window
LOCKED = "desk:login-lock:{kind}:{who}"
SESSION = "desk:user-session:{uid}"  # the token every valid cookie of this user carries
SOCKETS = "desk:user-sockets:{uid}"  # hash: the user's open Socket.IO sids, on any web worker
SOCKETS_TTL_S = 24 * 3600  # sids left by a worker that died go with the key, a day after a connect


@dataclass(frozen=True)
class LoginLimits:
    account_failures: int = 5  # wrong passwords for one user name in a window before it is locked
    address_failures: int = 100  # per client address: generous, a floor may sit behind one NAT
    window_s: int = 15 * 60
    lock_s: int = 15 * 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "LoginLimits":
        env = os.environ if env is None else env
        names = {"account_failures": "CC_LOGIN_ACCOUNT_FAILURES", "address_failures": "CC_LOGIN_ADDRESS_FAILURES",
                 "window_s": "CC_LOGIN_WINDOW_S", "lock_s": "CC_LOGIN_LOCK_S"}
        values = {}
        for field, name in names.items():
            raw = env.get(name, "")
            if raw:
                if not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= 10**6):
                    raise ValueError(f"{name}={raw!r} is not a whole number from 1 to 1000000")
                values[field] = int(raw)
        return cls(**values)


def _keys(kind: str, who: str) -> tuple[str, str]:
    return FAILURES.format(kind=kind, who=who), LOCKED.format(kind=kind, who=who)


def refused(redis, username: str, address: str) -> bool:
    """True while this user name or this address is locked out."""
    return bool(redis.exists(_keys("user", username)[1]) or redis.exists(_keys("addr", address)[1]))


def _count(redis, kind: str, who: str, limit: int, limits: LoginLimits) -> bool:
    """One more failure; True when it reaches the limit (the counter is then spent into a lock)."""
    failures, locked = _keys(kind, who)
    redis.set(failures, 0, ex=limits.window_s, nx=True)  # the window starts at the first failure
    if int(redis.incr(failures)) < limit:
        return False
    redis.set(locked, "1", ex=limits.lock_s)
    redis.delete(failures)
    return True


def failed(redis, sessions, limits: LoginLimits, username: str, address: str) -> None:
    """Count a failed login; lock the name or the address past its limit, and audit the lock."""
    if _count(redis, "user", username, limits.account_failures, limits):
        audit.write(sessions, "login-throttle", "login_locked", username,
                    f"{limits.account_failures} failed logins; locked {limits.lock_s} s; last from {address}")
    if _count(redis, "addr", address, limits.address_failures, limits):
        audit.write(sessions, "login-throttle", "login_address_blocked", address,
                    f"{limits.address_failures} failed logins; refused {limits.lock_s} s")


def succeeded(redis, username: str) -> None:
    """A right password resets the name's count (not the address's: one good account must not
    let an address go on guessing others)."""
    redis.delete(_keys("user", username)[0])


def session_token(redis, uid: int) -> str:
    """The user's current session token, made at the first login after an end."""
    key = SESSION.format(uid=uid)
    redis.set(key, secrets.token_urlsafe(24), nx=True)  # two logins at once share one token
    return redis.get(key)


def session_valid(redis, uid: int, token) -> bool:
    current = redis.get(SESSION.format(uid=uid))
    return isinstance(token, str) and isinstance(current, str) and secrets.compare_digest(token, current)


def socket_opened(redis, uid: int, sid: str) -> None:
    key = SOCKETS.format(uid=uid)
    redis.hset(key, mapping={sid: "1"})
    redis.expire(key, SOCKETS_TTL_S)


def socket_closed(redis, uid: int, sid: str) -> None:
    redis.hdel(SOCKETS.format(uid=uid), sid)


def end_sessions(redis, uid: int) -> list[str]:
    """Every cookie of this user stops working at its next request (no token, no session).
    Returns the sids of the user's sockets (on every worker), for the caller to disconnect."""
    redis.delete(SESSION.format(uid=uid))
    sids = list(redis.hkeys(SOCKETS.format(uid=uid)))
    redis.delete(SOCKETS.format(uid=uid))
    return sids
