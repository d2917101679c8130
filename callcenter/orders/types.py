"""Order types: what each asks for, where it goes first, how urgent it starts and how long it may take.

The codes are stored on the order (``work_orders.category``) and counted; people see them
translated at the edge (the desktop's ``order_type.<code>``). Deadlines here are the defaults,
scaled by priority; ``<home>/work_orders.toml`` overrides any of them (deadlines.py).
Business acceptance taken by phone needs the caller's verified service password.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from callcenter.orders.errors import OrderError

PRIORITIES = ("low", "normal", "high", "urgent")
FAMILIES = ("fault", "complaint", "billing", "consult", "business", "other")
GROUPS = ("repair", "complaints", "service_quality", "field_service", "billing", "business", "consult", "general")

DIGITS = re.compile(r"[0-9]{3,20}")  # ASCII only: str.isdigit() takes "１٣"
PERIOD = re.compile(r"20[0-9]{2}-(0[1-9]|1[0-2])")
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, digits, date, period (YYYY-MM), cents, choice
    required: bool = False
    limit: int = 200  # text length
    choices: tuple[str, ...] = ()

    def clean(self, value):
        """The stored value, or OrderError naming this field."""
        if self.kind == "cents":
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 100_000_000:
                raise OrderError("BAD_FIELD", field=self.name, expected="0..100000000 (cents)")
            return value
        if not isinstance(value, str):
            raise OrderError("BAD_FIELD", field=self.name, expected=self.kind)
        value = value.strip()
        if self.kind == "text":
            if len(value) > self.limit or any(not c.isprintable() for c in value):
                raise OrderError("BAD_FIELD", field=self.name, expected=f"text of at most {self.limit} characters")
        elif self.kind == "digits" and not DIGITS.fullmatch(value):
            raise OrderError("BAD_FIELD", field=self.name, expected="3 to 20 digits")
        elif self.kind == "period" and not PERIOD.fullmatch(value):
            raise OrderError("BAD_FIELD", field=self.name, expected="YYYY-MM")
        elif self.kind == "date":
            try:
                if not DATE.fullmatch(value):
                    raise ValueError(value)
                date.fromisoformat(value)
            except ValueError:
                raise OrderError("BAD_FIELD", field=self.name, expected="YYYY-MM-DD") from None
        elif self.kind == "choice" and value not in self.choices:
            raise OrderError("BAD_FIELD", field=self.name, expected=", ".join(self.choices))
        return value


@dataclass(frozen=True)
class OrderType:
    code: str
    family: str
    group: str
    priority: str = "normal"
    fields: tuple[Field, ...] = ()
    reply: str = "24h"  # business time (calendar.py): "4h", "2d"
    resolve: str = "5d"

    @property
    def needs_password(self) -> bool:
        """Business acceptance changes the customer's service: only for a verified caller."""
        return self.family == "business"


LINE = Field("line_number", "digits")
LINE_REQUIRED = Field("line_number", "digits", required=True)
WHEN = Field("incident_date", "date")
STAFF = Field("staff_name", "text", limit=40)
FEATURES = ("call_waiting", "call_forwarding", "voicemail", "caller_id", "intl_roaming", "data_pack")

TYPES: dict[str, OrderType] = {t.code: t for t in (
    OrderType("fault_phone", "fault", "repair", fields=(
        LINE, Field("symptom", "choice", choices=("no_dial_tone", "noise", "no_outgoing", "no_incoming", "other"))),
        reply="4h", resolve="2d"),
    OrderType("fault_broadband", "fault", "repair", fields=(
        Field("broadband_account", "text", limit=40),
        Field("symptom", "choice", choices=("no_connection", "slow", "drops", "other"))),
        reply="4h", resolve="2d"),
    # a complaint of no stated kind: routing.py picks its kind (and group) from what it says
    OrderType("complaint", "complaint", "complaints", fields=(WHEN,), reply="24h", resolve="15d"),
    OrderType("complaint_tariff", "complaint", "billing", fields=(WHEN,), reply="24h", resolve="15d"),
    OrderType("complaint_staff", "complaint", "service_quality", fields=(WHEN, STAFF), reply="24h", resolve="15d"),
    OrderType("complaint_installer", "complaint", "field_service", fields=(WHEN, STAFF), reply="24h",
              resolve="15d"),
    OrderType("complaint_suggestion", "complaint", "complaints", priority="low", reply="24h", resolve="15d"),
    OrderType("billing", "billing", "billing", fields=(
        Field("bill_period", "period"), Field("disputed_cents", "cents")), reply="24h", resolve="5d"),
    OrderType("consult", "consult", "consult", fields=(Field("topic", "text", limit=200),),
              priority="low", reply="24h", resolve="3d"),
    OrderType("biz_new_line", "business", "business", fields=(
        Field("plan", "text", required=True, limit=40), Field("install_address", "text", required=True)),
        reply="8h", resolve="5d"),
    OrderType("biz_add_feature", "business", "business", fields=(
        LINE_REQUIRED, Field("feature", "choice", required=True, choices=FEATURES)), reply="8h", resolve="2d"),
    OrderType("biz_move", "business", "business", fields=(
        LINE_REQUIRED, Field("new_address", "text", required=True), Field("move_date", "date")),
        reply="8h", resolve="5d"),
    OrderType("biz_suspend", "business", "business", fields=(
        LINE_REQUIRED, Field("from_date", "date"), Field("until_date", "date")), reply="8h", resolve="1d"),
    OrderType("biz_restore", "business", "business", fields=(LINE_REQUIRED,), reply="8h", resolve="1d"),
    OrderType("biz_number_change", "business", "business", fields=(
        LINE_REQUIRED, Field("preferred_number", "digits")), reply="8h", resolve="3d"),
    OrderType("other", "other", "general", reply="24h", resolve="5d"),
    # a caller answered the post-call survey "not satisfied" (quality/survey_store.py): the agent's
    # team lead calls them back; not a complaint (the caller made none), so not counted as one
    OrderType("survey_followup", "other", "service_quality", reply="24h", resolve="3d"),
)}
CODES = tuple(TYPES)
MAX_FIELDS_CHARS = 2000  # the stored JSON of one order's fields


def order_type(code) -> OrderType:
    if not isinstance(code, str) or code not in TYPES:
        raise OrderError("BAD_ORDER_TYPE", choices=", ".join(CODES))
    return TYPES[code]


def clean_fields(kind: OrderType, raw) -> dict:
    """The type's fields from a JSON object (or form): every value checked, unknown names refused,
    required ones present. Empty optional values are left out."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise OrderError("BAD_FIELDS")
    known = {f.name: f for f in kind.fields}
    unknown = sorted(str(k)[:40] for k in raw if k not in known)
    if unknown:
        raise OrderError("UNKNOWN_FIELD", field=unknown[0], choices=", ".join(known) or "-")
    cleaned = {}
    for name, spec in known.items():
        value = raw.get(name)
        if value is None or value == "":
            if spec.required:
                raise OrderError("MISSING_FIELD", field=name)
            continue
        cleaned[name] = spec.clean(value)
    return cleaned


def raise_priority(priority: str, steps: int) -> str:
    return PRIORITIES[min(PRIORITIES.index(priority) + max(steps, 0), len(PRIORITIES) - 1)]
