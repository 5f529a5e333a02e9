"""Reads of the datasets app."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.datasets.models import DatasetVersion

__all__ = ["datasets", "find"]


def datasets() -> QuerySet[DatasetVersion]:
    """Every data set version, newest first, with who uploaded it."""
    return DatasetVersion.objects.select_related("created_by")


def find(ref: str) -> DatasetVersion | None:
    """A version by id, full version hash or a unique prefix of it (commands take any)."""
    if ref.isdigit():
        found = datasets().filter(pk=int(ref)).first()
        if found is not None:
            return found
    matches = list(datasets().filter(version__startswith=ref)[:2])
    return matches[0] if len(matches) == 1 else None
