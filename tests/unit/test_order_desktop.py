"""The work-order screens and API on the real Flask app and a migrated SQLite copy: bad input is
refused with its code and changes nothing, object checks, the audited customer view, the forms,
business acceptance behind the verified password, and words for every code in both languages."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_desktop import errors
from agent_desktop.i18n import STRINGS
from callcenter.models import AuditEntry, Call, OrderGroupMember, User, WorkOrder, WorkOrderEvent
from callcenter.orders import lifecycle, queue, types
from callcenter.orders.access import VISIT_OUTCOMES
from agent_desktop.order_common import VIEW_REASONS
from tests.unit.test_desktop_access import MY_CALL, ORDER, ORDER2, csrf, login, world, world_db  # noqa: F401


def post(client, path, body):
    return client.post(path, json=body, headers={"X-CSRF-Token": csrf(client)})


def state(app, number=ORDER):
    with app.extensions["callcenter"].sessions() as s:
        order = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        steps = s.scalars(select(WorkOrderEvent.action).where(WorkOrderEvent.order_id == order.id)).all()
        return order.status, order.version, order.assignee, len(steps)


# role, method, path, body -> status, code (nothing changes)
REFUSED = [
    ("backoffice", "GET", "/api/work-orders?sort=secret_column", None, 400, "BAD_SORT"),
    ("backoffice", "GET", "/api/work-orders?sort=priority;drop", None, 400, "BAD_SORT"),
    ("backoffice", "GET", "/api/work-orders?dir=sideways", None, 400, "BAD_SORT_DIRECTION"),
    ("backoffice", "GET", "/api/work-orders?status=open", None, 400, "BAD_STATUS"),
    ("backoffice", "GET", "/api/work-orders?type=fault_tv", None, 400, "BAD_ORDER_TYPE"),
    ("backoffice", "GET", "/api/work-orders?priority=asap", None, 400, "BAD_PRIORITY"),
    ("backoffice", "GET", "/api/work-orders?flag=late", None, 400, "BAD_FLAG"),
    ("backoffice", "GET", "/api/work-orders?group=billing", None, 400, "NOT_YOUR_GROUP"),
    ("backoffice", "GET", "/api/work-orders?page=0", None, 400, "BAD_NUMBER"),
    ("backoffice", "GET", "/api/work-orders?page=%D9%A3", None, 400, "BAD_NUMBER"),
    ("backoffice", "GET", "/api/work-orders?q=" + "x" * 41, None, 400, "BAD_TEXT"),
    ("backoffice", "GET", "/api/work-orders/12ab", None, 400, "BAD_ORDER_NUMBER"),
    ("backoffice", "GET", "/api/work-orders/999999999999", None, 404, "NO_SUCH_ORDER"),
    ("backoffice", "GET", f"/api/work-orders/{ORDER}?reason=curious", None, 400, "BAD_VIEW_REASON"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "resolve", "comment": "x"}, 409,
     "INVALID_ORDER_TRANSITION"),  # a status jump: new -> resolved
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "close"}, 409, "INVALID_ORDER_TRANSITION"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "teleport"}, 400, "UNKNOWN_ACTION"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": ["start"]}, 400, "UNKNOWN_ACTION"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "start", "version": "1"}, 400,
     "BAD_NUMBER"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "start", "version": 7}, 409,
     "ORDER_CHANGED"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "start", "comment": 5}, 400, "BAD_TEXT"),
    ("supervisor", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "cancel"}, 400, "COMMENT_REQUIRED"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "cancel", "comment": "x"}, 403,
     "NOT_YOUR_ORDER"),  # the lead's or the owner's
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "assign", "group": "nowhere"}, 400,
     "NO_SUCH_GROUP"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "assign", "assignee": "quality"}, 400,
     "NOT_IN_GROUP"),
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "hand_over", "to": "ghost"}, 403,
     "NOT_YOUR_ORDER"),  # ownership is the owner's or the lead's to hand over
    ("backoffice", "POST", f"/api/work-orders/{ORDER}/actions", ["start"], 400, "BAD_JSON"),
    ("backoffice", "POST", "/api/work-orders/bulk-assign", {"numbers": [ORDER], "group": "repair"}, 403,
     "NOT_YOUR_ORDER"),  # a member, not the lead
    ("supervisor", "POST", "/api/work-orders/bulk-assign", {"numbers": ORDER, "group": "repair"}, 400,
     "BAD_ORDER_LIST"),
    ("supervisor", "POST", "/api/work-orders/bulk-assign", {"numbers": [ORDER, "999999999999"], "group": "repair"},
     404, "NO_SUCH_ORDER"),
    ("supervisor", "POST", "/api/work-orders/bulk-assign", {"numbers": [ORDER]}, 400, "MISSING_FIELD"),
    ("supervisor", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "hand_over", "to": "agent"}, 400,
     "ALREADY_OWNER"),
    ("agent", "POST", f"/api/work-orders/{ORDER}/actions", {"action": "start"}, 403, "NOT_YOUR_ORDER"),
    ("agent2", "GET", f"/api/work-orders/{ORDER}", None, 403, "NOT_YOUR_ORDER"),
    ("quality", "GET", f"/api/work-orders/{ORDER}", None, 403, "FORBIDDEN"),
    ("agent", "GET", "/api/work-orders", None, 403, "FORBIDDEN"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "biz_suspend", "description": "abroad",
                                           "fields": {"line_number": "13800000001"}}, 403, "PASSWORD_NOT_VERIFIED"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "biz_move", "description": "x",
                                           "fields": {"line_number": "13800000001", "colour": "red"}}, 400,
     "UNKNOWN_FIELD"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "fault_phone", "description": "x",
                                           "fields": "line 1"}, 400, "BAD_FIELDS"),
    # an unknown type, and wrong JSON types for the type, the priority and the description
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "fault_tv", "description": "x"}, 400,
     "BAD_CATEGORY"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": ["billing"], "description": "x"}, 400,
     "BAD_CATEGORY"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "billing", "priority": 3, "description": "x"},
     400, "BAD_PRIORITY"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "billing", "description": 42}, 400,
     "BAD_TEXT"),
    ("agent", "POST", "/api/work-orders", {"call": MY_CALL, "category": "billing", "description": "x",
                                           "customer_id": "1"}, 400, "BAD_CUSTOMER_ID"),
]


@pytest.mark.parametrize("role, method, path, body, status, code", REFUSED)
def test_a_refused_request_has_its_code_and_changes_nothing(world, role, method, path, body, status, code):
    app = world[0]
    before = (state(app, ORDER), state(app, ORDER2))
    client = login(app, role)
    reply = client.get(path) if method == "GET" else post(client, path, body)
    assert (reply.status_code, reply.get_json()["code"]) == (status, code), reply.get_json()
    assert "{" not in reply.get_json()["message"]  # every placeholder filled
    assert (state(app, ORDER), state(app, ORDER2)) == before
    with app.extensions["callcenter"].sessions() as s:
        assert s.scalar(select(WorkOrder).where(WorkOrder.number.not_in([ORDER, ORDER2]))) is None


def test_the_queue_filters_sorts_and_searches(world):
    app = world[0]
    client = login(app, "backoffice")
    listed = client.get("/api/work-orders?sort=number&dir=desc").get_json()
    assert [o["number"] for o in listed["orders"]] == [ORDER2, ORDER] and listed["total"] == 2
    assert client.get(f"/api/work-orders?q={ORDER2[-4:]}").get_json()["total"] == 1
    assert client.get("/api/work-orders?q=13800000001").get_json()["total"] == 0  # no caller number on them
    assert client.get("/api/work-orders?status=new,assigned&type=fault_phone&assignee=none").get_json()["total"] == 2
    assert client.get("/api/work-orders?assignee=me").get_json()["total"] == 0
    assert set(client.get("/api/work-orders/deadlines").get_json()) >= {"overdue", "near", "escalated", "groups"}
    assert client.get("/api/work-orders?q=%25").get_json()["total"] == 0  # a LIKE wildcard is only a character


def test_the_customer_is_shown_only_for_a_reason_and_each_view_is_audited(world):
    app = world[0]
    client = login(app, "backoffice")
    assert "customer" not in client.get(f"/api/work-orders/{ORDER}").get_json()
    shown = client.get(f"/api/work-orders/{ORDER}?reason=working_order").get_json()["customer"]
    assert shown["phones"] == ["13800000001"] and shown["vip_level"] == 2
    page = client.get(f"/orders/{ORDER}?reason=customer_request").get_data(as_text=True)
    assert "13800000001" in page and "<img src=x" not in page  # the hostile name, escaped
    assert "13800000001" not in client.get(f"/orders/{ORDER}").get_data(as_text=True)
    with app.extensions["callcenter"].sessions() as s:
        rows = s.execute(select(AuditEntry.actor, AuditEntry.action, AuditEntry.detail)
                         .where(AuditEntry.action == "view_customer").order_by(AuditEntry.id)).all()
    assert rows == [("backoffice", "view_customer", f"order {ORDER}; reason working_order"),
                    ("backoffice", "view_customer", f"order {ORDER}; reason customer_request")]


def test_the_order_page_offers_one_form_per_allowed_action_and_the_forms_work(world):
    app = world[0]
    client = login(app, "backoffice")
    page = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    offered = re.findall(r'class="action-form" data-action="([a-z_]+)"', page)
    assert offered == ["assign", "start", "comment"]  # cancel and hand-over are the lead's and the owner's
    form = {"action": "start", "version": "1", "comment": "on it", "csrf_token": csrf(client)}
    reply = client.post(f"/orders/{ORDER}/act", data=form)
    assert reply.status_code == 303 and reply.headers["Location"].endswith(f"/orders/{ORDER}")
    assert state(app)[:3] == ("in_progress", 2, "backoffice")
    again = client.post(f"/orders/{ORDER}/act", data=form)  # the same form, from the stale page
    assert again.status_code == 409 and "changed since you opened it" in again.get_data(as_text=True)
    assert state(app)[:3] == ("in_progress", 2, "backoffice")
    page = client.get(f"/orders/{ORDER}").get_data(as_text=True)
    assert re.findall(r'class="action-form" data-action="([a-z_]+)"', page) == [
        "assign", "wait_customer", "resolve", "comment"]
    assert 'data-action="start" data-actor="backoffice"' in page


def test_the_lead_assigns_in_bulk_from_the_queue(world):
    app = world[0]
    client = login(app, "supervisor")
    queue_page = client.get("/orders?sort=number").get_data(as_text=True)
    assert queue_page.count('name="numbers"') == 2
    reply = client.post("/orders/bulk-assign", data={"numbers": [ORDER, ORDER2], "group": "repair",
                                                     "assignee": "backoffice", "csrf_token": csrf(client),
                                                     "back": "/orders?sort=number"})
    assert reply.status_code == 303 and reply.headers["Location"].endswith("/orders?sort=number")
    assert state(app, ORDER)[:3] == state(app, ORDER2)[:3] == ("assigned", 2, "backoffice")
    evil = client.post("/orders/bulk-assign", data={"numbers": [ORDER], "group": "repair", "back": "//evil.example",
                                                    "csrf_token": csrf(client)})
    assert evil.headers["Location"].endswith("/orders")


def test_business_by_phone_once_the_menu_verified_the_callers_password(world):
    app, _router, _redis, customer_id = world
    with app.extensions["callcenter"].sessions() as s:
        s.scalar(select(Call).where(Call.uniqueid == MY_CALL)).password_verified = True
        s.commit()
    client = login(app, "agent")
    reply = post(client, "/api/work-orders", {"call": MY_CALL, "category": "biz_suspend", "description": "abroad",
                                              "fields": {"line_number": "13800000001", "from_date": "2026-12-01"}})
    assert reply.status_code == 201 and reply.get_json()["repeat"] is False
    # the same fault again from this customer: joins the open order
    again = post(client, "/api/work-orders", {"call": MY_CALL, "category": "fault_phone", "description": "still dead"})
    assert (again.status_code, again.get_json()["number"], again.get_json()["repeat"]) == (200, ORDER2, True)
    # a customer other than the one the menu verified: refused
    other = post(client, "/api/work-orders", {"call": MY_CALL, "category": "biz_restore", "description": "x",
                                              "fields": {"line_number": "1380000"}, "customer_id": customer_id + 99})
    assert other.get_json()["code"] == "NO_SUCH_CUSTOMER"


def test_an_agent_records_the_return_visit_of_their_own_order(world):
    app = world[0]
    lead = login(app, "supervisor")
    for action, extra in (("start", {}), ("resolve", {"comment": "line card replaced"})):
        assert post(lead, f"/api/work-orders/{ORDER}/actions", {"action": action, **extra}).status_code == 200
    agent = login(app, "agent")
    order = agent.get(f"/api/work-orders/{ORDER}").get_json()
    assert order["actions"] == ["confirm", "not_fixed", "no_answer", "hand_over", "comment"]
    done = post(agent, f"/api/work-orders/{ORDER}/actions", {"action": "confirm", "comment": "works now",
                                                             "version": order["version"]}).get_json()
    assert done["status"] == "closed"
    assert [(e["actor"], e["action"]) for e in done["timeline"]] == [
        ("supervisor", "start"), ("supervisor", "resolve"), ("agent", "confirm")]


def _codes_raised(paths) -> set[str]:
    found = set()
    for path in paths:
        found |= set(re.findall(r'(?:OrderError|ApiError|InvalidTransition)\(\s*"([A-Z_]+)"', Path(path).read_text()))
    return found


def test_every_order_code_has_words_in_both_languages():
    root = Path(__file__).resolve().parents[2]
    sources = [*root.glob("callcenter/orders/*.py"), root / "agent_desktop/order_common.py",
               root / "agent_desktop/order_api.py", root / "agent_desktop/order_pages.py",
               root / "agent_desktop/order_admin.py"]
    keys = ({f"error.{c}" for c in _codes_raised(sources) | {"INVALID_ORDER_TRANSITION"}}
            | {f"category.{c}" for c in types.CODES} | {f"order_status.{s}" for s in lifecycle.STATUSES}
            | {f"order_action.{a}" for a in (*lifecycle.ACTIONS, "hand_over", "comment")}
            | {f"order_event.{a}" for a in (*lifecycle.ACTIONS, "hand_over", "comment", "created", "repeat_report",
                                            "escalated")}
            | {f"group.{g}" for g in types.GROUPS} | {f"priority.{p}" for p in types.PRIORITIES}
            | {f"field.{f.name}" for k in types.TYPES.values() for f in k.fields}
            | {f"choice.{c}" for k in types.TYPES.values() for f in k.fields for c in f.choices}
            | {f"flag.{f}" for f in ("ok", *queue.FLAG_FILTERS)} | {f"sort.{k}" for k in queue.SORTS}
            | {f"view_reason.{r}" for r in VIEW_REASONS} | {f"order_action.{a}" for a in VISIT_OUTCOMES})
    missing = sorted(k for k in keys if not (STRINGS.get(k, {}).get("en") and STRINGS.get(k, {}).get("zh")))
    assert missing == []
    assert errors.message("ORDER_CHANGED", "zh", number="1") == "工单1已被他人更新，请刷新后重试"


def test_the_agent_on_a_return_visit_sees_it_on_the_pop_and_records_the_outcome(world):
    from acd import protocol as p
    from callcenter.models import CallbackRequest

    app, _router, redis, _customer = world
    lead = login(app, "supervisor")
    for action, extra in (("start", {}), ("resolve", {"comment": "line card replaced"})):
        post(lead, f"/api/work-orders/{ORDER}/actions", {"action": action, **extra})
    with app.extensions["callcenter"].sessions() as s:
        visit = s.scalar(select(CallbackRequest).where(CallbackRequest.reason == "return_visit"))
    live_id = f"callback-request-{visit.id}"
    agent2 = login(app, "agent2")
    assert agent2.get(f"/api/work-orders/{ORDER}").status_code == 403  # not theirs, not their call
    redis.hashes[p.agent_key("1002")] = {"state": "on_call", "call": live_id, "since": "1"}
    pop = agent2.get(f"/api/calls/{live_id}/pop").get_json()
    assert pop["return_visit"]["order"] == ORDER
    # the center dialled the order's customer, but nobody keyed the service password: the minimum
    assert pop["customer"] == {"id": _customer, "name": "<" + "*" * 27, "language": "zh", "verified": False}
    order = agent2.get(f"/api/work-orders/{ORDER}").get_json()
    assert order["actions"] == ["confirm", "not_fixed", "no_answer"]
    done = post(agent2, f"/api/work-orders/{ORDER}/actions", {"action": "not_fixed", "comment": "still no tone"})
    assert done.get_json()["status"] == "reopened"
    assert done.get_json()["timeline"][-1]["actor"] == "agent2"


@pytest.mark.parametrize("path, form, code", [
    ("/admin/order-groups/", {"code": "Repair Team", "name": "x"}, "BAD_GROUP_CODE"),
    ("/admin/order-groups/", {"code": "repair", "lead": "agent"}, "NO_SUCH_USER"),  # an agent leads no group
    ("/admin/order-groups/members", {"group": "nowhere", "username": "backoffice"}, "NO_SUCH_GROUP"),
    ("/admin/order-groups/members", {"group": "repair", "username": "quality"}, "NO_SUCH_USER"),
])
def test_group_admin_refusals_change_nothing(world, path, form, code):
    app = world[0]
    client = login(app, "admin")
    before = client.get("/admin/order-groups/").get_data(as_text=True)
    reply = client.post(path, data={**form, "csrf_token": csrf(client)})
    assert reply.status_code == 400 and errors.message(code, "en", name=form.get("lead") or form.get("username")) \
        in reply.get_data(as_text=True)
    assert client.get("/admin/order-groups/").get_data(as_text=True).split("<main")[1] == before.split("<main")[1]


def test_an_admin_sets_a_groups_lead_and_members_and_it_is_audited(world):
    app = world[0]
    client = login(app, "admin")
    client.post("/admin/order-groups/", data={"code": "billing", "lead": "backoffice", "csrf_token": csrf(client)})
    client.post("/admin/order-groups/members", data={"group": "billing", "username": "supervisor",
                                                     "csrf_token": csrf(client)})
    page = client.get("/admin/order-groups/").get_data(as_text=True)
    row = re.search(r'<tr data-group="billing">(.*?)</tr>', page, re.S).group(1)
    assert "backoffice" in row and "supervisor" in row
    with app.extensions["callcenter"].sessions() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.actor == "admin")).all()
    assert actions == ["save_order_group", "add_group_member"]
    assert login(app, "backoffice").get("/api/work-orders?group=billing").status_code == 200  # leads it now


def test_the_openapi_file_describes_exactly_the_order_routes_and_their_codes_have_words(world):
    import json
    app = world[0]
    doc = json.loads((Path(__file__).resolve().parents[2] / "agent_desktop/work_orders.openapi.json").read_text())
    described = {(path.replace("{number}", "<number>"), method.upper())
                 for path, methods in doc["paths"].items() for method in methods}
    served = {(rule.rule, method) for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/work-order")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert described == served
    codes = {c for methods in doc["paths"].values() for op in methods.values()
             for reply in op["responses"].values() for c in reply.get("x-codes", [])}
    assert sorted(c for c in codes if f"error.{c}" not in STRINGS) == []
