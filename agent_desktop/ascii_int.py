"""The ``<int:...>`` of every route, ASCII digits only.

Werkzeug's own int converter matches with ``\\d+`` and reads with int(), so
``/api/customers/١٢`` and ``/api/customers/１２`` reached customer 12: one customer under several
URLs, which audit rows and caches then hold apart. This one matches [0-9] only; anything else is a
404 like any other unknown URL.
"""
from __future__ import annotations

from werkzeug.routing import IntegerConverter

from callcenter.digits import ASCII_INT


class AsciiIntegerConverter(IntegerConverter):
    regex = ASCII_INT
