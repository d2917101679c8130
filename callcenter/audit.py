"""The audit log: who changed what on someone else's behalf (a supervisor, an admin, the CLI)."""
from __future__ import annotations

import asyncio

from callcenter.models import AuditEntry


def write(sessions, actor: str, action: str, target: str, detail: str = "") -> None:
    with sessions() as s:
        s.add(AuditEntry(actor=actor[:40], action=action[:40], target=target[:64], detail=detail[:500]))
        s.commit()


def recorder(sessions):
    """An async sink for acd.manager.AgentManager: writes one row per audited action."""
    async def record(actor: str, action: str, target: str, detail: str) -> None:
        await asyncio.to_thread(write, sessions, actor, action, target, detail)
    return record
