"""A batch split over several workers: every plate predicted exactly once, none lost to a kill.

The first tests drive the shards in this process (the database decides who
holds a plate, so duplicate deliveries and a worker that died mid-plate can be
played out exactly). The last one is the real thing: two ``manage.py qcluster``
processes on one Redis broker, one of them killed (SIGKILL to its process group)
while it predicts a plate.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portal.accounts.models import User
from portal.jobs.models import Job, Status
from portal.jobs.reaper import reap
from portal.jobs.tasks import run_job
from portal.predictions import claims
from portal.predictions.batch import SHARDED, run_chunk
from portal.predictions.models import BatchItem, ItemStatus, Prediction
from portal.predictions.services import create_batch, create_prediction
from tests.portal.cluster import redis_broker, running_cluster, wait_for
from tests.portal.predictions.conftest import png_bytes


def _plates(count: int, seed: int = 60) -> list[SimpleUploadedFile]:
    """Small synthetic dish crops (1/8 scale): fast to predict, still with five plants."""
    from visionkit.synth import SynthConfig, generate_plate

    config = SynthConfig().scaled(0.125)
    images = [generate_plate(seed, config, i).cropped().image for i in range(count)]
    return [
        SimpleUploadedFile(f"plate-{i:02d}.png", png_bytes(image), "image/png")
        for i, image in enumerate(images)
    ]


def _dead_pid() -> int:
    """The id of a process that has ended (a worker "killed" before the test looks)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _split(operator: User, files: list[SimpleUploadedFile], settings: Any, chunk: int) -> Job:
    """A batch job split into shards whose tasks are never delivered (the test delivers them)."""
    settings.VISIONKIT_BATCH_CHUNK = chunk
    job = create_batch(files=files, user=operator)  # queued on commit: never, in this test
    run_job(job.pk)
    job.refresh_from_db()
    assert (job.status, job.worker) == (Status.RUNNING, SHARDED), job.error
    return job


def _one_prediction_per_plate(job: Job) -> None:
    keys = list(Prediction.objects.filter(job=job).values_list("batch_key", flat=True))
    items = list(BatchItem.objects.filter(job=job))
    assert sorted(keys) == sorted(item.key for item in items), "a plate predicted twice or never"
    assert all(item.prediction is not None and item.prediction.batch_key == item.key
               for item in items if item.status == ItemStatus.DONE)  # fmt: skip


@pytest.mark.django_db
def test_a_shard_delivered_twice_predicts_each_plate_once_and_the_last_ends_the_job(
    operator: User, production_model: Any, settings: Any
) -> None:
    job = _split(operator, _plates(5), settings, chunk=2)
    assert sorted(BatchItem.objects.filter(job=job).values_list("chunk", flat=True)) == [
        0, 0, 1, 1, 2]  # fmt: skip

    assert run_chunk(job.pk, 1) == 5  # its own plates first, then every free one
    assert run_chunk(job.pk, 1) == 0  # the same shard again: nothing left to claim
    assert run_chunk(job.pk, 0) == 0
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error
    assert (job.progress, job.result["predicted"], job.result["failed"]) == (1.0, 5, {})
    _one_prediction_per_plate(job)
    order = list(BatchItem.objects.filter(job=job).order_by("prediction_id")
                 .values_list("chunk", flat=True))  # fmt: skip
    assert order[:2] == [1, 1], "the shard did not take its own plates first"


@pytest.mark.django_db
def test_a_plate_whose_worker_died_after_predicting_it_is_not_predicted_again(
    operator: User, production_model: Any, settings: Any
) -> None:
    files = _plates(3)
    first_plate = files[0].read()
    files[0].seek(0)
    job = _split(operator, files, settings, chunk=3)
    # A worker took the first plate, wrote its prediction and was killed before marking it.
    first = BatchItem.objects.filter(job=job).order_by("key").first()
    assert first is not None
    dead = f"{claims.worker_id().rsplit(':', 1)[0]}:{_dead_pid()}"
    BatchItem.objects.filter(pk=first.pk).update(
        status=ItemStatus.CLAIMED, worker=dead, attempts=1,
        lease_until=timezone.now() + dt.timedelta(hours=1),
    )  # fmt: skip
    create_prediction(image=first_plate, image_name=first.name, user=operator, job=job,
                      batch_key=first.key)  # fmt: skip

    assert run_chunk(job.pk, 0) == 3  # the dead worker's plate is claimed again, at once
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error
    _one_prediction_per_plate(job)
    first.refresh_from_db()
    assert (first.status, first.attempts) == (ItemStatus.DONE, 2)
    assert Prediction.objects.filter(job=job).count() == 3


@pytest.mark.django_db
def test_files_a_killed_attempt_left_half_stored_are_removed_by_the_next(
    operator: User, production_model: Any, settings: Any
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import storages

    from portal.common.storage import files_under
    from portal.predictions.services import _prefix

    job = _split(operator, _plates(2), settings, chunk=2)
    first = BatchItem.objects.filter(job=job).order_by("key").first()
    assert first is not None
    # A worker killed while storing: its input and one mask are there, no row refers to them.
    prefix = _prefix(job, first.key)
    storage = storages["default"]
    storage.save(f"{prefix}/input.png", ContentFile(b"half a plate"))
    storage.save(f"{prefix}/masks/root.png", ContentFile(b"half a mask"))

    assert run_chunk(job.pk, 0) == 2
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error
    _one_prediction_per_plate(job)
    row = Prediction.objects.get(job=job, batch_key=first.key)
    assert row.prefix == prefix
    kept = {row.image, row.overlay, *row.masks.values()}
    assert set(files_under(prefix)) == kept, "files of the killed attempt stayed in storage"
    with storage.open(row.image, "rb") as handle:
        assert handle.read() != b"half a plate"


@pytest.mark.django_db
def test_a_live_claim_is_left_alone_until_its_lease_ends(
    operator: User, production_model: Any, settings: Any
) -> None:
    job = _split(operator, _plates(2), settings, chunk=1)
    items = list(BatchItem.objects.filter(job=job).order_by("key"))
    now = timezone.now()
    BatchItem.objects.filter(pk=items[0].pk).update(  # held by a live process elsewhere
        status=ItemStatus.CLAIMED, worker="other-host:4242", lease_until=now + claims.lease()
    )
    second = claims.claim_next(job.pk, chunk=0)
    assert second is not None
    assert second.pk == items[1].pk
    assert claims.claim_next(job.pk, chunk=0) is None  # the other one is held
    later = now + claims.lease() + dt.timedelta(seconds=1)
    again = claims.claim_next(job.pk, chunk=0, now=later)
    assert again is not None
    assert (again.pk, again.attempts) == (items[0].pk, 1)


@pytest.mark.django_db
def test_a_corrupt_plate_is_named_and_the_rest_are_predicted(
    operator: User, production_model: Any, settings: Any
) -> None:
    files = [*_plates(2), SimpleUploadedFile("broken.png", b"\x89PNG broken", "image/png")]
    job = _split(operator, files, settings, chunk=2)
    run_chunk(job.pk, 0)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED
    assert list(job.result["failed"]) == ["broken.png"]
    assert job.error.startswith("1 of 3 images failed: broken.png")
    assert BatchItem.objects.get(job=job, name="broken.png").status == ItemStatus.FAILED
    assert Prediction.objects.filter(job=job).count() == 2


@pytest.mark.django_db
def test_a_batch_whose_shard_tasks_were_lost_is_queued_again_by_the_reaper(
    operator: User, production_model: Any, settings: Any
) -> None:
    job = _split(operator, _plates(2), settings, chunk=1)
    assert reap() == []  # a handed-over batch is not "a job whose worker died"
    assert Job.objects.get(pk=job.pk).status == Status.RUNNING
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    reap()  # no shard reported for an hour: queued again (run inline in the test settings)
    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, job.error
    _one_prediction_per_plate(job)


def _group(pid_text: str) -> int | None:
    try:
        return os.getpgid(int(pid_text.rsplit(":", 1)[1]))
    except (ProcessLookupError, ValueError, IndexError):
        return None


@pytest.mark.django_db(transaction=True)
def test_two_workers_share_a_batch_and_a_killed_one_loses_no_plate(
    media: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    operator: User,
    production_model: Any,
) -> None:
    url = redis_broker(monkeypatch)
    env = {"VISIONKIT_REDIS_URL": url, "VISIONKIT_BATCH_CHUNK": "2", "VISIONKIT_JOB_TRACK": "0"}
    logs = (tmp_path / "qcluster-a.log", tmp_path / "qcluster-b.log")
    files = _plates(16)
    with (
        running_cluster(media, tmp_path, monkeypatch, log_name=logs[0].name, **env) as first,
        running_cluster(media, tmp_path, monkeypatch, log_name=logs[1].name, **env) as second,
    ):
        for log in logs:  # both up before the batch, or the first may take it all alone
            wait_for(f"{log.name} to run", lambda log=log: b"running." in log.read_bytes(), 90, log)
        job = create_batch(files=files, user=operator)
        groups = {first.pid: "a", second.pid: "b"}

        def holders() -> dict[str, list[BatchItem]]:
            found: dict[str, list[BatchItem]] = {"a": [], "b": []}
            for item in BatchItem.objects.filter(job=job, status=ItemStatus.CLAIMED):
                side = groups.get(_group(item.worker) or -1)
                if side:
                    found[side].append(item)
            return found

        def both_busy() -> bool:
            held = holders()
            pending = BatchItem.objects.filter(job=job, status=ItemStatus.PENDING).count()
            return bool(held["a"] and held["b"] and pending >= 2)

        wait_for("both workers to predict a plate at once", both_busy, 60, logs[0])
        victims = [item.pk for item in holders()["a"]]
        os.killpg(first.pid, signal.SIGKILL)  # the whole cluster: sentinel, pusher, worker
        first.wait(timeout=10)
        wait_for("the batch to end", lambda: Job.objects.get(pk=job.pk).is_final, 90, logs[1])

    job.refresh_from_db()
    assert job.status == Status.SUCCEEDED, f"{job.status}: {job.error}"
    assert (job.progress, job.result["predicted"], job.result["failed"]) == (1.0, 16, {})
    items = list(BatchItem.objects.filter(job=job))
    assert [item.status for item in items] == [ItemStatus.DONE] * 16
    _one_prediction_per_plate(job)
    assert Prediction.objects.filter(job=job).count() == 16
    redone = BatchItem.objects.filter(pk__in=victims)
    assert victims, "the killed worker held no plate"
    assert all(item.attempts >= 2 for item in redone), "the killed worker's plate not redone"
