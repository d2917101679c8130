"""Connecting our services to Asterisk's AMI with panoramisk, in one place."""
from __future__ import annotations

import asyncio

from panoramisk import Manager

from callcenter.config import Settings


async def connect(settings: Settings, timeout: float = 15.0, **options) -> Manager:
    """A logged-in panoramisk Manager; it reconnects by itself if Asterisk restarts."""
    loop = asyncio.get_running_loop()
    logged_in = loop.create_future()

    def on_login(_manager: Manager) -> None:
        if not logged_in.done():
            logged_in.set_result(True)

    manager = Manager(loop=loop, host=settings.ami_host, port=settings.ami_port, username=settings.ami_user,
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
