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
  the route of call backs through the carriers marked outbound (``cc-outbound-trunk``), the next
  one tried when one refuses or cannot be reached, reached only from cc-callback-dial, which only
  the router's Originate reaches.

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
    rank: int = 0  # call backs try the outbound carriers by this, lowest first: the order declared


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


#: a desk phone when the operator requires it (CC_SIP_PHONE_SECURITY=tls): signalling over TLS
#: (callcenter/sip/tls.py's transport), media SRTP with keys in the TLS-protected SDP (SDES),
#: never plain RTP (not optimistic: a phone that offers none is refused, 488)
SECURE_DESK = dict(transport="transport-tls", media_encryption="sdes", media_encryption_optimistic="no")


def phone_sections(phone: Phone, secure: bool = False) -> list[str]:
    ext = names.extension(phone.extension)
    lines = [f"; ---- agent {ext}: desk phone {ext}, desktop softphone {names.phone_endpoint(ext, 'webrtc')}"]
    for device, password in (("sip", phone.sip_password), ("webrtc", phone.webrtc_password)):
        endpoint = names.phone_endpoint(ext, device)
        names.secret(password)
        media = (dict(transport="transport-ws", webrtc="yes", dtls_auto_generate_cert="yes")
                 if device == "webrtc" else dict(transport="transport-udp", dtmf_mode="rfc4733",
                                                 rtp_symmetric="yes", force_rport="yes", rewrite_contact="yes"))
        if device == "sip" and secure:
            media.update(SECURE_DESK)
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


def pjsip(trunks: list[Trunk], phones: list[Phone], secure_phones: bool = False) -> str:
    """secure_phones: desk phones must use TLS and SRTP (SECURE_DESK)."""
    lines: list[str] = []
    for trunk in sorted(trunks, key=lambda t: t.name):
        lines += trunk_sections(trunk)
    for phone in sorted(phones, key=lambda p: p.extension):
        lines += phone_sections(phone, secure_phones)
    return HEADER + "\n".join(lines)


ACCESS_CONTEXT = "cc-access-numbers"  # every access number, for agents' own phones (cc-agent-internal)
OUTBOUND_CONTEXT = "cc-outbound-trunk"  # call backs leave through the carriers marked for them
# A carrier that refuses the call (503 and the like: CONGESTION) or cannot be reached (no
# response, no route: CHANUNAVAIL) is the carrier's problem: the next carrier may carry it.
# BUSY and NOANSWER are the customer's answer: another carrier would ring the same busy phone.
FAILOVER_STATUSES = ("CHANUNAVAIL", "CONGESTION")  # measured: a 503 reads CHANUNAVAIL


def outbound_order(trunks: list[Trunk]) -> list[Trunk]:
    """The carriers marked outbound, in the order they were declared (rank), ties by name."""
    return sorted((t for t in trunks if t.outbound), key=lambda t: (t.rank, t.name))


def outbound_lines(trunks: list[Trunk]) -> list[str]:
    """Call backs through the carriers marked outbound, first declared first, each presenting its
    own first number; when one fails (FAILOVER_STATUSES) the next is tried. Each try is reported
    by extensions.conf's cc-outbound-report (UserEvent OutboundTrunk: the call, the carrier, its
    DIALSTATUS): a refused one as it is refused, the last one as the leg hangs up, so the call's
    journey says which carrier carried it (cdr/outbound.py). None
    marked: nothing here, and cc-outbound falls to the simulated customers."""
    marked = outbound_order(trunks)
    lines = ["; call backs out: the carriers marked for them, in order (extensions.conf: cc-outbound)",
             f"[{OUTBOUND_CONTEXT}]"]
    if not marked:
        return lines + [""]
    endpoints = [names.trunk_endpoint(names.carrier_name(t.name)) for t in marked]
    lines.append(f"exten => _X.,1,NoOp(call back through {' then '.join(endpoints)})")
    lines.append(f" same => n,Set({dialplan.OUT_TRUNK}={endpoints[0]})")
    lines.append(f" same => n,Set(CHANNEL(hangup_handler_push)={dialplan.OUTBOUND_REPORT},s,1)")
    failed = " | ".join(f'"${{DIALSTATUS}}" = "{status}"' for status in FAILOVER_STATUSES)
    for i, (trunk, endpoint) in enumerate(zip(marked, endpoints)):
        shown = sorted(names.number(n) for n in trunk.numbers)
        if i:
            lines.append(f" same => n,Set({dialplan.OUT_TRUNK}={endpoint})")
        if shown:
            lines.append(f" same => n,Set(CALLERID(num)={shown[0]})")
        lines.append(f" same => n,Dial(PJSIP/${{FILTER(0-9,${{EXTEN}})}}@{endpoint},,)")
        if i < len(marked) - 1:
            lines.append(f" same => n,GotoIf($[{failed}]?:done)")
            lines.append(f" same => n,Gosub({dialplan.OUTBOUND_REPORT},s,1)")  # this one refused: said now
    lines.append(" same => n(done),Hangup()")
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
