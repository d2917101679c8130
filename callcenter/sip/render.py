"""Carriers, access numbers and agent phones in, Asterisk configuration out. Pure: no I/O.

Two files, included by the shipped pjsip.conf and extensions.conf (``#tryinclude``), rewritten
whenever the database changes and applied by a reload (callcenter/sip/apply.py):

- ``pjsip_provisioned.conf``: per carrier an endpoint ``trunk-<name>`` (context
  ``cc-trunk-<name>``), its AOR (the address calls back leave to), an identify section (calls
  from its address are its calls), and, with credentials, an auth and optionally a registration;
  per agent a desk-phone endpoint ``<ext>`` and a softphone endpoint ``web<ext>`` (WebRTC), each
  with its own generated password, context ``cc-agent-internal``.
- ``extensions_provisioned.conf``: per carrier the context its calls start in, holding exactly
  the numbers it delivers, each sent to the hotline. A number it does not list does not exist
  there, so Asterisk answers 404 before any dialplan runs. And every access number in
  ``cc-access-numbers``, which agents' own phones reach (cc-agent-internal): a test call; and
  the route of call backs through the carrier marked outbound (``cc-outbound-trunk``), reached
  only from cc-callback-dial, which only the router's Originate reaches.

Every section spells its type and context out (no templates): the dialplan checker
(callcenter/runtime/dialplan_check.py) reads these files too and proves, before Asterisk loads
them, that nothing a trunk or a phone reaches dials out of the center. Every value was checked
by callcenter/sip/names.py when it was stored and is checked again here.
"""
from __future__ import annotations

from dataclasses import dataclass

from callcenter import dialplan
from callcenter.sip import names

PJSIP_FILE = "pjsip_provisioned.conf"
EXTENSIONS_FILE = "extensions_provisioned.conf"
AGENT_CONTEXT = "cc-agent-internal"  # what an agent's phone reaches when it dials: nothing outside
CODECS = "ulaw,alaw"
PHONE_QUALIFY_S = 15  # a phone that stops answering OPTIONS is unreachable within about this long
# Not for trunks: many carriers drop OPTIONS, and a contact qualify marks unavailable refuses
# every call back through it at once (measured: CHANUNAVAIL in half a second); a registration,
# when the carrier wants one, says whether it is there.
TRUNK_QUALIFY_S = 0


@dataclass(frozen=True)
class Trunk:
    name: str
    host: str
    port: int = 5060
    username: str | None = None
    password: str | None = None
    register: bool = False
    outbound: bool = False
    numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Phone:
    extension: str
    sip_password: str
    webrtc_password: str
    name: str = ""  # the agent's display name, not written (it is free text)


def _section(name: str, **settings) -> list[str]:
    lines = [f"[{name}]"]
    for key, value in settings.items():
        if value is None or value == "":
            continue
        text = str(value)
        if any(ch in text for ch in "\r\n;[]") or text != text.strip():
            raise names.SipConfigError("BAD_VALUE", f"[{name}] {key}: {text!r} cannot go into pjsip.conf")
        lines.append(f"{key} = {text}")
    return lines + [""]


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def trunk_sections(trunk: Trunk) -> list[str]:
    name = names.carrier_name(trunk.name)
    host, port = names.host(trunk.host), names.port(trunk.port)
    endpoint, auth = names.trunk_endpoint(name), f"{names.trunk_endpoint(name)}-auth"
    has_auth = bool(trunk.username and trunk.password)
    if has_auth:
        names.sip_user(trunk.username)
        names.secret(trunk.password)
    uri = f"sip:{_address(host, port)}"
    lines = [f"; ---- carrier {name}: {len(trunk.numbers)} number(s)"
             + (", registers" if trunk.register else "") + (", call backs leave here" if trunk.outbound else "")]
    lines += _section(endpoint, type="endpoint", transport="transport-udp", context=names.trunk_context(name),
                      disallow="all", allow=CODECS, direct_media="no", dtmf_mode="rfc4733", rtp_symmetric="yes",
                      trust_id_inbound="yes", aors=endpoint, outbound_auth=auth if has_auth else None,
                      from_user=trunk.username if has_auth else None)
    lines += _section(endpoint, type="aor", contact=uri, qualify_frequency=TRUNK_QUALIFY_S)
    lines += _section(endpoint, type="identify", endpoint=endpoint, match=host)
    if has_auth:
        lines += _section(auth, type="auth", auth_type="userpass", username=trunk.username, password=trunk.password)
    if has_auth and trunk.register:
        lines += _section(f"{endpoint}-reg", type="registration", transport="transport-udp", outbound_auth=auth,
                          server_uri=uri, client_uri=f"sip:{trunk.username}@{_address(host, port)}",
                          contact_user=trunk.username, retry_interval=60, forbidden_retry_interval=600,
                          expiration=3600, line="yes", endpoint=endpoint)
    return lines


def phone_sections(phone: Phone) -> list[str]:
    ext = names.extension(phone.extension)
    lines = [f"; ---- agent {ext}: desk phone {ext}, desktop softphone {names.phone_endpoint(ext, 'webrtc')}"]
    for device, password in (("sip", phone.sip_password), ("webrtc", phone.webrtc_password)):
        endpoint = names.phone_endpoint(ext, device)
        names.secret(password)
        media = (dict(transport="transport-ws", webrtc="yes", dtls_auto_generate_cert="yes")
                 if device == "webrtc" else dict(transport="transport-udp", dtmf_mode="rfc4733",
                                                 rtp_symmetric="yes", force_rport="yes", rewrite_contact="yes"))
        lines += _section(endpoint, type="endpoint", context=AGENT_CONTEXT, disallow="all", allow=CODECS,
                          direct_media="no", auth=f"{endpoint}-auth", aors=endpoint,
                          callerid=f"Agent {ext} <{ext}>", **media)
        lines += _section(f"{endpoint}-auth", type="auth", auth_type="userpass", username=endpoint,
                          password=password)
        lines += _section(endpoint, type="aor", max_contacts=1, remove_existing="yes",
                          qualify_frequency=PHONE_QUALIFY_S)
    return lines


HEADER = ("; Generated by callcenter/sip/render.py from the database: do not edit, it is rewritten\n"
          "; whenever carriers, access numbers or agent phones change (callcenter trunk|number|phone).\n\n")


def pjsip(trunks: list[Trunk], phones: list[Phone]) -> str:
    lines: list[str] = []
    for trunk in sorted(trunks, key=lambda t: t.name):
        lines += trunk_sections(trunk)
    for phone in sorted(phones, key=lambda p: p.extension):
        lines += phone_sections(phone)
    return HEADER + "\n".join(lines)


ACCESS_CONTEXT = "cc-access-numbers"  # every access number, for agents' own phones (cc-agent-internal)
OUTBOUND_CONTEXT = "cc-outbound-trunk"  # call backs leave through the carrier marked for them


def outbound_lines(trunks: list[Trunk]) -> list[str]:
    """Call backs through the first carrier marked outbound (by name), presenting its first
    number; none marked: nothing here, and cc-outbound falls to the simulated customers."""
    marked = sorted((t for t in trunks if t.outbound), key=lambda t: t.name)
    lines = ["; call backs out: the carrier marked for them (extensions.conf: cc-outbound)", f"[{OUTBOUND_CONTEXT}]"]
    if marked:
        trunk = marked[0]
        endpoint = names.trunk_endpoint(names.carrier_name(trunk.name))
        shown = sorted(names.number(n) for n in trunk.numbers)
        lines.append(f"exten => _X.,1,NoOp(call back through {endpoint})")
        if shown:
            lines.append(f" same => n,Set(CALLERID(num)={shown[0]})")
        lines += [f" same => n,Dial(PJSIP/${{FILTER(0-9,${{EXTEN}})}}@{endpoint},,)", " same => n,Hangup()"]
    return lines + [""]


def extensions(trunks: list[Trunk]) -> str:
    """Each trunk's own context: only the numbers it delivers exist, each entering the hotline;
    and every access number once more, for the agents' own phones to call the hotline."""
    out = [HEADER.rstrip("\n"), ""]
    numbers = sorted({names.number(n) for trunk in trunks for n in trunk.numbers})
    out.append("; the center's own numbers, as agents' phones dial them (extensions.conf: cc-agent-internal)")
    out.append(f"[{ACCESS_CONTEXT}]")
    out += [f"exten => {n},1,Goto({dialplan.HOTLINE},{n},1)" for n in numbers]
    out.append("")
    out += outbound_lines(trunks)
    for trunk in sorted(trunks, key=lambda t: t.name):
        out.append(f"; calls from carrier {names.carrier_name(trunk.name)}: its numbers, nothing else (404)")
        out.append(f"[{names.trunk_context(trunk.name)}]")
        for number in sorted(set(trunk.numbers)):
            number = names.number(number)
            out.append(f"exten => {number},1,Goto({dialplan.HOTLINE},{number},1)")
        out.append("")
    return "\n".join(out) + "\n"
