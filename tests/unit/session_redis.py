"""The few Redis string commands the login throttle and session tokens use
(agent_desktop/login_guard.py), in memory, with expiry on a clock the test can move: a mixin for
the unit tier's fake Redis classes, and a fake of its own (SessionRedis())."""
from __future__ import annotations

import time


class SessionRedis:
    now = staticmethod(time.monotonic)  # a test replaces it to jump past a window or a lock

    def _live(self) -> dict:
        store = self.__dict__.setdefault("_strings", {})  # key -> (value, expires_at or None)
        for key in [k for k, (_v, at) in store.items() if at is not None and at <= self.now()]:
            del store[key]
        return store

    def get(self, key):
        item = self._live().get(key)
        return None if item is None else item[0]

    def set(self, key, value, ex=None, nx=False):
        store = self._live()
        if nx and key in store:
            return None
        store[key] = (str(value), None if ex is None else self.now() + ex)
        return True

    def incr(self, key):
        store = self._live()
        value, at = store.get(key, ("0", None))
        store[key] = (str(int(value) + 1), at)  # like Redis: INCR keeps the key's expiry
        return int(value) + 1

    def exists(self, *keys):
        return sum(key in self._live() for key in keys)

    def delete(self, *keys):
        store, hashes = self._live(), self._hashes()
        return sum(store.pop(key, None) is not None or hashes.pop(key, None) is not None for key in keys)

    def expire(self, key, seconds):
        store = self._live()
        if key in store:
            store[key] = (store[key][0], self.now() + seconds)
            return True
        return key in self._hashes()  # hashes do not expire here: tests close what they open

    # hashes in self.hashes (a dict of dicts), where the unit tier's fakes keep theirs
    def _hashes(self) -> dict:
        return self.__dict__.setdefault("hashes", {})

    def hset(self, key, mapping=None, **_kw):
        self._hashes().setdefault(key, {}).update(mapping or {})

    def hdel(self, key, *names):
        found = self._hashes().get(key, {})
        return sum(found.pop(name, None) is not None for name in names)

    def hkeys(self, key):
        return list(self._hashes().get(key, {}))
