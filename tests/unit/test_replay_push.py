"""The push process replayed on recorded AMI transcripts: a ringing agent gets the screen-pop in
their own room, and nothing else pops, whoever sent it.

The Socket.IO emitter and the sync Redis are small fakes; the call's row comes from the real CDR
listener over a pre-migrated SQLite copy, fed the same transcript up to the ring.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from acd import protocol as p
from agent_desktop.push import Pusher
from callcenter.config import Settings
from cdr.listener import CdrListener
from tests.unit.transcripts import call_id, load, user_events


@dataclass
class FakeEmitter:
    """socketio.AsyncRedisManager's emit, recorded."""
    sent: list[tuple[str, dict, str]] = field(default_factory=list)

    async def emit(self, event, data, namespace=None, room=None, **_):
        self.sent.append((event, data, room))


@dataclass
class FakeRedis:
    """The few redis-py (decode_responses=True) reads agent_desktop.live makes."""
    hashes: dict[str, dict[str, str]] = field(default_factory=dict)
    sets: dict[str, set[str]] = field(default_factory=dict)

    def hgetall(self, key):
        return dict(self.hashes.get(key, {}))

    def hget(self, key, name):
        return self.hashes.get(key, {}).get(name)

    def smembers(self, key):
        return set(self.sets.get(key, set()))


@pytest.fixture
def pusher(migrated_db, tmp_path) -> Pusher:
    settings = Settings.from_env({"CALLCENTER_HOME": str(tmp_path), "DATABASE_URL": migrated_db,
                                  "REDIS_URL": "redis://127.0.0.1:9/0"})  # never reached: replaced below
    pusher = Pusher(settings)
    pusher.emitter = FakeEmitter()
    pusher.redis = FakeRedis()
    return pusher


def live_as_router_leaves_it(pusher: Pusher, transcript: str) -> None:
    """The call's hash as the router wrote it when it queued the call (acd/protocol's shape)."""
    queued = next(e for e in user_events(transcript) if e["UserEvent"] == "CallQueued")
    call = p.LiveCall(queued["CallId"], channel=queued["Channel"], skill=queued["Skill"],
                      queued_at=float(queued["Timestamp"]))
    pusher.redis.hashes[p.call_key(call.uniqueid)] = call.to_hash()
    pusher.redis.sets.setdefault(p.CALLS, set()).add(call.uniqueid)


def rows_until_ring(pusher: Pusher, transcript: str) -> None:
    cdr = CdrListener(pusher.sessions)
    for event in user_events(transcript):
        cdr.apply(event)
        if event["UserEvent"] == "AgentRinging":
            return


# every UserEvent of the recorded calls: who gets a screen-pop for it (None: nobody)
POPS = [
    ("answered_agent_hangs_up", ["CallEntered", "CallQueued", "AgentRinging", "AgentAnswered", "CallEnded"],
     [None, None, "agent:1601", None, None]),
    ("abandoned_waiting", ["CallEntered", "CallQueued", "CallEnded"], [None, None, None]),
    ("no_answer_then_next_agent",
     ["CallEntered", "CallQueued", "AgentRinging", "AgentNoAnswer", "CallQueued", "AgentRinging", "AgentAnswered",
      "CallEnded"],
     [None, None, "agent:1602", None, None, "agent:1603", None, None]),
]


@pytest.mark.parametrize("transcript, kinds, rooms", POPS, ids=[row[0] for row in POPS])
async def test_each_recorded_event_pops_only_for_the_ringing_agent(pusher, transcript, kinds, rooms):
    rows_until_ring(pusher, transcript)
    live_as_router_leaves_it(pusher, transcript)
    events = user_events(transcript)
    assert [e["UserEvent"] for e in events] == kinds
    got = []
    for event in events:
        before = len(pusher.emitter.sent)
        await pusher.on_ringing(event)
        new = pusher.emitter.sent[before:]
        assert len(new) <= 1
        got.append(new[0][2] if new else None)
    assert got == rooms
    for name, pop, _room in pusher.emitter.sent:
        assert name == "screen_pop"
        assert (pop["call"], pop["queue"], pop["caller_number"]) == (call_id(transcript), "consult", "13900001111")


# the UserEvents an AMI client sent (Action: UserEvent, recorded): no Channel, not from our dialplan
FORGED = ["1\u066300",  # an Arabic-Indic digit: no agent of ours
          ["1601", "1602"],  # a repeated Agent header: panoramisk hands over a list
          "1601"]  # well-formed, as bench/screen_pop.py sent them before it made Asterisk send them


@pytest.mark.parametrize("agent", FORGED, ids=["non-ascii-digit", "repeated-header", "well-formed"])
async def test_a_user_event_from_an_ami_client_pops_nothing(pusher, agent):
    [event] = [e for e in load("ami_client_user_events") if e["Agent"] == agent]
    assert "Channel" not in event  # as recorded: not from a channel
    await pusher.on_ringing(event)
    assert pusher.emitter.sent == []


def ringing(transcript: str) -> dict:
    return next(e for e in user_events(transcript) if e["UserEvent"] == "AgentRinging")


@pytest.mark.parametrize("change", [
    {"Context": "hotline"},  # from a channel, but not where the dialplan sends AgentRinging
    {"Context": ""},
    {"Channel": ""},
    {"CallId": ["x", "y"]},  # any header twice, not only Agent
    {"Uniqueid": ["a", "b"]},
    # a channel whose uniqueid an AMI Originate chose as "<another call>,x": its ${UNIQUEID} in
    # "CallId: ${UNIQUEID}" ended at the comma and named the other call
    {"Uniqueid": "1153c96b7dfe4278838e879e-2,x"},
], ids=["other-context", "no-context", "no-channel", "repeated-callid", "repeated-channel-field",
        "callid-not-the-channels"])
async def test_a_recorded_ringing_changed_so_it_is_not_from_cc_connect_pops_nothing(pusher, change):
    transcript = "answered_agent_hangs_up"
    rows_until_ring(pusher, transcript)
    live_as_router_leaves_it(pusher, transcript)
    await pusher.on_ringing({**ringing(transcript), **change})
    assert pusher.emitter.sent == []
    await pusher.on_ringing(ringing(transcript))  # the event as Asterisk sent it does pop
    assert [room for _, _, room in pusher.emitter.sent] == ["agent:1601"]


async def test_an_agent_change_pushes_the_live_state_to_that_agents_room(pusher):
    agent = p.AgentSnapshot("1601", "ringing", since=1795957925.709199, call=call_id("answered_agent_hangs_up"))
    pusher.redis.hashes[p.agent_key("1601")] = {k: str(v) for k, v in agent.as_dict().items() if k != "ext"}
    await pusher.on_agent_change("1601")
    assert pusher.emitter.sent == [("agent_state", agent.as_dict(), "agent:1601")]
