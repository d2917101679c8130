"""The shapes of everything the SIP configuration is made of, checked before it is stored.

Each value is written into pjsip.conf or the dialplan, so each is held to a small alphabet: a
newline would start a new setting, a ";" a comment, a "," one more Dial argument, a "]" a new
section. Refusals are ``SipConfigError`` with a stable code (the CLI and the desktop show it).
"""
from __future__ import annotations

import ipaddress
import re

from callcenter.digits import ascii_int

CARRIER_NAME = re.compile(r"[a-z][a-z0-9_]{0,23}")
HOST_NAME = re.compile(r"(?=.{1,253}\Z)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)*"
                       r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\Z")
SIP_USER = re.compile(r"[A-Za-z0-9_.+-]{1,64}")
# printable ASCII but for what a config line or a SIP header would read as structure
SECRET = re.compile(r"[A-Za-z0-9!$%&*+./:=?@^_~-]{8,128}")
NUMBER = re.compile(r"[0-9]{2,20}")
ENTRY = re.compile(r"[a-z_][a-z0-9_]{0,39}")
EXTENSION = re.compile(r"1[0-9]{3}")

#: where an agent's calls ring: their desk phone / softphone (endpoint <ext>) or the desktop's
#: own softphone (endpoint web<ext>)
DEVICES = ("sip", "webrtc")


class SipConfigError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


def carrier_name(value: str) -> str:
    if not isinstance(value, str) or not CARRIER_NAME.fullmatch(value):
        raise SipConfigError("BAD_CARRIER_NAME", f"a carrier's name is a-z, 0-9 and _ (up to 24), not {value!r}")
    return value


def host(value: str) -> str:
    """An IP address or a host name (no port, no scheme)."""
    if isinstance(value, str):
        try:
            return str(ipaddress.ip_address(value))
        except ValueError:
            if HOST_NAME.fullmatch(value) and not value.replace(".", "").isdigit():
                return value.lower()
    raise SipConfigError("BAD_HOST", f"a carrier's host is an IP address or a host name, not {value!r}")


def port(value) -> int:
    if isinstance(value, str):  # int() would read "５０６０" as 5060: ASCII digits only
        number = ascii_int(value, 5) or 0
    elif isinstance(value, int):
        number = value
    else:
        number = 0
    if isinstance(value, bool) or not 1 <= number <= 65535:
        raise SipConfigError("BAD_PORT", f"a port is 1-65535, not {value!r}")
    return number


def sip_user(value: str) -> str:
    if not isinstance(value, str) or not SIP_USER.fullmatch(value):
        raise SipConfigError("BAD_SIP_USER", f"a SIP user name is letters, digits and _ . + - (up to 64), not {value!r}")
    return value


def secret(value: str) -> str:
    if not isinstance(value, str) or not SECRET.fullmatch(value):
        raise SipConfigError("BAD_SECRET", "a SIP password has 8 to 128 letters, digits or !$%&*+./:=?@^_~-")
    return value


def number(value: str) -> str:
    if not isinstance(value, str) or not NUMBER.fullmatch(value):
        raise SipConfigError("BAD_NUMBER", f"an access number is 2 to 20 digits (0-9), not {value!r}")
    return value


def entry(value: str) -> str:
    if not isinstance(value, str) or not ENTRY.fullmatch(value):
        raise SipConfigError("BAD_ENTRY", f"a flow entry is a node name (a-z, 0-9, _), not {value!r}")
    return value


def extension(value: str) -> str:
    if not isinstance(value, str) or not EXTENSION.fullmatch(value):
        raise SipConfigError("BAD_EXTENSION", f"an agent extension is 1XXX, not {value!r}")
    return value


def device(value: str) -> str:
    if value not in DEVICES:
        raise SipConfigError("BAD_DEVICE", f"calls ring on {' or '.join(DEVICES)}, not {value!r}")
    return value


# ---- names in Asterisk's configuration, one place
def trunk_endpoint(name: str) -> str:
    return f"trunk-{name}"


def trunk_context(name: str) -> str:
    return f"cc-trunk-{name.replace('_', '-')}"


def phone_endpoint(ext: str, dev: str = "sip") -> str:
    """The endpoint (and AOR, and auth user) that rings for agent `ext` on device `dev`."""
    return ext if dev == "sip" else f"web{ext}"


def endpoint_extension(endpoint: str) -> tuple[str, str] | None:
    """(extension, device) for one of our agent endpoints' names, else None."""
    dev, ext = ("webrtc", endpoint[3:]) if endpoint.startswith("web") else ("sip", endpoint)
    return (ext, dev) if EXTENSION.fullmatch(ext) else None
