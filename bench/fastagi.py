"""FastAGI (our asyncio server) vs classic process-per-call AGI, side by side, same minimal flow.

An AGI-protocol load generator plays Asterisk: for each call it sends the AGI environment and
answers every command with "200 result=0", exactly as Asterisk would for a prompt that plays
through. The minimal flow (both sides): SET VARIABLE, STREAM FILE, SET VARIABLE CC_IVR_RESULT.

- fastagi: our ivr.fastagi.FastAgiServer in its own process, calls over TCP on loopback.
- process_agi: a classic AGI script (pyst2's AGI class) started per call with the AGI
  environment on stdin and commands on stdout, as Asterisk's AGI() does with a local script.

Then 500 calls connect to the FastAGI server at the same moment; every one must be served.
Prints a JSON object on its last line:
  fastagi_cps, process_agi_cps, ratio, concurrent_connects, refused (+ counts and settings).

    python bench/fastagi.py [--calls 2000] [--process-calls 200] [--concurrency 50]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SCRIPT = HERE / "agi_process_script.py"


def agi_environment(n: int, network: bool) -> bytes:
    lines = {
        "agi_network": "yes" if network else None,
        "agi_network_script": "bench" if network else None,
        "agi_request": "agi://127.0.0.1/bench" if network else str(SCRIPT),
        "agi_channel": f"Local/10000@hotline-{n:08x};2",
        "agi_language": "en",
        "agi_type": "Local",
        "agi_uniqueid": f"bench.{n}",
        "agi_version": "22.10.1",
        "agi_callerid": f"1380000{n % 10000:04d}",
        "agi_calleridname": "Bench Caller",
        "agi_context": "hotline",
        "agi_extension": "10000",
        "agi_priority": "1",
    }
    return "".join(f"{k}: {v}\n" for k, v in lines.items() if v is not None).encode() + b"\n"


async def speak_as_asterisk(reader: asyncio.StreamReader, write, drain) -> int:
    """Answer commands until the script closes; return how many commands it sent."""
    commands = 0
    while True:
        line = await reader.readline()
        if not line:
            return commands
        commands += 1
        write(b"200 result=0 endpos=1000\n")
        await drain()


# ---------------------------------------------------------------- fastagi side
def serve(port: int) -> None:
    sys.path.insert(0, str(ROOT))
    from ivr.fastagi import AgiChannel, FastAgiServer

    async def bench(agi: AgiChannel) -> None:
        await agi.set_variable("__CC_SKILL", "general")
        await agi.stream_file("/prompts/zh/welcome")
        await agi.set_variable("CC_IVR_RESULT", "ok")

    async def main() -> None:
        server = FastAgiServer({"bench": bench}, secret=None)  # the protocol's cost alone
        listener = await server.start("127.0.0.1", port)
        print("ready", flush=True)
        async with listener:
            await listener.serve_forever()

    asyncio.run(main())


async def fastagi_call(port: int, n: int) -> bool:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        return False
    try:
        writer.write(agi_environment(n, network=True))
        await writer.drain()
        return await asyncio.wait_for(speak_as_asterisk(reader, writer.write, writer.drain), 30) == 3
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


async def process_call(n: int) -> bool:
    proc = await asyncio.create_subprocess_exec(sys.executable, str(SCRIPT), stdin=subprocess.PIPE,
                                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    proc.stdin.write(agi_environment(n, network=False))
    await proc.stdin.drain()
    commands = await speak_as_asterisk(proc.stdout, proc.stdin.write, proc.stdin.drain)
    await proc.wait()
    return commands == 3 and proc.returncode == 0


async def run_calls(call, total: int, concurrency: int) -> tuple[float, int]:
    """Run `total` calls, at most `concurrency` at once; return (calls per second, failures)."""
    counter = iter(range(total))
    failures = 0

    async def worker() -> None:
        nonlocal failures
        for n in counter:
            if not await call(n):
                failures += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start), failures


async def simultaneous(port: int, count: int) -> int:
    """Open `count` calls at the same moment; return how many were not served."""
    results = await asyncio.gather(*(fastagi_call(port, n) for n in range(count)))
    return sum(1 for ok in results if not ok)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="FastAGI calls")
    parser.add_argument("--process-calls", type=int, default=200, help="process-per-call AGI calls")
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--simultaneous", type=int, default=500)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))  # 500 sockets at once

    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))
    try:
        assert server.stdout.readline().strip() == "ready"
        fast_cps, fast_failures = asyncio.run(run_calls(lambda n: fastagi_call(port, n), args.calls,
                                                        args.concurrency))
        proc_cps, proc_failures = asyncio.run(run_calls(process_call, args.process_calls, args.concurrency))
        refused = asyncio.run(simultaneous(port, args.simultaneous))
    finally:
        server.terminate()
        server.wait()
    result = {
        "fastagi_cps": round(fast_cps, 1),
        "process_agi_cps": round(proc_cps, 1),
        "ratio": round(fast_cps / proc_cps, 1),
        "concurrent_connects": args.simultaneous,
        "refused": refused,
        "fastagi_calls": args.calls,
        "process_agi_calls": args.process_calls,
        "failed_calls": fast_failures + proc_failures,
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
