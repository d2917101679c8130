"""The routing decision core: which waiting call goes to which idle agent, and why. No I/O.

The hotline's rules (DESIGN.md section 2):
- a call needs a skill; it goes to an idle agent holding that skill, best level first, then the
  one idle longest;
- calls are served transferred first, then VIP, then by time waiting;
- after a queue's overflow time, general agents of at least a given level may take it too;
- an unclassified call is a "general" call.

The state is kept indexed so one decision costs O(log n) whatever the size of the floor:
per skill, a heap of idle agents by (-level, idle since) and a heap of waiting calls by
(class, queued at). Entries are invalidated lazily (a version per agent and per call), so an
agent in twenty skills leaves twenty stale entries instead of twenty heap deletions.
The clock is always passed in: the same core runs live, in tests and in the simulator.
"""
from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field

GENERAL = "general"
TRANSFERRED, VIP, NORMAL = 0, 1, 2  # service classes, lowest first


def service_class(vip: bool, transferred: bool) -> int:
    """Transferred calls first, then VIP, then everyone else (DESIGN.md section 2, rules 5-6)."""
    return TRANSFERRED if transferred else VIP if vip else NORMAL


def position(waiting, call_id: str) -> int | None:
    """1-based place of a call among the waiting calls of its skill, in the order the
    Dispatcher serves them. ``waiting``: (call_id, skill, service class, queued_at) tuples."""
    mine = next((w for w in waiting if w[0] == call_id), None)
    if mine is None:
        return None
    ahead = [w for w in waiting if w[1] == mine[1] and (w[2], w[3], w[0]) < (mine[2], mine[3], mine[0])]
    return len(ahead) + 1


@dataclass(frozen=True)
class OverflowStep:
    after_s: float  # waited this long ...
    min_general_level: int  # ... general agents of at least this level may take it


@dataclass(frozen=True)
class QueuePolicy:
    skill: str
    overflow: tuple[OverflowStep, ...] = ()


@dataclass(frozen=True)
class Decision:
    call_id: str
    agent_id: str
    reason: str


@dataclass
class _Agent:
    skills: dict[str, int]
    idle_since: float | None = None  # None: not available
    version: int = 0


@dataclass
class _Call:
    skill: str
    queued_at: float
    klass: int
    version: int = 0
    waiting: bool = True


@dataclass
class Dispatcher:
    policies: dict[str, QueuePolicy] = field(default_factory=dict)
    agents: dict[str, _Agent] = field(default_factory=dict)
    calls: dict[str, _Call] = field(default_factory=dict)
    _idle: dict[str, list] = field(default_factory=dict)  # skill -> [(-level, idle_since, seq, agent, version)]
    _waiting: dict[str, list] = field(default_factory=dict)  # skill -> [(klass, queued_at, seq, call, version)]
    _by_age: dict[str, list] = field(default_factory=dict)  # skill -> [(queued_at, seq, call, version)]
    _idle_count: dict[str, int] = field(default_factory=dict)  # skill -> idle agents holding it
    _seq: itertools.count = field(default_factory=itertools.count)

    # ---------------------------------------------------------------- agents
    def set_agent(self, agent_id: str, skills: dict[str, int]) -> None:
        """Create or re-skill an agent (levels 1-5); they start unavailable."""
        for skill, level in skills.items():
            if not 1 <= level <= 5:
                raise ValueError(f"agent {agent_id}: level {level} for {skill} is outside 1-5")
        agent = self.agents.get(agent_id)
        if agent is None:
            self.agents[agent_id] = _Agent(dict(skills))
            return
        since = agent.idle_since
        self.agent_busy(agent_id)
        agent.skills = dict(skills)
        if since is not None:
            self.agent_idle(agent_id, since)  # re-index under the new skills

    def agent_idle(self, agent_id: str, since: float) -> None:
        agent = self.agents[agent_id]
        if agent.idle_since is None:
            for skill in agent.skills:
                self._idle_count[skill] = self._idle_count.get(skill, 0) + 1
        agent.version += 1
        agent.idle_since = since
        for skill, level in agent.skills.items():
            heapq.heappush(self._idle.setdefault(skill, []), (-level, since, next(self._seq), agent_id, agent.version))

    def agent_busy(self, agent_id: str) -> None:
        """Not available (reserved, on a call, wrap-up, not ready, logged out)."""
        agent = self.agents[agent_id]
        if agent.idle_since is not None:
            for skill in agent.skills:
                self._idle_count[skill] -= 1
        agent.version += 1
        agent.idle_since = None

    # ---------------------------------------------------------------- calls
    def add_call(self, call_id: str, skill: str, queued_at: float, vip: bool = False,
                 transferred: bool = False) -> None:
        """Queue a call (or requeue it: a returning call keeps its first queued time)."""
        skill = skill or GENERAL
        previous = self.calls.get(call_id)
        queued_at = previous.queued_at if previous else queued_at
        klass = service_class(vip, transferred)
        call = _Call(skill, queued_at, klass, version=(previous.version + 1) if previous else 0)
        self.calls[call_id] = call
        self._push(call_id, call)

    def put_back(self, call_id: str) -> None:
        """A decision that could not be carried out (the agent was taken in Redis meanwhile, or
        Asterisk refused): the call waits again in its place."""
        call = self.calls.get(call_id)
        if call is not None and not call.waiting:
            call.version += 1
            call.waiting = True
            self._push(call_id, call)

    def _push(self, call_id: str, call: _Call) -> None:
        seq = next(self._seq)
        heapq.heappush(self._waiting.setdefault(call.skill, []),
                       (call.klass, call.queued_at, seq, call_id, call.version))
        heapq.heappush(self._by_age.setdefault(call.skill, []), (call.queued_at, seq, call_id, call.version))

    def remove_call(self, call_id: str) -> None:
        """The call is over (answered and done, or abandoned)."""
        call = self.calls.pop(call_id, None)
        if call:
            call.waiting = False

    # ---------------------------------------------------------------- decisions
    def _head_agent(self, skill: str, min_level: int = 1) -> tuple[str, int, float] | None:
        heap = self._idle.get(skill)
        while heap:
            neg_level, since, _, agent_id, version = heap[0]
            agent = self.agents.get(agent_id)
            if agent is None or agent.version != version or agent.idle_since is None:
                heapq.heappop(heap)  # stale
                continue
            return (agent_id, -neg_level, since) if -neg_level >= min_level else None
        return None

    def _head_call(self, skill: str, heaps: dict[str, list] | None = None) -> tuple[str, _Call] | None:
        """The first live call of a skill: by service class and wait, or (heaps=_by_age) by wait only."""
        heap = (self._waiting if heaps is None else heaps).get(skill)
        while heap:
            call_id, version = heap[0][-2:]
            call = self.calls.get(call_id)
            if call is None or call.version != version or not call.waiting:
                heapq.heappop(heap)
                continue
            return call_id, call
        return None

    def _overflow_level(self, call: _Call, now: float) -> int | None:
        """The lowest general level allowed to take this call now, if it has overflowed."""
        policy = self.policies.get(call.skill)
        if policy is None or call.skill == GENERAL:
            return None
        allowed = [step.min_general_level for step in policy.overflow if now - call.queued_at >= step.after_s]
        return min(allowed) if allowed else None

    def idle_agents(self, skill: str) -> int:
        return self._idle_count.get(skill, 0)

    def next_decision(self, now: float, explain: bool = True) -> Decision | None:
        """The single most urgent call that can be served now, and its agent; None if none."""
        best: tuple | None = None
        for skill in self._waiting:
            head = self._head_call(skill)
            if head is None:
                continue
            call_id, call = head
            key = (call.klass, call.queued_at)
            if best is not None and key >= best[0]:
                continue
            agent = self._head_agent(skill)
            via = skill
            if agent is None:
                level = self._overflow_level(call, now)
                if level is None:
                    # the head (a VIP or transferred call come lately) has not overflowed; the
                    # caller waiting longest may have, and must not wait behind it for nothing
                    call_id, call = self._head_call(skill, self._by_age)
                    key = (call.klass, call.queued_at)
                    level = self._overflow_level(call, now)
                    if best is not None and key >= best[0]:
                        continue
                if level is not None:
                    agent = self._head_agent(GENERAL, level)
                    via = f"overflow to {GENERAL} level>={level}"
            if agent is not None:
                best = (key, call_id, call, agent, via)
        if best is None:
            return None
        _, call_id, call, (agent_id, level, since), via = best
        reason = ""
        if explain:
            others = max(0, self.idle_agents(call.skill if not via.startswith("overflow") else GENERAL) - 1)
            klass = {TRANSFERRED: "transferred, ", VIP: "VIP, ", NORMAL: ""}[call.klass]
            reason = (f"agent {agent_id}: skill {call.skill if via == call.skill else via} level {level}, "
                      f"idle {now - since:.0f} s; {others} others eligible; call {klass}waited {now - call.queued_at:.0f} s")
        return Decision(call_id, agent_id, reason)

    def commit(self, decision: Decision) -> None:
        """The decision was carried out: the call leaves the queue (its first queued time is
        kept, should it come back unanswered), the agent is reserved."""
        self.calls[decision.call_id].waiting = False
        self.agent_busy(decision.agent_id)

    def decide_all(self, now: float) -> list[Decision]:
        decisions = []
        while (decision := self.next_decision(now)) is not None:
            self.commit(decision)
            decisions.append(decision)
        return decisions
