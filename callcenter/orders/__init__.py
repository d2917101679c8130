"""Work orders from the first report to the customer's confirmation.

Pure cores (no I/O, the clock passed in), each small:

- ``types``     the order types, their own fields, default group, priority and deadlines
- ``lifecycle`` the states and the one transition table (like acd.agent_state)
- ``calendar``  the business calendar: hours, weekdays and holidays from business_hours.toml
- ``deadlines`` reply/resolve deadlines per type and priority (work_orders.toml), their flags
- ``routing``   which group a complaint goes to, by its content; a VIP's starting priority
- ``numbers``   order numbers that cannot be guessed

Database work, over a session the caller opens: ``store`` (create, act, assign, hand over),
``queue`` (a group's list: filters, search, a fixed set of sort fields), ``sweep`` (escalation,
close on timeout, return visits nobody answered; safe to run in several processes) and
``access`` (who may see and work which order). Every refusal is an ``OrderError`` with a stable
code; the desktop maps it to ``{"code", "message"}``.
"""
