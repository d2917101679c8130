"""Report, KPI and staffing pages with their JSON and CSV, for supervisors and admins.

Every figure comes from cdr (cdr.load reads the rows, the rest is pure); this module parses the
query, says who may see which rows (a supervisor their teams' agents and teams; queues, access
numbers and the center to both roles, as the wallboard), and turns rows into JSON or CSV. CSV
cells carry codes and plain numbers (ratios as fractions, times in seconds); a figure that is
not available is "n/a", never 0; a cell that a spreadsheet would run as a formula is quoted.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import Blueprint, Response, request
from sqlalchemy import select

from agent_desktop.auth import current_user, require
from agent_desktop.context import desktop
from agent_desktop.errors import ApiError
from agent_desktop.views import page
from agent_desktop.wallboard import visible_agents
from callcenter.business_hours import BusinessHours, hours_file
from callcenter.models import Team, User
from callcenter.runtime.health_log import health_log_path, read_health_log
from cdr import availability, kpi, load, report, staffing
from cdr.call_facts import DEFAULT_SHORT_ABANDON_S
from cdr.periods import SIZES, Period, label
from quality import kpis as quality_kpis

bp = Blueprint("reports", __name__)

LEADS = ("supervisor", "admin")
MAX_DAYS = 93  # a quarter; 15-minute rows of a quarter are about 9,000 per key
MAX_FINE_DAYS = 31  # 15/30-minute intervals over at most a month
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Query:
    dim: str
    size: str
    first: date
    last: date
    short_s: int
    as_of: datetime  # figures as they stood then (an export repeats the page's figures exactly)


def zone():
    return BusinessHours.load(hours_file(desktop().settings.home)).zone


def today() -> date:
    return datetime.now(timezone.utc).astimezone(zone()).date()


def date_arg(name: str, default: date) -> date:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not DATE.fullmatch(raw):
        raise ApiError("BAD_DATE", field=name)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ApiError("BAD_DATE", field=name) from None


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "")
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit() and len(raw) <= len(str(high))) or not low <= int(raw) <= high:
        raise ApiError("BAD_NUMBER", field=name, low=low, high=high)
    return int(raw)


def sort_args(sorts, default: str) -> tuple[str, str]:
    """?sort= (a key of `sorts`, the fixed set a list may be ordered by) and ?dir= (asc or desc,
    default desc): anything else refused, so a client's word never becomes a column."""
    sort = request.args.get("sort", default)
    if sort not in sorts:
        raise ApiError("BAD_SORT", choices=", ".join(sorts))
    direction = request.args.get("dir", "desc")
    if direction not in ("asc", "desc"):
        raise ApiError("BAD_SORT_DIRECTION")
    return sort, direction


def _period(max_days: int = MAX_DAYS) -> tuple[date, date]:
    last = date_arg("to", today())
    first = date_arg("from", last)
    if last < first or (last - first).days + 1 > max_days:
        raise ApiError("BAD_PERIOD", days=max_days)
    return first, last


def parse_query() -> Query:
    dim = request.args.get("dim", "queue")
    if dim not in report.DIMS:
        raise ApiError("BAD_REPORT_DIM", choices=", ".join(report.DIMS))
    size = request.args.get("size", "hour")
    if size not in SIZES:
        raise ApiError("BAD_INTERVAL", choices=", ".join(SIZES))
    first, last = _period(MAX_FINE_DAYS if size in ("15min", "30min") else MAX_DAYS)
    return Query(dim, size, first, last, int_arg("short", DEFAULT_SHORT_ABANDON_S, 0, 60), as_of())


def as_of() -> datetime:
    """Now, to the second; or an earlier second the page's figures were computed at (as_of=POSIX
    seconds), so that its CSV export says the same of a state still running. Not a way back in
    time: no earlier than a day ago."""
    now = int(datetime.now(timezone.utc).timestamp())
    when = int_arg("as_of", now, now - 86_400, now) if request.args.get("as_of") else now
    return datetime.fromtimestamp(when, tz=timezone.utc)


def visible_keys(s, user: User, dim: str) -> set[str] | None:
    """None: every row. A supervisor sees their teams' agents and their own teams."""
    if user.role == "admin" or dim in report.CALL_DIMS:
        return None
    if dim == "agent":
        return set(visible_agents(s, user))
    return set(s.scalars(select(Team.name).where(Team.supervisor_id == user.id)))


def _round(value, unit: str):
    if value is None:
        return None
    return round(value, 6) if unit == "ratio" else round(value, 1) if unit == "seconds" else value


def build_report(q: Query) -> dict:
    user, d, center = current_user(), desktop(), zone()
    period = Period.local_days(q.first, q.last, center)
    now = q.as_of
    with d.sessions() as s:
        loaded = load.load(s, period, now, q.short_s)
        visible = visible_keys(s, user, q.dim)
        names = dict(s.execute(select(User.agent_extension, User.display_name)
                               .where(User.agent_extension.is_not(None))).all())
    figures = report.figures_for(q.dim)
    units = {f.code: f.unit for f in figures}
    inp = load.report_input(loaded, q.size)

    def rows_of(found: list[dict], bounds, size: str) -> list[dict]:
        return [{"interval": label(bounds[r["interval"]], center, size), "key": r["key"],
                 **{c: _round(r[c], units[c]) for c in units}} for r in found]
    size = "day" if q.size == "period" else q.size  # how an interval's start is written
    totals_in = load.report_input(loaded, "period")
    return {
        "dim": q.dim, "size": q.size, "from": q.first.isoformat(), "to": q.last.isoformat(), "tz": center.key,
        "short_abandon_s": q.short_s, "as_of": int(now.timestamp()),
        "columns": [{"code": f.code, "unit": f.unit} for f in figures],
        "intervals": [label(b, center, size) for b in inp.bounds[:-1]],
        "rows": rows_of(report.report(inp, q.dim, visible), inp.bounds, size),
        "totals": rows_of(report.report(totals_in, q.dim, visible), totals_in.bounds, "day"),
        "names": {k: v for k, v in names.items() if q.dim == "agent" and (visible is None or k in visible)},
        "surveys": loaded.surveys_exist,
    }


def number_text(value) -> str:
    """A figure as the page's data-value writes it (reports.js valueText): whole numbers without
    a point, others with at most 6 decimals, never in exponent form."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6f}".rstrip("0").rstrip(".")


def csv_cell(value) -> str:
    if value is None:
        return "n/a"
    text = number_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def as_csv(data: dict, rows_key: str = "rows") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    codes = [c["code"] for c in data["columns"]]
    writer.writerow(["interval", data["dim"], *codes])
    for row in data[rows_key]:
        writer.writerow([csv_cell(row["interval"]), csv_cell(row["key"]), *(csv_cell(row[c]) for c in codes)])
    return out.getvalue()


def download(text: str, name: str) -> Response:
    return Response("\ufeff" + text, mimetype="text/csv",  # the BOM: spreadsheets read the Mandarin as UTF-8
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


# ---------------------------------------------------------------- reports
@bp.get("/reports")
@require(*LEADS)
def reports_page():
    return page("reports.html", data={"dims": list(report.DIMS), "sizes": list(SIZES), "today": today().isoformat(),
                                      "short_abandon_s": DEFAULT_SHORT_ABANDON_S})


@bp.get("/api/reports")
@require(*LEADS)
def reports_json():
    return build_report(parse_query())


@bp.get("/api/reports.csv")
@require(*LEADS)
def reports_csv():
    q = parse_query()
    return download(as_csv(build_report(q)), f"report-{q.dim}-{q.size}-{q.first}-{q.last}.csv")


# ---------------------------------------------------------------- KPIs
def build_kpis() -> dict:
    first, last = _period()
    limit = int_arg("limit", kpi.DEFAULT_ANSWER_LIMIT_S, 1, 600)
    d, center, now = desktop(), zone(), datetime.now(timezone.utc)
    period = Period.local_days(first, last, center)
    with d.sessions() as s:
        loaded = load.load(s, period, now, DEFAULT_SHORT_ABANDON_S)
        orders = load.orders(s, period)
        sampled = quality_kpis.sampled(quality_kpis.load(s, period.start, period.end))
    health = read_health_log(health_log_path(d.settings.log_dir))
    found = availability.availability(health, period.start.timestamp(), period.end.timestamp(), now.timestamp())
    rows = kpi.kpis(loaded.facts, limit_s=limit, found=found, orders=orders, now=now,
                    surveys_exist=loaded.surveys_exist, sampled=sampled)
    return {"from": first.isoformat(), "to": last.isoformat(), "tz": center.key, "limit_s": limit,
            "kpis": [{"code": k.code, "value": None if k.value is None else round(k.value, 6), "top": k.top,
                      "bottom": k.bottom, "unit": k.unit, "extra": dict(k.extra)} for k in rows]}


@bp.get("/reports/kpi")
@require(*LEADS)
def kpi_page():
    return page("kpi.html", data={"today": today().isoformat(), "limit_s": kpi.DEFAULT_ANSWER_LIMIT_S})


@bp.get("/api/kpi")
@require(*LEADS)
def kpi_json():
    return build_kpis()


# ---------------------------------------------------------------- staffing
def build_staffing() -> dict:
    days = int_arg("days", 28, 1, MAX_DAYS)
    size = request.args.get("size", "30min")
    if size not in ("15min", "30min", "hour"):
        raise ApiError("BAD_INTERVAL", choices="15min, 30min, hour")
    target = staffing.Target(int_arg("target", 80, 1, 99) / 100, int_arg("threshold", 20, 1, 600),
                             int_arg("patience", 0, 0, 3600) or None)
    center, now = zone(), datetime.now(timezone.utc)
    last = now.astimezone(center).date() - timedelta(days=1)  # whole days only
    history = Period.local_days(last - timedelta(days=days - 1), last, center)
    with desktop().sessions() as s:
        loaded = load.load(s, history, now, DEFAULT_SHORT_ABANDON_S)
    needs = staffing.forecast(staffing.slots_from_history(loaded.facts, history, size), SIZES[size], target)
    return {"days": days, "size": size, "from": history.start.astimezone(center).date().isoformat(),
            "to": last.isoformat(), "tz": center.key, "target": target.service_level,
            "threshold_s": target.threshold_s, "patience_s": target.patience_s,
            "method": "erlang_a" if target.patience_s else "erlang_c", "rows": [n.as_dict() for n in needs]}


@bp.get("/reports/staffing")
@require(*LEADS)
def staffing_page():
    return page("staffing.html")


@bp.get("/api/staffing")
@require(*LEADS)
def staffing_json():
    return build_staffing()
