"""``python app.py --workers N``: N API processes on one port, and their supervisor.

The supervisor (the process the operator started) opens no store and serves
nothing: it starts N child processes, fresh interpreters (``spawn``: nothing
of the parent's is shared but the environment, so no store connection crosses
a ``fork``), each with its own event loop, stores and snowflake worker id; each
listens on the same port with ``SO_REUSEPORT`` once its stores are open, and
the kernel spreads new connections over the listening ones.

- A child tells the supervisor it is ready (its stores open) by writing one
  byte to a pipe it inherited.
- SIGINT and SIGTERM are forwarded to every child, which stops as a single
  process does (web/shutdown.py); the supervisor exits 0 once all have exited
  0. A second signal is forwarded too: the children exit at once, status 1.
- A child that exits while nobody asked it to is started again, after a delay
  doubling from ``FIRST_BACKOFF_SECONDS`` to ``MAX_BACKOFF_SECONDS`` with each
  death in a row (forgotten once a child has served ``STABLE_SECONDS``).
- A child that dies before it is ready, when none has been ready yet (the first
  start: e.g. a store unreachable), or ``MAX_START_FAILURES`` times in a row in
  one slot, stops them all: the supervisor exits 1.

The children are in their own process group, so a terminal's Ctrl-C reaches
only the supervisor (which forwards it once); each asks the kernel for SIGTERM
should the supervisor die (``die_with_parent``).
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType

log = logging.getLogger("chirp.supervisor")

POLL_SECONDS = 0.1
FIRST_BACKOFF_SECONDS = 0.5  # also keeps a restarted worker id off its last millisecond
MAX_BACKOFF_SECONDS = 30.0
STABLE_SECONDS = 10.0
MAX_START_FAILURES = 5

# (slot index, the pipe's write end the child reports ready on) -> the child
Spawn = Callable[[int, int], "subprocess.Popen[bytes]"]


@dataclass
class Slot:
    """One of the N children: the process now in it, and its history."""

    index: int
    process: subprocess.Popen[bytes] | None = None
    ready_fd: int | None = None  # read end of the ready pipe
    ready_at: float | None = None
    deaths_in_a_row: int = 0
    start_failures_in_a_row: int = 0
    restart_at: float | None = None


class Supervisor:
    """Runs ``count`` children made by ``spawn`` until a signal, or until they keep failing."""

    def __init__(self, count: int, spawn: Spawn, name: Callable[[int], str] = str) -> None:
        self.slots = [Slot(index) for index in range(count)]
        self.spawn = spawn
        self.name = name  # a slot's name in the log ("worker 3")
        self.signals = 0
        self.giving_up = False
        self.served = False  # some child has been ready
        self.failed = False  # a child exited non-zero while stopping

    def run(self) -> int:
        previous = {
            signum: signal.signal(signum, self._forward)
            for signum in (signal.SIGINT, signal.SIGTERM)
        }
        try:
            for slot in self.slots:
                self._start(slot)
            while not self._done():
                now = time.monotonic()
                for slot in self.slots:
                    self._watch(slot, now)
                time.sleep(POLL_SECONDS)
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            for slot in self.slots:
                self._close_pipe(slot)
        if self.giving_up or self.failed or self.signals > 1:
            return 1
        return 0

    @property
    def stopping(self) -> bool:
        return self.signals > 0 or self.giving_up

    def _done(self) -> bool:
        return self.stopping and all(slot.process is None for slot in self.slots)

    def _forward(self, signum: int, _: FrameType | None) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        if self.signals == 1:
            log.info("%s: stopping %d worker(s)", name, len(self.live()))
        else:
            log.warning("%s again: the workers exit now", name)
        for process in self.live():
            process.send_signal(signum)

    def live(self) -> list[subprocess.Popen[bytes]]:
        return [s.process for s in self.slots if s.process is not None and s.process.poll() is None]

    def _start(self, slot: Slot) -> None:
        read_end, write_end = os.pipe()
        os.set_blocking(read_end, False)
        try:
            slot.process = self.spawn(slot.index, write_end)
        finally:
            os.close(write_end)  # the child holds its own copy
        slot.ready_fd, slot.ready_at, slot.restart_at = read_end, None, None
        log.info("%s started (pid %d)", self.name(slot.index), slot.process.pid)

    def _close_pipe(self, slot: Slot) -> None:
        if slot.ready_fd is not None:
            os.close(slot.ready_fd)
            slot.ready_fd = None

    def _watch(self, slot: Slot, now: float) -> None:
        if slot.ready_fd is not None and slot.ready_at is None:
            try:
                if os.read(slot.ready_fd, 16):
                    slot.ready_at, self.served = now, True
                    slot.start_failures_in_a_row = 0
                    pid = slot.process.pid if slot.process is not None else 0
                    log.info("%s ready (pid %d)", self.name(slot.index), pid)
            except BlockingIOError:
                pass
        if slot.ready_at is not None and now - slot.ready_at >= STABLE_SECONDS:
            slot.deaths_in_a_row = 0
        if slot.process is not None:
            status = slot.process.poll()
            if status is not None:
                self._exited(slot, status, now)
        elif slot.restart_at is not None and now >= slot.restart_at and not self.stopping:
            self._start(slot)

    def _exited(self, slot: Slot, status: int, now: float) -> None:
        assert slot.process is not None
        pid, was_ready = slot.process.pid, slot.ready_at is not None
        slot.process = None
        self._close_pipe(slot)
        name = self.name(slot.index)
        if self.stopping:
            if status != 0:
                self.failed = True
                log.warning("%s (pid %d) exited with status %d", name, pid, status)
            return
        how = f"exited with status {status}"
        if status < 0:
            how = f"was killed by {signal.Signals(-status).name}"
        if not was_ready:
            slot.start_failures_in_a_row += 1
            if not self.served or slot.start_failures_in_a_row >= MAX_START_FAILURES:
                tries = "" if not self.served else f" {slot.start_failures_in_a_row} times in a row"
                log.error("%s (pid %d) %s before it was ready%s: stopping", name, pid, how, tries)
                self._give_up()
                return
        slot.deaths_in_a_row += 1
        delay = min(MAX_BACKOFF_SECONDS, FIRST_BACKOFF_SECONDS * 2 ** (slot.deaths_in_a_row - 1))
        log.error("%s (pid %d) %s; starting it again in %.1f s", name, pid, how, delay)
        slot.restart_at = now + delay

    def _give_up(self) -> None:
        self.giving_up = True
        for process in self.live():
            process.send_signal(signal.SIGTERM)


def die_with_parent(parent: int) -> None:
    """In a child of the supervisor ``parent`` (Linux): SIGTERM from the kernel should the
    supervisor die, even by SIGKILL, so no worker outlives it holding the port."""
    if not sys.platform.startswith("linux"):
        return
    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # it died before prctl took effect
        os.kill(os.getpid(), signal.SIGTERM)
