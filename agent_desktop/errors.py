"""One error shape for the desktop's HTTP API and socket events: ``{"code": CODE, "message": words}``.

The code is stable (part of the API: a client branches on it); the message is in the user's own
language, from i18n's ``error.<CODE>`` entries (the router's codes, acd.protocol.ERRORS,
included). Routes and validators raise ``ApiError``; the app's error handler answers it as JSON on
/api/ and as a small page elsewhere; socket events acknowledge ``{"ok": false, **error_body(...)}``.
"""
from __future__ import annotations

from flask import jsonify, request
from werkzeug.exceptions import default_exceptions

from agent_desktop.i18n import STRINGS, translate

LANGUAGES = ("zh", "en")

#: werkzeug's own refusals (unknown route, wrong method, body too large ...) by HTTP status
HTTP_CODES = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND",
              405: "METHOD_NOT_ALLOWED", 413: "TOO_LARGE", 500: "SERVER_ERROR"}


class ApiError(Exception):
    """A refusal with a stable code; params fill the message's {placeholders} (field names, limits)."""

    def __init__(self, code: str, status: int = 400, **params):
        super().__init__(code)
        self.code, self.status, self.params = code, status, params


def language() -> str:
    """The logged-in user's language, else the browser's best match, else Mandarin (as the login page)."""
    from agent_desktop.auth import current_user

    user = current_user()
    if user is not None and user.language in LANGUAGES:
        return user.language
    return request.accept_languages.best_match(LANGUAGES) or "zh"


def message(code: str, lang: str, fallback: str = "", **params) -> str:
    key = f"error.{code}"
    if key not in STRINGS:
        return fallback or code
    text = translate(key, lang)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):  # a placeholder not given: the words without it
        return text


def error_body(code: str, lang: str, fallback: str = "", **params) -> dict[str, str]:
    return {"code": code, "message": message(code, lang, fallback, **params)}


def error_response(code: str, status: int = 400, **params):
    """The JSON answer for an /api/ refusal (Flask view return value)."""
    return jsonify(error_body(code, language(), **params)), status


def error_page(code: str, status: int = 400, **params):
    """The same refusal for a page or a form post: werkzeug's small HTML page, its text escaped."""
    exception = default_exceptions.get(status, default_exceptions[400])
    return exception(description=message(code, language(), **params))


def answer(exc: ApiError):
    if request.path.startswith("/api/"):
        return error_response(exc.code, exc.status, **exc.params)
    return error_page(exc.code, exc.status, **exc.params)
