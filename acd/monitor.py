"""Live monitoring (listen, whisper, barge): the rules and ChanSpy's options. Pure, no I/O.

A supervisor (or a quality inspector) monitors a live call from the wallboard: their own phone is
rung by an Originate whose application is ChanSpy on the agent's leg of the call
(acd/actions.py); acd/monitoring.py keeps the session in Redis and audits it. What is decided
here, once, for the desktop and the router alike:

- the three modes, as an enum; ChanSpy's options are built from it, never from text a client sent;
- who may monitor what (``refusal``), with stable codes;
- the DTMF digit that switches ChanSpy between the modes without hanging up.

Why ChanSpy's ``d`` option and a DTMF digit to switch: with ``d`` the running ChanSpy reads 4, 5
and 6 from the spying channel as "listen", "whisper" and "barge" and changes mode in place, so the
supervisor's call stays up and no second leg rings. The router sends the digit with AMI's
PlayDTMF, received on the supervisor's own spying leg (``Receive: true``), as if keyed on their
phone. A quality inspector's ChanSpy is started without ``d``: keys pressed on the inspector's
phone then switch nothing, so listen-only holds whatever they press.
"""
from __future__ import annotations

import enum

MONITOR_ROLES = ("supervisor", "quality")  # admins manage the system; they do not listen to calls


class Mode(str, enum.Enum):
    LISTEN = "listen"  # the monitor hears both parties; neither hears them
    WHISPER = "whisper"  # the agent hears the monitor; the caller does not
    BARGE = "barge"  # both parties hear the monitor

    @classmethod
    def parse(cls, value) -> Mode | None:
        """The mode a client named, or None for anything else (wrong type, unknown word)."""
        if isinstance(value, str):
            for mode in cls:
                if mode.value == value:
                    return mode
        return None


# ChanSpy's options (Asterisk's app_chanspy):
#   q  quiet: no beep and no channel name read to the monitor as they join
#   E  exit when the spied-on channel (the agent's leg) hangs up: the call ended or was transferred
#   S  stop when there is nothing left to spy on (never move on to another channel)
#   d  DTMF 4/5/6 switch between listen, whisper and barge (supervisors only, see above)
#   w  whisper: talk to the spied-on channel only      B  barge: talk to both parties
BASE_OPTIONS = "qES"
SWITCH_OPTION = "d"
MODE_OPTIONS = {Mode.LISTEN: "", Mode.WHISPER: "w", Mode.BARGE: "B"}
SWITCH_DIGITS = {Mode.LISTEN: "4", Mode.WHISPER: "5", Mode.BARGE: "6"}


def allowed_modes(role: str) -> tuple[Mode, ...]:
    if role == "supervisor":
        return tuple(Mode)
    if role == "quality":
        return (Mode.LISTEN,)
    return ()


def chanspy_options(mode: Mode, role: str) -> str:
    """The option string for ChanSpy: letters from the tables above only."""
    if mode not in allowed_modes(role):
        raise ValueError(f"a {role} may not {mode.value}")
    switching = SWITCH_OPTION if role == "supervisor" else ""
    return BASE_OPTIONS + switching + MODE_OPTIONS[mode]


def switch_digit(mode: Mode) -> str:
    return SWITCH_DIGITS[mode]


def refusal(role: str | None, mode: Mode | None, on_their_team: bool) -> str | None:
    """Why this user may not monitor this call in this mode (a stable error code), or None.

    role None: not logged in. on_their_team: the call's agent is in a team the user leads
    (inspectors listen to any team). Checked in this order, so each case has one answer:
    anonymous, a role that never monitors, an unknown mode, listen-only, another team."""
    if role is None:
        return "UNAUTHORIZED"
    if role not in MONITOR_ROLES:
        return "FORBIDDEN"
    if mode is None:
        return "BAD_MONITOR_MODE"
    if mode not in allowed_modes(role):
        return "LISTEN_ONLY"
    if role == "supervisor" and not on_their_team:
        return "NOT_YOUR_TEAM"
    return None


# ---- what the agent is told (the center's setting CC_MONITOR_NOTICE, callcenter/config.py) ----
NOTICE_SETTINGS = ("never", "coaching", "always")
DEFAULT_NOTICE = "coaching"  # whisper and barge: the agent hears the monitor anyway; a listen stays silent


def agent_told(setting: str, mode: Mode) -> bool:
    """Does the agent's desktop show "being coached" while monitored in this mode?"""
    if setting == "always":
        return True
    if setting == "coaching":
        return mode in (Mode.WHISPER, Mode.BARGE)
    return False
