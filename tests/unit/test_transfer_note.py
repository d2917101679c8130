"""A transfer's note (issue 15, "A transfer note is stored before the router checks"): stored only
for a call the sender is talking on now, before the router rings the next agent (whose pop is
built at once), and gone again when the router refuses.

The desktop world of test_desktop_access (real SQLite, the real app and Socket.IO test clients,
agent 1001 talking on MY_CALL in the fake Redis); a mapper hook sees every CallTransfer insert, so
"never stored" means never, not "deleted again".
"""
from __future__ import annotations

import pytest
from sqlalchemy import event, select

from agent_desktop.acd_client import CommandResult
from agent_desktop.screen_pop import build_pop
from callcenter.models import CallTransfer
from tests.unit.test_desktop_access import MY_CALL, OTHER_CALL, connect, login, world, world_db  # noqa: F401


@pytest.fixture
def inserted():
    """Every CallTransfer row inserted while the test runs (the note, the call)."""
    rows = []

    def record(_mapper, _connection, row):
        rows.append((row.note, row.call_uniqueid))
    event.listen(CallTransfer, "before_insert", record)
    yield rows
    event.remove(CallTransfer, "before_insert", record)


def notes(app) -> list[tuple[str, str]]:
    with app.extensions["callcenter"].sessions() as s:
        return [(t.note, t.call_uniqueid) for t in s.scalars(select(CallTransfer))]


def test_a_transfer_of_a_call_not_the_senders_stores_nothing_and_asks_no_router(world, inserted):
    app, router, _redis, _ = world
    router.refuse = CommandResult(False, "NOT_YOUR_CALL", "agent 1001 is not talking on that call")
    socket = connect(app, login(app, "agent"))
    reply = socket.emit("call_transfer", {"call": OTHER_CALL, "skill": "billing", "note": "someone else's"},
                        callback=True)
    assert reply["ok"] is False and reply["code"] == "NOT_YOUR_CALL"
    assert inserted == [] and notes(app) == []
    assert not [op for op, _args in router.sent if op == "transfer"]


def test_a_transfer_the_router_refuses_leaves_no_note(world, inserted):
    app, router, _redis, _ = world
    router.refuse = CommandResult(False, "AGENT_NOT_READY", "agent 1002 is not ready")
    socket = connect(app, login(app, "agent"))
    reply = socket.emit("call_transfer", {"call": MY_CALL, "to_agent": "1002", "note": "refused"}, callback=True)
    assert reply["code"] == "AGENT_NOT_READY"
    assert inserted == [("refused", MY_CALL)] and notes(app) == []  # stored for the agent's own call, then gone


def test_an_accepted_transfers_note_is_in_the_pop_built_as_the_next_agent_rings(world, monkeypatch):
    app, router, _redis, _ = world
    pops = []

    def router_rings_the_next_agent(op, **args):
        router.sent.append((op, args))
        if op == "transfer":  # the router rings 1002 and the pusher builds their pop at once
            with app.extensions["callcenter"].sessions() as s:
                pops.append(build_pop(s, args["call"], None, 0.0))
        return CommandResult(True, data={"to_agent": args.get("to_agent")})
    monkeypatch.setattr(router, "send", router_rings_the_next_agent)
    socket = connect(app, login(app, "agent"))
    reply = socket.emit("call_transfer", {"call": MY_CALL, "to_agent": "1002", "note": "wants a refund"},
                        callback=True)
    assert reply["ok"] is True
    assert [(n["from"], n["note"]) for n in pops[0]["transfer_notes"]] == [("1001", "wants a refund")]
    assert notes(app) == [("wants a refund", MY_CALL)]
