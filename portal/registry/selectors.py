"""Reads of the registry."""

from __future__ import annotations

from django.db.models import QuerySet

from portal.registry.models import ModelVersion, Stage, StageChange

__all__ = ["audit_trail", "find", "model_versions", "production_version"]


def model_versions() -> QuerySet[ModelVersion]:
    """Every registered version, with who registered it."""
    return ModelVersion.objects.select_related("registered_by")


def production_version(name: str) -> ModelVersion | None:
    """The version of ``name`` in production, if any."""
    return model_versions().filter(name=name, stage=Stage.PRODUCTION).first()


def audit_trail(version: ModelVersion) -> QuerySet[StageChange]:
    """The version's stage changes, newest first, with who made them."""
    return StageChange.objects.filter(model_version=version).select_related("changed_by")


def find(ref: str) -> ModelVersion | None:
    """A version by id, ``name:version``, or ``name`` (its production version).

    Commands and scripts name models this way: ``7``, ``root-unet:3``, ``root-unet``.
    """
    if ref.isdigit():
        return model_versions().filter(pk=int(ref)).first()
    name, sep, version = ref.partition(":")
    if sep:
        return model_versions().filter(name=name, version=version).first()
    return production_version(ref)
