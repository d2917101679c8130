"""Port checks, so a port already in use is one clear line before anything starts."""
from __future__ import annotations

import socket


class PortInUse(RuntimeError):
    pass


def ensure_free(port: int, what: str, env_name: str, host: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            raise PortInUse(
                f"port {port} ({what}) is already in use: stop what uses it or set {env_name} to another port"
            ) from None


def is_listening(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
