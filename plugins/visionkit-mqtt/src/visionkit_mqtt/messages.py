"""What the ``mqtt`` adapter publishes for one prediction: topics and JSON payloads.

Per image, in this order (``<stem>`` is the image name without its
extension, as in the json adapter's ``<stem>.json``):

``<prefix>/predictions/<stem>``
    the prediction-contract JSON, the object the json adapter writes to
    ``<stem>.json`` (:meth:`~visionkit.prediction.Prediction.to_dict`), on one
    line. Its ``masks`` object names mask files only where a file adapter set
    them; the masks themselves are never sent.
``<prefix>/tips/<stem>/<plant>``
    one message per *accepted* tip, that is a plant whose tip was found with
    a confidence of at least the threshold and mapped to robot coordinates::

        {"image": "plate_001.png", "plant": 1, "confidence": 0.88,
         "frame": "ot2", "x": 0.1634, "y": 0.1012, "z": 0.057,
         "pixel": {"x": 812.0, "y": 1930.5},
         "model": {"name": "root-unet", "version": "3", "sha256": "..."}}

    ``x``, ``y``, ``z`` are metres in the robot frame ``frame``; ``pixel`` is
    the tip in the input image. Every number is the one in the contract JSON,
    rounded the same way. Plants left out (no tip, low confidence, no robot
    point) are in the prediction message, with their reason.

The prediction comes first, so a robot that sees a tip can already fetch the
whole plate's context.

With ``clear_rejected`` (the adapter sets it when it publishes retained
messages) every plant whose tip is *not* accepted also gets an empty message
on its tip topic: MQTT's way of deleting a retained message, so a tip kept by
the broker from an earlier run of the same image (another model, a higher
threshold) cannot reach a robot that connects later. Subscribers skip empty
payloads. A character MQTT forbids in a topic name (``+``, ``#``,
``/`` and NUL) is replaced by ``_`` in the stem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from visionkit.exceptions import AdapterError
from visionkit.prediction import Prediction

__all__ = ["Message", "accepted_tips", "prediction_messages", "topic_level"]

_FORBIDDEN = str.maketrans({c: "_" for c in "+#/\0"})


@dataclass(frozen=True)
class Message:
    """One MQTT message: its topic, its UTF-8 JSON payload, and the object it encodes."""

    topic: str
    payload: bytes
    data: dict[str, Any]


def topic_level(text: str) -> str:
    """``text`` made safe as one topic level: MQTT's wildcards, ``/`` and NUL become ``_``."""
    return text.translate(_FORBIDDEN) or "_"


def accepted_tips(prediction: Prediction, threshold: float) -> list[dict[str, Any]]:
    """The tip messages' objects: plants whose tip is at least ``threshold`` and has robot x, y, z.

    Numbers come from the contract JSON (:meth:`Prediction.to_dict`), so a
    subscriber reads exactly what ``<stem>.json`` says.
    """
    record = prediction.to_dict()
    tips = []
    for plant in record["plants"]:
        tip, robot = plant["tip"], plant["robot"]
        if tip is None or robot is None or tip["confidence"] < threshold:
            continue
        tips.append(
            {
                "image": record["image"],
                "plant": plant["plant"],
                "confidence": tip["confidence"],
                "frame": robot["frame"],
                "x": robot["x"],
                "y": robot["y"],
                "z": robot["z"],
                "pixel": {"x": tip["x"], "y": tip["y"]},
                "model": record["model"],
            }
        )
    return tips


def prediction_messages(
    prediction: Prediction, *, prefix: str, threshold: float, clear_rejected: bool = False
) -> list[Message]:
    """The messages for one prediction: the contract JSON, then one per accepted tip.

    Args:
        prediction: what to publish.
        prefix: the topic prefix, without a trailing ``/``.
        threshold: least tip confidence for a tip message.
        clear_rejected: also an empty message on the tip topic of every
            plant whose tip is not accepted (clears a retained one).

    Raises:
        AdapterError: the prediction holds NaN or infinity, which JSON cannot
            carry (nothing is published for it).
    """
    stem = topic_level(prediction.stem)
    record = prediction.to_dict()
    try:
        messages = [_json(f"{prefix}/predictions/{stem}", record)]
        tips = {tip["plant"]: tip for tip in accepted_tips(prediction, threshold)}
        messages += [_json(f"{prefix}/tips/{stem}/{n}", tip) for n, tip in tips.items()]
    except ValueError as exc:
        raise AdapterError(
            f"{prediction.image}: the prediction holds NaN or infinity ({exc}); "
            f"nothing was published over MQTT"
        ) from exc
    if clear_rejected:
        messages += [
            Message(f"{prefix}/tips/{stem}/{p.plant}", b"", {})
            for p in prediction.plants
            if p.plant not in tips
        ]
    return messages


def _json(topic: str, data: dict[str, Any]) -> Message:
    return Message(topic, json.dumps(data, allow_nan=False).encode("utf-8"), data)
