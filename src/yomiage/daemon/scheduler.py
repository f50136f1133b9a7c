"""Who speaks next: per-session queues, priority classes and the fair/fifo/latest policies.

Pure logic, no threads and no clock of its own (callers pass ``now``); the server holds
the one lock around it. One voice speaks at a time, so the scheduler hands out one item
(a sentence) at a time::

    sched = Scheduler("fair")
    sched.push(Item("s1", "reply", reply="m1", payload=sentence))
    item = sched.next()          # the item to speak now, or None
    ...
    sched.done(item)             # spoken (or cut): the next call may change speaker

Rules (docs/daemon.md, *Order*): the highest priority class with anything queued goes
first (alert > reply > tool); within it,

* ``fair``: a session that started a reply keeps the voice until that reply's queued
  sentences are spoken; then the waiting session that has been heard least goes next
  (fair queueing on seconds of speech, whole replies; with ``unit="sentence"``, one
  sentence at a time). A session that was silent joins at the level of the least heard
  waiting session, so it gets no credit for its silence;
* ``fifo``: the oldest item, whatever its session;
* ``latest``: the session whose newest item arrived last goes first (preempting the
  others between sentences); within a session, in order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

PRIORITY_RANK = {"alert": 0, "reply": 1, "tool": 2}
POLICIES = ("fair", "fifo", "latest")
UNITS = ("reply", "sentence")
"""What ``fair`` hands out in turn: whole replies (the default) or single sentences."""


@dataclass(eq=False)
class Item:
    """One thing to speak, queued for a session."""

    session: str
    priority: str = "reply"
    reply: Hashable = None
    """Which reply it belongs to (sentences of one reply stay together under ``fair``)."""
    payload: Any = None
    seq: int = field(default=-1)
    """Arrival order, set by :meth:`Scheduler.push`."""

    @property
    def rank(self) -> int:
        """0 for alerts, 1 for replies, 2 for tool briefs."""
        return PRIORITY_RANK.get(self.priority, 1)


class Scheduler:
    """Per-session queues and the choice of the next item (see the module docstring)."""

    def __init__(self, policy: str = "fair", unit: str = "reply") -> None:
        if policy not in POLICIES:
            raise ValueError(f"policy {policy!r} is not one of {', '.join(POLICIES)}")
        if unit not in UNITS:
            raise ValueError(f"unit {unit!r} is not one of {', '.join(UNITS)}")
        self.policy = policy
        self.unit = unit
        self._queues: dict[str, deque[Item]] = {}
        self._seq = 0
        self._heard: dict[str, float] = {}  # session → seconds of its speech heard (fair)
        self._holder: tuple[str, Hashable] | None = None  # (session, reply) keeping the voice
        self.current: Item | None = None

    # ------------------------------------------------------------------ queues
    def push(self, item: Item) -> None:
        """Queue ``item`` at the end of its session's queue."""
        item.seq = self._seq
        self._seq += 1
        q = self._queues.setdefault(item.session, deque())
        if not q and not (self.current is not None and self.current.session == item.session):
            self._join(item.session)
        q.append(item)

    def _join(self, session: str) -> None:
        """A session with nothing waiting gets something: it starts level with the least
        heard of the sessions already waiting (no credit for having been silent)."""
        waiting = [self._heard.get(s, 0.0) for s, q in self._queues.items() if q and s != session]
        if waiting:
            self._heard[session] = max(self._heard.get(session, 0.0), min(waiting))

    def push_front(self, item: Item) -> None:
        """Put ``item`` back at the head of its session's queue (it was cut before it
        was heard: pause, or another session's interrupt); it keeps its arrival order."""
        self._queues.setdefault(item.session, deque()).appendleft(item)

    def drop(self, session: str | None = None) -> list[Item]:
        """Remove and return the queued items of ``session`` (None: of every session)."""
        if session is None:
            out = [i for q in self._queues.values() for i in q]
            self._queues.clear()
            self._holder = None
            return out
        q = self._queues.pop(session, None)
        if self._holder is not None and self._holder[0] == session:
            self._holder = None
        return list(q) if q else []

    def forget(self, session: str) -> list[Item]:
        """Drop ``session``'s items and its place in the rotation."""
        out = self.drop(session)
        self._heard.pop(session, None)
        return out

    def replace(self, session: str, items: list[Item]) -> None:
        """Make ``items`` (already queued before, or new) ``session``'s queue, keeping
        their arrival order and the session's hold on the voice (lag control)."""
        for it in items:
            if it.seq < 0:
                it.seq = self._seq
                self._seq += 1
        self._queues[session] = deque(items)

    def trim(self, session: str, count: int) -> list[Item]:
        """Remove the ``count`` oldest queued items of ``session`` (lag control)."""
        q = self._queues.get(session)
        out: list[Item] = []
        while q and len(out) < count:
            out.append(q.popleft())
        return out

    def queued(self, session: str | None = None) -> int:
        """Items waiting (not the one speaking) for ``session`` or in all."""
        if session is None:
            return sum(len(q) for q in self._queues.values())
        q = self._queues.get(session)
        return len(q) if q else 0

    def items(self, session: str) -> list[Item]:
        """A copy of ``session``'s queue, oldest first."""
        return list(self._queues.get(session, ()))

    def sessions(self) -> list[str]:
        """Sessions with anything queued."""
        return [s for s, q in self._queues.items() if q]

    # ----------------------------------------------------------------- choice
    def next(self) -> Item | None:
        """Take the item to speak now (None when nothing is queued)."""
        heads = {s: q[0] for s, q in self._queues.items() if q}
        if not heads:
            return None
        best_rank = min(min(i.rank for i in q) for q in self._queues.values() if q)
        # A session's items of the best class, in order (a lower class never blocks a
        # higher one queued behind it in the same session).
        cands = {s: next(i for i in q if i.rank == best_rank)
                 for s, q in self._queues.items() if q and any(i.rank == best_rank for i in q)}
        if self.policy == "fifo":
            session = min(cands, key=lambda s: cands[s].seq)
        elif self.policy == "latest":
            session = max(cands, key=lambda s: self._queues[s][-1].seq)
        else:
            session = self._fair_choice(cands)
        item = cands[session]
        self._queues[session].remove(item)
        self._holder = (session, item.reply)
        self.current = item
        return item

    def _fair_choice(self, cands: dict[str, Item]) -> str:
        if self._holder is not None and self.unit == "reply":
            session, reply = self._holder
            head = cands.get(session)
            if head is not None and head.reply == reply:
                return session  # the reply it started goes on
        # the least heard first; ties by age
        return min(cands, key=lambda s: (self._heard.get(s, 0.0), cands[s].seq))

    def done(self, item: Item, seconds: float = 0.0) -> None:
        """``item`` was spoken (``seconds`` of it heard) or cut."""
        self._heard[item.session] = self._heard.get(item.session, 0.0) + seconds
        if self.current is item:
            self.current = None

    def heard(self, session: str) -> float:
        """Seconds of ``session``'s speech counted by the fair policy."""
        return self._heard.get(session, 0.0)
