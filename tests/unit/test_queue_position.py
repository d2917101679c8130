from ivr.queue_routes import expected_wait_minutes, position_in_queue

CALLS = {
    "a": {"skill": "general", "priority": "0", "queued_at": "10", "agent": ""},
    "b": {"skill": "general", "priority": "3", "queued_at": "20", "agent": ""},  # VIP: ahead of a
    "c": {"skill": "general", "priority": "0", "queued_at": "5", "agent": "1001"},  # being connected
    "d": {"skill": "consult", "priority": "0", "queued_at": "1", "agent": ""},  # another queue
    "e": {"skill": "general", "priority": "0", "queued_at": "30", "transferred": "1", "agent": ""},
}


def test_position_follows_the_serving_order():
    assert [position_in_queue(CALLS, x) for x in "eba"] == [1, 2, 3]
    assert position_in_queue(CALLS, "d") == 1
    assert position_in_queue(CALLS, "c") is None and position_in_queue(CALLS, "zz") is None


def test_expected_wait():
    assert expected_wait_minutes(3, 2, 180) == 5  # 3 callers x 3 min / 2 agents = 4.5 -> 5
    assert expected_wait_minutes(1, 0, 180) == 3
    assert expected_wait_minutes(1, 10, 60) == 1
