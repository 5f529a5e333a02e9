"""Hand-drawn probability maps for the landmark tests.

Sizes are those of the working scale (about 10 px/mm): roots 2-4 px wide,
shoots blobs of 15-30 px, seeds about 5 px.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import pytest

from visionkit.landmarks import PlantLandmarks, find_landmarks

Point = tuple[float, float]


class Maps:
    """Root, shoot, seed and occluded-root probability maps to draw on."""

    def __init__(self, height: int = 900, width: int = 900) -> None:
        self.root = np.zeros((height, width), np.float32)
        self.shoot = np.zeros((height, width), np.float32)
        self.seed = np.zeros((height, width), np.float32)
        self.occluded = np.zeros((height, width), np.float32)

    def seedling(self, x: int, y: int, *, seed: bool = True, value: float = 0.95) -> None:
        """A seedling whose root should start at ``(x, y)``: seed there, shoot above."""
        cv2.line(self.shoot, (x, y - 3), (x + 2, y - 18), value, 3)
        cv2.ellipse(self.shoot, (x - 7, y - 22), (7, 4), 20, 0, 360, value, -1)
        cv2.ellipse(self.shoot, (x + 9, y - 23), (7, 4), -20, 0, 360, value, -1)
        if seed:
            cv2.circle(self.seed, (x, y), 3, value, -1)

    def line(
        self,
        points: Sequence[Point],
        width: int = 3,
        value: float = 0.95,
        layer: str = "root",
    ) -> None:
        """A polyline of ``width`` px on a layer ("root", "occluded", "shoot", "seed")."""
        target = getattr(self, layer)
        pts = np.round(np.asarray(points, np.float64)).astype(np.int32)
        cv2.polylines(target, [pts], False, value, width)

    def find(self, **kwargs: object) -> list[PlantLandmarks]:
        """Run :func:`find_landmarks` on these maps."""
        return find_landmarks(
            self.root,
            self.shoot,
            self.seed,
            occluded_prob=self.occluded,
            **kwargs,  # type: ignore[arg-type]
        ).plants


def arc_points(centre: Point, radius: float, start: float, stop: float, n: int = 400) -> np.ndarray:
    """Points ``(x, y)`` on a circular arc, angles in radians (0 = +x, pi/2 = down)."""
    t = np.linspace(start, stop, n)
    return np.stack([centre[0] + radius * np.cos(t), centre[1] + radius * np.sin(t)], axis=1)


@pytest.fixture
def make_maps() -> Callable[..., Maps]:
    """A factory of empty maps: ``make_maps(height=900, width=900)``."""
    return Maps


@pytest.fixture
def arc() -> Callable[..., np.ndarray]:
    """:func:`arc_points`, for tests that draw curved roots."""
    return arc_points


def distance(a: Point | None, b: Point) -> float:
    """Euclidean distance; infinite when ``a`` is missing."""
    if a is None:
        return float("inf")
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


@pytest.fixture
def dist() -> Callable[[Point | None, Point], float]:
    """:func:`distance` as a fixture."""
    return distance


#: The seedlings' x positions and the row's height in :func:`seedling_row` scenes.
ROW_XS = (150, 300, 450, 600, 750)
ROW_TOP = 100


@pytest.fixture
def seedling_row(make_maps: Callable[..., Maps]) -> Callable[..., Maps]:
    """``seedling_row(xs, lengths)``: maps of one row of seedlings at ``ROW_TOP``, each
    with a straight primary root of its length (px) below it."""

    def build(
        xs: tuple[int, ...] = ROW_XS, lengths: tuple[int, ...] = (400, 500, 600, 450, 350)
    ) -> Maps:
        maps = make_maps()
        for x, length in zip(xs, lengths, strict=True):
            maps.seedling(x, ROW_TOP)
            maps.line([(x, ROW_TOP + 2), (x, ROW_TOP + length)], width=3)
        return maps

    return build
