"""AMI transcripts recorded from a real Asterisk (see each file's header, and record.py), and
their loader: the text in, the events out as our processes get them from panoramisk.

A file is AMI text: ``Key: Value`` lines, a blank line between events, ``#`` comment lines at
the top. Each event is parsed by panoramisk's own ``Message.from_line`` (a repeated header
becomes a list, as on the wire) and handed out as ``dict(message)``, exactly what the router,
the CDR listener and the push process call ``dict(event)`` on.
"""
from __future__ import annotations

from pathlib import Path

from panoramisk.message import Message

HERE = Path(__file__).parent


def parse(text: str) -> list[dict]:
    """AMI text (comments allowed) as a list of event dicts, in order."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    blocks = "\n".join(lines).strip().split("\n\n")
    events = []
    for block in filter(None, (b.strip("\n") for b in blocks)):
        message = Message.from_line("\r\n".join(block.splitlines()))
        if message is None:
            raise ValueError(f"not an AMI event: {block[:60]!r}")
        events.append(dict(message))
    return events


def load(name: str) -> list[dict]:
    """Every event of tests/unit/transcripts/<name>.txt."""
    return parse((HERE / f"{name}.txt").read_text(encoding="utf-8"))


def user_events(name: str) -> list[dict]:
    """The transcript's UserEvents only (what the processes register for)."""
    return [e for e in load(name) if e.get("Event") == "UserEvent"]


def call_id(name: str) -> str:
    """The uniqueid of the transcript's call (its first UserEvent's CallId)."""
    return user_events(name)[0]["CallId"]
