"""The desktop's side of acd.commands: push a command, wait for the one router that took it."""
from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass

from acd.commands import BLOCK_S
from acd.protocol import COMMANDS, reply_key


@dataclass
class CommandResult:
    ok: bool
    code: str = ""
    message: str = ""
    data: dict | None = None


class RouterClient:
    def __init__(self, redis, timeout_s: float = 5.0):
        self.redis = redis
        self.timeout_s = timeout_s

    def send(self, op: str, **args) -> CommandResult:
        command_id = uuid.uuid4().hex
        # expires_at: when this client gives up; a router that pops it later drops it (acd.commands.expired)
        command = json.dumps({"id": command_id, "op": op, **args,
                              "expires_at": round(time.time() + self.timeout_s, 3)})
        self.redis.rpush(COMMANDS, command)
        deadline = time.monotonic() + self.timeout_s
        item = None
        while item is None and time.monotonic() < deadline:
            item = self.redis.blpop(reply_key(command_id), timeout=BLOCK_S)
        if item is None:
            # take it back if no router took it yet, so it does not fire later by surprise
            self.redis.lrem(COMMANDS, 1, command)
            return CommandResult(False, "ROUTER_UNAVAILABLE", "the router did not answer; try again")
        reply = json.loads(item[1])
        if reply.pop("ok", False):
            return CommandResult(True, data=reply)
        return CommandResult(False, reply.get("code", "ROUTER_ERROR"), reply.get("message", ""))
