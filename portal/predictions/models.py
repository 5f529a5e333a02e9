"""Predictions made through the portal, each with the files and numbers that explain it.

A :class:`Prediction` keeps the input image, the prediction contract of
``DESIGN.md`` as the library returned it, the masks and overlay it wrote,
statistics of the input (for drift monitoring) and the model version that
made it. Files are in the portal's file storage; the row holds their names.
The Hades file-name fields are copied into columns so lists can filter by
experiment, plate, condition and replicate.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["BatchItem", "ItemStatus", "Prediction", "Review", "Source", "TipLabel", "Verdict"]


class Source(models.TextChoices):
    """How the prediction was asked for."""

    API = "api", "API"
    PAGE = "page", "page"
    BATCH = "batch", "batch job"
    COMMAND = "command", "manage.py predict"
    DEMO = "demo", "manage.py seed_demo"


class Prediction(models.Model):
    """One image predicted by one model version."""

    model_version = models.ForeignKey(
        "registry.ModelVersion", null=True, blank=True, on_delete=models.PROTECT,
        related_name="predictions",
    )  # fmt: skip
    job = models.ForeignKey(
        "jobs.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="predictions"
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.API)
    station = models.CharField(
        max_length=100, blank=True, db_index=True,
        help_text="the camera or robot station that sent it (VISIONKIT_STATION_MODELS)",
    )  # fmt: skip
    served_as = models.CharField(
        max_length=20,
        blank=True,
        help_text="how its model was chosen: named, station, live, canary",
    )
    image_name = models.CharField(max_length=255, help_text="the file name as uploaded")
    image = models.CharField(max_length=400, help_text="the input's name in file storage")
    prefix = models.CharField(max_length=300, help_text="storage prefix of this prediction's files")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    contract = models.JSONField(help_text="the prediction contract (DESIGN.md)")
    masks = models.JSONField(default=dict, blank=True, help_text="class -> mask name in storage")
    overlay = models.CharField(max_length=400, blank=True)
    input_stats = models.JSONField(default=dict, blank=True, help_text="for drift monitoring")
    n_plants = models.PositiveIntegerField(default=0)
    n_tips = models.PositiveIntegerField(default=0, help_text="plants with a tip found")
    confidence = models.FloatField(null=True, blank=True, help_text="the image's confidence")
    experiment = models.CharField(max_length=100, blank=True, db_index=True)
    plate = models.CharField(max_length=20, blank=True, db_index=True)
    condition = models.CharField(max_length=100, blank=True)
    replicate = models.CharField(max_length=20, blank=True)
    imaged_on = models.DateField(null=True, blank=True, help_text="the date in the Hades name")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    batch_key = models.CharField(
        max_length=400, blank=True, default="",
        help_text="the batch file it was made from: one prediction per (job, batch_key)",
    )  # fmt: skip

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["job", "batch_key"],
                condition=~models.Q(batch_key=""),
                name="one_prediction_per_batch_file",
            )
        ]

    @property
    def mask_classes(self) -> list[str]:
        """The classes with a stored mask, in the Hades convention's order (root, shoot, seed...).

        JSON columns do not keep key order on every database (PostgreSQL's jsonb sorts them).
        """
        from visionkit.data.convention import CLASSES

        rank = {name: i for i, name in enumerate(CLASSES)}
        return sorted(self.masks, key=lambda name: (rank.get(name, len(rank)), name))

    def __str__(self) -> str:
        return f"{self.image_name} ({self.n_tips}/{self.n_plants} tips)"


class Verdict(models.TextChoices):
    """What a reviewer said about one plant's tip."""

    ACCEPTED = "accepted", "accepted"
    REJECTED = "rejected", "rejected"
    MOVED = "moved", "moved"
    ADDED = "added", "added (missed by the model)"


class Review(models.Model):
    """One saved review of a prediction: the targets the robot uses, beside the model's answer.

    Reviews never change the prediction; each save is a new row with the next
    ``number``, so the history stays and the latest one holds. A save names the
    number it started from, and is refused when another review landed since.
    """

    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="reviews")
    number = models.PositiveIntegerField(help_text="1 for the first review, then 2, ...")
    plants = models.JSONField(help_text="per plant: plant, verdict, tip {x, y} or null")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["prediction", "number"], name="one_review_per_number")
        ]

    def __str__(self) -> str:
        return f"review {self.number} of prediction {self.prediction_id}"


class TipLabel(models.Model):
    """A tip a person checked: a label for retraining and for measuring live accuracy."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="labels")
    prediction = models.ForeignKey(Prediction, on_delete=models.CASCADE, related_name="tip_labels")
    plant = models.PositiveIntegerField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    x = models.FloatField(null=True, blank=True, help_text="the tip in input pixels (null: none)")
    y = models.FloatField(null=True, blank=True)
    predicted_x = models.FloatField(null=True, blank=True, help_text="the model's tip, if any")
    predicted_y = models.FloatField(null=True, blank=True)
    predicted_confidence = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["prediction", "plant"]

    def __str__(self) -> str:
        return f"plant {self.plant} of prediction {self.prediction_id}: {self.verdict}"


class ItemStatus(models.TextChoices):
    """Where one plate of a sharded batch stands."""

    PENDING = "pending", "pending"
    CLAIMED = "claimed", "claimed by a worker"
    DONE = "done", "done"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


class BatchItem(models.Model):
    """One plate of a batch-prediction job, and which worker holds it (``predictions.claims``).

    A worker claims a plate with a conditional UPDATE (pending, or a claim whose
    lease ran out or whose worker died); the plate's prediction is unique per
    (job, file), so a plate redone after a lost worker is never predicted twice.
    """

    job = models.ForeignKey("jobs.Job", on_delete=models.CASCADE, related_name="batch_items")
    key = models.CharField(max_length=400, help_text="the file's name in storage")
    name = models.CharField(max_length=255, help_text="the file name as uploaded")
    chunk = models.PositiveIntegerField(help_text="the shard (django-q2 task) it was queued in")
    status = models.CharField(max_length=20, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid holding the claim")
    lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0, help_text="claims so far")
    error = models.TextField(blank=True)
    prediction = models.ForeignKey(
        Prediction, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["job", "key"]
        constraints = [
            models.UniqueConstraint(fields=["job", "key"], name="one_item_per_batch_file")
        ]
        indexes = [models.Index(fields=["job", "status"], name="batch_items_job_status")]

    def __str__(self) -> str:
        return f"{self.name} of job {self.job_id} ({self.status})"
