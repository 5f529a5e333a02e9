"""read_ahead and BoundedWriter: bounded, ordered, and no error lost."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from visionkit.background import BoundedWriter, read_ahead


def test_read_ahead_keeps_order_and_stays_at_most_depth_ahead() -> None:
    produced: list[int] = []

    def items() -> Iterator[int]:
        for number in range(6):
            produced.append(number)
            yield number

    reader = read_ahead(items(), depth=1)
    assert next(reader) == 0
    time.sleep(0.3)  # the producer may fill its one free place, never more
    assert len(produced) <= 3
    assert list(reader) == [1, 2, 3, 4, 5]


def test_read_ahead_raises_the_sources_error_where_it_happened() -> None:
    def items() -> Iterator[int]:
        yield 1
        raise OSError("disk gone")

    reader = read_ahead(items())
    assert next(reader) == 1
    with pytest.raises(OSError, match="disk gone"):
        next(reader)


def test_read_ahead_stops_its_thread_when_the_consumer_stops() -> None:
    def endless() -> Iterator[int]:
        number = 0
        while True:
            number += 1
            yield number

    before = threading.active_count()
    reader = read_ahead(endless(), depth=2)  # a generator: it has close()
    assert next(reader) == 1
    reader.close()  # type: ignore[attr-defined]
    assert threading.active_count() == before


def test_writer_runs_jobs_in_order_with_at_most_depth_pending() -> None:
    running: list[int] = []
    gate = threading.Event()

    def job(item: int) -> int:
        running.append(item)
        gate.wait(5)
        return item * 10

    with BoundedWriter(job, depth=2) as writer:
        assert writer.submit(1) == []
        assert writer.submit(2) == []
        started = time.perf_counter()
        threading.Timer(0.2, gate.set).start()
        finished = writer.submit(3)  # blocks until the oldest job is done
        assert time.perf_counter() - started >= 0.15
        assert finished[0] == (1, 10, None)
        rest = finished[1:] + writer.drain()
    assert [item for item, _, _ in rest] == [2, 3]
    assert running == [1, 2, 3]


def test_a_failing_job_gives_its_error_and_the_others_go_on() -> None:
    def job(item: int) -> int:
        if item == 2:
            raise OSError(f"cannot write {item}")
        return item

    with BoundedWriter(job, depth=1) as writer:
        outcomes = writer.submit(1) + writer.submit(2) + writer.submit(3) + writer.drain()
    assert [(item, result) for item, result, _ in outcomes] == [(1, 1), (2, None), (3, 3)]
    error = outcomes[1][2]
    assert isinstance(error, OSError)
    assert "cannot write 2" in str(error)


def test_depth_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        BoundedWriter(lambda item: item, depth=0)
    with pytest.raises(ValueError, match="at least 1"):
        next(read_ahead([1], depth=0))
