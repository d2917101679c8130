"""Socket event floods (issue 15): a rate limit per user and event, a cap on each user's handlers
running at once, and a cap on each user's open sockets.

All of it lives in this web worker's memory (the app's extensions): a socket is pinned to one worker (sticky sessions,
the Redis message queue only fans pushes out), so a user's events all reach the same limiter.
With several workers a user may hold MAX_SOCKETS on each; that bound is what matters here (one
browser cannot open thousands of sockets, one script cannot queue thousands of router commands).

Every event handler is wrapped by ``limited`` (events.event applies it), so a handler cannot
forget it; tests/unit/test_socket_limits.py lists the handlers registered on socketio and fails
on one without the mark.
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from functools import wraps

from flask import current_app

# tokens a user's bucket for one event gains per second; CC_SOCKET_EVENTS_PER_S sets it (the
# integration test sets it near zero, so that its flood is refused without timing)
RATE_PER_S = float(os.environ.get("CC_SOCKET_EVENTS_PER_S", "10"))
BURST = 20  # the bucket's size: a burst a real desktop never reaches (a click is one event)
MAX_IN_FLIGHT = 4  # one user's handlers running at once: each may wait on the router (5 s) and holds a Redis connection
# one user's open sockets in this worker: a few tabs, not a flood. CC_SOCKETS_PER_USER raises it
# for bench/screen_pop.py, whose agents hold several sockets each beyond 999 agents
MAX_SOCKETS = int(os.environ.get("CC_SOCKETS_PER_USER", "5"))


@dataclass
class Bucket:
    tokens: float
    at: float


class Limiter:
    """Token buckets per (user, event) and a count of each user's handlers in flight; thread-safe
    (async_mode threading runs handlers on many threads)."""

    def __init__(self, rate: float = RATE_PER_S, burst: int = BURST, in_flight: int = MAX_IN_FLIGHT,
                 clock=time.monotonic):
        self.rate, self.burst, self.max_in_flight, self.clock = rate, burst, in_flight, clock
        self.buckets: dict[tuple, Bucket] = {}
        self.running: dict[object, int] = {}
        self.lock = threading.Lock()

    def take(self, user, event: str) -> bool:
        """One token from (user, event)'s bucket; False when it is empty."""
        now = self.clock()
        with self.lock:
            bucket = self.buckets.get((user, event))
            if bucket is None:
                bucket = self.buckets[(user, event)] = Bucket(float(self.burst), now)
            bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
            if bucket.tokens < 1.0:
                return False
            bucket.tokens -= 1.0
            return True

    def enter(self, user) -> bool:
        """A handler of this user starts; False when MAX_IN_FLIGHT of theirs already run."""
        with self.lock:
            if self.running.get(user, 0) >= self.max_in_flight:
                return False
            self.running[user] = self.running.get(user, 0) + 1
            return True

    def leave(self, user) -> None:
        with self.lock:
            left = self.running.get(user, 1) - 1
            if left > 0:
                self.running[user] = left
            else:
                self.running.pop(user, None)


class SocketCap:
    """Each user's open sockets (their session ids). A socket that went away is found by asking
    the server (is_open) when the same user connects again, so no disconnect handler is needed."""

    def __init__(self, limit: int = MAX_SOCKETS):
        self.limit = limit
        self.sids: dict[object, set[str]] = {}
        self.lock = threading.Lock()

    def admit(self, user, sid: str, is_open) -> bool:
        with self.lock:
            open_sids = {s for s in self.sids.get(user, set()) if s != sid and is_open(s)}
            if len(open_sids) >= self.limit:
                self.sids[user] = open_sids
                return False
            self.sids[user] = open_sids | {sid}
            return True


def limiter() -> Limiter:
    """This app's limiter (one per app: one per web worker, and a fresh one per test's app)."""
    return current_app.extensions.setdefault("socket_limiter", Limiter())


def sockets() -> SocketCap:
    return current_app.extensions.setdefault("socket_cap", SocketCap())


def limited(name: str, user_key, refuse):
    """Decorator for a socket event handler: refuse(code) instead of running it when the user's
    bucket for this event is empty or too many of their handlers run. user_key() names the user
    from the session: the check reads no database (a refusal then reads the user once, for the
    words in their language)."""
    def decorate(handler):
        @wraps(handler)
        def wrapped(*args, **kwargs):
            lim = limiter()
            user = user_key()
            if not lim.take(user, name) or not lim.enter(user):
                return refuse("RATE_LIMITED")
            try:
                return handler(*args, **kwargs)
            finally:
                lim.leave(user)
        wrapped.rate_limited = name  # read by the test that every registered handler has it
        return wrapped
    return decorate
