"""What a recording holds, measured: the strength of one frequency against the rest.

Goertzel's algorithm gives the power at one frequency in one pass over the samples (no NumPy
here); `dominant` scans candidate frequencies. A tone the other side sent stands out by orders
of magnitude over the codec's noise; silence, music on hold or the menu's voice do not.
"""
from __future__ import annotations

import math
import struct
import wave


def samples(path, start_s: float = 0.0, seconds: float | None = None) -> tuple[list[float], int]:
    with wave.open(str(path), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        w.setpos(min(w.getnframes(), int(start_s * rate)))
        count = w.getnframes() - w.tell() if seconds is None else int(seconds * rate)
        raw = w.readframes(count)
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit samples, expected 16")
    values = struct.unpack(f"<{len(raw) // 2}h", raw[: len(raw) // 2 * 2])
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
