"""Deployments for the versions already in production when serving was added (blue slot, live)."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def forwards(apps: Any, schema_editor: Any) -> None:
    ModelVersion = apps.get_model("registry", "ModelVersion")
    Deployment = apps.get_model("serving", "Deployment")
    for version in ModelVersion.objects.filter(stage="production"):
        Deployment.objects.get_or_create(
            name=version.name,
            defaults={"blue": version, "live_slot": "blue", "generation": 1,
                      "switched_at": version.stage_changed_at},
        )  # fmt: skip


class Migration(migrations.Migration):
    dependencies = [
        ("serving", "0001_initial"),
        ("registry", "0003_modelversion_reference_stats_evaluation_gatecheck"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
