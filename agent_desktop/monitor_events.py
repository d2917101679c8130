"""Socket events of live monitoring from the wallboard: listen, whisper, barge (issue 11).

    monitor_start {call, mode}     ring my phone and monitor this live call in this mode
    monitor_mode  {monitor, mode}  switch the running session's mode (the phone stays up)
    monitor_stop  {monitor}        hang up my monitoring leg

Who: supervisors of the agent's team (every mode) and quality inspectors (listen only, any team);
agents, admins and back office get FORBIDDEN, another team's supervisor NOT_YOUR_TEAM, an
anonymous client UNAUTHORIZED (acd/monitor.py's ``refusal``, the one rule). The call is named by
its id only: the agent and the channel to spy on are found server-side (here the agent, for the
team check; the router the channel). The monitor's phone is their own extension's, as an agent's
(simulated, desk phone or the desktop's softphone). The router starts, switches, stops and audits
(acd/monitoring.py); here the agent's desktop is told it is being coached when the center's
setting (CC_MONITOR_NOTICE) says so.
"""
from __future__ import annotations

import re

from acd.monitor import MONITOR_ROLES, Mode, agent_notice, refusal
from agent_desktop import live, socketio
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.events import event, fail, from_router, supervised, uniqueid

MONITOR_ID = re.compile(r"mon[0-9a-f]{20}")


def _mode(data: dict) -> Mode:
    mode = Mode.parse(data.get("mode"))
    if mode is None:
        raise ApiError("BAD_MONITOR_MODE")
    return mode


def _monitor_id(data: dict) -> str:
    value = data.get("monitor")
    if not isinstance(value, str) or not MONITOR_ID.fullmatch(value):
        raise ApiError("BAD_MONITOR_ID")
    return value


def _tell_agent(agent: str, mode: Mode | None, was: Mode | None = None) -> None:
    """The agent's desktop shows (mode) or hides (None, or a mode the setting keeps quiet) "being
    coached", and is sent something only when what it shows changes: a listen the setting keeps
    quiet sends nothing at all to the agent's browser (a message there would tell them)."""
    notice = agent_notice(desktop().settings.monitor_notice, mode, was)
    if notice is not None:
        socketio.emit("coaching", notice, to=f"agent:{agent}")


@event("monitor_start", *MONITOR_ROLES)
def monitor_start(user, data):
    call, mode = uniqueid(data), _mode(data)
    live_call = live.call(desktop().redis, call)
    if live_call is None:
        return fail("NO_SUCH_CALL")
    if not live_call.agent:
        return fail("NOT_ON_CALL")
    code = refusal(user.role, mode, on_their_team=user.role == "quality" or supervised(user, live_call.agent))
    if code:
        return fail(code, ext=live_call.agent)
    if not user.agent_extension:
        return fail("NO_EXTENSION")  # nowhere to ring
    reply = from_router(desktop().router.send("monitor_start", call=call, mode=mode.value, by=user.username,
                                              role=user.role, listener=user.agent_extension))
    if reply["ok"]:
        _tell_agent(live_call.agent, mode)
    return reply


@event("monitor_mode", *MONITOR_ROLES)
def monitor_mode(user, data):
    monitor, mode = _monitor_id(data), _mode(data)
    code = refusal(user.role, mode, on_their_team=True)  # the team was checked when it started
    if code:
        return fail(code)
    reply = from_router(desktop().router.send("monitor_mode", monitor=monitor, mode=mode.value, by=user.username,
                                              role=user.role))
    if reply["ok"] and reply.get("agent"):
        _tell_agent(reply["agent"], mode, was=Mode.parse(reply.get("was")))
    return reply


@event("monitor_stop", *MONITOR_ROLES)
def monitor_stop(user, data):
    reply = from_router(desktop().router.send("monitor_stop", monitor=_monitor_id(data), by=user.username))
    if reply["ok"] and reply.get("agent"):
        _tell_agent(reply["agent"], None, was=Mode.parse(reply.get("mode")))
    return reply
