"""A local, password-protected redis-server on loopback, owned by the call center.

Used when no REDIS_URL is configured. Redis holds live state (agent states, queues,
reservations) and carries Socket.IO's message queue, so it persists with an append-only file:
a Redis restart keeps the router's view.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from callcenter.config import Settings
from callcenter.runtime.files import write_private


class RedisSetupError(RuntimeError):
    pass


def render_config(settings: Settings) -> Path:
    data = settings.home / "redis"
    data.mkdir(parents=True, exist_ok=True)
    conf = data / "redis.conf"
    write_private(conf, "\n".join([  # it holds the password: 0600 from its first byte
        "bind 127.0.0.1",
        "protected-mode yes",
        f"port {settings.redis_port}",
        f"requirepass {settings.secret('redis')}",
        f"dir {data}",
        "appendonly yes",
        "appendfsync everysec",
        "save 60 1",
        "daemonize no",
        'logfile ""',
        "",
    ]))
    return conf


def command(settings: Settings) -> list[str]:
    binary = shutil.which("redis-server")
    if not binary:
        raise RedisSetupError("redis-server is not installed (apt-get install redis-server; scripts/setup.sh does it)")
    return [binary, str(render_config(settings))]
