"""What every request and socket event of the desktop works with, built once in create_app()."""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from callcenter.config import Settings


@dataclass
class Desktop:
    settings: Settings
    sessions: object  # sqlalchemy sessionmaker
    redis: object  # a synchronous redis.Redis (agent and call state written by the router)
    router: object  # RouterClient, or a fake in unit tests


def desktop() -> Desktop:
    return current_app.extensions["callcenter"]
