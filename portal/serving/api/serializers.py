"""Serializers of the serving API: deployments, their audit trail, traffic and comparisons."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from portal.serving.models import Deployment, DeploymentEvent, Mode

__all__ = ["DeploymentEventSerializer", "DeploymentSerializer", "TrafficSerializer"]


class DeploymentEventSerializer(serializers.ModelSerializer[DeploymentEvent]):
    """One switch, refused switch or traffic change: who, when, why, with the smoke evidence."""

    by = serializers.CharField(source="by.username", default=None)
    version = serializers.CharField(source="model_version.version", default=None)

    class Meta:
        model = DeploymentEvent
        fields = ["action", "model_version", "version", "slot", "generation", "smoke", "detail",
                  "reason", "by", "at"]  # fmt: skip


class DeploymentSerializer(serializers.ModelSerializer[Deployment]):
    """A model name's slots, the live one, the generation counter and the challenger."""

    blue_version = serializers.CharField(source="blue.version", default=None)
    green_version = serializers.CharField(source="green.version", default=None)
    challenger_version = serializers.CharField(source="challenger.version", default=None)
    comparisons = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta:
        model = Deployment
        fields = ["name", "blue", "blue_version", "green", "green_version", "live_slot",
                  "generation", "switched_at", "challenger", "challenger_version", "mode",
                  "share", "comparisons", "events"]  # fmt: skip

    def get_comparisons(self, deployment: Deployment) -> dict[str, Any]:
        """Tip agreement and median latencies of the current challenger's comparisons."""
        from portal.serving.comparisons import summary

        return summary(deployment, deployment.challenger)

    def get_events(self, deployment: Deployment) -> list[dict[str, Any]]:
        """The latest 20 events of the audit trail."""
        rows = deployment.events.select_related("by", "model_version")[:20]
        return list(DeploymentEventSerializer(rows, many=True).data)


class TrafficSerializer(serializers.Serializer[Any]):
    """``{mode, share, version?, reason}``: a staging version's canary or shadow share."""

    mode = serializers.ChoiceField(choices=Mode.choices)
    share = serializers.FloatField(min_value=0.0, max_value=1.0, default=0.0)
    version = serializers.IntegerField(required=False, help_text="the staging version's id")
    reason = serializers.CharField(max_length=2000)
