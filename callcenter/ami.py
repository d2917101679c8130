"""Connecting our services to Asterisk's AMI with panoramisk, in one place."""
from __future__ import annotations

import asyncio
import re
from typing import Mapping

from panoramisk import Manager

from callcenter.config import Settings


class AmiDisconnected(ConnectionError):
    """The AMI connection went away before Asterisk answered this action (or before it was sent):
    Asterisk may or may not have carried it out. The caller decides, from what it sees after
    the reconnect, whether to act again."""


class AtMostOnceManager(Manager):
    """A panoramisk Manager that never sends an action twice.

    Panoramisk keeps each action Asterisk had not answered when the connection dropped and sends
    it again after the next FullyBooted. An Originate or a Redirect that Asterisk had already
    carried out (the connection dropped between the action and its answer) would then ring a
    second phone or move a caller twice, and after an Asterisk restart it would act on channels
    that no longer exist. Here such an action fails with AmiDisconnected instead, and an action
    sent while disconnected fails at once rather than wait for ever on a closed socket (the
    router awaits its redirects under its routing lock)."""

    def __init__(self, **config):
        super().__init__(**config)
        # Asterisk accepts AMI logins before its dialplan and channels are loaded; FullyBooted
        # (sent on login once booted, to a user that reads the system class) says it is ready
        self.fully_booted = asyncio.Event()
        self.register_event("FullyBooted", lambda _manager, _event: self.fully_booted.set())

    def send_action(self, action, as_list=None, **kwargs):
        protocol = getattr(self, "protocol", None)
        if protocol is None or getattr(protocol, "closed", False):
            refused = self.loop.create_future()
            refused.set_exception(AmiDisconnected("AMI not connected: action not sent"))
            return refused
        return super().send_action(action, as_list=as_list, **kwargs)

    def connection_lost(self, exc):
        self.fully_booted.clear()  # the next Asterisk boots again
        super().connection_lost(exc)  # the protocol put the unanswered actions in awaiting_actions
        fail_unanswered(self)


async def booted(manager: Manager, timeout: float = 60.0) -> bool:
    """Wait until the Asterisk behind this connection has fully booted (True), or for `timeout`
    (False: the caller goes on, as it did before there was a wait). A plain panoramisk Manager has
    no such flag: True at once."""
    flag = getattr(manager, "fully_booted", None)
    if flag is None:
        return True
    try:
        await asyncio.wait_for(flag.wait(), timeout)
        return True
    except asyncio.TimeoutError:
        return False


def fail_unanswered(manager: Manager) -> int:
    """Fail every action Asterisk had not answered when the connection dropped; how many."""
    failed = 0
    while manager.awaiting_actions:
        action = manager.awaiting_actions.popleft()
        if not action.future.done():
            action.future.set_exception(AmiDisconnected(f"AMI connection lost before Asterisk answered {action['action']}"))
            failed += 1
    return failed


async def connect(settings: Settings, timeout: float = 15.0, **options) -> Manager:
    """A logged-in Manager; it reconnects by itself if Asterisk restarts, and sends no action
    twice (AtMostOnceManager)."""
    loop = asyncio.get_running_loop()
    logged_in = loop.create_future()

    def on_login(_manager: Manager) -> None:
        if not logged_in.done():
            logged_in.set_result(True)

    manager = AtMostOnceManager(loop=loop, host=settings.ami_host, port=settings.ami_port, username=settings.ami_user,
                                secret=settings.ami_secret, ping_delay=10, on_login=on_login, **options)
    deadline = loop.time() + timeout
    while True:  # wait for the port first: panoramisk schedules its own retries after a failed connect
        try:
            _, writer = await asyncio.open_connection(settings.ami_host, settings.ami_port)
            writer.close()
            break
        except OSError:
            if loop.time() > deadline:
                raise ConnectionError(f"AMI {settings.ami_host}:{settings.ami_port} refused connections "
                                      f"for {timeout:.0f} s") from None
            await asyncio.sleep(0.5)
    await manager.connect()
    try:
        await asyncio.wait_for(logged_in, max(1.0, deadline - loop.time()))
    except asyncio.TimeoutError:
        manager.close()
        raise ConnectionError(f"no AMI login as {settings.ami_user} at {settings.ami_host}:{settings.ami_port}") from None
    return manager


_VARIABLE_NAME = re.compile(r"_{0,2}[A-Za-z][A-Za-z0-9_]{0,63}")
_SPLITS = set(',"\\')  # Asterisk splits an Originate's Variable header on commas and reads quotes
# and backslashes as its own (AST_STANDARD_APP_ARGS), one header or several alike


def originate_variables(pairs: Mapping[str, str]) -> str:
    """An Originate's Variable header, NAME=value,... . A value holding a comma, a quote, a
    backslash or a control character is refused (ValueError), not escaped: it would set another
    variable ("x,CC_AGENT=1234") or end the header ("\nChannel: ..."), and no value of ours needs one."""
    parts = []
    for name, value in pairs.items():
        text = str(value)
        if not _VARIABLE_NAME.fullmatch(name):
            raise ValueError(f"refused AMI variable name {name!r}")
        if _SPLITS & set(text) or not text.isprintable():
            raise ValueError(f"refused AMI variable value {name}={text!r}")
        parts.append(f"{name}={text}")
    return ",".join(parts)
