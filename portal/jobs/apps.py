"""The jobs app's configuration."""

from __future__ import annotations

from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Training, evaluation and batch-prediction jobs queued through django-q2."""

    name = "portal.jobs"
    label = "jobs"
    verbose_name = "Jobs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Reap the jobs of dead workers whenever a django-q2 worker process starts."""
        from django_q.signals import post_spawn

        from portal.jobs.reaper import reap_on_spawn

        post_spawn.connect(reap_on_spawn, dispatch_uid="visionkit-reap-on-spawn")
