"""Work beside the main thread: reading the next frame ahead, writing outputs behind.

A plate run spends most of a frame in ONNX Runtime and the rest decoding the
next PNG, upsampling masks and encoding PNGs. Decoders, encoders, OpenCV and
NumPy release the GIL, so that work can run while the main thread segments
the next frame; both helpers here are bounded, so memory stays at a few
frames whatever the run's length:

- :func:`read_ahead` iterates a source in a thread, at most ``depth`` items
  ahead of the consumer; an exception raised by the source reaches the
  consumer at the item where it happened.
- :class:`BoundedWriter` runs jobs in one thread, in the order they were
  given, with at most ``depth`` waiting or running; the caller collects each
  job's outcome (its exception included) in order, so no error is lost.
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

__all__ = ["BoundedWriter", "read_ahead"]

T = TypeVar("T")
R = TypeVar("R")

_DONE = object()


class _Raised:
    """An exception the source raised, carried to the consumer."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterable[T], depth: int = 1) -> Iterator[T]:
    """``items``, produced in a background thread at most ``depth`` ahead of the caller.

    The producer stops when the caller stops iterating (``close()`` or the
    generator being collected), after finishing the item it is reading.

    Raises:
        ValueError: ``depth < 1``.
        Exception: whatever iterating ``items`` raised, where it raised it.
    """
    if depth < 1:
        raise ValueError(f"depth must be at least 1, got {depth}")
    box: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            put(_Raised(exc))
            return
        put(_DONE)

    worker = threading.Thread(target=produce, name="visionkit-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item = box.get()
            if item is _DONE:
                return
            if isinstance(item, _Raised):
                raise item.error
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        worker.join()


class BoundedWriter(Generic[T, R]):
    """Run ``job(item)`` in one background thread, in order, at most ``depth`` at a time.

    :meth:`submit` blocks while ``depth`` jobs wait or run, and returns the
    outcomes of those that finished meanwhile, oldest first; :meth:`drain`
    waits for the rest. Each outcome is ``(item, result, error)``: a job that
    raised gives its exception as ``error`` (never swallowed, never lost).
    Use it as a context manager: leaving waits for every job, so no file is
    left being written when the run ends.
    """

    def __init__(self, job: Callable[[T], R], depth: int = 2) -> None:
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        self.job = job
        self.depth = depth
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="visionkit-writer")
        self._pending: deque[tuple[T, Future[R]]] = deque()

    def submit(self, item: T) -> list[tuple[T, R | None, BaseException | None]]:
        """Queue ``job(item)``; the outcomes of jobs that had to finish to make room."""
        finished = []
        while len(self._pending) >= self.depth:
            finished.append(self._collect())
        finished.extend(self._ready())
        self._pending.append((item, self._pool.submit(self.job, item)))
        return finished

    def drain(self) -> list[tuple[T, R | None, BaseException | None]]:
        """Wait for every queued job; their outcomes, oldest first."""
        return [self._collect() for _ in range(len(self._pending))]

    def _ready(self) -> list[tuple[T, R | None, BaseException | None]]:
        done = []
        while self._pending and self._pending[0][1].done():
            done.append(self._collect())
        return done

    def _collect(self) -> tuple[T, R | None, BaseException | None]:
        item, future = self._pending.popleft()
        error = future.exception()
        return item, (None if error is not None else future.result()), error

    def close(self) -> None:
        """Wait for every job and stop the thread (outcomes not collected are dropped)."""
        self._pool.shutdown(wait=True)
        self._pending.clear()

    def __enter__(self) -> BoundedWriter[T, R]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
