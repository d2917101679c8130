"""A recording's file: where it may be (strictly inside the recordings folder) and what it is.

Paths come from our own dialplan (CC_RECORDING, the uniqueid's safe letters under a dated
folder) and are stored relative to the folder; a client never sends one. Still, every path is
resolved here before it is opened: no absolute path, no `..`, no symlink anywhere on the way (a
link planted in the folder could point at /etc/shadow), and the result must lie inside the folder.
"""
from __future__ import annotations

import hashlib
import os
import stat
import wave
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

CHUNK = 1 << 16


class UnsafePath(ValueError):
    """A recording path that is not plainly a file inside the recordings folder."""


def relative_to_root(root: Path, path: str) -> str:
    """The dialplan's absolute path (CallEnded's Recording) as stored: relative to the folder."""
    rel = PurePosixPath(path).relative_to(PurePosixPath(str(root)))  # ValueError when outside
    check_relative(str(rel))
    return str(rel)


def check_relative(rel: str) -> PurePosixPath:
    if not rel or "\0" in rel or "\\" in rel:
        raise UnsafePath(f"refused recording path {rel!r}")
    pure = PurePosixPath(rel)
    if pure.is_absolute() or any(part in ("..", ".", "") for part in rel.split("/")):
        raise UnsafePath(f"refused recording path {rel!r}")
    return pure


def resolve(root: Path, rel: str) -> Path:
    """The file for a stored relative path; UnsafePath if any part is a link or it leaves root.
    FileNotFoundError when it is simply not there."""
    parts = check_relative(rel).parts
    root = Path(os.path.realpath(root))
    current = root
    for part in parts:
        current = current / part
        mode = os.lstat(current).st_mode  # FileNotFoundError propagates: a missing file is not unsafe
        if stat.S_ISLNK(mode):
            raise UnsafePath(f"refused recording path {rel!r}: {part!r} is a link")
    if not stat.S_ISREG(os.lstat(current).st_mode):
        raise UnsafePath(f"refused recording path {rel!r}: not a plain file")
    if os.path.commonpath([root, os.path.realpath(current)]) != str(root):
        raise UnsafePath(f"refused recording path {rel!r}: outside the recordings folder")
    return current


@dataclass(frozen=True)
class FileFacts:
    size_bytes: int
    duration_ms: int | None  # None: not a WAVE file we can read
    sha256: str
    closed: bool  # the WAVE header counts the data written: Asterisk writes it when it closes the file


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def wav_facts(path: Path) -> tuple[int | None, bool]:
    """(duration in ms, closed) from the WAVE header. Asterisk's wav writer leaves the data size
    0 until the file is closed (measured: tests/integration/test_sip_phones read such files), so
    a header that counts fewer bytes than are there means MixMonitor is still writing."""
    try:
        with wave.open(str(path), "rb") as w:
            frames, rate, width, channels = w.getnframes(), w.getframerate(), w.getsampwidth(), w.getnchannels()
    except (wave.Error, EOFError, OSError):
        return None, False
    if rate <= 0:
        return None, False
    data_bytes = frames * width * channels
    closed = path.stat().st_size - data_bytes <= 64  # the header (44 bytes, a little more with extras)
    return round(frames * 1000 / rate), closed


def inspect(path: Path) -> FileFacts:
    duration_ms, closed = wav_facts(path)
    return FileFacts(size_bytes=path.stat().st_size, duration_ms=duration_ms, sha256=sha256_of(path), closed=closed)
