"""Owner-only files from the first byte (issue 15).

Every entry point of ours (the `callcenter` CLI, each service's ``python -m``) calls
:func:`owner_only` before it creates anything, and every child the supervisor starts (Redis and
Asterisk included) inherits that umask: the database, the secrets, the logs and the recordings are
created 0600 and their folders 0700. Not chmod'ed afterwards: between a create and a chmod the file
is readable by anyone on the machine, and a crash there leaves it so. Files holding a secret are
also written with :func:`write_private`, so they stay 0600 even from a process started otherwise
(a test, a Python shell).
"""
from __future__ import annotations

import os
from pathlib import Path

OWNER_ONLY_UMASK = 0o077


def owner_only() -> None:
    """Set this process's umask (and its children's) to owner-only."""
    os.umask(OWNER_ONLY_UMASK)


def write_private(path: Path, text: str) -> None:
    """Write text to path, mode 0600 from its first byte, atomically (a temporary file renamed)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)  # O_EXCL below: a left-over (maybe 0644) temp file is not reused
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    tmp.replace(path)
