"""Turns at the interpreter for exec threads, so busy pod commands cannot crowd out the
sandbox's API server and DNS server.

Every exec runs on a thread of its own, and all threads of the process share one GIL.
A waiting exec (sleep, a socket) costs nothing, but each busy one (a shell loop) asks for
the GIL every 5 ms switch interval; measured with 8 busy execs at once, a GET /version
took up to 1.04 s and a DNS answer 0.57 s. So at most `SLOTS` execs interpret at once,
each for a SLICE at a time, and they take turns in arrival order (a FIFO, so a newly
arrived `echo` waits behind at most one slice per exec ahead of it, never behind a whole
busy exec). A thread gives its turn up while it waits (`waiting()`), as `sleep` does.
"""
from __future__ import annotations

import collections
import contextlib
import threading
import time

SLOTS = 2
SLICE = 0.02            # seconds an exec interprets before letting a waiting one in


class Turns:
    """A fair (first come, first served) counting lock of `slots` places."""

    def __init__(self, slots: int = SLOTS) -> None:
        self.slots = slots
        self.active = 0
        self._queue: collections.deque = collections.deque()
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            me = object()
            self._queue.append(me)
            while self._queue[0] is not me or self.active >= self.slots:
                self._cond.wait()
            self._queue.popleft()
            self.active += 1
            self._cond.notify_all()             # the next in line may fit too

    def release(self) -> None:
        with self._cond:
            self.active -= 1
            self._cond.notify_all()

    @property
    def waiting(self) -> int:
        return len(self._queue)


TURNS = Turns()


class Turn:
    """One exec thread's place at the interpreter (see the module's docstring)."""

    def __init__(self, turns: Turns = TURNS) -> None:
        self.turns = turns
        self.since = 0.0
        self.held = False

    def __enter__(self) -> "Turn":
        self.turns.acquire()
        self.held, self.since = True, time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        if self.held:
            self.held = False
            self.turns.release()

    def tick(self) -> None:
        """Called often while interpreting: past a slice, and if others wait, requeue."""
        if (self.held and self.turns.waiting
                and time.monotonic() - self.since >= SLICE):
            self.turns.release()
            self.turns.acquire()
            self.since = time.monotonic()

    @contextlib.contextmanager
    def waiting(self):
        """Give the turn up while this thread waits (sleeps) without interpreting."""
        if not self.held:
            yield
            return
        self.held = False
        self.turns.release()
        try:
            yield
        finally:
            self.turns.acquire()
            self.held, self.since = True, time.monotonic()
