"""A real SIP user agent for the tests (PJSIP's own stack, pjsua2-python): a carrier's caller or
an agent's desk phone, each sending its own tone and recording what it hears.

One UA per process (pjsua2 has one endpoint per process), driven from the command line and, while
it runs, by lines on stdin; it reports what happens as JSON lines on stdout, which the tests wait
on (tests/sip/driver.py):

    python -m tests.sip.ua call  --bind 127.0.0.3 --to sip:20000@127.0.0.1:5060 --tone 440 \\
        --record caller.wav [--dtmf 0 --dtmf-after 2] [--hangup-after 20] [--user U --password P]
    python -m tests.sip.ua phone --bind 127.0.0.4 --registrar 127.0.0.1:5060 --user 1701 \\
        --password P --tone 1000 --record agent.wav [--answer-after 1] [--hangup-after 6]

stdin commands: ``unregister``, ``register``, ``hangup``, ``hold``, ``dial <uri>``, ``dtmf <digits>``,
``quit``.
Events: ready, registered {code, expires}, incoming {from}, calling, state {state}, media,
disconnected {code, reason}, recorded {path} (the recording is complete only then), dtmf_sent,
error {message}.
"""
from __future__ import annotations

import argparse
import gc
import json
import math
import queue
import struct
import sys
import threading
import time
import wave

import pjsua2 as pj


def say(event: str, **fields) -> None:
    print(json.dumps({"event": event, "at": time.time(), **fields}), flush=True)


def write_tone(path: str, hz: float, seconds: float = 60.0, rate: int = 8000) -> None:
    """A sine tone at half scale: the sound this side sends."""
    with wave.open(path, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        frames = bytearray()
        for i in range(int(seconds * rate)):
            frames += struct.pack("<h", int(16000 * math.sin(2 * math.pi * hz * i / rate)))
        out.writeframes(bytes(frames))


class Call(pj.Call):
    def __init__(self, ua: "Agent", account, call_id=pj.PJSUA_INVALID_ID):
        super().__init__(account, call_id)
        self.ua = ua
        self.player = None
        self.recorder = None
        self.confirmed_at = None

    def onCallState(self, prm) -> None:
        info = self.getInfo()
        say("state", state=info.stateText, code=info.lastStatusCode)
        if info.state == pj.PJSIP_INV_STATE_CONFIRMED:
            self.confirmed_at = time.monotonic()
        if info.state == pj.PJSIP_INV_STATE_DISCONNECTED:
            say("disconnected", code=info.lastStatusCode, reason=info.lastReason)
            if self.recorder is not None:
                self.player = self.recorder = None  # destroyed: the WAV file is complete, readable
                gc.collect()
                self.ua.recorded = True
                say("recorded", path=self.ua.args.record)
            self.ua.call_ended(self)

    def onCallMediaState(self, prm) -> None:
        info = self.getInfo()
        for index, media in enumerate(info.media):
            if media.type != pj.PJMEDIA_TYPE_AUDIO or media.status != pj.PJSUA_CALL_MEDIA_ACTIVE:
                continue
            audio = self.getAudioMedia(index)
            if self.player is None:
                if self.ua.recorded:  # one recording per user agent: never truncate a finished one
                    return
                self.player = pj.AudioMediaPlayer()
                self.player.createPlayer(self.ua.tone_file, 0)  # 0: loop
                self.recorder = pj.AudioMediaRecorder()
                self.recorder.createRecorder(self.ua.args.record)
                say("recording", path=self.ua.args.record)
            self.player.startTransmit(audio)
            audio.startTransmit(self.recorder)
            say("media", index=index)


class Account(pj.Account):
    def __init__(self, ua: "Agent"):
        super().__init__()
        self.ua = ua

    def onRegState(self, prm) -> None:
        info = self.getInfo()
        say("registered", code=prm.code, expires=info.regExpiresSec, active=info.regIsActive)

    def onIncomingCall(self, prm) -> None:
        call = Call(self.ua, self, prm.callId)
        say("incoming", remote=call.getInfo().remoteUri)
        self.ua.incoming(call)


class Agent:
    def __init__(self, args):
        self.args = args
        self.commands: queue.Queue[str] = queue.Queue()
        self.call: Call | None = None
        self.answer_at: float | None = None
        self.dtmf_at: float | None = None
        self.tone_file = f"{args.record}.tone.wav"
        self.recorded = False
        self.done = False

    # ---- setup
    def start(self) -> None:
        write_tone(self.tone_file, self.args.tone)
        self.ep = pj.Endpoint()
        self.ep.libCreate()
        cfg = pj.EpConfig()
        cfg.uaConfig.threadCnt = 0
        cfg.uaConfig.mainThreadOnly = True
        cfg.uaConfig.userAgent = "callcenter-tests"
        cfg.logConfig.level = 3
        cfg.logConfig.consoleLevel = 0  # stdout is for our JSON lines
        cfg.logConfig.filename = f"{self.args.record}.pjsip.log"
        cfg.medConfig.clockRate = 8000
        cfg.medConfig.noVad = True
        self.ep.libInit(cfg)
        self.ep.audDevManager().setNullDev()
        transport = pj.TransportConfig()
        transport.boundAddress = self.args.bind
        transport.publicAddress = self.args.bind
        transport.port = self.args.port
        # --tls: SIP over TLS only (no UDP transport at all), the server's certificate not checked
        # (the demo's is self-signed; the test compares it with the file itself)
        self.ep.transportCreate(pj.PJSIP_TRANSPORT_TLS if self.args.tls else pj.PJSIP_TRANSPORT_UDP, transport)
        self.ep.libStart()
        for codec in self.ep.codecEnum2():  # PCMU/PCMA only: what Asterisk offers
            self.ep.codecSetPriority(codec.codecId, 200 if codec.codecId.startswith(("PCMU", "PCMA")) else 0)
        acc = pj.AccountConfig()
        user = self.args.user or self.args.caller
        host = self.args.registrar or self.args.bind
        acc.idUri = f"sip:{user}@{host}"
        if self.args.registrar and self.args.mode == "phone":
            acc.regConfig.registrarUri = f"sip:{self.args.registrar}" + (";transport=tls" if self.args.tls else "")
            acc.regConfig.timeoutSec = 300
            acc.regConfig.registerOnAdd = not self.args.no_register
        if self.args.user and self.args.password is not None:
            acc.sipConfig.authCreds.append(pj.AuthCredInfo("digest", "*", self.args.user, 0, self.args.password))
        acc.mediaConfig.transportConfig.boundAddress = self.args.bind
        acc.mediaConfig.transportConfig.publicAddress = self.args.bind
        acc.natConfig.iceEnabled = False
        acc.natConfig.sdpNatRewriteUse = False
        acc.natConfig.contactRewriteUse = False
        self.account = Account(self)
        self.account.create(acc)
        say("ready", uri=acc.idUri)
        threading.Thread(target=self._read_stdin, daemon=True).start()
        if self.args.mode == "call":
            self.dial(self.args.to)

    def _read_stdin(self) -> None:
        for line in sys.stdin:
            self.commands.put(line.strip())
        self.commands.put("quit")

    # ---- calls
    def dial(self, uri: str) -> None:
        self.call = Call(self, self.account)
        prm = pj.CallOpParam(True)
        self.call.makeCall(uri, prm)
        say("calling", to=uri)

    def incoming(self, call: Call) -> None:
        if self.call is not None:
            prm = pj.CallOpParam()
            prm.statusCode = 486
            call.answer(prm)
            return
        if self.args.refuse is not None:  # a carrier that cannot take the call (503: congestion)
            prm = pj.CallOpParam()
            prm.statusCode = self.args.refuse
            call.answer(prm)
            say("refused", code=self.args.refuse)
            return
        self.call = call
        prm = pj.CallOpParam()
        prm.statusCode = 180
        call.answer(prm)
        if self.args.answer_after is not None:
            self.answer_at = time.monotonic() + self.args.answer_after

    def call_ended(self, call: Call) -> None:
        if call is self.call:
            self.call = None
            self.answer_at = None
        if self.args.mode == "call":
            self.done = True

    def hang_up(self) -> None:
        if self.call is not None:
            prm = pj.CallOpParam()
            prm.statusCode = 603 if self.call.confirmed_at is None and self.args.mode == "phone" else 200
            try:
                self.call.hangup(prm)
            except pj.Error as exc:
                say("error", message=exc.info())

    # ---- the loop
    def run(self) -> None:
        self.start()
        while not self.done:
            self.ep.libHandleEvents(20)
            now = time.monotonic()
            if self.call is not None and self.answer_at is not None and now >= self.answer_at:
                self.answer_at = None
                prm = pj.CallOpParam()
                prm.statusCode = 200
                self.call.answer(prm)
            call = self.call
            if call is not None and call.confirmed_at is not None:
                since = now - call.confirmed_at
                if self.args.dtmf and self.dtmf_at is None and since >= self.args.dtmf_after:
                    self.dtmf_at = now
                    call.dialDtmf(self.args.dtmf)
                    say("dtmf_sent", digits=self.args.dtmf)
                if self.args.hangup_after is not None and since >= self.args.hangup_after:
                    self.hang_up()
            try:
                command = self.commands.get_nowait()
            except queue.Empty:
                continue
            try:
                self.command(command)
            except pj.Error as exc:
                say("error", message=exc.info())
        self.stop()

    def command(self, line: str) -> None:
        word, _, rest = line.partition(" ")
        if word == "unregister":
            self.account.setRegistration(False)
        elif word == "register":
            self.account.setRegistration(True)
        elif word == "hangup":
            self.hang_up()
        elif word == "answer" and self.call is not None:
            self.answer_at = time.monotonic()
        elif word == "dial":
            self.dial(rest)
        elif word == "dtmf" and self.call is not None:  # keyed when the test hears the prompt
            self.call.dialDtmf(rest)
            say("dtmf_sent", digits=rest)
        elif word == "quit":
            self.hang_up()
            self.done = True

    def stop(self) -> None:
        deadline = time.monotonic() + 2
        while self.call is not None and time.monotonic() < deadline:
            self.ep.libHandleEvents(20)
        try:
            self.account.shutdown()
        except Exception:  # noqa: BLE001 - going away anyway
            pass
        self.ep.libDestroy()
        say("stopped")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["call", "phone"])
    parser.add_argument("--bind", required=True, help="the local IP address (127.0.0.x) SIP and RTP use")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--to", help="call: the URI dialled")
    parser.add_argument("--caller", default="13800000001", help="call: the caller's number (From)")
    parser.add_argument("--registrar", help="phone: host:port to register to")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--no-register", action="store_true")
    parser.add_argument("--tone", type=float, required=True, help="Hz of the tone this side sends")
    parser.add_argument("--record", required=True, help="WAV file of what this side hears")
    parser.add_argument("--answer-after", type=float, default=None)
    parser.add_argument("--refuse", type=int, default=None, help="phone: answer every call with this final status")
    parser.add_argument("--tls", action="store_true", help="SIP over TLS instead of UDP")
    parser.add_argument("--hangup-after", type=float, default=None, help="seconds after the call is up")
    parser.add_argument("--dtmf", default="")
    parser.add_argument("--dtmf-after", type=float, default=1.0)
    Agent(parser.parse_args()).run()


if __name__ == "__main__":
    main()
