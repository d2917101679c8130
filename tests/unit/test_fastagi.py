"""The FastAGI server spoken to over a real socket by a scripted 'Asterisk' (the wire is faked,
the server is real)."""
import asyncio
import logging
import socket

import pytest

from ivr import fastagi
from ivr.fastagi import AgiChannel, FastAgiServer, parse_result, quote_arg

KEY = "0123456789abcdef0123456789abcdef"  # the shared secret, the first part of the AGI URL's path
SCRIPT = f"agi_network_script: {KEY}/test\n".encode()
HEADERS = (b"agi_network: yes\n" + SCRIPT + f"agi_request: agi://127.0.0.1/{KEY}/test\n".encode() +
           b"agi_channel: Local/10000@hotline-1;2\nagi_uniqueid: 1700000000.1\n"
           b"agi_callerid: 13800000001\nagi_calleridname: \"Zhang\" $(reboot)\n\n")


async def serve(routes, host="127.0.0.1", peers=()):
    server = FastAgiServer(routes, secret=KEY, peers=peers)
    listener = await server.start(host, 0)
    port = listener.sockets[0].getsockname()[1]
    return server, listener, port


async def asterisk_side(port, request: bytes, answers: list[bytes], host="127.0.0.1"):
    """Send the request, answer each command line with the next answer; return the commands."""
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(request)
    await writer.drain()
    commands = []
    for answer in answers:
        line = await reader.readline()
        if not line:
            break
        commands.append(line.decode().rstrip("\n"))
        writer.write(answer)
        await writer.drain()
    rest = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    return commands, rest


async def test_route_gets_headers_and_its_commands_are_quoted():
    seen = {}

    async def route(agi: AgiChannel):
        seen.update(agi.headers)
        assert await agi.stream_file("/p/zh/welcome", "12") == "1"
        await agi.set_variable("__CC_SKILL", "billing")

    server, listener, port = await serve({"test": route})
    async with listener:
        commands, rest = await asterisk_side(port, HEADERS, [b"200 result=49 endpos=800\n", b"200 result=1\n"])
    assert commands == ['STREAM FILE "/p/zh/welcome" "12"', 'SET VARIABLE "__CC_SKILL" "billing"']
    assert seen["agi_calleridname"] == '"Zhang" $(reboot)'
    assert rest == b"" and server.served == 1 and server.failed == 0


async def test_exception_in_route_closes_without_hand_off():
    async def route(agi: AgiChannel):
        await agi.stream_file("/p/x")
        raise RuntimeError("bug in a menu")

    server, listener, port = await serve({"test": route})
    async with listener:
        commands, rest = await asterisk_side(port, HEADERS, [b"200 result=0 endpos=1\n"])
    assert commands == ['STREAM FILE "/p/x" ""'] and rest == b""
    assert server.failed == 1 and server.served == 0


async def test_caller_hanging_up_mid_prompt_ends_the_route_quietly():
    reached_end = []

    async def route(agi: AgiChannel):
        await agi.stream_file("/p/long")
        reached_end.append(True)

    server, listener, port = await serve({"test": route})
    async with listener:
        await asterisk_side(port, HEADERS, [b"HANGUP\n200 result=-1 endpos=100\n"])
    assert not reached_end and server.served == 1 and server.failed == 0


@pytest.mark.parametrize("request_bytes", [
    SCRIPT + b"agi_x: " + b"A" * 5000 + b"\n\n",  # oversized line
    b"".join(b"agi_h%d: v\n" % i for i in range(100)) + SCRIPT + b"\n\n",  # too many
    b"GET / HTTP/1.1\nHost: x\n\n",  # not AGI at all
    b"agi_network: yes\nagi_uniqueid: 1.1\n\n",  # no script
    f"agi_network_script: {KEY}/nosuchroute\nagi_uniqueid: 1.1\n\n".encode(),
])
async def test_bad_requests_are_refused(request_bytes):
    called = []

    async def route(agi):
        called.append(agi)

    server, listener, port = await serve({"test": route})
    async with listener:
        commands, rest = await asterisk_side(port, request_bytes, [])
    assert rest == b"" and not called and server.refused == 1


async def test_slow_headers_time_out(monkeypatch):
    monkeypatch.setattr(fastagi, "HEADER_TIMEOUT_S", 0.3)
    server, listener, port = await serve({})
    async with listener:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"agi_network: yes\n")  # and then nothing
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    assert server.refused == 1


@pytest.mark.parametrize("value", ["a\nSTREAM FILE x", "\r", "\x00"])
def test_control_characters_never_reach_asterisk(value):
    with pytest.raises(ValueError):
        quote_arg(value)


def test_quotes_and_backslashes_are_escaped():
    assert quote_arg('say "hi" \\ now') == '"say \\"hi\\" \\\\ now"'


@pytest.mark.parametrize("name, value", [
    ("CC_SKILL", "$(reboot)"), ("CC_SKILL", 'a"b'), ("CC_SKILL", "a b"), ("cc skill", "x"), ("CC_SKILL", "x" * 200),
])
async def test_set_variable_refuses_unsafe_values(name, value):
    agi = AgiChannel({}, None, None)
    with pytest.raises(ValueError):
        await agi.set_variable(name, value)


@pytest.mark.parametrize("line, code, result, data", [
    ("200 result=0 endpos=1234", 200, "0", ""),
    ("200 result=49 endpos=1", 200, "49", ""),
    ("200 result= (timeout)", 200, "", "timeout"),
    ("200 result=123 (timeout)", 200, "123", "timeout"),
    ("511 Command Not Permitted on a dead channel or intercepted", 511, "", ""),
    ("520-Invalid command syntax.  Proper usage follows:", 520, "", ""),
])
def test_result_lines(line, code, result, data):
    r = parse_result(line)
    assert (r.code, r.result, r.data) == (code, result, data)


# A caller-controlled value (the caller ID name, from the SIP From header) that holds a line feed
# spills over the header block: its lines forge headers, end the block early and then answer our
# commands. Any sign of it refuses the call, which the dialplan then sends to agi_fail.
SPILLS = {
    "forged headers around the real ones": (
        b"agi_calleridname: \"Eve\nagi_channel: spoofed\nagi_extension: 666\" $(reboot)\n"),
    "a forged uniqueid, a blank line, then a forged answer to GET VARIABLE": (
        b"agi_calleridname: Eve\nagi_uniqueid: 1700000000.666\n\n200 result=1 (forged)\n"),
    "a spilled line that is not a header": b"agi_calleridname: Eve\n$(reboot) `id`\n",
    "a carriage return inside a value": b"agi_calleridname: Eve\rSTREAM FILE x\n",
    "a tab inside a value": b"agi_calleridname: Eve\tx\n",
    "a NUL inside a value": b"agi_calleridname: Eve\x00\n",
    "a C1 control (NEL) inside a value": "agi_calleridname: Eve\u0085x\n".encode(),
}


@pytest.mark.parametrize("spill", SPILLS.values(), ids=SPILLS.keys())
async def test_a_caller_value_spilling_over_the_headers_refuses_the_call(spill):
    called = []

    async def route(agi: AgiChannel):
        called.append(agi.headers)
        await agi.get_variable("UNIQUEID")

    request = (SCRIPT + b"agi_channel: Local/10000@hotline-1;2\nagi_uniqueid: 1700000000.1\n" + spill + b"agi_extension: 10000\n\n")
    server, listener, port = await serve({"test": route})
    async with listener:
        commands, rest = await asterisk_side(port, request, [b"200 result=1 (forged)\n"])
    assert not called and commands == [] and rest == b""
    assert server.refused == 1 and server.served == 0


@pytest.mark.parametrize("uniqueid", [None, "", "1700000000.1;x", "u" * 65])
async def test_a_request_without_a_plain_uniqueid_is_refused(uniqueid):
    called = []

    async def route(agi: AgiChannel):
        called.append(agi)

    request = SCRIPT + (
        b"" if uniqueid is None else f"agi_uniqueid: {uniqueid}\n".encode()) + b"\n"
    server, listener, port = await serve({"test": route})
    async with listener:
        commands, rest = await asterisk_side(port, request, [])
    assert not called and server.refused == 1


@pytest.mark.parametrize("answer", [b"200 result=1635\n", "200 result=\u0664\u0669\n".encode(),
                                    b"200 result=7\n", "\uff12\uff10\uff10 result=49\n".encode()])
async def test_a_key_that_is_not_a_dtmf_key_fails_the_route(answer):
    keys = []

    async def route(agi: AgiChannel):
        keys.append(await agi.wait_for_digit(1))

    server, listener, port = await serve({"test": route})
    async with listener:
        await asterisk_side(port, HEADERS, [answer])
    assert keys == [] and server.failed == 1  # '٣' or a bell is no key: the caller goes to agi_fail


@pytest.mark.parametrize("answer, key", [(b"200 result=49\n", "1"), (b"200 result=35\n", "#"),
                                         (b"200 result=65\n", "A"), (b"200 result=0\n", "")])
async def test_dtmf_keys_are_read(answer, key):
    keys = []

    async def route(agi: AgiChannel):
        keys.append(await agi.wait_for_digit(1))

    server, listener, port = await serve({"test": route})
    async with listener:
        await asterisk_side(port, HEADERS, [answer])
    assert keys == [key] and server.served == 1


# ---- who may connect: loopback or a configured Asterisk address, with the secret in the URL ----
@pytest.mark.parametrize("script", ["test", f"{KEY[:-1]}/test", f"{KEY}0/test", f"{KEY.upper()}/test",
                                    f"x/{KEY}/test", "/test", f"test?{KEY}"])
async def test_a_request_without_the_secret_is_refused_and_logged(script, caplog):
    called = []

    async def route(agi):
        called.append(agi)

    request = f"agi_network_script: {script}\nagi_uniqueid: 1700000000.1\n\n".encode()
    server, listener, port = await serve({"test": route})
    with caplog.at_level(logging.WARNING, logger="ivr.fastagi"):
        async with listener:
            commands, rest = await asterisk_side(port, request, [])
    assert not called and rest == b"" and server.refused == 1
    assert "without the AGI secret" in caplog.text and KEY not in caplog.text


async def test_the_route_never_sees_the_secret():
    seen = {}

    async def route(agi: AgiChannel):
        seen.update(agi.headers, script=agi.script)

    server, listener, port = await serve({"test": route})
    async with listener:
        await asterisk_side(port, HEADERS, [])
    assert server.served == 1 and seen["script"] == "test"
    assert not [v for v in seen.values() if KEY in v]


def _outside_address() -> str | None:
    """An address of this machine that is not loopback (the one its default route leaves by)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.123", 9))  # UDP: no packet is sent
        except OSError:
            return None
        address = s.getsockname()[0]
    return None if address.startswith("127.") else address


async def test_a_peer_that_is_neither_loopback_nor_a_configured_asterisk_is_refused(caplog):
    outside = _outside_address()
    if outside is None:
        pytest.skip("this machine has no address outside loopback to connect from")
    called = []

    async def route(agi):
        called.append(agi)

    server, listener, port = await serve({"test": route}, host="0.0.0.0")
    with caplog.at_level(logging.WARNING, logger="ivr.fastagi"):
        async with listener:
            reader, writer = await asyncio.open_connection(outside, port)  # peer: outside
            writer.write(HEADERS)
            try:
                rest = await asyncio.wait_for(reader.read(), 5)
            except ConnectionResetError:  # closed with our request unread
                rest = b""
            writer.close()
            await asterisk_side(port, HEADERS, [])  # peer: 127.0.0.1
    assert len(called) == 1 and server.refused == 1 and rest == b""
    assert f"refused AGI connection from {outside}" in caplog.text

    server, listener, port = await serve({"test": route}, host="0.0.0.0", peers=(outside,))
    async with listener:
        await asterisk_side(port, HEADERS, [], host=outside)  # this Asterisk is configured
    assert len(called) == 2 and server.refused == 0


@pytest.mark.parametrize("peer, allowed", [
    (("127.0.0.1", 1), True), (("127.0.0.2", 1), True), (("::1", 1, 0, 0), True),
    (("::ffff:127.0.0.1", 1, 0, 0), True), (("192.0.2.7", 1), False), (("::ffff:192.0.2.7", 1, 0, 0), False),
    (("10.0.0.5", 1), True), (("::ffff:10.0.0.5", 1, 0, 0), True), (None, False), ("", False),
])
def test_peer_check(peer, allowed):
    server = FastAgiServer({}, secret=KEY, peers=("10.0.0.5",))
    assert server.peer_allowed(peer) is allowed
