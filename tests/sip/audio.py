"""What a recording holds, measured: the strength of one frequency against the rest.

Goertzel's algorithm gives the power at one frequency in one pass over the samples (no NumPy
here); `dominant` scans candidate frequencies. A tone the other side sent stands out by orders
of magnitude over the codec's noise; silence, music on hold or the menu's voice do not.
"""
from __future__ import annotations

import math
import struct
from pathlib import Path


def _pcm(path) -> tuple[bytes, int, int]:
    """A 16-bit PCM WAV file's sample bytes, rate and channels.

    Read by hand, not with the wave module: a recording still open (PJSIP's writer fills in the
    RIFF and data sizes only when it closes the file) says its data are 0 bytes long; its samples
    are all there, after the data chunk's header."""
    raw = Path(path).read_bytes()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a WAV file")
    rate = width = channels = 0
    at = 12
    while at + 8 <= len(raw):
        kind, size = raw[at:at + 4], struct.unpack("<I", raw[at + 4:at + 8])[0]
        if kind == b"fmt ":
            _format, channels, rate, _byte_rate, _align, bits = struct.unpack("<HHIIHH", raw[at + 8:at + 24])
            width = bits // 8
        elif kind == b"data":
            data = raw[at + 8:] if size == 0 else raw[at + 8:at + 8 + size]
            break
        at += 8 + size + (size & 1)
    else:
        raise ValueError(f"{path}: no data chunk")
    if width != 2 or not rate or not channels:
        raise ValueError(f"{path}: {8 * width}-bit samples at {rate} Hz, expected 16-bit PCM")
    return data, rate, channels


def seconds_recorded(path) -> float:
    """How many seconds of sound a recording holds so far (0 while it has no data chunk yet)."""
    try:
        data, rate, channels = _pcm(path)
    except (OSError, ValueError):
        return 0.0
    return len(data) / (2 * channels * rate)


def samples(path, start_s: float = 0.0, seconds: float | None = None) -> tuple[list[float], int]:
    """16-bit PCM samples of a WAV file, from start_s for `seconds` (None: to the end), and its rate."""
    data, rate, channels = _pcm(path)
    frame = 2 * channels
    first = int(start_s * rate) * frame
    data = data[first:] if seconds is None else data[first:first + int(seconds * rate) * frame]
    values = struct.unpack(f"<{len(data) // 2}h", data[: len(data) // 2 * 2])
    return [v / 32768.0 for v in values[::channels]], rate


def power(xs: list[float], rate: int, hz: float) -> float:
    """Goertzel: the signal's power at `hz`, normalised by its length."""
    if not xs:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * hz / rate)
    s1 = s2 = 0.0
    for x in xs:
        s1, s2 = x + coeff * s1 - s2, s1
    return (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (len(xs) ** 2)


def dominant(path, start_s: float = 0.0, seconds: float | None = None, low: int = 200, high: int = 3000,
             step: int = 20) -> tuple[float, float]:
    """(the strongest frequency between low and high Hz, its share of the power at all candidates)."""
    xs, rate = samples(path, start_s, seconds)
    xs = xs[: rate * 4]  # four seconds is plenty and keeps the scan quick
    found = [(power(xs, rate, hz), hz) for hz in range(low, high + 1, step)]
    total = sum(p for p, _ in found) or 1.0
    best, hz = max(found)
    return float(hz), best / total


def rms(path, start_s: float = 0.0, seconds: float | None = None) -> float:
    xs, _ = samples(path, start_s, seconds)
    return math.sqrt(sum(x * x for x in xs) / len(xs)) if xs else 0.0
