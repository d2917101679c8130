"""The SIP service (python -m callcenter.sip), supervised like the others, two long-lived tasks:

- ``config``: on start and on every announced change (cc:sip-config, from the CLI or the admin
  screen), render the trunks and phones, prove and write them, reload Asterisk; the outcome of
  each is kept in cc:sip-applied for whoever announced it to read;
- ``phones``: device states from AMI (DeviceStateChange, call class), choices and agent changes
  from Redis, to PhoneWatch (callcenter/sip/phones.py).
"""
from __future__ import annotations

import asyncio
import logging
import time

import redis.asyncio as aioredis

from acd import protocol as p
from acd.manager import AgentManager
from acd.store import Store
from callcenter import ami, audit, db
from callcenter.config import Settings
from callcenter.runtime.tasks import Health, background, supervise
from callcenter.sip import apply, phones
from callcenter.sip.names import SipConfigError

log = logging.getLogger("callcenter.sip")


async def follow_config(settings: Settings, sessions, redis) -> None:
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(phones.CONFIG_CHANGED)
        await apply_once(settings, sessions, redis, version="start")  # anything changed while we were down
        async for message in pubsub.listen():
            if message.get("type") == "message":
                await apply_once(settings, sessions, redis, version=p.as_text(message.get("data"))[:20])
    finally:
        await pubsub.aclose()


async def apply_once(settings: Settings, sessions, redis, version: str) -> None:
    try:
        rendered = await apply.apply(settings, sessions)
        outcome = {"ok": "1", "message": f"{rendered.trunks} trunk(s), {rendered.phones} agent phone(s)"}
    except SipConfigError as exc:
        log.error("SIP configuration refused: %s", exc.message)
        outcome = {"ok": "", "code": exc.code, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - recorded for the announcer, then the task restarts
        await redis.hset(phones.APPLIED, mapping={"version": version, "ok": "", "code": "APPLY_FAILED",
                                                  "message": str(exc)[:300], "at": repr(time.time())})
        raise
    await redis.hset(phones.APPLIED, mapping={"version": version, "code": "", **outcome, "at": repr(time.time())})


async def watch_phones(settings: Settings, sessions, redis) -> None:
    manager = AgentManager.for_states(Store(redis), audit.recorder(sessions))
    connection = await ami.connect(settings)
    watch = phones.PhoneWatch(redis, connection, manager)
    events: asyncio.Queue = asyncio.Queue()
    connection.register_event("DeviceStateChange", lambda _m, e: events.put_nowait(("device", dict(e))))
    connection.on_login = lambda _m: events.put_nowait(("login", {}))
    pubsub = redis.pubsub()
    try:
        await pubsub.subscribe(phones.PHONE_CHANGES, p.AGENT_CHANGES)

        async def from_redis() -> None:
            async for message in pubsub.listen():
                if message.get("type") == "message":
                    events.put_nowait((p.as_text(message["channel"]), message["data"]))

        reader = background(from_redis(), "phone watch: Redis")
        await watch.sync()
        while not reader.done():
            kind, data = await events.get()
            try:
                if kind == "device":
                    await watch.on_device_state(p.as_text(data.get("Device")), p.as_text(data.get("State")))
                elif kind == "login":
                    await watch.sync()
                elif kind == phones.PHONE_CHANGES:
                    await watch.on_choice(p.as_text(data))
                elif kind == p.AGENT_CHANGES:
                    await watch.on_agent_change(p.AgentChange.from_json(data))
            except Exception:  # noqa: BLE001 - one bad message must not end the watch
                log.exception("phone watch could not handle %s", kind)
        reader.result()  # the subscription ended: raise why, the supervisor starts us again
    finally:
        await pubsub.aclose()
        connection.close()


async def run(settings: Settings) -> None:
    sessions = db.session_factory(settings.database_url)
    redis = aioredis.from_url(settings.effective_redis_url)
    health = Health.for_process(settings.run_dir, "sip")
    log.info("SIP service running")
    await asyncio.gather(
        supervise("config", lambda: follow_config(settings, sessions, redis), health=health),
        supervise("phones", lambda: watch_phones(settings, sessions, redis), health=health))


def announce(redis, timeout_s: float = 10.0) -> dict | None:
    """Tell the SIP service the database changed (sync Redis: the CLI, the desktop); wait for its
    outcome. None when no service is running: the next start applies it."""
    version = str(redis.incr(phones.VERSION))
    if not redis.publish(phones.CONFIG_CHANGED, version):
        return None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        applied = {p.as_text(k): p.as_text(v) for k, v in (redis.hgetall(phones.APPLIED) or {}).items()}
        if applied.get("version") == version:
            return applied
        time.sleep(0.1)
    return {"ok": "", "code": "APPLY_TIMEOUT", "message": f"the SIP service did not apply it within {timeout_s:g} s"}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(Settings.from_env()))


if __name__ == "__main__":
    main()
