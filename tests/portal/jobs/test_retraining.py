"""Continuous training's triggers: a new training data set version, reviewed tips, the schedule.

The jobs are only queued here (their callbacks are not run): what is checked
is which trigger queues what, with what parameters, and that one retraining
at a time runs. tests/portal/test_mlops_loop.py runs a triggered job for real.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django_q.models import Schedule

from portal.accounts.models import User
from portal.datasets.services import create_dataset_from_folder
from portal.jobs import retraining
from portal.jobs.models import Job, Trigger
from portal.jobs.schedules import SCHEDULES, ensure_schedules
from portal.registry.models import ModelVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def training(settings: Any, operator: User, plates_folder: Path) -> Any:
    settings.VISIONKIT_TRAINING_DATASET = "training"
    settings.VISIONKIT_RETRAIN_PARAMETERS = json.dumps({"epochs": 2, "fine_tune": True})
    version, _ = create_dataset_from_folder(folder=plates_folder, name="training", user=operator)
    return version


def test_a_new_training_data_set_version_queues_one_fine_tuning_run(
    production_model: ModelVersion, operator: User, plates_folder: Path, settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    settings.VISIONKIT_TRAINING_DATASET = "training"
    settings.VISIONKIT_RETRAIN_PARAMETERS = json.dumps({"epochs": 2, "fine_tune": True})
    with django_capture_on_commit_callbacks() as callbacks:
        version, _ = create_dataset_from_folder(folder=plates_folder, name="training",
                                                user=operator)  # fmt: skip
    callbacks[0]()  # the trigger, as the commit would run it (the job itself is not run)
    job = Job.objects.get()
    assert (job.kind, job.trigger, job.dataset) == ("train", Trigger.DATASET, version)
    assert job.parameters == {"epochs": 2, "fine_tune_from": production_model.pk}
    assert job.created_by is None
    assert version.version[:12] in job.reason
    # a second trigger while it is queued is skipped, not doubled
    assert retraining.retrain(trigger=Trigger.SCHEDULE, reason="weekly") is None
    assert Job.objects.count() == 1


def test_other_data_sets_and_switched_off_triggers_queue_nothing(
    production_model: ModelVersion, operator: User, plates_folder: Path, settings: Any
) -> None:
    settings.VISIONKIT_TRAINING_DATASET = "training"
    version, _ = create_dataset_from_folder(folder=plates_folder, name="holdout", user=operator)
    assert retraining.on_dataset(version) is None
    settings.VISIONKIT_RETRAIN_ON_DATASET = False
    version.name = "training"
    assert retraining.on_dataset(version) is None
    assert retraining.weekly() is None  # no data set called "training" is stored
    assert not Job.objects.exists()


def test_enough_reviewed_tips_trigger_retraining(
    production_model: ModelVersion, training: Any, operator: User, settings: Any
) -> None:
    from portal.predictions.models import Prediction
    from portal.predictions.reviews import save_review

    settings.VISIONKIT_RETRAIN_REVIEWED_TIPS = 2
    prediction = Prediction.objects.create(
        model_version=production_model, image_name="p.png", image="x", prefix="p", width=100,
        height=100, contract={"plants": [
            {"plant": 1, "tip": {"x": 10, "y": 10, "confidence": 0.9}},
            {"plant": 2, "tip": {"x": 50, "y": 50, "confidence": 0.9}},
        ], "dish": None},
    )  # fmt: skip
    assert retraining.on_review() is None
    save_review(prediction=prediction, entries=[{"plant": 1, "verdict": "accepted"}], base=0,
                user=operator)  # fmt: skip
    assert retraining.reviewed_since_last() == 1
    assert retraining.on_review() is None
    both = [{"plant": 1, "verdict": "accepted"}, {"plant": 2, "verdict": "accepted"}]
    save_review(prediction=prediction, entries=both, base=1, user=operator)
    job = retraining.on_review()
    assert job is not None
    assert job.trigger == Trigger.REVIEWS
    assert "3 tips reviewed" in job.reason
    assert retraining.policy()["reviewed_since_last"] == 0


def test_schedules_are_made_once(db: None) -> None:
    assert ensure_schedules() == list(SCHEDULES)
    assert ensure_schedules() == []
    weekly = Schedule.objects.get(name="visionkit-weekly-retraining")
    assert (weekly.func, weekly.schedule_type) == ("portal.jobs.retraining.weekly", "W")
    assert Schedule.objects.get(name="visionkit-monitoring-checks").schedule_type == "H"


def test_bad_retraining_parameters_are_named(settings: Any, training: Any) -> None:
    from django.core.exceptions import ImproperlyConfigured

    settings.VISIONKIT_RETRAIN_PARAMETERS = "{epochs: 2"
    with pytest.raises(ImproperlyConfigured, match="not JSON"):
        retraining.retrain(trigger=Trigger.SCHEDULE, reason="weekly")
