"""The demo's real phones: an example carrier whose numbers are the hotline's, SIP credentials for
every demo agent, and what `callcenter demo` prints so a person can take part.

The carrier is a placeholder at 192.0.2.1 (TEST-NET-1, documentation only: no call comes from
it); it shows what a configured carrier looks like and makes 10000 (the menu) and 10086 (straight
to the VIP queue) access numbers, which agents' own phones can dial. Replace it with your
carrier's address: `callcenter trunk add demo_carrier --host <address>`.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from callcenter.config import Settings
from callcenter.models import AgentPhone, Carrier, User
from callcenter.sip import store

CARRIER = "demo_carrier"
CARRIER_HOST = "192.0.2.1"
NUMBERS = (("10000", None, "the hotline: the voice menu"), ("10086", "vip", "VIP line: straight to the VIP queue"))
AGENT = "agent1"  # the demo agent a person plays


def seed(s: Session) -> None:
    if s.scalar(select(Carrier).where(Carrier.name == CARRIER)) is None:
        store.save_carrier(s, CARRIER, CARRIER_HOST)
        for number, skill, label in NUMBERS:
            store.save_number(s, number, CARRIER, skill=skill, label=label)
    store.provision_all(s)


def banner(settings: Settings, s: Session, demo_password: str) -> list[str]:
    """How a person joins in: the desktop, the agent to log in as, a SIP account."""
    user = s.scalar(select(User).where(User.username == AGENT))
    phone = s.get(AgentPhone, user.agent_extension) if user and user.agent_extension else None
    scheme = "https" if settings.web_tls_cert else "http"  # the worker's own TLS (issue 15); a proxy's URL is its own
    desktop = f"{scheme}://{settings.web_host}:{settings.web_port}/"
    lines = ["", "Take a demo call yourself:",
             f"  desktop   {desktop}  log in as {AGENT} / {demo_password}, choose \"This browser\" where calls",
             "            ring, press Ready; demo callers ring in the page (allow the microphone)"]
    if phone is not None:
        lines += [f"  SIP phone register any SIP softphone as user {phone.extension}, password {phone.sip_password},",
                  f"            server {settings.sip_host}:{settings.sip_port} (UDP); call 10000 for the hotline's menu,"
                  " or choose \"Desk phone\" in the desktop to answer on it"]
    return lines
