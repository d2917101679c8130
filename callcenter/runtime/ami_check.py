"""A blocking AMI login, for health checks from the command line (no event loop needed)."""
from __future__ import annotations

import socket

from callcenter.config import Settings


def ami_login_ok(settings: Settings, timeout: float = 2.0) -> bool:
    try:
        with socket.create_connection((settings.ami_host, settings.ami_port), timeout=timeout) as sock:
            f = sock.makefile("rwb")
            if not f.readline().startswith(b"Asterisk Call Manager"):
                return False
            f.write(f"Action: Login\r\nUsername: {settings.ami_user}\r\nSecret: {settings.ami_secret}\r\n"
                    "Events: off\r\n\r\n".encode())
            f.flush()
            reply = b""
            while not reply.endswith(b"\r\n\r\n"):
                line = f.readline()
                if not line:
                    return False
                reply += line
            ok = b"Response: Success" in reply
            f.write(b"Action: Logoff\r\n\r\n")
            f.flush()
            return ok
    except OSError:
        return False
