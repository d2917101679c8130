"""The audio SIPp sends in bench/load.py: a tone as RTP packets in a pcap file.

SIPp plays RTP from a pcap (`play_pcap_audio`): it keeps each packet's UDP payload and timing and
sends it to the far end's media address from the call's SDP. Debian's sip-tester ships only a
short A-law clip and the DTMF events, so the bench writes its own: one tone per side (the caller
440 Hz, the agent 1000 Hz, as the SIP tests use), so a recording shows both were carried.
The A-law samples come from sox (already a dependency), the packet framing is written here:
pcap, Ethernet, IPv4, UDP, RTP, 20 ms of PCMA (payload type 8) per packet.
"""
from __future__ import annotations

import struct
import subprocess
from pathlib import Path

RATE = 8000
PACKET_MS = 20
SAMPLES = RATE * PACKET_MS // 1000  # 160 bytes of A-law per packet
PCMA = 8
TELEPHONE_EVENT = 101  # the payload type the scenarios offer for RFC 4733 events
EVENT_SLOTS = 10  # a key held 200 ms
EVENT_CODES = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
# the addresses inside the file do not matter: SIPp rewrites them to the call's own
SRC, DST, SPORT, DPORT = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]), 40000, 40002


def alaw_tone(hz: int, seconds: float) -> bytes:
    """A sine at `hz` as raw A-law, 8 kHz mono, from sox."""
    done = subprocess.run(["sox", "-n", "-r", str(RATE), "-c", "1", "-t", "al", "-", "synth", str(seconds),
                           "sine", str(hz), "vol", "0.5"], capture_output=True, check=True, timeout=60)
    return done.stdout


def _ipv4_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def _frame(payload: bytes) -> bytes:
    udp = struct.pack("!HHHH", SPORT, DPORT, 8 + len(payload), 0) + payload  # checksum 0: none (IPv4)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0, SRC, DST)
    ip = ip[:10] + struct.pack("!H", _ipv4_checksum(ip)) + ip[12:]
    ether = b"\x00" * 12 + b"\x08\x00"
    return ether + ip + udp


def rtp_pcap(samples: bytes, keys: dict[float, str] | None = None, ssrc: int = 0x0CC10AD) -> bytes:
    """The A-law samples as a pcap of RTP packets, one every 20 ms, with RFC 4733 key presses
    (seconds from the start -> key) in the same stream. One stream on purpose: Asterisk learns
    a caller's media source from a few packets in a row (strictrtp's probation) and, measured
    here, heard no key from SIPp's own DTMF pcap files (another SSRC and sequence) played between
    the tone's packets; a key inside the tone's own stream is heard."""
    events = {round(at * 1000 / PACKET_MS): key for at, key in (keys or {}).items()}
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]  # microseconds, Ethernet
    seq, event = 0, None  # event: (key, first slot)

    def packet(slot: int, rtp: bytes) -> None:
        frame = _frame(rtp)
        micros = slot * PACKET_MS * 1000
        out.append(struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)) + frame)

    for slot in range(len(samples) // SAMPLES):
        if slot in events:
            event = (events[slot], slot)
        if event is not None:
            key, first = event
            length = slot - first + 1
            end = length == EVENT_SLOTS
            payload = struct.pack("!BBH", EVENT_CODES[key], (0x80 if end else 0) | 10, length * SAMPLES)
            for _ in range(3 if end else 1):  # the end is sent three times (RFC 4733 2.5.1.4)
                marker = 0x80 if length == 1 else 0  # the event's first packet
                packet(slot, struct.pack("!BBHII", 0x80, marker | TELEPHONE_EVENT, seq & 0xFFFF, first * SAMPLES,
                                         ssrc) + payload)
                seq += 1
            if end:
                event = None
            continue
        start = slot * SAMPLES
        packet(slot, struct.pack("!BBHII", 0x80, PCMA, seq & 0xFFFF, start, ssrc) + samples[start:start + SAMPLES])
        seq += 1
    return b"".join(out)


def write_tone(path: Path, hz: int, seconds: float, keys: dict[float, str] | None = None) -> Path:
    path.write_bytes(rtp_pcap(alaw_tone(hz, seconds), keys))
    return path
