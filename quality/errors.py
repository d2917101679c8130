"""Refusals of quality inspection: a stable code (part of the API, worded in the desktop's
i18n as ``error.<CODE>``) and the HTTP status the desktop answers it with."""
from __future__ import annotations

#: every code quality/ raises, with its HTTP status; tests/unit/test_quality_access.py checks each
#: has words in both languages (the i18n test reads only agent_desktop/'s own codes)
CODES = {
    "BAD_ANSWERS": 400,  # an item missing, unknown, or out of its range
    "BAD_APPEAL_REASON": 400,
    "BAD_DECISION": 400,
    "BAD_COMMENT": 400,
    "BAD_WEEK": 400,
    "UNKNOWN_SCORECARD": 400,
    "NO_SUCH_SCORE": 404,
    "NO_SUCH_WORK_ITEM": 404,
    "NO_SUCH_CALIBRATION": 404,
    "NOT_YOUR_WORK_ITEM": 403,
    "NOT_YOUR_SCORE": 403,  # an agent appealing someone else's score
    "OWN_SCORE_DECISION": 403,  # the inspector who scored a call may not decide its appeal
    "NOT_YOUR_TEAM": 403,  # a team lead deciding outside their teams
    "ALREADY_SCORED": 409,
    "SCORE_LOCKED": 409,  # final: no change, no appeal
    "SCORE_UNDER_APPEAL": 409,  # the inspector may not change it while the appeal is open
    "ALREADY_APPEALED": 409,
    "APPEAL_WINDOW_CLOSED": 409,
    "NO_OPEN_APPEAL": 409,
    "CALIBRATION_CLOSED": 409,
    "ALREADY_IN_CALIBRATION": 409,
    "CALIBRATION_INCOMPLETE": 409,  # closing one that fewer than two inspectors scored
    "SCORECARD_CHANGED": 409,  # quality.toml changed a card without a new version: fixed there, not here
}


class QualityError(ValueError):
    def __init__(self, code: str, **params):
        assert code in CODES, code  # a new code goes in CODES (and gets words)
        super().__init__(f"{code} {params}" if params else code)
        self.code, self.params, self.status = code, params, CODES[code]
