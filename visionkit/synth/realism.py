"""Measure how a plate image looks, so synthetic plates can be checked against real ones.

:func:`measure_plate` computes statistics a user can check on any plate
image: the agar's grey level and noise, the primary roots' grey level,
contrast and width near the shoot and near the tip, and the density of
condensation droplets along the dish's top edge. Roots are located with the
plate's root mask when there is one (synthetic plates) and with a classical
estimate otherwise (real plates): a black top-hat, hysteresis thresholding,
and only components anchored on a shoot. Contrast and width are then read
from the image pixels the same way for both, so the numbers are comparable.

:func:`compare_stats` checks a synthetic plate's statistics against a real
plate's within :data:`TOLERANCES`; ``visionkit realism`` prints the table.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = [
    "TOLERANCES",
    "Comparison",
    "PlateStats",
    "Tolerance",
    "compare_stats",
    "comparison_figure",
    "measure_plate",
]

logger = logging.getLogger(__name__)

#: Inner side of the NPEC dish's agar, used to guess px/mm from the agar's size.
_AGAR_MM = 126.0
#: Length (mm) of the zones "near the shoot" and "near the tip".
_ZONE_MM = 2.0


@dataclass(frozen=True)
class PlateStats:
    """Statistics of one plate image (grey levels 0-255, widths in pixels).

    ``nan`` marks a statistic that could not be measured (e.g. no root found).
    """

    agar_grey: float
    noise_std: float
    root_grey: float
    root_contrast_top: float
    root_contrast_tip: float
    root_width_top: float
    root_width_tip: float
    droplet_density: float
    roots_found: int
    px_per_mm: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``nan`` becomes ``None``)."""
        return {
            k: (None if isinstance(v, float) and math.isnan(v) else v)
            for k, v in asdict(self).items()
        }


@dataclass(frozen=True)
class Tolerance:
    """How far a synthetic statistic may be from the real one.

    ``kind`` is ``"abs"`` (``|synthetic - real| <= limit``) or ``"ratio"``
    (``1/limit <= synthetic / real <= limit``).
    """

    kind: str
    limit: float
    unit: str
    label: str

    def accepts(self, real: float, synthetic: float) -> bool:
        """Whether ``synthetic`` is within tolerance of ``real``."""
        if math.isnan(real) or math.isnan(synthetic):
            return False
        if self.kind == "abs":
            return abs(synthetic - real) <= self.limit
        if real <= 0 or synthetic <= 0:
            return False
        return 1.0 / self.limit <= synthetic / real <= self.limit

    def describe(self) -> str:
        """E.g. ``"±30"`` or ``"x/÷2"``."""
        return f"±{self.limit:g}" if self.kind == "abs" else f"x/÷{self.limit:g}"


#: Tolerance per statistic. They are wide enough for the plate-to-plate
#: variety the generator draws on purpose and tight enough to catch a plate
#: that does not look like a Hades plate (see docs/synthetic.md).
TOLERANCES: dict[str, Tolerance] = {
    "agar_grey": Tolerance("abs", 30.0, "grey", "agar grey level (median)"),
    "noise_std": Tolerance("ratio", 2.0, "grey", "noise (robust std, high-pass)"),
    "root_grey": Tolerance("abs", 60.0, "grey", "root grey level near the shoot"),
    "root_contrast_top": Tolerance("ratio", 3.0, "grey", "root contrast near the shoot"),
    "root_contrast_tip": Tolerance("abs", 8.0, "grey", "root contrast near the tip"),
    "root_width_top": Tolerance("abs", 2.5, "px", "root width near the shoot (FWHM)"),
    "root_width_tip": Tolerance("abs", 1.5, "px", "root width near the tip (FWHM)"),
    "droplet_density": Tolerance("ratio", 4.0, "/cm²", "droplets per cm² in the top band"),
}


@dataclass(frozen=True)
class Comparison:
    """One statistic of a real and a synthetic plate, and whether they agree."""

    name: str
    real: float
    synthetic: float
    tolerance: Tolerance
    passed: bool


def _agar_region(image: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The agar (bright, largest region, a little eroded) and its bounding box."""
    import cv2

    h, w = image.shape
    step = max(1, round(max(h, w) / 600))
    small = cv2.resize(image, (max(1, w // step), max(1, h // step)), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 3)
    _, bright = cv2.threshold(small, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(bright.astype(np.uint8), connectivity=4)
    if n <= 1:
        region = np.ones_like(small, np.uint8)
        x0, y0, bw, bh = 0, 0, small.shape[1], small.shape[0]
    else:
        big = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        region = (labels == big).astype(np.uint8)
        x0, y0, bw, bh = (int(v) for v in stats[big, :4])
    # Fill droplets and seedlings inside the agar, then keep off the wall.
    region = np.asarray(cv2.morphologyEx(region, cv2.MORPH_CLOSE, np.ones((15, 15), np.uint8)))
    region = np.asarray(cv2.erode(region, np.ones((5, 5), np.uint8)))
    full = cv2.resize(region, (w, h), interpolation=cv2.INTER_NEAREST_EXACT).astype(bool)
    box = (x0 * step, y0 * step, min(w, (x0 + bw) * step), min(h, (y0 + bh) * step))
    return full, box


def _tophat(image: np.ndarray, ppm: float) -> np.ndarray:
    """Darkness below the local agar: closing (removes thin dark things) minus image."""
    import cv2

    size = max(5, round(0.9 * ppm)) | 1
    smooth = cv2.GaussianBlur(image, (0, 0), 0.7)
    background = cv2.morphologyEx(smooth, cv2.MORPH_CLOSE, np.ones((size, size), np.uint8))
    background = cv2.blur(background, (size, size))
    return np.maximum(background.astype(np.float32) - smooth.astype(np.float32), 0.0)


def _noise(image: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """Robust std of the high-pass residual in the dish's calm lower middle."""
    import cv2

    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    patch = image[y0 + int(0.5 * h) : y0 + int(0.85 * h), x0 + int(0.2 * w) : x0 + int(0.8 * w)]
    if patch.size < 100:
        return math.nan
    patch = patch.astype(np.float32)
    residual = patch - cv2.GaussianBlur(patch, (0, 0), 3.0)
    return float(1.4826 * np.median(np.abs(residual - np.median(residual))))


def _classical_roots(
    tophat: np.ndarray, box: tuple[int, int, int, int], ppm: float
) -> list[np.ndarray]:
    """Estimate primary-root masks on an unlabelled plate, one per seedling.

    A seedling is a very dark component at least 2 mm tall in the top 40 %
    of the dish (droplet shadows are flatter); its root is the part of the
    faint-threshold component that lies below the last wide (shoot/seed) row.
    """
    import cv2
    from skimage.filters import apply_hysteresis_threshold

    x0, y0, x1, y1 = box
    top = tophat[y0 : y0 + int(0.45 * (y1 - y0)), x0:x1]
    dark = (top > 60).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(dark, connectivity=8)
    anchors = [
        i
        for i in range(1, n)
        if stats[i, cv2.CC_STAT_HEIGHT] >= 2.0 * ppm
        and stats[i, cv2.CC_STAT_WIDTH] <= 8.0 * ppm
        and stats[i, cv2.CC_STAT_AREA] >= 0.75 * ppm * ppm
    ]
    roots: list[np.ndarray] = []
    if not anchors:
        return roots
    faint = apply_hysteresis_threshold(tophat[y0:y1, x0:x1], 4.5, 12.0).astype(np.uint8)
    _m, flabels = cv2.connectedComponents(faint, connectivity=8)
    for i in anchors:
        ys, xs = np.nonzero(labels == i)
        comp_ids = np.unique(flabels[ys, xs])
        comp_ids = comp_ids[comp_ids > 0]
        if len(comp_ids) == 0:
            continue
        comp = np.isin(flabels, comp_ids)
        # Junction: the lowest row of the anchor where the seedling is still wide.
        anchor = (labels == i).astype(np.uint8)
        wide = cv2.distanceTransform(anchor, cv2.DIST_L2, 3) >= 0.17 * ppm
        wide_rows = np.nonzero(wide.any(axis=1))[0]
        junction = int(wide_rows.max()) if len(wide_rows) else int(ys.max())
        comp[: junction + 1, :] = False
        # Keep only what hangs below this seedling (not its neighbours).
        cx = int(np.median(xs))
        half = int(3.0 * ppm)
        comp[:, : max(0, cx - 5 * half)] = False
        comp[:, cx + 5 * half :] = False
        k, parts, pstats, _ = cv2.connectedComponentsWithStats(
            comp.astype(np.uint8), connectivity=8
        )
        if k <= 1:
            continue
        near = [
            j
            for j in range(1, k)
            if abs(int(pstats[j, cv2.CC_STAT_TOP]) - junction) <= 0.5 * ppm
            and pstats[j, cv2.CC_STAT_HEIGHT] >= 1.0 * ppm
        ]
        if not near:
            continue
        best = max(near, key=lambda j: int(pstats[j, cv2.CC_STAT_HEIGHT]))
        full = np.zeros(tophat.shape, bool)
        full[y0:y1, x0:x1] = parts == best
        roots.append(full)
    return roots


def _mask_roots(root_mask: np.ndarray, ppm: float) -> list[np.ndarray]:
    """One mask per root component at least 1 mm tall."""
    import cv2

    n, labels, stats, _ = cv2.connectedComponentsWithStats(
        (root_mask > 0).astype(np.uint8), connectivity=8
    )
    return [labels == i for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] >= 1.0 * ppm]


def _zone_stats(
    image: np.ndarray, tophat: np.ndarray, root: np.ndarray, rows: tuple[int, int]
) -> tuple[list[float], list[float], list[float]]:
    """Contrast, FWHM width and grey level at the skeleton of ``root`` within ``rows``."""
    import cv2
    from scipy.ndimage import maximum_filter
    from skimage.morphology import skeletonize

    r0, r1 = rows
    ys, xs = np.nonzero(root[r0:r1])
    if len(ys) == 0:
        return [], [], []
    pad = 8
    c0, c1 = max(0, int(xs.min()) - pad), min(root.shape[1], int(xs.max()) + pad + 1)
    a0, a1 = max(0, r0 - pad), min(root.shape[0], r1 + pad)
    sub_root = root[a0:a1, c0:c1]
    sub_top = tophat[a0:a1, c0:c1]
    skeleton = skeletonize(sub_root)
    skeleton[: r0 - a0, :] = False
    skeleton[r1 - a0 :, :] = False
    peak = maximum_filter(sub_top, size=5)
    near = cv2.dilate(sub_root.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    half = (sub_top >= 0.5 * peak) & (sub_top > 2.0) & near
    dist = cv2.distanceTransform(half.astype(np.uint8), cv2.DIST_L2, 5)
    dist = maximum_filter(dist, size=3)
    sy, sx = np.nonzero(skeleton)
    contrast = peak[sy, sx].tolist()
    widths = (2.0 * dist[sy, sx] - 1.0).clip(min=1.0).tolist()
    grey = maximum_filter(-image[a0:a1, c0:c1].astype(np.float32), size=3)
    greys = (-grey[sy, sx]).tolist()
    return contrast, widths, greys


def _droplet_density(tophat: np.ndarray, box: tuple[int, int, int, int], ppm: float) -> float:
    """Dark-edged blobs per cm² in the band 12 mm below the dish's top edge."""
    import cv2

    x0, y0, x1, _y1 = box
    band_rows = int(12.0 * ppm)
    band = tophat[y0 : y0 + band_rows, x0:x1]
    if band.size == 0:
        return math.nan
    blobs = (band > 15.0).astype(np.uint8)
    _n, _, stats, _ = cv2.connectedComponentsWithStats(blobs, connectivity=8)
    area = stats[1:, cv2.CC_STAT_AREA]
    height = stats[1:, cv2.CC_STAT_HEIGHT]
    count = int(np.count_nonzero((area >= 3) & (height < 2.0 * ppm)))
    band_cm2 = band.shape[0] * band.shape[1] / (ppm * 10.0) ** 2
    return count / band_cm2


def _median(values: list[float]) -> float:
    return float(np.median(values)) if values else math.nan


def measure_plate(
    image: np.ndarray,
    root_mask: np.ndarray | None = None,
    *,
    px_per_mm: float | None = None,
) -> PlateStats:
    """Measure a plate image (full frame or dish crop, ``uint8`` grayscale).

    Args:
        image: the plate.
        root_mask: 0/1 root mask of the same size, if known; without one the
            roots are estimated classically.
        px_per_mm: the image's resolution; guessed from the agar's size if
            not given.

    Raises:
        ValueError: ``image`` is not 2-D ``uint8``, or the mask's size differs.
    """
    if image.ndim != 2 or image.dtype != np.uint8:
        raise ValueError(f"measure_plate needs a 2-D uint8 image, got {image.dtype} {image.shape}")
    if root_mask is not None and root_mask.shape != image.shape:
        raise ValueError(
            f"root mask {root_mask.shape} does not match the image {image.shape}; "
            "pass the mask written beside this image"
        )
    agar, box = _agar_region(image)
    x0, y0, x1, y1 = box
    ppm = px_per_mm or max(x1 - x0, y1 - y0) / _AGAR_MM
    tophat = _tophat(image, ppm)
    if root_mask is not None:
        roots = _mask_roots(root_mask, ppm)
        method = "masks"
    else:
        roots = _classical_roots(tophat, box, ppm)
        method = "classical"
    zone = max(2, round(_ZONE_MM * ppm))
    top_c: list[float] = []
    top_w: list[float] = []
    top_g: list[float] = []
    tip_c: list[float] = []
    tip_w: list[float] = []
    for root in roots:
        rows = np.nonzero(root.any(axis=1))[0]
        first, last = int(rows.min()), int(rows.max()) + 1
        c, w, g = _zone_stats(image, tophat, root, (first, min(last, first + zone)))
        top_c += c
        top_w += w
        top_g += g
        c, w, _ = _zone_stats(image, tophat, root, (max(first, last - zone), last))
        tip_c += c
        tip_w += w
    return PlateStats(
        agar_grey=float(np.median(image[agar])) if agar.any() else math.nan,
        noise_std=_noise(image, box),
        root_grey=_median(top_g),
        root_contrast_top=_median(top_c),
        root_contrast_tip=_median(tip_c),
        root_width_top=_median(top_w),
        root_width_tip=_median(tip_w),
        droplet_density=_droplet_density(tophat, box, ppm),
        roots_found=len(roots),
        px_per_mm=float(ppm),
        method=method,
    )


def compare_stats(real: PlateStats, synthetic: PlateStats) -> list[Comparison]:
    """Check each statistic of ``synthetic`` against ``real`` within :data:`TOLERANCES`."""
    rows = []
    for name, tolerance in TOLERANCES.items():
        a, b = float(getattr(real, name)), float(getattr(synthetic, name))
        rows.append(Comparison(name, a, b, tolerance, tolerance.accepts(a, b)))
    return rows


def _window(image: np.ndarray, ppm: float, centre_x: float, out_ppm: float) -> np.ndarray:
    """A 30 x 40 mm window from the dish's top edge around ``centre_x``, at ``out_ppm``."""
    import cv2

    _, (x0, y0, x1, _y1) = _agar_region(image)
    w, h = round(30.0 * ppm), round(40.0 * ppm)
    left = int(np.clip(round(centre_x - w / 2), x0, max(x0, x1 - w)))
    crop = image[y0 : y0 + h, left : left + w]
    size = (round(crop.shape[1] * out_ppm / ppm), round(crop.shape[0] * out_ppm / ppm))
    return np.asarray(cv2.resize(crop, size, interpolation=cv2.INTER_AREA))


def comparison_figure(
    real: np.ndarray,
    synthetic: np.ndarray,
    *,
    real_px_per_mm: float | None = None,
    synthetic_px_per_mm: float | None = None,
    synthetic_root_mask: np.ndarray | None = None,
    out_px_per_mm: float = 12.0,
) -> np.ndarray:
    """Side by side: a window of the real plate | the same-size window of the synthetic one.

    Both windows cover 30 x 40 mm from the dish's top edge around the first
    seedling found, resampled to ``out_px_per_mm`` so they share one scale.
    """
    import cv2

    panels = []
    for image, ppm, mask in (
        (real, real_px_per_mm, None),
        (synthetic, synthetic_px_per_mm, synthetic_root_mask),
    ):
        _, (x0, y0, x1, y1) = _agar_region(image)
        scale = ppm or max(x1 - x0, y1 - y0) / _AGAR_MM
        if mask is not None:
            roots = _mask_roots(mask, scale)
        else:
            roots = _classical_roots(_tophat(image, scale), (x0, y0, x1, y1), scale)
        centre = (
            float(np.median(np.nonzero(roots[0])[1]))
            if roots
            else x0 + 0.1 * (x1 - x0) + 15.0 * scale
        )
        panels.append(_window(image, scale, centre, out_px_per_mm))
    height = min(p.shape[0] for p in panels)
    gap = np.full((height, 8), 255, np.uint8)
    figure = np.hstack([panels[0][:height], gap, panels[1][:height]])
    for text, x in (("real", 10), ("synthetic", panels[0].shape[1] + 18)):
        cv2.putText(
            figure, text, (x, height - 12), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2, cv2.LINE_AA
        )
    return figure
