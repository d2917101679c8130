"""0007 brings the orders already there into the lifecycle, and 0007's downgrade takes them back."""
from alembic import command

from callcenter import db

# (status, category, created_by, call) as 0006 stored them -> (status, group, owner) after 0007
OLD = [
    ("open", "fault_phone", None, "1700000000.1", "new", "repair", None),
    ("in_progress", "complaint", "agent1", "1700000000.2", "in_progress", "complaints", "agent1"),
    ("resolved", "billing", "agent2", None, "resolved", "billing", "agent2"),
    ("closed", "consult", None, None, "closed", "consult", None),
    ("open", "something_old", None, None, "new", "general", None),
]


def test_existing_orders_come_into_the_lifecycle_and_go_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'cc.db'}"
    db.upgrade(url)
    config = db.alembic_config(url)
    command.downgrade(config, "0006")
    engine = db.make_engine(url)
    with engine.begin() as c:
        for i, (status, category, by, call, *_after) in enumerate(OLD):
            c.exec_driver_sql(
                "INSERT INTO work_orders (number, category, status, description, call_uniqueid, created_at, "
                "updated_at, priority, created_by) VALUES (?, ?, ?, '', ?, '2026-10-01 08:00:00', "
                "'2026-10-02 08:00:00', 'normal', ?)", (f"261000000{i}", category, status, call, by))
    db.upgrade(url)
    with engine.connect() as c:
        rows = c.exec_driver_sql("SELECT status, group_code, owner, fields, version, escalation FROM work_orders "
                                 "ORDER BY id").all()
        assert rows == [(s, g, o, "{}", 1, 0) for *_before, s, g, o in OLD]
        resolved = c.exec_driver_sql("SELECT resolved_at FROM work_orders WHERE status IN ('resolved', 'closed')")
        assert [r[0][:10] for r in resolved] == ["2026-10-02", "2026-10-02"]
        steps = c.exec_driver_sql("SELECT actor, action, to_status, detail FROM work_order_events ORDER BY order_id").all()
        assert steps == [(by or "ivr", "created", after, "{}") for _s, _c, by, _call, after, _g, _o in OLD]
        calls = c.exec_driver_sql("SELECT call_uniqueid, kind FROM work_order_calls ORDER BY order_id").all()
        assert calls == [("1700000000.1", "opened"), ("1700000000.2", "opened")]
        groups = {r[0] for r in c.exec_driver_sql("SELECT code FROM order_groups")}
        assert {"repair", "complaints", "billing", "business", "general"} <= groups
    command.downgrade(config, "0006")
    with engine.connect() as c:
        back = c.exec_driver_sql("SELECT status FROM work_orders ORDER BY id").scalars().all()
    assert back == [s for s, *_rest in OLD]
