"""Data set versions: a zip of labelled plates, checked and stored once, named by its content.

A version's name is the manifest hash of its files
(:func:`visionkit.data.manifest.data_version`), the same string ``visionkit
data manifest`` prints and a training run records, so a model's lineage
points at exactly the files it was trained on. The files live in the portal's
file storage under :attr:`DatasetVersion.prefix`; the row holds the manifest.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

__all__ = ["DatasetVersion"]


class DatasetVersion(models.Model):
    """One checked data set: its manifest, where its files are, and who uploaded it."""

    version = models.CharField(
        max_length=64, unique=True, help_text="manifest hash of the files (visionkit data version)"
    )
    name = models.CharField(max_length=200, help_text="a label for people, e.g. the zip's name")
    description = models.TextField(blank=True)
    prefix = models.CharField(
        max_length=300, help_text="the files' prefix in the portal's file storage"
    )
    manifest = models.JSONField(default=dict, help_text="visionkit's manifest.json of the files")
    n_images = models.PositiveIntegerField(default=0)
    n_masks = models.PositiveIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True, help_text="what the check noted")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.version[:12]})"
