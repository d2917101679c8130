"""`python -m agent_desktop.push`: pushes what happens to the browsers that should see it.

AMI's AgentRinging (the dialplan's UserEvent, sent as the agent's phone starts to ring) becomes a
screen-pop for that agent; every agent state change in Redis (acd:agent-changes) goes to the
agent and to the wallboards; queue figures go to the wallboards once a second when they change;
once a minute the work orders' timer runs (escalation, close on timeout) and their deadline
figures go to the wallboards; the recordings' jobs and the week's quality draw run here too.
All of it through Socket.IO's Redis message queue, so any web worker delivers it. The changes
listener, the wallboard loop and the orders' timer run supervised (callcenter.runtime.tasks): one that fails is logged,
shown down in `callcenter status`, and started again.
"""
from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime, timezone
from typing import Awaitable, Callable

import redis as sync_redis
import redis.asyncio as aioredis
import socketio
from sqlalchemy import select

from acd import protocol as p
from agent_desktop import MESSAGE_QUEUE_CHANNEL, live
from agent_desktop.monitor_push import follow_monitor_changes
from agent_desktop.screen_pop import build_pop
from agent_desktop.wallboard import agent_rows, agent_skills, alert_limits, alerts, queue_figures, today_calls
from callcenter import ami, db
from callcenter.business_hours import start_of_today
from callcenter.config import Settings
from callcenter.models import QueueConfig, User
from callcenter.orders.queue import deadline_counts
from callcenter.orders.store import Rules
from callcenter.orders.sweep import sweep
from recordings import job as recording_job
from quality import sample_job
from callcenter.runtime.tasks import Health, background, supervise
from callcenter.runtime.files import owner_only

log = logging.getLogger("agent_desktop.push")


class Pusher:
    def __init__(self, settings: Settings):
        self.sessions = db.session_factory(settings.database_url)
        self.home = settings.home
        self.redis = sync_redis.Redis.from_url(settings.effective_redis_url, decode_responses=True)
        self.emitter = socketio.AsyncRedisManager(settings.effective_redis_url, channel=MESSAGE_QUEUE_CHANNEL,
                                                  write_only=True)
        self.last_wallboard: dict[str, str] = {}

    async def emit(self, event: str, data, room: str) -> None:
        await self.emitter.emit(event, data, namespace="/", room=room)

    # ---- screen-pop ----
    def _pop(self, uniqueid: str) -> dict:
        with self.sessions() as s:
            return build_pop(s, uniqueid, live.call(self.redis, uniqueid), time.time())

    async def on_ringing(self, raw: dict) -> None:
        event = p.parse_event(raw)
        if isinstance(event, p.CallerVerified) and event.agent:
            # back from the password check: the same pop again, its badge now from the call's row
            pop = await asyncio.to_thread(self._pop, event.call_id)
            pop["verified_back"] = True
            await self.emit("screen_pop", pop, room=f"agent:{event.agent}")
            return
        if not isinstance(event, p.AgentRinging):
            return
        pop = await asyncio.to_thread(self._pop, event.call_id)
        pop["ringing_at"] = time.time()
        await self.emit("screen_pop", pop, room=f"agent:{event.agent}")

    # ---- agent states ----
    async def on_agent_change(self, ext: str) -> None:
        state = await asyncio.to_thread(live.agent, self.redis, ext)
        await self.emit("agent_state", state.as_dict(), room=f"agent:{ext}")

    # ---- wallboards ----
    def _wallboard(self) -> tuple[list[dict], dict[str, list[dict]], dict[str, list[dict]]]:
        """Queue rows, agent rows per team and the alerts per team (the queues' and its agents')."""
        now = time.time()
        agents = live.agents(self.redis)
        with self.sessions() as s:
            skills = {q.skill: q.service_level_s for q in s.scalars(select(QueueConfig))}
            limits, held = alert_limits(s), agent_skills(s)
            today = today_calls(s, start_of_today(self.home, now))
            members = s.execute(select(User.agent_extension, User.display_name, User.team_id)
                                .where(User.agent_extension.is_not(None))).all()
        queues = queue_figures(skills, live.calls(self.redis), today, now)
        by_team: dict[str, dict[str, str]] = {"all": {}}
        for ext, name, team in members:
            by_team["all"][ext] = name
            if team is not None:
                by_team.setdefault(str(team), {})[ext] = name
        teams = {team: agent_rows(agents, names, now) for team, names in by_team.items()}
        return queues, teams, {team: alerts(queues, rows, limits, held) for team, rows in teams.items()}

    async def push_wallboard(self) -> None:
        queues, teams, team_alerts = await asyncio.to_thread(self._wallboard)
        await self._if_changed("wallboard_queues", queues, "wallboard", "queues")
        for team, rows in teams.items():
            stable = [{k: v for k, v in row.items() if k != "in_state_s"} for row in rows]
            await self._if_changed("wallboard_agents", {"team": team, "agents": rows}, f"team:{team}",
                                   f"team:{team}", key_data=stable)
            # Pushed when an alert starts, ends or its threshold changes; the page counts the value on.
            found = team_alerts[team]
            await self._if_changed("wallboard_alerts", {"team": team, "alerts": found}, f"team:{team}",
                                   f"alerts:{team}", key_data=[{k: v for k, v in a.items() if k != "value"}
                                                               for a in found])

    async def _if_changed(self, event: str, data, room: str, key: str, key_data=None) -> None:
        text = json.dumps(data if key_data is None else key_data, sort_keys=True)
        if self.last_wallboard.get(key) != text:
            self.last_wallboard[key] = text
            await self.emit(event, data, room=room)


async def follow_agent_changes(redis_url: str, on_change: Callable[[str], Awaitable[None]]) -> None:
    """Hand every agent change the router publishes to ``on_change``, until the connection fails.

    A new client and subscription on every call: supervised, a restart after Redis restarted
    subscribes again. A message that is not a change, or one whose push fails, is logged and
    skipped."""
    client = aioredis.from_url(redis_url, decode_responses=True)
    pubsub = client.pubsub()
    try:
        await pubsub.subscribe(p.AGENT_CHANGES)
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            try:
                ext = p.AgentChange.from_json(message["data"]).ext
            except ValueError as exc:
                log.warning("skipped a message on %s: %s", p.AGENT_CHANGES, exc)
                continue
            try:
                await on_change(ext)
            except Exception:  # noqa: BLE001 - the next change must still be pushed
                log.exception("could not push agent %s's change", ext)
    finally:
        await pubsub.aclose()
        await client.aclose()


async def sweep_orders(pusher: Pusher, every_s: float = 60.0) -> None:
    """Work orders' timer (callcenter.orders.sweep: escalation, close on timeout, unanswered return
    visits), then the deadline figures to the wallboards. Safe in several push processes at once."""
    while True:
        def once() -> dict:
            now = datetime.now(timezone.utc)
            sweep(pusher.sessions, now, Rules.load(pusher.home))
            with pusher.sessions() as s:
                return deadline_counts(s, now)
        counts = await asyncio.to_thread(once)
        await pusher._if_changed("wallboard_orders", counts, "wallboard", "orders")
        await asyncio.sleep(every_s)


async def push_wallboards(pusher: Pusher, every_s: float = 1.0) -> None:
    while True:
        await pusher.push_wallboard()
        await asyncio.sleep(every_s)


async def run(settings: Settings) -> None:
    pusher = Pusher(settings)
    health = Health.for_process(settings.run_dir, "desktop-push")
    manager = await ami.connect(settings)

    def on_user_event(_manager, event):
        background(pusher.on_ringing(dict(event)), "screen-pop")  # not a ringing agent: a no-op

    manager.register_event("UserEvent", on_user_event)
    log.info("pushing screen-pops, agent states and wallboards")
    await asyncio.gather(
        supervise("agent-changes", lambda: follow_agent_changes(settings.effective_redis_url, pusher.on_agent_change),
                  health=health),
        supervise("wallboards", lambda: push_wallboards(pusher), health=health),
        supervise("orders-sweep", lambda: sweep_orders(pusher), health=health),
        # recordings: registered when closed, checksums rechecked, retention applied (issue 11)
        supervise("recordings", lambda: recording_job.run(settings), health=health),
        # the week's quality sample, drawn once a week into the inspectors' lists (issue 13)
        supervise("quality-sample", lambda: sample_job.run(settings), health=health),
        # a monitoring mode keyed on the monitor's phone: their wallboard and the agent told (issue 11)
        supervise("monitor-switches", lambda: follow_monitor_changes(
            settings.effective_redis_url, lambda event, data, room: pusher.emit(event, data, room=room),
            settings.monitor_notice), health=health))


def main() -> None:
    owner_only()  # before any file is created: logs, secrets, the database (issue 15)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    asyncio.run(run(Settings.from_env()))


if __name__ == "__main__":
    main()
