"""From per-class probability maps to each plant's primary-root start, tip, path and length.

The steps, each in its own module:

1. :mod:`~visionkit.landmarks.plants`: the seedlings, from the shoot and
   seed maps, numbered left to right, each with an anchor where its root
   should begin.
2. :mod:`~visionkit.landmarks.region`: the root pieces reachable from the
   anchors (false positives far from the seedlings never enter); the result
   hands them on as ``root_support``, so masks limited to the plants' roots
   need no second search.
3. ``skimage.morphology.skeletonize`` on that region only, then
   :mod:`~visionkit.landmarks.skeleton`: the skeleton as a branch graph.
4. :mod:`~visionkit.landmarks.gaps`: bridges across small gaps along a
   root's direction.
5. :mod:`~visionkit.landmarks.primary`: each plant's primary path, the one
   that best continues the main axis, with crossings resolved.
6. :mod:`~visionkit.landmarks.junction` and
   :mod:`~visionkit.landmarks.root_end`: the start carried back from the
   skeleton's first point to the junction with the hypocotyl, the tip on
   from the skeleton's last point to the root's end.
7. :mod:`~visionkit.landmarks.polyline` (length) and
   :mod:`~visionkit.landmarks.confidence` (how sure).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from visionkit.landmarks.confidence import (
    CROSSING_FACTOR,
    CUT_FACTOR,
    NEIGHBOUR_FACTOR,
    agreement_factors,
    ahead_factor,
    course_factor,
    size_factor,
    start_confidence,
    tip_confidence,
)
from visionkit.landmarks.gaps import bridge_gaps
from visionkit.landmarks.graph import RootGraph
from visionkit.landmarks.junction import extend_to_junction
from visionkit.landmarks.plants import PlantAnchor, find_plants
from visionkit.landmarks.polyline import arc_length, smooth_path
from visionkit.landmarks.primary import PathChoice, choose_primaries, crossings, path_pixels
from visionkit.landmarks.region import RootRegion, root_region
from visionkit.landmarks.result import Landmarks, PlantLandmarks
from visionkit.landmarks.root_end import extend_to_root_end
from visionkit.landmarks.row import count_factor, row_factors

__all__ = ["find_landmarks", "plant_root_mask"]

logger = logging.getLogger(__name__)

NO_ROOT = "no root found below the shoot"

#: The default hysteresis threshold as a share of ``threshold``: at 0.5 the
#: real crop's plant 1 joined a faint blob and lost its root; 0.6 and 0.8 both
#: kept all five real tips.
FAINT_SHARE = 0.7


class _Search(NamedTuple):
    """What every step of the search reads: the checked maps, the plants, the resolution."""

    root: np.ndarray  # root probability, joined by occluded root
    shoot: np.ndarray
    seed: np.ndarray | None
    mask: np.ndarray  # root >= faint: hysteresis-anchored on threshold by the region
    anchors: list[PlantAnchor]
    px_per_mm: float
    threshold: float
    faint: float  # the lower, hysteresis threshold


class _Traced(NamedTuple):
    """One plant's primary path: on the skeleton, and carried on to the root's ends."""

    skeleton: np.ndarray  # what the confidences judge (is there root here?)
    path: np.ndarray  # start, tip and length


def _prob(name: str, value: np.ndarray | None, shape: tuple[int, ...] | None) -> np.ndarray:
    array = np.asarray(value)
    if array.ndim != 2:
        raise ValueError(f"find_landmarks: {name} must be a 2-D H x W map, got shape {array.shape}")
    if shape is not None and array.shape != shape:
        raise ValueError(
            f"find_landmarks: {name} has shape {array.shape} but root_prob has {shape}; "
            "give every map at the same (working) resolution"
        )
    return array.astype(np.float32, copy=False)


def _search(
    root_prob: np.ndarray,
    shoot_prob: np.ndarray,
    seed_prob: np.ndarray | None,
    occluded_prob: np.ndarray | None,
    expected_plants: int,
    px_per_mm: float,
    threshold: float,
    faint_threshold: float | None = None,
    dish_bbox: tuple[float, float, float, float] | None = None,
) -> _Search:
    """The checked maps (root joined by occluded root), the root mask, and the plants.

    The root mask holds the pixels above ``faint_threshold`` (default 0.7
    of ``threshold``); :func:`_region` keeps only its pieces that reach
    ``threshold`` somewhere (a hysteresis), so a root that fades keeps its
    faint stretch. Doing that in the region's own connected-components pass,
    over the window below the plants only, keeps it cheap.
    """
    if expected_plants < 1:
        raise ValueError(f"find_landmarks: expected_plants must be >= 1, got {expected_plants}")
    if px_per_mm <= 0:
        raise ValueError(f"find_landmarks: px_per_mm must be positive, got {px_per_mm}")
    root = _prob("root_prob", root_prob, None)
    shoot = _prob("shoot_prob", shoot_prob, root.shape)
    seed = None if seed_prob is None else _prob("seed_prob", seed_prob, root.shape)
    if occluded_prob is not None:
        root = np.maximum(root, _prob("occluded_prob", occluded_prob, root.shape))
    faint = FAINT_SHARE * threshold if faint_threshold is None else faint_threshold
    if not 0.0 < faint <= threshold:
        raise ValueError(
            f"find_landmarks: faint_threshold must be in (0, threshold={threshold}], got {faint}"
        )
    anchors = find_plants(
        shoot,
        seed,
        expected=expected_plants,
        px_per_mm=px_per_mm,
        threshold=threshold,
        dish_bbox=dish_bbox,
    )
    mask = root >= faint
    return _Search(root, shoot, seed, mask, anchors, px_per_mm, threshold, faint)


def _points(anchors: Sequence[PlantAnchor]) -> list[tuple[float, float]]:
    """Where roots may begin: each anchor, and the base of a plant anchored on its seed."""
    return [(a.x, a.y) for a in anchors] + [a.base for a in anchors if a.base is not None]


def _region(search: _Search, radius_px: float, gap_px: float) -> RootRegion:
    """The root pieces reachable from the plants: what is searched, and the root support."""
    return root_region(
        search.mask,
        _points(search.anchors),
        start_radius_px=radius_px,
        gap_px=gap_px,
        prob=search.root,
        strong=search.threshold if search.faint < search.threshold else None,
    )


def _full_size(region: RootRegion, shape: tuple[int, ...]) -> np.ndarray:
    """The region's pixels as a bool map of the full maps' ``shape``."""
    kept = np.zeros(shape, dtype=bool)
    if not region.empty:
        x0, y0 = region.origin
        h, w = region.mask.shape
        kept[y0 : y0 + h, x0 : x0 + w] = region.mask
    return kept


def _graph(region: RootRegion, ppm: float, gap_px: float) -> RootGraph:
    """The root graph of the region's skeleton, spurs off, gaps bridged."""
    import cv2
    from skimage.morphology import skeletonize

    from visionkit.landmarks.skeleton import skeleton_graph

    window = max(4, round(1.5 * ppm))
    if region.empty:
        return RootGraph(window=window)
    distance = cv2.distanceTransform(region.mask.view(np.uint8), cv2.DIST_L2, 3)
    graph = skeleton_graph(
        skeletonize(region.mask),
        origin=region.origin,
        widths=np.maximum(2.0 * distance - 1.0, 1.0),
        merge_px=1.5 * ppm,
        window=window,
    )
    spurs = graph.prune_spurs(0.5 * ppm)
    bridges = bridge_gaps(graph, max_gap_px=gap_px)
    logger.debug(
        "root graph: %d branches, %d spurs pruned, %d bridges, region %s at %s",
        len(graph.live()),
        spurs,
        bridges,
        region.mask.shape,
        region.origin,
    )
    return graph


def _start(
    graph: RootGraph, anchor: PlantAnchor, radius: float
) -> tuple[tuple[float, float], int | None]:
    """Where a plant's root search starts, and its node in the graph (``None``: no root)."""
    where = (anchor.x, anchor.y)
    hit = graph.nearest(where, radius)
    if hit is None and anchor.base is not None:
        # A seed coat beside a long hypocotyl: the root starts at its bottom.
        fallback = graph.nearest(anchor.base, radius)
        if fallback is not None:
            where, hit = anchor.base, fallback
    return where, None if hit is None else graph.split(*hit)


def _trace(search: _Search, graph: RootGraph, best: PathChoice) -> _Traced:
    """The chosen path on the skeleton, then carried on to the root's end and the junction."""
    skeleton = smooth_path(path_pixels(graph, best))
    ended = extend_to_root_end(
        skeleton, root=search.root, px_per_mm=search.px_per_mm, threshold=search.faint
    )
    path = extend_to_junction(
        ended,
        root=search.root,
        shoot=search.shoot,
        seed=search.seed,
        px_per_mm=search.px_per_mm,
        threshold=search.threshold,
    )
    return _Traced(skeleton, path)


def _tip(traced: _Traced | None) -> tuple[float, float] | None:
    return None if traced is None else (float(traced.path[-1, 0]), float(traced.path[-1, 1]))


def _rival(candidates: list[PathChoice], best: PathChoice, graph: RootGraph, far: float) -> float:
    tip = graph.nodes[best.end]
    for other in candidates:
        if other is best:
            continue
        where = graph.nodes[other.end]
        if float(np.hypot(*(where - tip))) > far:
            return other.score
    return 0.0


def _plate_priors(
    search: _Search, graph: RootGraph, bests: Sequence[PathChoice | None], expected: int
) -> list[dict[str, float]]:
    """Per plant, the Hades-row factors of its tip confidence (:mod:`~visionkit.landmarks.row`)."""
    count = count_factor(len(search.anchors), expected)
    rows = row_factors([(a.x, a.y) for a in search.anchors], search.px_per_mm)
    crossed = crossings(bests, graph)
    priors = []
    for i, row in enumerate(rows):
        rootless = any(0 <= j < len(bests) and bests[j] is None for j in (i - 1, i + 1))
        priors.append(
            {
                "tip_count": count,
                "tip_row": row,
                "tip_neighbour": NEIGHBOUR_FACTOR if rootless else 1.0,
                "tip_crossing": CROSSING_FACTOR if crossed[i] else 1.0,
            }
        )
    return priors


def _plant(
    number: int,
    where: tuple[float, float],
    choice: tuple[PathChoice | None, list[PathChoice]],
    traced: _Traced | None,
    *,
    search: _Search,
    graph: RootGraph,
    radius: float,
    agreement: float | None,
    priors: dict[str, float],
) -> PlantLandmarks:
    """One plant's landmarks and confidences from its traced primary path."""
    best, candidates = choice
    if best is None or traced is None:
        return PlantLandmarks(number, None, None, 0.0, 0.0, reason=NO_ROOT, anchor=where)
    ppm = search.px_per_mm
    shoot_or_seed = [search.shoot] if search.seed is None else [search.shoot, search.seed]
    s_conf, s_parts = start_confidence(
        search.root, shoot_or_seed, traced.skeleton, where, px_per_mm=ppm, search_radius_px=radius
    )
    t_conf, t_parts = tip_confidence(
        search.root,
        traced.skeleton,
        px_per_mm=ppm,
        best_score=best.score,
        rival_score=_rival(candidates, best, graph, ppm),
        agreement=agreement,
        priors={
            **priors,
            "tip_course": course_factor(best.turns),
            "tip_end": 1.0 if graph.degree(best.end) <= 1 else CUT_FACTOR,
            "tip_size": size_factor(arc_length(traced.path) / ppm),
            "tip_ahead": ahead_factor(search.root, traced.path, ppm),
        },
    )
    path = traced.path
    return PlantLandmarks(
        plant=number,
        start=(float(path[0, 0]), float(path[0, 1])),
        tip=_tip(traced),
        start_confidence=s_conf,
        tip_confidence=t_conf,
        path=path,
        length_px=arc_length(path),
        anchor=where,
        components={**s_parts, **t_parts},
    )


def plant_root_mask(
    root_prob: np.ndarray,
    shoot_prob: np.ndarray,
    seed_prob: np.ndarray | None = None,
    *,
    expected_plants: int = 5,
    px_per_mm: float = 10.0,
    threshold: float = 0.5,
    occluded_prob: np.ndarray | None = None,
    start_radius_mm: float = 3.0,
    max_gap_mm: float = 3.0,
    faint_threshold: float | None = None,
    dish_bbox: tuple[float, float, float, float] | None = None,
) -> np.ndarray:
    """The root (and occluded-root) pixels that belong to the plants, as a bool map.

    The pieces of the root mask that :func:`find_landmarks` would search:
    those beginning within ``start_radius_mm`` of a plant and those within
    ``max_gap_mm`` of a kept piece (see :mod:`~visionkit.landmarks.region`).
    Fibres, scratches and specks away from every root system are left out;
    with no plant found, nothing is kept. Arguments as for
    :func:`find_landmarks`, whose result carries the same map as
    ``root_support``: call this only when the landmarks are not wanted.
    """
    search = _search(
        root_prob,
        shoot_prob,
        seed_prob,
        occluded_prob,
        expected_plants,
        px_per_mm,
        threshold,
        faint_threshold,
        dish_bbox,
    )
    region = _region(search, start_radius_mm * px_per_mm, max_gap_mm * px_per_mm)
    return _full_size(region, search.mask.shape)


def find_landmarks(
    root_prob: np.ndarray,
    shoot_prob: np.ndarray,
    seed_prob: np.ndarray | None = None,
    *,
    expected_plants: int = 5,
    px_per_mm: float = 10.0,
    threshold: float = 0.5,
    occluded_prob: np.ndarray | None = None,
    tip_agreement: Sequence[tuple[float, float]] | None = None,
    start_radius_mm: float = 3.0,
    max_gap_mm: float = 3.0,
    faint_threshold: float | None = None,
    dish_bbox: tuple[float, float, float, float] | None = None,
) -> Landmarks:
    """Each plant's primary-root start and tip, path, length and confidences.

    Args:
        root_prob: root probability, ``H x W`` float in [0, 1] (the model's
            working resolution).
        shoot_prob: shoot probability, same shape.
        seed_prob: seed probability, same shape, or ``None``.
        expected_plants: plants sown on the dish; more candidates are cut to
            this many (the set that best makes one evenly spaced row).
        px_per_mm: the maps' resolution (10 at working scale 0.5 of a Hades frame).
        threshold: probability above which a pixel belongs to a class.
        occluded_prob: occluded-root probability (a root under a droplet);
            counts as root for connectivity.
        tip_agreement: tips found on other predictions of the same image
            (e.g. test-time augmentations), all plants mixed, in map pixels;
            each is attributed to the nearest tip found here and their spread
            enters ``tip_confidence``.
        start_radius_mm: how far from its plant's anchor a root may begin.
        max_gap_mm: the largest gap in a root that is bridged.
        faint_threshold: root pixels above this (default 0.7 of
            ``threshold``) count where they join pixels above ``threshold``
            (hysteresis): a root that fades on the probability map is
            followed where the binary mask breaks, and a fading tip is
            carried to where the map falls below it.
        dish_bbox: the dish's ``(x0, y0, x1, y1)`` in map pixels, inside
            which seedlings grow (never on its wall); ``None`` takes the maps'
            edges, right for maps of the dish crop.

    Returns:
        :class:`~visionkit.landmarks.result.Landmarks`: ``plants``, one
        :class:`PlantLandmarks` per plant found, numbered 1..N left to right
        (plants not found at all are not listed: the caller, knowing the
        sowing positions, decides how to number them; a plant found without
        root has ``tip=None`` and a ``reason``), and ``root_support``, the
        root pixels searched (what :func:`plant_root_mask` gives).

    Raises:
        ValueError: maps that are not 2-D or differ in shape, or a bad parameter.
    """
    began = time.perf_counter()
    search = _search(
        root_prob,
        shoot_prob,
        seed_prob,
        occluded_prob,
        expected_plants,
        px_per_mm,
        threshold,
        faint_threshold,
        dish_bbox,
    )
    radius, gap = start_radius_mm * px_per_mm, max_gap_mm * px_per_mm
    region = _region(search, radius, gap)
    support = _full_size(region, search.mask.shape)
    if not search.anchors:
        logger.info("find_landmarks: no plant found (no shoot or seed above %.2f)", threshold)
        return Landmarks([], support)
    graph = _graph(region, px_per_mm, gap)
    begins = [_start(graph, anchor, radius) for anchor in search.anchors]
    choices = choose_primaries(graph, [node for _, node in begins], short_px=3.0 * px_per_mm)
    traced = [None if best is None else _trace(search, graph, best) for best, _ in choices]
    agreement: list[float | None] = [None] * len(traced)
    if tip_agreement is not None:
        tips = [_tip(t) for t in traced]
        agreement = list(agreement_factors(tips, list(tip_agreement), px_per_mm))
    priors = _plate_priors(search, graph, [best for best, _ in choices], expected_plants)
    plants = [
        _plant(
            number,
            where,
            choice,
            path,
            search=search,
            graph=graph,
            radius=radius,
            agreement=factor,
            priors=prior,
        )
        for number, ((where, _), choice, path, factor, prior) in enumerate(
            zip(begins, choices, traced, agreement, priors, strict=True), start=1
        )
    ]
    logger.debug(
        "find_landmarks: %d plants in %.1f ms", len(plants), 1e3 * (time.perf_counter() - began)
    )
    return Landmarks(plants, support)
