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

A supervisor may key 4/5/6 on their own phone too. ChanSpy switches then with nobody told, so the
router reads the digits their leg receives (AMI DTMFEnd, Direction Received, on the leg whose
uniqueid is the session's id) and a digit naming another mode than the session's is a switch "keyed
on the phone": audited, stored, told to the wallboard and the agent (acd/monitoring.py ``keyed``).
Kept over dropping ``d`` and re-originating on every switch: the digit reaches ChanSpy and the
router alike (Asterisk sends DTMFEnd as the frame is read, and ChanSpy reads it to switch), so the
two cannot disagree, and a switch still rings nothing again. The router's own PlayDTMF is heard
the same way; it stores the new mode before it sends the digit, so that echo changes nothing.
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


def keys_switch(role: str) -> bool:
    """Do 4/5/6 keyed on this role's phone switch the mode (ChanSpy's d)? Supervisors only."""
    return role == "supervisor"


def chanspy_options(mode: Mode, role: str) -> str:
    """The option string for ChanSpy: letters from the tables above only."""
    if mode not in allowed_modes(role):
        raise ValueError(f"a {role} may not {mode.value}")
    switching = SWITCH_OPTION if keys_switch(role) else ""
    return BASE_OPTIONS + switching + MODE_OPTIONS[mode]


def switch_digit(mode: Mode) -> str:
    return SWITCH_DIGITS[mode]


def keyed_mode(digit, role: str) -> Mode | None:
    """The mode a digit keyed on the monitor's phone switched ChanSpy to, or None: not one of
    4/5/6, or a role whose ChanSpy has no ``d`` (an inspector's keys switch nothing)."""
    if not keys_switch(role):
        return None
    return next((mode for mode, key in SWITCH_DIGITS.items() if key == digit), None)


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


def agent_notice(setting: str, mode: Mode | None, was: Mode | None = None) -> dict | None:
    """What the agent's desktop is sent ("coaching" event) when monitoring starts (was None), switches
    or ends (mode None): the notice shown, or None when what they are shown does not change. A
    listen the setting keeps quiet sends nothing at all (a message would itself tell them)."""
    told = mode is not None and agent_told(setting, mode)
    told_before = was is not None and agent_told(setting, was)
    if told == told_before and (not told or mode == was):
        return None
    return {"active": told, "mode": mode.value if told else None}
