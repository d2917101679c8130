"""Who may hear which recording (issue 11): an agent the calls they took part in, a supervisor
their teams' calls, a quality inspector and an admin every call. The same rule as the call
journeys (agent_desktop/journeys.py), widened to the inspectors whose work recordings are."""
from __future__ import annotations

from sqlalchemy.orm import Session

from callcenter.models import User

EVERY_CALL = ("quality", "admin")
LISTENERS = ("agent", "supervisor", *EVERY_CALL)
HOLDERS = ("supervisor", "quality", "admin")  # who may put a legal hold on, or release it


def may_hear(s: Session, user: User, call_uniqueid: str) -> bool:
    from agent_desktop.journeys import may_see

    if user.role in EVERY_CALL:
        return True
    return user.role in LISTENERS and may_see(s, user, call_uniqueid)
