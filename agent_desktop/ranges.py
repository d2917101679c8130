"""HTTP Range requests (RFC 9110 section 14) for the recordings' player, pure.

Browsers ask an <audio> element's source for ``bytes=0-`` first and then for the part they need
when the user seeks; a player without range answers cannot seek, and Chromium will not even
report a duration for some files. Only one range per request is served (the players ask for one);
a header we cannot read is ignored, as RFC 9110 allows (the whole file is sent), and a range that
starts past the end is answered 416 (NotSatisfiable).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

SINGLE = re.compile(r"bytes=([0-9]{0,18})-([0-9]{0,18})")  # [0-9]: \d (and int()) also read "١٢"


class NotSatisfiable(ValueError):
    """The range starts at or past the end of the file (answer 416 with Content-Range */size)."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range asked for, cut to the file; None: send the whole file (no header, several
    ranges, or one we cannot read)."""
    if not header:
        return None
    match = SINGLE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # bytes=-N: the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise NotSatisfiable(header)
        if not size:
            raise NotSatisfiable(header)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None  # malformed (last before first): ignored, the whole file
    if start >= size:
        raise NotSatisfiable(header)
    return ByteRange(start, end)

