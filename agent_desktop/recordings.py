"""Playing and downloading call recordings, by recording id only (issue 11).

The client names a recording by its id (32 hex digits, recordings/store.new_id); the file's
path comes from the database and is resolved strictly inside the recordings folder
(recordings/files.resolve: no link, nothing outside), never from the request. A recording the user
may not hear answers 404 as one that does not exist. Audio is streamed with HTTP Range answers
(agent_desktop/ranges.py) so the browser's player can seek.

Auditing: a download is one audit row; a playback is one row when the player asks for the start of
the file (its first request, `bytes=0-`); the further range requests of the same playback (seeking,
buffering) are not rows of their own, or one listen would be dozens.
"""
from __future__ import annotations

import os
import re
from datetime import datetime, timezone

from flask import Blueprint, Response, request
from sqlalchemy import select

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.ranges import NotSatisfiable, parse_range
from agent_desktop.views import call_id, json_body, text_field
from callcenter.models import AuditEntry, Call, Recording
from recordings import files
from recordings.access import HOLDERS, LISTENERS, may_hear
from recordings.store import aware, set_hold

bp = Blueprint("recordings", __name__)

RECORDING_ID = re.compile(r"[0-9a-f]{32}")
#: why a recording is heard (?reason=, audited with each playback and download); without one, the
#: reader's role says it: an agent's own call, a lead's team review, an inspector's inspection
LISTEN_REASONS = ("own_call", "team_review", "quality_inspection", "complaint", "dispute", "admin_review")
ROLE_REASON = {"agent": "own_call", "supervisor": "team_review", "quality": "quality_inspection",
               "admin": "admin_review"}
CHUNK = 64 * 1024


def _audit(s, action: str, rec: Recording, detail: str = "") -> None:
    s.add(AuditEntry(actor=current_user().username[:40], action=action, target=rec.id,
                     detail=f"call {rec.call_uniqueid}{'; ' + detail if detail else ''}"[:500]))


def _visible(s, rec_id: str) -> Recording:
    """The recording if it exists and this user may hear it; else 404, the same answer for both."""
    if not isinstance(rec_id, str) or not RECORDING_ID.fullmatch(rec_id):
        raise ApiError("NO_SUCH_RECORDING", 404)
    rec = s.get(Recording, rec_id)
    if rec is None or not may_hear(s, current_user(), rec.call_uniqueid):
        raise ApiError("NO_SUCH_RECORDING", 404)
    return rec


def _file(rec: Recording):
    """The recording's file, opened; RECORDING_UNAVAILABLE (410) when purged, missing, or not a plain
    file inside the folder (a link planted there is refused, never followed)."""
    if rec.purged_at is not None or not rec.path:
        raise ApiError("RECORDING_UNAVAILABLE", 410)
    try:
        path = files.resolve(desktop().settings.recordings_dir, rec.path)
        return open(path, "rb")
    except (OSError, ValueError):
        raise ApiError("RECORDING_UNAVAILABLE", 410) from None


def _stream(f, start: int, length: int):
    with f:
        f.seek(start)
        left = length
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk


def _reason() -> str:
    reason = request.args.get("reason", "") or ROLE_REASON[current_user().role]
    if reason not in LISTEN_REASONS:
        raise ApiError("BAD_VIEW_REASON", choices=", ".join(LISTEN_REASONS))
    return reason


def _serve(rec_id: str, download: bool) -> Response:
    reason = _reason()
    with desktop().sessions() as s:
        rec = _visible(s, rec_id)
        f = _file(rec)
        try:
            size = os.fstat(f.fileno()).st_size
            try:
                wanted = None if download else parse_range(request.headers.get("Range"), size)
            except NotSatisfiable:
                f.close()
                return Response(status=416, headers={"Content-Range": f"bytes */{size}"})
            if download or wanted is None or wanted.start == 0:
                _audit(s, "recording_download" if download else "recording_play", rec, f"reason {reason}")
                s.commit()
        except BaseException:
            f.close()
            raise
        name = f"recording-{rec.id}.wav"
    start, length = (wanted.start, wanted.length) if wanted else (0, size)
    response = Response(_stream(f, start, length), status=206 if wanted else 200, mimetype="audio/wav",
                        direct_passthrough=True)
    response.headers["Accept-Ranges"] = "bytes"
    response.headers["Content-Length"] = str(length)
    response.headers["Cache-Control"] = "no-store"  # a customer's voice stays out of shared caches
    if wanted:
        response.headers["Content-Range"] = wanted.content_range(size)
    if download:
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/api/recordings/<rec_id>/audio")
@require(*LISTENERS)
def play(rec_id: str):
    return _serve(rec_id, download=False)


@bp.get("/api/recordings/<rec_id>/download")
@require(*LISTENERS)
def download(rec_id: str):
    return _serve(rec_id, download=True)


def describe(rec: Recording, call: Call | None) -> dict:
    return {"id": rec.id, "call": rec.call_uniqueid, "duration_ms": rec.duration_ms, "size_bytes": rec.size_bytes,
            "sha256": rec.sha256, "problem": rec.problem or "", "category": rec.category,
            "retain_until": aware(rec.retain_until).isoformat(), "legal_hold": rec.legal_hold,
            "purged": rec.purged_at is not None,
            "started_at": aware(call.started_at).isoformat() if call and call.started_at else None,
            "caller_number": (call.caller_number or "") if call else "", "agent": (call.agent_extension or "") if call else "",
            "queue": (call.skill or "") if call else ""}


@bp.get("/api/calls/<uniqueid>/recording")
@require(*LISTENERS)
def call_recording(uniqueid: str):
    """The call's recording (for the player beside the call's journey); 404 when there is none."""
    uniqueid = call_id(uniqueid)
    with desktop().sessions() as s:
        rec = s.scalar(select(Recording).where(Recording.call_uniqueid == uniqueid))
        if rec is None or not may_hear(s, current_user(), uniqueid):
            raise ApiError("NO_SUCH_RECORDING", 404)
        return describe(rec, s.scalar(select(Call).where(Call.uniqueid == uniqueid)))


@bp.post("/api/recordings/<rec_id>/hold")
@require(*HOLDERS)
def hold(rec_id: str):
    """{"hold": true|false, "reason": "..."}: a legal hold keeps the recording past its date."""
    body = json_body()
    on = body.get("hold")
    if not isinstance(on, bool):
        raise ApiError("BAD_HOLD")
    reason = text_field(body, "reason", 200, required=True)
    with desktop().sessions() as s:
        rec = _visible(s, rec_id)
        if rec.purged_at is not None:
            raise ApiError("RECORDING_UNAVAILABLE", 410)
        set_hold(s, rec, current_user().username, on, reason, datetime.now(timezone.utc))
        s.commit()
        return {"id": rec.id, "legal_hold": rec.legal_hold}
