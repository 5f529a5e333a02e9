"""Binary masks per class <-> one label map, with a fixed rule for overlaps.

A label map is one ``uint8`` image: 0 is background and class ``classes[i]``
is ``i + 1``. Hades masks overlap (a seed lies on the root start, a shoot on
the hypocotyl), so a pixel in several masks takes the class that comes first
in :data:`LABEL_PRIORITY`: ``seed > shoot > root > occluded_root``. The small,
rare classes win because they would otherwise vanish under the root, and an
occluded root is by definition behind something else. Classes not listed there
rank below all listed ones, in the order given.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from visionkit.data.convention import CLASSES

__all__ = ["LABEL_PRIORITY", "labels_to_masks", "masks_to_labels"]

#: Which class a pixel takes when masks overlap, strongest first.
LABEL_PRIORITY: tuple[str, ...] = ("seed", "shoot", "root", "occluded_root")


def _priority_order(classes: Sequence[str]) -> list[str]:
    listed = [c for c in LABEL_PRIORITY if c in classes]
    rest = [c for c in classes if c not in LABEL_PRIORITY]
    return listed + rest


def masks_to_labels(
    masks: Mapping[str, np.ndarray], classes: Sequence[str] = CLASSES
) -> np.ndarray:
    """Merge per-class binary masks into one label map (see the module docstring).

    Args:
        masks: class -> mask (any nonzero value is foreground). Classes of
            ``classes`` that are absent count as empty; classes not in
            ``classes`` are ignored.
        classes: label order: ``classes[i]`` becomes label ``i + 1``.

    Returns:
        ``uint8`` array of the masks' shape.

    Raises:
        ValueError: no mask of ``classes`` is given (the shape is unknown),
            masks differ in shape, ``classes`` repeats a name or has more than 255.
    """
    if len(set(classes)) != len(classes) or len(classes) > 255:
        raise ValueError(f"classes must be at most 255 distinct names, got {list(classes)}")
    present = [c for c in classes if c in masks]
    if not present:
        raise ValueError(
            f"no mask of the classes {list(classes)} given (got {sorted(masks)}); "
            "pass at least one so the label map's shape is known"
        )
    shape = np.shape(masks[present[0]])
    for cls in present:
        if np.shape(masks[cls]) != shape:
            raise ValueError(
                f"mask {cls!r} has shape {np.shape(masks[cls])} but {present[0]!r} has {shape}"
            )
    labels = np.zeros(shape, dtype=np.uint8)
    for cls in reversed(_priority_order(present)):
        labels[np.asarray(masks[cls]) != 0] = classes.index(cls) + 1
    return labels


def labels_to_masks(labels: np.ndarray, classes: Sequence[str] = CLASSES) -> dict[str, np.ndarray]:
    """Split a label map back into ``uint8`` 0/1 masks, one per class.

    Overlaps resolved by :func:`masks_to_labels` stay resolved: each pixel is
    in at most one mask. Labels above ``len(classes)`` are ignored.
    """
    return {cls: (labels == i + 1).astype(np.uint8) for i, cls in enumerate(classes)}
