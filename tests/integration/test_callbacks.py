"""Call backs kept in the database (left out of hours): dialled by the router once the center is
open, the agent's phone first and then the customer's; a customer who does not pick up is tried
again at the retry time, and a request is closed when answered."""
from __future__ import annotations

import time
import uuid
from datetime import timedelta

from acd.store import make_ready
from callcenter.models import CallbackRequest, utcnow
from callcenter.simulate import set_sim_phone
from tests.integration.conftest import wait_until
from tests.integration.helpers import add_agent, fresh_number, logout, reload


def request_state(sessions, request_id):
    def fetch():
        with sessions() as s:
            r = s.get(CallbackRequest, request_id)
            return (r.status, r.attempts, r.next_try_at) if r.status not in ("pending", "queued") else None
    return fetch


async def test_out_of_hours_request_is_dialled_when_open_and_tried_again_if_unanswered(stack, ami, sessions,
                                                                                       store):
    add_agent(sessions, "1601", {"general": 3})
    await reload(store)
    await set_sim_phone(ami, "1601", answer_after=1, talk_s=3)
    number = fresh_number("1380060")
    busy = {"Action": "Setvar", "Variable": f"SIMCUSTOMER_{number}"}
    await ami.send_action({**busy, "Value": "busy"})
    uid = f"out-of-hours-{uuid.uuid4().hex[:12]}"
    with sessions() as s:
        request = CallbackRequest(number=number, call_uniqueid=uid, reason="out_of_hours", language="zh")
        s.add(request)
        s.commit()
        request_id = request.id
    try:
        await make_ready(store, "1601", time.time())
        await reload(store)  # the router looks for due call backs at once after a reload
        answered = await ami.events.wait_for(Event="UserEvent", UserEvent="AgentAnswered", CallId=uid, timeout=40)
        assert answered["Agent"] == "1601"  # the agent's phone first
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid, timeout=40)
        assert ended["DialStatus"] != "ANSWER"
        status, attempts, next_try_at = await wait_until(request_state(sessions, request_id),
                                                         what="call back outcome recorded")
        assert (status, attempts) == ("no_answer", 1)
        assert next_try_at is not None
        assert await store.call(uid) == {}  # nothing of it left in the live queue until the retry time

        # the retry time comes; this time the customer picks up
        await ami.send_action({**busy, "Value": ""})
        with sessions() as s:
            s.get(CallbackRequest, request_id).next_try_at = utcnow() - timedelta(seconds=1)
            s.commit()
        await store.transition("1601", "ready", time.time())  # end the agent's wrap-up now
        await reload(store)
        ended = await ami.events.wait_for(Event="UserEvent", UserEvent="CallbackEnded", CallId=uid,
                                          DialStatus="ANSWER", timeout=40)
        status, attempts, _ = await wait_until(
            lambda: (r := request_state(sessions, request_id)()) and r[0] == "done" and r, what="call back done")
        assert (status, attempts) == ("done", 2)
    finally:
        await ami.send_action({**busy, "Value": ""})
        await logout(store, "1601")
