"""visionkit-mqtt: publish visionkit's predictions and root tips to an MQTT broker.

Installing this package adds the ``mqtt`` output adapter to visionkit through
the ``visionkit`` entry-point group; nothing needs configuring. Per image it
publishes the prediction-contract JSON and one message per accepted root tip
(see :mod:`visionkit_mqtt.messages`), so a robot controller subscribed to the
broker can act on a plate as soon as it is predicted.

This module stays light: importing it (which ``visionkit plugins`` does)
imports nothing but the standard library.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["__version__"]

try:
    __version__ = metadata.version("visionkit-mqtt")
except metadata.PackageNotFoundError:  # pragma: no cover - only from a bare source tree
    __version__ = "0+unknown"
