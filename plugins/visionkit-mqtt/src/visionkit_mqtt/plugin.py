"""The plugin module named by the ``visionkit`` entry point: registers ``mqtt``.

It uses only visionkit's public plugin API (``hookimpl`` and
:class:`~visionkit.specs.AdapterSpec`) and imports the adapter (and paho-mqtt)
only when one is created, so listing plugins stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from visionkit import hookimpl
from visionkit.specs import AdapterSpec

if TYPE_CHECKING:
    from visionkit_mqtt.adapter import MqttAdapter

__all__ = ["create_mqtt_adapter", "visionkit_register_adapters"]


def create_mqtt_adapter(out_dir: str | Path | None = None, **options: Any) -> MqttAdapter:
    """Create the ``mqtt`` adapter; see :class:`visionkit_mqtt.options.MqttOptions`.

    ``out_dir`` is accepted because every adapter is created with it, and
    ignored: this adapter writes no files.
    """
    from visionkit_mqtt.adapter import MqttAdapter

    return MqttAdapter(out_dir, **options)


@hookimpl
def visionkit_register_adapters() -> list[AdapterSpec]:
    """Register the ``mqtt`` adapter."""
    return [
        AdapterSpec(
            "mqtt",
            create_mqtt_adapter,
            "Publish each prediction's JSON and its accepted root tips to an MQTT broker.",
        )
    ]
