"""What a running job's code is handed: progress, log lines, cancellation and a scratch folder.

Each kind's runner (:mod:`portal.jobs.runners`) reports through a
:class:`JobContext`. Progress and log lines reach the job's row while the
job runs (at most every :data:`FLUSH_EVERY_S`, and at the end), so the API
and the pages see a job move; a heartbeat thread keeps writing while the
runner is busy between reports, and the reaper reads that heartbeat.
Cancellation is a flag on the row that :meth:`JobContext.check_cancelled`
reads (at most once a second) and turns into :class:`JobCancelled`.
"""

from __future__ import annotations

import collections
import logging
import shutil
import threading
import time
from pathlib import Path
from types import TracebackType

from django.conf import settings
from django.db import connection
from django.utils import timezone

from portal.jobs.models import Job, Status

__all__ = ["FLUSH_EVERY_S", "LOG_LINES", "JobCancelled", "JobContext"]

logger = logging.getLogger(__name__)

#: Lines of log kept on the row.
LOG_LINES = 200
#: Least time between two writes of progress and log to the row.
FLUSH_EVERY_S = 0.5
#: Least time between two reads of the cancel flag.
CANCEL_EVERY_S = 1.0
#: Loggers whose records become the job's log.
CAPTURED: tuple[str, ...] = ("visionkit", "portal")


class JobCancelled(Exception):  # noqa: N818 - it is an outcome, not an error
    """Raised inside a runner when the job's cancellation was asked for."""


class _Capture(logging.Handler):
    """Collects log records of the captured loggers into the context's lines."""

    def __init__(self, context: JobContext) -> None:
        super().__init__(logging.INFO)
        self.context = context
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("portal.jobs.context"):
            return
        try:
            self.context.lines.append(self.format(record))
        except Exception:  # pragma: no cover - logging must never break the job
            self.handleError(record)


class JobContext:
    """The running job's channel back to its row (see the module docstring)."""

    def __init__(self, job: Job, *, heartbeat: bool = True) -> None:
        self.job = job
        self.work_dir = Path(settings.VISIONKIT_JOB_DIR) / f"job-{job.pk}"
        shutil.rmtree(self.work_dir, ignore_errors=True)
        self.work_dir.mkdir(parents=True)
        self.lines: collections.deque[str] = collections.deque(maxlen=LOG_LINES)
        self.lines.extend(job.log_tail.splitlines())  # notes written when it was submitted
        self.fraction = 0.0
        self._flushed = 0.0
        self._checked = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._handler = _Capture(self)
        self._loggers = [logging.getLogger(name) for name in CAPTURED]
        self._levels: list[int] = []
        self._thread: threading.Thread | None = None
        if heartbeat:
            self._thread = threading.Thread(
                target=self._beat, name=f"job-{job.pk}-heartbeat", daemon=True
            )

    # -- what runners call -------------------------------------------------

    def progress(self, fraction: float, message: str | None = None) -> None:
        """Say how far the job is (0 to 1), and optionally a line for its log."""
        self.fraction = min(1.0, max(0.0, float(fraction)))
        if message:
            self.lines.append(message)
        self.flush()

    def log(self, line: str) -> None:
        """Add a line to the job's log."""
        self.lines.append(line)
        self.flush()

    def check_cancelled(self) -> None:
        """Raise :class:`JobCancelled` when cancellation was asked for (reads the row ~1/s)."""
        now = time.monotonic()
        if now - self._checked < CANCEL_EVERY_S:
            return
        self._checked = now
        if Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists():
            raise JobCancelled(f"job {self.job.pk} was cancelled")

    # -- the row -----------------------------------------------------------

    def flush(self, *, force: bool = False) -> None:
        """Write progress, log and heartbeat to the row (throttled unless ``force``)."""
        now = time.monotonic()
        if not force and now - self._flushed < FLUSH_EVERY_S:
            return
        self._flushed = now
        with self._lock:
            tail = "\n".join(self.lines)
        Job.objects.filter(pk=self.job.pk, status=Status.RUNNING).update(
            progress=self.fraction, log_tail=tail, heartbeat_at=timezone.now()
        )

    def _beat(self) -> None:
        every = float(settings.VISIONKIT_JOB_HEARTBEAT_S)
        try:
            while not self._stop.wait(every):
                try:
                    self.flush(force=True)
                except Exception:  # a missed beat is logged; the next one may succeed
                    logger.warning("job %s: heartbeat failed", self.job.pk, exc_info=True)
        finally:
            connection.close()  # this thread's own database connection

    # -- lifetime ----------------------------------------------------------

    def __enter__(self) -> JobContext:
        for target in self._loggers:
            self._levels.append(target.level)
            if target.getEffectiveLevel() > logging.INFO:
                target.setLevel(logging.INFO)
            target.addHandler(self._handler)
        if self._thread is not None:
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for target, level in zip(self._loggers, self._levels, strict=True):
            target.removeHandler(self._handler)
            target.setLevel(level)
        shutil.rmtree(self.work_dir, ignore_errors=True)

    def tail(self) -> str:
        """The log lines kept, as the row holds them."""
        return "\n".join(self.lines)
