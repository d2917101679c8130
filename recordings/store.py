"""Recordings in the database: registered when their call ends, checked, purged, held.

Every function takes the session, the recordings folder and the time (``now``): the scheduled
job (recordings/job.py), the CLI and the tests call the same code, and tests never sleep. What a
function changes is committed by its caller; what it flags or removes is written to the audit log
here, in the same transaction, so a row and its audit entry exist together or not at all.
"""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from callcenter.models import AuditEntry, Call, Recording
from recordings import files
from recordings.retention import RetentionRules, may_purge

log = logging.getLogger("recordings.store")

SYSTEM = "system"
# How long after a call ends MixMonitor may still be closing its file: the file is closed when the
# channel's audiohook goes, right after hang-up; a file still open after this is flagged.
CLOSE_GRACE = timedelta(seconds=30)
MISSING, UNPLAYABLE, ALTERED = "missing", "unplayable", "altered"


def aware(value: datetime) -> datetime:
    """SQLite hands back naive datetimes (stored as UTC)."""
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def _audit(s: Session, actor: str, action: str, target: str, detail: str, now: datetime) -> None:
    s.add(AuditEntry(at=now, actor=actor[:40], action=action, target=target[:64], detail=detail[:500]))


def new_id() -> str:
    return secrets.token_hex(16)


# ---------------------------------------------------------------- registering ended calls
def pending_calls(s: Session) -> list[Call]:
    """Ended calls that should have a recording (one was started, or an agent answered) and have
    no row yet."""
    has_row = exists().where(Recording.call_uniqueid == Call.uniqueid)
    return list(s.scalars(select(Call).where(
        Call.ended_at.is_not(None), or_(Call.recording_path.is_not(None), Call.answered_at.is_not(None)),
        ~has_row).order_by(Call.ended_at).limit(500)))


def register(s: Session, root: Path, call: Call, now: datetime, rules: RetentionRules) -> Recording | None:
    """The call's recording row, once its file is closed (or flagged once the grace is over);
    None: not yet (the file is still being written)."""
    ended = aware(call.ended_at)
    late = now - ended >= CLOSE_GRACE
    rel, facts, problem = None, None, None
    try:
        if not call.recording_path:
            raise FileNotFoundError("no recording was started")
        rel = files.relative_to_root(root, call.recording_path)
        facts = files.inspect(files.resolve(root, rel))
    except FileNotFoundError:
        problem = MISSING
    except (ValueError, OSError) as exc:  # outside the folder, a link: never ours to trust
        log.warning("call %s: recording %r refused: %s", call.uniqueid, call.recording_path, exc)
        problem = UNPLAYABLE
    if facts is not None and not facts.closed:
        problem = UNPLAYABLE
    elif facts is not None and not facts.duration_ms:
        problem = UNPLAYABLE
    if problem == UNPLAYABLE and facts is not None and facts.closed and facts.duration_ms == 0 \
            and call.answered_at is None:
        # closed and empty on a call nobody answered (a call back whose customer was busy at once:
        # cdr/listener.py's callback_leg_fields): nothing was said, nothing went wrong to flag
        problem = None
    if problem and not late:
        return None  # MixMonitor may still be closing it: look again on the next pass
    category = rules.category_for(call.skill)
    rec = Recording(id=new_id(), call_uniqueid=call.uniqueid, path=rel, category=category,
                    size_bytes=facts.size_bytes if facts else None,
                    duration_ms=facts.duration_ms if facts else None,
                    sha256=facts.sha256 if facts and not problem else None, problem=problem,
                    created_at=now, checked_at=now, retain_until=rules.retain_until(category, ended))
    s.add(rec)
    if problem:
        _audit(s, SYSTEM, "recording_flagged", rec.id, f"call {call.uniqueid}: {problem}", now)
    return rec


def register_pending(s: Session, root: Path, now: datetime, rules: RetentionRules) -> int:
    """Register every ended call's recording that is ready; how many rows were written."""
    written = 0
    for call in pending_calls(s):
        if register(s, root, call, now, rules) is not None:
            written += 1
    return written


# ---------------------------------------------------------------- checking
@dataclass(frozen=True)
class VerifyResult:
    checked: int
    flagged: list[tuple[str, str]]  # (recording id, problem) newly flagged


def verify(s: Session, root: Path, now: datetime) -> VerifyResult:
    """Recheck every kept recording's file against its checksum: a file gone is 'missing', one
    whose bytes changed 'altered' (flagged once, audited)."""
    flagged: list[tuple[str, str]] = []
    rows = list(s.scalars(select(Recording).where(Recording.purged_at.is_(None), Recording.sha256.is_not(None))))
    for rec in rows:
        try:
            problem = None if files.sha256_of(files.resolve(root, rec.path)) == rec.sha256 else ALTERED
        except FileNotFoundError:
            problem = MISSING
        except (ValueError, OSError):
            problem = ALTERED  # replaced by a link or something not a file
        rec.checked_at = now
        if problem and rec.problem != problem:
            rec.problem = problem
            flagged.append((rec.id, problem))
            _audit(s, SYSTEM, "recording_flagged", rec.id, f"call {rec.call_uniqueid}: {problem}", now)
    return VerifyResult(checked=len(rows), flagged=flagged)


def flagged_count(s: Session) -> int:
    return s.scalar(select(func.count()).select_from(Recording).where(
        Recording.problem.is_not(None), Recording.purged_at.is_(None))) or 0


# ---------------------------------------------------------------- retention
def purge_date(rec: Recording, ended_at: datetime | None, rules: RetentionRules) -> datetime:
    """The later of the date set when it was registered and the date today's rules give from the
    call's end: a rule made longer keeps older recordings longer too; one made shorter never
    shortens a promise already made."""
    base = aware(ended_at) if ended_at is not None else aware(rec.created_at)
    return max(aware(rec.retain_until), rules.retain_until(rec.category, base))


def purge(s: Session, root: Path, now: datetime, rules: RetentionRules, actor: str = SYSTEM) -> list[str]:
    """Remove the files of recordings past their date and not held; the ids removed. Each removal
    is one audit row (which call, which file, kept until when)."""
    removed = []
    candidates = s.execute(select(Recording, Call.ended_at).outerjoin(Call, Call.uniqueid == Recording.call_uniqueid)
                           .where(Recording.purged_at.is_(None), Recording.retain_until < now,
                                  Recording.legal_hold.is_(False)))
    for rec, ended_at in list(candidates):
        until = purge_date(rec, ended_at, rules)
        if not may_purge(until, rec.legal_hold, now):
            continue
        if rec.path:
            try:
                files.resolve(root, rec.path).unlink()
            except FileNotFoundError:
                pass  # already gone (flagged missing): the row is closed all the same
            except (ValueError, OSError) as exc:
                log.error("recording %s: not removed: %s", rec.id, exc)
                continue  # a link or a stranger in its place: leave it for a person, do not follow it
        rec.purged_at = now
        _audit(s, actor, "recording_purged", rec.id,
               f"call {rec.call_uniqueid}; file {rec.path or '-'}; {rec.category} kept until {until.isoformat()}", now)
        removed.append(rec.id)
    return removed


def set_hold(s: Session, rec: Recording, actor: str, on: bool, reason: str, now: datetime) -> None:
    """Put a legal hold on, or release it; audited either way."""
    rec.legal_hold = on
    rec.hold_by = actor[:40] if on else None
    rec.hold_reason = reason[:200] if on else None
    _audit(s, actor, "recording_hold" if on else "recording_release", rec.id,
           f"call {rec.call_uniqueid}; {reason}", now)
