"""FastAGI server: many calls at once from one asyncio process.

Why asyncio and not threads over pyst2: an IVR call spends almost all its time waiting on
Asterisk (a prompt playing, a caller thinking), so one event loop serves hundreds of calls with
one socket each and no thread per call. We speak the protocol ourselves instead of using
panoramisk's FastAGI ``Application`` because its request reader has no size limit or timeout,
and its result parser folds "result=-1" and "(timeout)" into errors we need to tell apart.

Safety rules enforced here, for every route:
- the request headers are read with a line-length limit, a line-count limit and a timeout;
- a request whose headers show a caller-controlled value spilling over (a line that is not a
  header, a header twice, a control character in a value) is refused, and so is one without a
  plain uniqueid: the caller ID name is the caller's to choose, and a line feed in it would end
  the header block early and let the rest of it answer our commands. Nothing in the headers is
  ever asked of the channel instead (GET VARIABLE), since those answers are what a spill forges;
- keys are DTMF keys only (``0-9 * # A-D``, ASCII): an answer naming any other character fails;
- only loopback and the configured Asterisk addresses may connect, and a request must carry the
  shared secret as the first part of its script path (``agi://host:port/<secret>/hotline``, the
  dialplan's CC_AGI_URL), compared in constant time; a refused one is logged, never its secret;
- every argument sent back to Asterisk is refused if it holds a control character and is quoted
  with escaping, so a caller-controlled string can never start a second AGI command;
- any exception in a route is logged and the connection closed without handing off, so the
  dialplan sends the caller to the ``agi_fail`` branch (a general agent), never dead air.
"""
from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
from dataclasses import dataclass
from typing import Awaitable, Callable

log = logging.getLogger("ivr.fastagi")

MAX_LINE = 2048  # bytes in one header or result line
MAX_HEADERS = 64
HEADER_TIMEOUT_S = 5.0
COMMAND_TIMEOUT_S = 300.0  # a prompt plus the caller's input never takes longer

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_ANY = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 (NEL is a line break to some readers)
_HEADER = re.compile(r"(agi_[a-z0-9_]+): (.*)", re.ASCII)  # how Asterisk writes every header line
UNIQUEID = re.compile(r"[A-Za-z0-9._-]{1,64}", re.ASCII)  # Asterisk's [systemname-]epoch.seq; calls.uniqueid is 64
DTMF_KEYS = "0123456789*#ABCD"
VARIABLE_NAME = re.compile(r"^(__?)?[A-Z][A-Z0-9_]{0,63}$")
VARIABLE_VALUE = re.compile(r"^[A-Za-z0-9_.:/@+\-]{0,128}$")


class AgiError(Exception):
    """Asterisk answered a command with an error, or the protocol was broken."""


class CallerHungUp(Exception):
    """The channel hung up while the route was running."""


class BadRequest(Exception):
    """The AGI request headers were malformed, too long or too slow."""


class EmptyConnection(Exception):
    """A client connected and closed without a byte: a port check, not a call."""


def quote_arg(value: str) -> str:
    """One AGI argument, double-quoted with backslash escapes; control characters refused."""
    if _CONTROL.search(value):
        raise ValueError(f"refusing an AGI argument with a control character: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def read_request(reader: asyncio.StreamReader) -> dict[str, str]:
    """Read the ``agi_*: value`` header block that starts a FastAGI connection.

    Asterisk writes caller-controlled strings (the caller ID name and number, the dialled
    digits) raw, so a line feed in one splits it over several lines: the extra lines forge
    headers, and a blank one ends the block early so that the rest is read as answers to our
    commands. Every way that shows is refused (:class:`BadRequest`): a line that is not a header,
    a header seen twice, a control character left in a value. A spill made only of well-formed,
    new header lines and a blank line cannot be told apart here; what it forges is then limited
    to headers (no uniqueid: that comes before every caller value, so forging it repeats it)
    and answers that look like keys, until Asterisk's own remaining header lines arrive as
    unparsable answers and fail the route.
    """
    headers: dict[str, str] = {}

    async def _read() -> None:
        for _ in range(MAX_HEADERS + 1):
            try:
                raw = await reader.readuntil(b"\n")
            except asyncio.LimitOverrunError:
                raise BadRequest(f"header line longer than {MAX_LINE} bytes") from None
            except asyncio.IncompleteReadError as exc:
                if not headers and not exc.partial:
                    raise EmptyConnection() from None  # a port probe (health check), not a call
                raise BadRequest("connection closed inside the request headers") from None
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line == "":
                return
            m = _HEADER.fullmatch(line)
            if not m:
                raise BadRequest("a line that is not an AGI header (a caller value spilled over?)")
            name, value = m[1], m[2]
            if _CONTROL_ANY.search(value):
                raise BadRequest(f"a control character in {name}")
            if name in headers:
                raise BadRequest(f"{name} twice (a caller value spilled over?)")
            headers[name] = value
        raise BadRequest(f"more than {MAX_HEADERS} header lines")

    try:
        await asyncio.wait_for(_read(), HEADER_TIMEOUT_S)
    except asyncio.TimeoutError:
        raise BadRequest(f"headers not complete within {HEADER_TIMEOUT_S} s") from None
    if "agi_network_script" not in headers:
        raise BadRequest("no agi_network_script header")
    if not UNIQUEID.fullmatch(headers.get("agi_uniqueid", "")):
        raise BadRequest("no plain agi_uniqueid header")
    return headers


@dataclass
class AgiResult:
    code: int
    result: str  # the value after "result=" ("" when absent)
    data: str  # the text in parentheses, e.g. "timeout"
    line: str


_RESULT_LINE = re.compile(r"^(?P<code>[0-9]{3})[ -](?P<rest>.*)$")
_RESULT_VALUE = re.compile(r"result=(?P<result>\S*)(?:\s*\((?P<data>[^)]*)\))?")


def parse_result(line: str) -> AgiResult:
    """Parse one AGI answer line such as ``200 result=49 (timeout) endpos=1234``."""
    m = _RESULT_LINE.match(line)
    if not m:
        raise AgiError(f"unparsable AGI answer {line[:80]!r}")
    v = _RESULT_VALUE.search(m["rest"])
    return AgiResult(code=int(m["code"]), result=v["result"] if v else "",
                     data=(v["data"] or "") if v else "", line=line)


class AgiChannel:
    """One call's FastAGI connection: send a command, get its parsed result."""

    def __init__(self, headers: dict[str, str], reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter):
        self.headers = headers
        self.reader = reader
        self.writer = writer
        self.hung_up = False

    @property
    def uniqueid(self) -> str:
        return self.headers.get("agi_uniqueid", "")

    @property
    def script(self) -> str:
        # "hotline" or "hotline?x=y" (the server took the secret off): the part before any query
        return self.headers.get("agi_network_script", "").split("?", 1)[0].rpartition("/")[2]

    async def command(self, verb: str, *args: str) -> AgiResult:
        line = " ".join([verb, *(quote_arg(a) for a in args)]) + "\n"
        self.writer.write(line.encode("utf-8"))
        await self.writer.drain()
        while True:
            raw = await asyncio.wait_for(self.reader.readline(), COMMAND_TIMEOUT_S)
            if not raw:
                raise CallerHungUp("connection closed by Asterisk")
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if text == "HANGUP":  # Asterisk tells us once; the command's own result follows
                self.hung_up = True
                continue
            result = parse_result(text)
            if result.code == 100:  # "100 Trying...": the real answer follows
                continue
            if result.code == 520:  # usage error; "520-" opens usage text closed by "520 End..."
                if text.startswith("520-"):
                    for _ in range(200):
                        if (await self.reader.readline()).startswith(b"520 "):
                            break
                raise AgiError(f"{verb}: usage error")
            if result.code == 511 or (self.hung_up and result.code != 200):
                raise CallerHungUp(text)
            if result.code != 200:
                raise AgiError(f"{verb}: {text}")
            if result.result == "-1" and verb in ("STREAM FILE", "GET DATA", "WAIT FOR DIGIT", "ANSWER"):
                raise CallerHungUp(f"{verb} returned -1")
            return result

    # Commands the IVR uses, named for what they do.
    async def stream_file(self, path: str, escape_digits: str = "") -> str:
        """Play a prompt (path without extension); return the digit that interrupted it, if any."""
        res = await self.command("STREAM FILE", path, escape_digits)
        return _key(res)

    async def get_variable(self, name: str) -> str:
        if not VARIABLE_NAME.match(name):
            raise ValueError(f"refusing channel variable name {name!r}")
        res = await self.command("GET VARIABLE", name)
        return res.data if res.result == "1" else ""

    async def wait_for_digit(self, timeout_s: float) -> str:
        """One key within timeout_s, or "" on silence."""
        res = await self.command("WAIT FOR DIGIT", str(int(timeout_s * 1000)))
        return _key(res)

    async def set_variable(self, name: str, value: str) -> None:
        if not VARIABLE_NAME.match(name):
            raise ValueError(f"refusing channel variable name {name!r}")
        if not VARIABLE_VALUE.match(value):
            raise ValueError(f"refusing channel variable value {value!r} for {name}")
        await self.command("SET VARIABLE", name, value)


def _key(res: AgiResult) -> str:
    """The key an answer names by its ASCII code ("" for none); anything but a DTMF key fails.
    (int() alone would read '٤٩' as 49, and chr(1635) is '٣', which str.isdigit accepts.)"""
    if res.result in ("", "0"):
        return ""
    key = chr(int(res.result)) if res.result.isascii() and res.result.isdigit() and len(res.result) <= 3 else ""
    if key == "" or key not in DTMF_KEYS:
        raise AgiError(f"not a DTMF key: {res.line[:40]!r}")
    return key


Route = Callable[[AgiChannel], Awaitable[None]]


def _ip(peer) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The peer's address (an IPv4-mapped IPv6 address as IPv4), or None when it has none."""
    try:
        address = ipaddress.ip_address(peer[0])
    except (TypeError, ValueError, IndexError):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def take_secret(headers: dict[str, str], secret: str) -> bool:
    """Check the secret in front of the script path in constant time, and take it off the headers
    the route sees; False when it is missing or wrong."""
    script = headers.get("agi_network_script", "")
    given, sep, rest = script.partition("/")
    ok = hmac.compare_digest(given.encode(), secret.encode()) and bool(sep)
    if ok:
        headers["agi_network_script"] = rest
        if "agi_request" in headers:
            headers["agi_request"] = headers["agi_request"].replace(f"/{secret}/", "/", 1)
    return ok


class FastAgiServer:
    """``secret``: the shared secret every request's script path starts with (None: none asked,
    for benchmarks); ``peers``: addresses besides loopback that may connect (our Asterisk)."""

    def __init__(self, routes: dict[str, Route], *, secret: str | None, peers: tuple[str, ...] = ()):
        self.routes = routes
        self.secret = secret
        self.peers = frozenset(_ip((p,)) for p in peers)
        self.served = 0
        self.failed = 0
        self.refused = 0

    def peer_allowed(self, peer) -> bool:
        address = _ip(peer)
        return address is not None and (address.is_loopback or address in self.peers)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            peer = writer.get_extra_info("peername")
            if not self.peer_allowed(peer):
                self.refused += 1
                log.warning("refused AGI connection from %s: neither loopback nor a configured Asterisk "
                            "address (CC_AGI_PEERS)", peer[0] if peer else peer)
                return
            try:
                headers = await read_request(reader)
            except EmptyConnection:
                return
            except BadRequest as exc:
                self.refused += 1
                log.warning("refused AGI request from %s: %s", peer[0], exc)
                return
            if self.secret is not None and not take_secret(headers, self.secret):
                self.refused += 1
                log.warning("refused AGI request from %s without the AGI secret (channel %s)",
                            peer[0], headers.get("agi_uniqueid", "?"))
                return
            channel = AgiChannel(headers, reader, writer)
            route = self.routes.get(channel.script)
            if route is None:
                self.refused += 1
                log.error("no route for AGI script %r (channel %s)", channel.script, channel.uniqueid)
                return
            try:
                await route(channel)
                self.served += 1
            except CallerHungUp:
                self.served += 1
                log.info("%s: caller hung up during %s", channel.uniqueid, channel.script)
            except Exception:
                # Never leak: the dialplan sees no hand-off and goes to agi_fail.
                self.failed += 1
                log.exception("%s: route %s failed; the dialplan will send the caller to agi_fail",
                              channel.uniqueid, channel.script)
        finally:
            writer.close()
            try:
                await writer.wait_closed()
            except (ConnectionError, OSError):
                pass

    async def start(self, host: str, port: int, reuse_port: bool = False) -> asyncio.AbstractServer:
        """reuse_port: several FastAGI processes listen on one port and the kernel spreads the
        connections among them (CC_AGI_SERVERS > 1); off for one, so a stray second server
        on the port is still refused."""
        return await asyncio.start_server(self.handle, host, port, limit=MAX_LINE, backlog=1024,
                                          reuse_port=reuse_port or None)
