"""OpenCV's thread pool around forked worker processes.

Forked workers (DataLoader workers, the plate preloading pool) each do one
core's worth of work; if each also runs OpenCV's pool of one thread per core,
the CPU is oversubscribed many times over and patch cutting slows severalfold.
Setting the thread count *inside* a forked child is no cure: when the parent
had already started its pool, the child inherits a pool whose threads do not
exist, and reconfiguring it can hang. So the parent drops to one thread
before it forks and restores its setting afterwards; children inherit the
setting and never start a pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["opencv_threads"]


@contextlib.contextmanager
def opencv_threads(count: int) -> Iterator[None]:
    """Run the block with OpenCV limited to ``count`` threads, then restore the setting."""
    import cv2

    previous = cv2.getNumThreads()
    cv2.setNumThreads(count)
    try:
        yield
    finally:
        cv2.setNumThreads(previous)
