"""The FastAGI server spoken to over a real socket by a scripted 'Asterisk' (the wire is faked,
the server is real)."""
import asyncio

import pytest

from ivr import fastagi
from ivr.fastagi import AgiChannel, FastAgiServer, parse_result, quote_arg

HEADERS = (b"agi_network: yes\nagi_network_script: test\nagi_request: agi://127.0.0.1/test\n"
           b"agi_channel: Local/10000@hotline-1;2\nagi_uniqueid: 1700000000.1\n"
           b"agi_callerid: 13800000001\nagi_calleridname: \"Zhang\" $(reboot)\n\n")


async def serve(routes):
    server = FastAgiServer(routes)
    listener = await server.start("127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    return server, listener, port


async def asterisk_side(port, request: bytes, answers: list[bytes]):
    """Send the request, answer each command line with the next answer; return the commands."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
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
    b"agi_network_script: test\nagi_x: " + b"A" * 5000 + b"\n\n",  # oversized line
    b"".join(b"agi_h%d: v\n" % i for i in range(100)) + b"agi_network_script: test\n\n",  # too many
    b"GET / HTTP/1.1\nHost: x\n\n",  # not AGI at all
    b"agi_network: yes\n\n",  # no script
    b"agi_network_script: nosuchroute\n\n",
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


async def test_a_caller_name_with_a_newline_does_not_break_the_request():
    seen = {}

    async def route(agi: AgiChannel):
        seen.update(agi.headers)

    # a name spilling over a line and forging headers before and after it
    request = (b"agi_network_script: test\nagi_channel: Local/10000@hotline-1;2\n"
               b"agi_calleridname: \"Eve\nagi_channel: spoofed\nagi_extension: 666\" $(reboot)\n"
               b"agi_extension: 10000\n\n")
    server, listener, port = await serve({"test": route})
    async with listener:
        await asterisk_side(port, request, [])
    assert server.served == 1
    assert seen["agi_calleridname"] == '"Eve'
    assert "agi_channel" not in seen and "agi_extension" not in seen  # ambiguous: unknown, not forged
