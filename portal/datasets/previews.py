"""Previews of a stored data set: each image with its masks drawn over it, as a browser shows it.

Masks are TIFFs (browsers do not show them), so a preview is rendered
server-side: the image, downscaled to at most :data:`MAX_SIDE` pixels, with
each class's mask tinted in the colours the overlays use.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np
from django.core.files.storage import storages

from portal.common.errors import PortalError
from portal.datasets.models import DatasetVersion

__all__ = ["MAX_SIDE", "PlateEntry", "plates", "preview_png"]

#: Longest side of a preview, in pixels.
MAX_SIDE = 1024
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class PlateEntry:
    """One image of a data set and the masks stored for it."""

    index: int
    image: str
    masks: dict[str, str]


def plates(dataset: DatasetVersion) -> list[PlateEntry]:
    """The data set's images, each with its masks (by the Hades mask convention)."""
    from visionkit.data.convention import CLASSES, mask_name

    paths = {entry["path"] for entry in dataset.manifest.get("files", [])}
    found = []
    images = sorted(p for p in paths if p.lower().endswith(_IMAGE_SUFFIXES) and "_mask." not in p)
    for index, image in enumerate(images):
        stem = str(PurePosixPath(image).with_suffix(""))
        masks = {cls: mask_name(stem, cls) for cls in CLASSES if mask_name(stem, cls) in paths}
        found.append(PlateEntry(index=index, image=image, masks=masks))
    return found


def _read(dataset: DatasetVersion, rel: str) -> np.ndarray:
    from visionkit.imageio import decode_image

    with storages["default"].open(f"{dataset.prefix}/{rel}", "rb") as handle:
        image, _ = decode_image(handle.read(), source=rel)
    return image


def preview_png(dataset: DatasetVersion, index: int) -> bytes:
    """The ``index``-th image of ``dataset`` with its masks tinted over it, as PNG bytes.

    Raises:
        PortalError: no such image in the data set.
    """
    import cv2

    from visionkit.overlay import MASK_COLOURS

    entries = plates(dataset)
    if not 0 <= index < len(entries):
        raise PortalError(f"data set {dataset.version[:12]} has {len(entries)} images")
    entry = entries[index]
    image = _read(dataset, entry.image)
    canvas = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    canvas = canvas.astype(np.float32)
    for cls, rel in entry.masks.items():
        mask = _read(dataset, rel)
        on = (mask if mask.ndim == 2 else mask[..., 0]) > 0
        if on.shape != canvas.shape[:2]:
            continue  # validation refused such sets; a preview never fails on one
        colour = np.asarray(MASK_COLOURS.get(cls, (255, 0, 255)), np.float32)
        canvas[on] = 0.45 * canvas[on] + 0.55 * colour
    scale = MAX_SIDE / max(canvas.shape[:2])
    out: np.ndarray = canvas.astype(np.uint8)
    if scale < 1:
        out = np.asarray(cv2.resize(out, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA))
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(out, cv2.COLOR_RGB2BGR))
    if not ok:  # pragma: no cover - OpenCV encodes any uint8 image
        raise PortalError("could not draw the preview")
    return encoded.tobytes()
