"""The sandbox's worker processes: each query runs in a worker with RLIMIT_AS (`memory_mb` beyond what
the started worker holds); the parent waits deadline + slack (half a second) and kills a worker that
overruns or dies, so a verdict comes within deadline + 1 s with the kill included; the replacement is
started off the caller's path. Deadlines count from a worker's "ready": a spawned worker imports the
parent's main module again, and a program that imports torch takes seconds to start one.
The caller always gets an Outcome (a verdict), never an exception or a hang.

This module imports only the standard library: it is what `spawn` loads in every worker.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from services.critic.sandbox import (
    ERROR,
    EXHAUSTED,
    TIMEOUT,
    Limits,
    Outcome,
    open_sandboxed,
    run_query,
    stamp_elapsed,
)
from shared import defaults

READY = "ready"  # a worker's first message: started, limits set
STARTUP_SECONDS = 120.0  # how long a worker may take to start before it counts as dead


def _address_space_in_use() -> int:
    """This process's virtual memory size in bytes (0 where /proc does not say)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def _worker_main(conn: Any, memory_mb: int) -> None:
    """Worker loop: receive (db_path, sql, limits), send back an Outcome. Runs in a child process."""
    try:
        import resource

        limit = _address_space_in_use() + memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):
        pass
    # SQLite's own allocator stops well before RLIMIT_AS so most blow-ups become a clean error.
    probe = sqlite3.connect(":memory:")
    probe.execute(f"PRAGMA hard_heap_limit={memory_mb * 1024 * 1024 // 2}")
    probe.close()
    conn.send(READY)
    # Per database file, the connection and the file it opened: a snapshot swapped in under the same
    # path (`sqldistill db refresh`) is a new file, and a new connection reads it.
    connections: dict[str, tuple[tuple[int, int], sqlite3.Connection]] = {}
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        items, limits = message  # a batch: one Outcome is sent back per item, as each finishes
        for path, sql in items:
            try:
                stat = os.stat(path)
                opened = connections.get(path)
                if opened is None or opened[0] != (stat.st_ino, stat.st_mtime_ns):
                    if opened is not None:
                        opened[1].close()
                    opened = connections[path] = ((stat.st_ino, stat.st_mtime_ns), open_sandboxed(path))
                outcome = run_query(opened[1], sql, limits)
            except MemoryError:
                outcome = Outcome(EXHAUSTED, "out of memory")
            except sqlite3.Error as exc:
                outcome = Outcome(ERROR, f"cannot open database: {exc}")
            except Exception as exc:  # noqa: BLE001 - a worker answers every item
                outcome = Outcome(ERROR, f"{type(exc).__name__}: {exc}")
            try:
                conn.send(outcome)
            except (MemoryError, ValueError, OSError):
                conn.send(Outcome(EXHAUSTED, "result could not be returned"))


class _Worker:
    def __init__(self, context: Any, memory_mb: int) -> None:
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, memory_mb), daemon=True)
        self.process.start()
        child.close()
        self.ready = False

    def wait_ready(self) -> None:
        """Block until the worker has started (the first time); EOFError if it never does."""
        if not self.ready:
            if not self.conn.poll(STARTUP_SECONDS) or self.conn.recv() != READY:
                raise EOFError("sandbox worker did not start")
            self.ready = True

    def kill(self) -> None:
        """SIGKILL now; reaping can wait (the caller's verdict must not)."""
        try:
            self.process.kill()
        finally:
            self.conn.close()

    def reap(self) -> None:
        self.process.join(timeout=5)


class SandboxPool:
    """A fixed pool of sandbox worker processes; execute() is thread-safe and never raises."""

    def __init__(
        self, workers: int = 2, memory_mb: int = defaults.QUERY_MEMORY_MB, slack_seconds: float = 0.5
    ) -> None:
        self._context = multiprocessing.get_context("spawn")
        self._memory_mb = memory_mb
        self._slack = slack_seconds
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.replaced = 0  # workers killed and replaced (overrun or death), for metrics and tests
        for _ in range(max(1, workers)):
            self._idle.put(_Worker(self._context, memory_mb))
        self.size = max(1, workers)
        # Threads that each drive one worker through a batch; made once, not per execute_many() call.
        self._dispatch = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="sandbox-dispatch")

    def execute(self, db_path: str, sql: str, limits: Limits = Limits()) -> Outcome:
        return self.execute_many([(str(db_path), sql)], limits)[0]

    def execute_many(
        self, items: list[tuple[str, str]], limits: Limits = Limits(), batch: int = 1
    ) -> list[Outcome]:
        """Run (db_path, sql) items; outcomes in input order. With batch > 1 the items are cut into
        batches sent whole to one worker each (one IPC round-trip per batch instead of per query),
        in parallel over the pool's workers."""
        if batch <= 1 or len(items) <= 1:
            return [outcome for item in items for outcome in self._run_batch([item], limits)]
        chunks = [items[i : i + batch] for i in range(0, len(items), batch)]
        if len(chunks) == 1:
            return self._run_batch(chunks[0], limits)
        results = list(self._dispatch.map(lambda chunk: self._run_batch(chunk, limits), chunks))
        return [outcome for chunk in results for outcome in chunk]

    def _run_batch(self, items: list[tuple[str, str]], limits: Limits) -> list[Outcome]:
        """One worker runs the items in order; an item that overruns or kills the worker gets its
        verdict and the rest continue on a fresh worker."""
        outcomes: list[Outcome] = []
        pending = [(str(path), sql) for path, sql in items]
        while pending:
            if self._closed:
                return outcomes + [Outcome(EXHAUSTED, "sandbox pool is shut down") for _ in pending]
            worker = self._idle.get()
            started = time.perf_counter()
            try:
                worker.wait_ready()
                started = time.perf_counter()
                worker.conn.send((pending, limits))
                while pending:
                    if not worker.conn.poll(limits.timeout_ms / 1000 + self._slack):
                        self._replace(worker)
                        outcomes.append(
                            stamp_elapsed(
                                Outcome(TIMEOUT, f"query exceeded {limits.timeout_ms} ms; worker killed"),
                                started,
                            )
                        )
                        pending.pop(0)
                        break
                    outcomes.append(worker.conn.recv())
                    pending.pop(0)
                    started = time.perf_counter()
                else:
                    self._idle.put(worker)
            except (EOFError, OSError):
                self._replace(worker)
                outcomes.append(
                    stamp_elapsed(Outcome(EXHAUSTED, "sandbox worker died (memory or resource cap)"), started)
                )
                pending.pop(0)
            except BaseException:
                self._replace(worker)
                raise
        return outcomes

    def _replace(self, worker: _Worker) -> None:
        """Kill at once; reap and start the replacement on a thread, off the verdict's path."""
        worker.kill()
        with self._lock:
            self.replaced += 1

        def respawn() -> None:
            worker.reap()
            if not self._closed:
                self._idle.put(_Worker(self._context, self._memory_mb))

        threading.Thread(target=respawn, name="sandbox-respawn", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._dispatch.shutdown(wait=False, cancel_futures=True)
        for _ in range(self.size):
            try:
                worker = self._idle.get(timeout=10)
            except queue.Empty:
                break
            try:
                worker.conn.send(None)
            except OSError:
                pass
            worker.process.join(timeout=2)
            if worker.process.is_alive():
                worker.kill()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *_exc: Any) -> None:
        self.close()
