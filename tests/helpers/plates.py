"""Plates drawn with seedlings at known places: the image, its masks and the true landmarks.

A drawn plate is a dark frame around a light square dish with ``plants``
seedlings in a row: a shoot disc, optionally a seed beside it, and a straight
dark root down from the disc, each a little shorter than the one before. The
grey levels are those the band model (:mod:`tests.helpers.band_plugin`)
reads as classes, so its prediction of a drawn plate is known exactly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tests.helpers.band_plugin import AGAR, RIM, ROOT, SEED, SHOOT

__all__ = [
    "MM_PER_PX",
    "DrawnPlate",
    "draw_labelled_plate",
    "draw_plate",
    "write_plate",
]

#: Millimetres per pixel written into drawn plates' landmarks.
MM_PER_PX = 0.1


@dataclass
class DrawnPlate:
    """A drawn plate and where its plants truly are (input pixels).

    Attributes:
        image: ``uint8`` ``(H, W)`` grey.
        tips: each plant's root tip ``(x, y)``, left to right.
        starts: each plant's root start ``(x, y)`` (the shoot's lower edge).
        dish: the dish's ``(x0, y0, x1, y1)``.
        masks: ``root``, ``shoot`` and ``seed`` masks, 0/1, as a label map
            draws them (seed over shoot over root).
        plants: the plants as ``<stem>.landmarks.json`` records them.
    """

    image: np.ndarray
    tips: list[tuple[float, float]]
    starts: list[tuple[float, float]]
    dish: tuple[int, int, int, int]
    masks: dict[str, np.ndarray]
    plants: list[dict[str, Any]]


def draw_plate(
    width: int = 640,
    height: int = 480,
    *,
    dish: tuple[int, int, int, int] = (110, 20, 550, 460),
    plants: int = 5,
    root_length: int = 220,
    shorter_by: int = 20,
    shoot_y: int = 60,
    shoot_radius: int = 7,
    seeds: bool = False,
    noise: float = 1.5,
    seed: int = 0,
) -> DrawnPlate:
    """A plate with ``plants`` seedlings: shoot disc, straight 3 px dark root, maybe a seed.

    Args:
        width, height: the image size.
        dish: the light dish's box; outside it is the dark rim.
        plants: seedlings, evenly spaced across the dish.
        root_length: the first plant's root length in pixels; each next one
            is ``shorter_by`` pixels shorter.
        shoot_y: the shoot discs' centre below the dish's top edge.
        shoot_radius: the shoot discs' radius; the root starts at its edge.
        seeds: draw a seed disc beside each shoot.
        noise: standard deviation of the Gaussian noise added (0: none).
        seed: the noise's random seed.
    """
    import cv2

    image = np.full((height, width), RIM, np.uint8)
    x0, y0, x1, y1 = dish
    image[y0:y1, x0:x1] = AGAR
    masks = {name: np.zeros((height, width), np.uint8) for name in ("root", "shoot", "seed")}
    tips: list[tuple[float, float]] = []
    starts: list[tuple[float, float]] = []
    records: list[dict[str, Any]] = []
    span = (x1 - x0) / (plants + 1)
    for i in range(plants):
        cx, cy = round(x0 + span * (i + 1)), y0 + shoot_y
        length = root_length - shorter_by * i
        start, tip = (cx, cy + shoot_radius), (cx, cy + shoot_radius + length)
        cv2.line(masks["root"], start, tip, 1, 3)
        cv2.circle(masks["shoot"], (cx, cy), shoot_radius, 1, -1)
        if seeds:
            cv2.circle(masks["seed"], (cx + 4, cy + 10), 3, 1, -1)
        starts.append((float(start[0]), float(start[1])))
        tips.append((float(tip[0]), float(tip[1])))
        records.append(
            {
                "plant": i + 1,
                "present": True,
                "start": {"x": float(start[0]), "y": float(start[1])},
                "tip": {"x": float(tip[0]), "y": float(tip[1])},
                "primary_root_length_px": float(length),
                "primary_root_length_mm": length * MM_PER_PX,
            }
        )
    # Later classes win where masks overlap, as in the label map (seed > shoot > root).
    masks["shoot"][masks["seed"] > 0] = 0
    masks["root"][(masks["shoot"] > 0) | (masks["seed"] > 0)] = 0
    for name, level in (("root", ROOT), ("shoot", SHOOT), ("seed", SEED)):
        image[masks[name] > 0] = level
    if noise:
        rng = np.random.default_rng(seed)
        image = np.clip(image + rng.normal(0, noise, image.shape), 0, 255).astype(np.uint8)
    return DrawnPlate(image, tips, starts, (x0, y0, x1, y1), masks, records)


def draw_labelled_plate(*, plants: int = 3, root_length: int = 180) -> DrawnPlate:
    """A small noise-free plate with seeds, for scoring: 480 x 400, dish 40 px in from the sides."""
    return draw_plate(
        480,
        400,
        dish=(40, 20, 440, 380),
        plants=plants,
        root_length=root_length,
        shorter_by=25,
        shoot_y=50,
        shoot_radius=8,
        seeds=True,
        noise=0.0,
    )


def write_plate(
    folder: Path, stem: str, plate: DrawnPlate, *, landmarks: list[dict[str, Any]] | None = None
) -> None:
    """Save a drawn plate in the Hades convention (masks 0/1 TIFF, landmarks JSON).

    ``landmarks`` replaces the plate's own plant records (to make the truth
    disagree with the image).
    """
    from visionkit.imageio import write_image

    folder.mkdir(parents=True, exist_ok=True)
    write_image(folder / f"{stem}.png", plate.image)
    for name, mask in plate.masks.items():
        write_image(folder / f"{stem}_{name}_mask.tif", mask)
    height, width = plate.image.shape
    record = {
        "image": f"{stem}.png",
        "width": width,
        "height": height,
        "dish": {"mm_per_px": MM_PER_PX},
        "plants": plate.plants if landmarks is None else landmarks,
    }
    (folder / f"{stem}.landmarks.json").write_text(json.dumps(record), encoding="utf-8")
