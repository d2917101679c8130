"""Refusals of the work-order code: a stable code (part of the API) and the values its words need."""
from __future__ import annotations


class OrderError(ValueError):
    """``code`` is stable (a client branches on it); ``params`` fill the message's placeholders."""

    status = 400

    def __init__(self, code: str, http_status: int | None = None, **params):
        super().__init__(f"{code} {params}" if params else code)
        self.code, self.params = code, params
        if http_status is not None:
            self.status = http_status
