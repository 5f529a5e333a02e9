"""The model metrics the pages show, with their labels and formats, defined once.

The dashboard shows the production version's headline metrics, the registry
lists compare versions column by column; both read :data:`HEADLINE`.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["HEADLINE", "formatted", "headline"]

#: Key in ``ModelVersion.metrics`` -> (label, format), in the order the pages show them.
HEADLINE: dict[str, tuple[str, str]] = {
    "root_f1": ("root F1", "{:.3f}"),
    "val_root_f1": ("root F1 (validation)", "{:.3f}"),
    "tips_within_1mm": ("tips within 1 mm", "{:.1%}"),
    "length_smape": ("length sMAPE", "{:.1%}"),
    "ece": ("ECE", "{:.3f}"),
    "val_root_iou": ("root IoU (validation)", "{:.3f}"),
}


def formatted(values: Mapping[str, object], key: str) -> str | None:
    """``values[key]`` as its page shows it; ``None`` when it is missing or not a number."""
    value = values.get(key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return HEADLINE[key][1].format(value)


def headline(values: Mapping[str, object]) -> list[tuple[str, str]]:
    """``(label, text)`` of every headline metric ``values`` holds."""
    return [(HEADLINE[key][0], text) for key in HEADLINE
            if (text := formatted(values, key)) is not None]  # fmt: skip
