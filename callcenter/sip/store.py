"""Carriers, access numbers and agent phones in the database: read for rendering, changed by
the CLI and the admin screen. Every value is checked (callcenter/sip/names.py) before it is
stored; refusals are SipConfigError with a stable code.
"""
from __future__ import annotations

import secrets
import string
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from acd.protocol import is_skill
from callcenter.models import AccessNumber, AgentPhone, Carrier, User, utcnow
from callcenter.sip import names
from callcenter.sip.render import Phone, Trunk


ALPHABET = string.ascii_letters + string.digits


def new_password() -> str:
    """A generated SIP password: 20 letters and digits, about 119 bits. No punctuation: a person
    types it into a phone's menu, and a leading "-" reads as an option to many command lines."""
    return "".join(secrets.choice(ALPHABET) for _ in range(20))


# ---------------------------------------------------------------- reading
def trunks(s: Session) -> list[Trunk]:
    rows = s.scalars(select(Carrier).where(Carrier.active).order_by(Carrier.name)).all()
    return [Trunk(c.name, c.host, c.port, c.username, c.password, c.register, c.outbound,
                  tuple(sorted(n.number for n in c.numbers)), rank=c.id) for c in rows]


# Who has phones: agents, and the monitors (supervisors, quality inspectors) whose listening leg
# rings their own extension (acd/monitoring.py), desk phone or the wallboard's softphone (issue 11)
PHONE_ROLES = ("agent", "supervisor", "quality")


def phones(s: Session) -> list[Phone]:
    """The phones of active agents and monitors (one removed or moved off the extension rings nowhere)."""
    rows = s.execute(select(AgentPhone, User.display_name).join(User, User.agent_extension == AgentPhone.extension)
                     .where(User.active, User.role.in_(PHONE_ROLES)).order_by(AgentPhone.extension)).all()
    return [Phone(p.extension, p.sip_password, p.webrtc_password, name) for p, name in rows]


@dataclass(frozen=True)
class NumberRoute:
    """What an access number starts: a flow entry node, a skill's queue, or the flow's start."""
    number: str
    entry: str | None = None
    skill: str | None = None


def number_route(s: Session, number: str) -> NumberRoute | None:
    row = s.get(AccessNumber, number)
    return None if row is None else NumberRoute(row.number, row.entry, row.skill)


# ---------------------------------------------------------------- carriers
def save_carrier(s: Session, name: str, host: str, port=5060, username: str | None = None,
                 password: str | None = None, register: bool = False, outbound: bool = False) -> Carrier:
    """Add a carrier or change one (by name)."""
    name, host, port = names.carrier_name(name), names.host(host), names.port(port)
    if username is not None:
        names.sip_user(username)
    if password is not None:
        names.secret(password)
    if register and not (username and password):
        raise names.SipConfigError("REGISTER_NEEDS_CREDENTIALS", "registering to a carrier needs its user name and password")
    carrier = s.scalar(select(Carrier).where(Carrier.name == name)) or Carrier(name=name)
    carrier.host, carrier.port, carrier.username, carrier.password = host, port, username, password
    carrier.register, carrier.outbound, carrier.active = register, outbound, True
    s.add(carrier)
    s.flush()
    return carrier


def remove_carrier(s: Session, name: str) -> None:
    carrier = s.scalar(select(Carrier).where(Carrier.name == names.carrier_name(name)))
    if carrier is None:
        raise names.SipConfigError("NO_SUCH_CARRIER", f"no carrier {name!r}")
    s.delete(carrier)
    s.flush()


# ---------------------------------------------------------------- access numbers
def save_number(s: Session, number: str, carrier: str, entry: str | None = None, skill: str | None = None,
                label: str = "", flow_nodes: set[str] | None = None) -> AccessNumber:
    """A number a carrier delivers, to a flow entry (a node of the flow; `flow_nodes` are the
    flow's nodes, checked when given) or straight to a skill; neither: the flow's start."""
    number = names.number(number)
    if entry is not None and skill is not None:
        raise names.SipConfigError("ONE_TARGET", "an access number goes to a flow entry or to a skill, not both")
    if entry is not None:
        names.entry(entry)
        if flow_nodes is not None and entry not in flow_nodes:
            raise names.SipConfigError("NO_SUCH_ENTRY", f"the flow has no node {entry!r}")
    if skill is not None and not is_skill(skill):
        raise names.SipConfigError("BAD_SKILL", f"a skill is a-z and _ (up to 32), not {skill!r}")
    if not isinstance(label, str) or len(label) > 80:
        raise names.SipConfigError("BAD_LABEL", "a label has at most 80 characters")
    row = s.scalar(select(Carrier).where(Carrier.name == names.carrier_name(carrier)))
    if row is None:
        raise names.SipConfigError("NO_SUCH_CARRIER", f"no carrier {carrier!r}")
    access = s.get(AccessNumber, number) or AccessNumber(number=number)
    access.carrier_id, access.entry, access.skill, access.label = row.id, entry, skill, label
    s.add(access)
    s.flush()
    return access


def remove_number(s: Session, number: str) -> None:
    row = s.get(AccessNumber, names.number(number))
    if row is None:
        raise names.SipConfigError("NO_SUCH_NUMBER", f"no access number {number!r}")
    s.delete(row)
    s.flush()


# ---------------------------------------------------------------- agent phones
def agent_exists(s: Session, ext: str) -> bool:
    return s.scalar(select(User.id).where(User.agent_extension == ext)) is not None


def phone(s: Session, ext: str, create: bool = True) -> AgentPhone | None:
    """The agent's phone credentials, generated on first use."""
    ext = names.extension(ext)
    row = s.get(AgentPhone, ext)
    if row is None and create:
        if not agent_exists(s, ext):
            raise names.SipConfigError("NO_SUCH_AGENT", f"no agent has extension {ext}")
        row = AgentPhone(extension=ext, sip_password=new_password(), webrtc_password=new_password())
        s.add(row)
        s.flush()
    return row


def set_password(s: Session, ext: str, password: str | None = None, device: str = "sip") -> str:
    """A new password for the agent's desk phone (or softphone): the one given, or generated."""
    row = phone(s, ext)
    names.device(device)
    value = names.secret(password) if password is not None else new_password()
    if device == "sip":
        row.sip_password = value
    else:
        row.webrtc_password = value
    row.updated_at = utcnow()
    s.flush()
    return value


def provision_all(s: Session) -> list[str]:
    """Credentials for every active agent who has none yet; the extensions given some."""
    have = set(s.scalars(select(AgentPhone.extension)))
    added = []
    for ext in s.scalars(select(User.agent_extension).where(User.agent_extension.is_not(None), User.active,
                                                            User.role == "agent")):
        if ext not in have:
            phone(s, ext)
            added.append(ext)
    return added
