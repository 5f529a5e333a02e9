"""From per-class probability maps to each plant's primary-root start, tip, path and length.

The steps, each in its own module:

1. :mod:`~visionkit.landmarks.plants`: the seedlings, from the shoot and
   seed maps, numbered left to right, each with an anchor where its root
   should begin.
2. :mod:`~visionkit.landmarks.region`: the root pieces reachable from the
   anchors (false positives far from the seedlings never enter).
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

import numpy as np

from visionkit.landmarks.confidence import agreement_factors, start_confidence, tip_confidence
from visionkit.landmarks.gaps import bridge_gaps
from visionkit.landmarks.graph import RootGraph
from visionkit.landmarks.junction import extend_to_junction
from visionkit.landmarks.plants import PlantAnchor, find_plants
from visionkit.landmarks.polyline import arc_length, smooth_path
from visionkit.landmarks.primary import PathChoice, choose_primaries, path_pixels
from visionkit.landmarks.region import root_region
from visionkit.landmarks.result import PlantLandmarks
from visionkit.landmarks.root_end import extend_to_root_end

__all__ = ["find_landmarks", "plant_root_mask"]

logger = logging.getLogger(__name__)

NO_ROOT = "no root found below the shoot"


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


def _graph(
    mask: np.ndarray, anchors: list[PlantAnchor], ppm: float, radius_px: float, gap_px: float
) -> RootGraph:
    """The root graph of the mask's pieces reachable from the anchors, spurs off, gaps bridged."""
    import cv2
    from skimage.morphology import skeletonize

    from visionkit.landmarks.skeleton import skeleton_graph

    window = max(4, round(1.5 * ppm))
    region = root_region(mask, _points(anchors), start_radius_px=radius_px, gap_px=gap_px)
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


def _rival(candidates: list[PathChoice], best: PathChoice, graph: RootGraph, far: float) -> float:
    tip = graph.nodes[best.end]
    for other in candidates:
        if other is best:
            continue
        where = graph.nodes[other.end]
        if float(np.hypot(*(where - tip))) > far:
            return other.score
    return 0.0


def _points(anchors: Sequence[PlantAnchor]) -> list[tuple[float, float]]:
    """Where roots may begin: each anchor, and the base of a plant anchored on its seed."""
    return [(a.x, a.y) for a in anchors] + [a.base for a in anchors if a.base is not None]


def _maps_and_plants(
    root_prob: np.ndarray,
    shoot_prob: np.ndarray,
    seed_prob: np.ndarray | None,
    occluded_prob: np.ndarray | None,
    expected_plants: int,
    px_per_mm: float,
    threshold: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray, list[PlantAnchor]]:
    """Checked maps (root joined by occluded root), the root mask, and the plants."""
    if expected_plants < 1:
        raise ValueError(f"find_landmarks: expected_plants must be >= 1, got {expected_plants}")
    if px_per_mm <= 0:
        raise ValueError(f"find_landmarks: px_per_mm must be positive, got {px_per_mm}")
    root = _prob("root_prob", root_prob, None)
    shoot = _prob("shoot_prob", shoot_prob, root.shape)
    seed = None if seed_prob is None else _prob("seed_prob", seed_prob, root.shape)
    if occluded_prob is not None:
        root = np.maximum(root, _prob("occluded_prob", occluded_prob, root.shape))
    mask = root >= threshold
    anchors = find_plants(
        shoot, seed, expected=expected_plants, px_per_mm=px_per_mm, threshold=threshold
    )
    return root, shoot, seed, mask, anchors


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
) -> np.ndarray:
    """The root (and occluded-root) pixels that belong to the plants, as a bool map.

    The pieces of the root mask that :func:`find_landmarks` would search:
    those beginning within ``start_radius_mm`` of a plant and those within
    ``max_gap_mm`` of a kept piece (see :mod:`~visionkit.landmarks.region`).
    Fibres, scratches and specks away from every root system are left out;
    with no plant found, nothing is kept. Arguments as for
    :func:`find_landmarks`.
    """
    _, _, _, mask, anchors = _maps_and_plants(
        root_prob, shoot_prob, seed_prob, occluded_prob, expected_plants, px_per_mm, threshold
    )
    kept = np.zeros(mask.shape, dtype=bool)
    if not anchors:
        return kept
    region = root_region(
        mask,
        _points(anchors),
        start_radius_px=start_radius_mm * px_per_mm,
        gap_px=max_gap_mm * px_per_mm,
    )
    if not region.empty:
        x0, y0 = region.origin
        h, w = region.mask.shape
        kept[y0 : y0 + h, x0 : x0 + w] = region.mask
    return kept


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
) -> list[PlantLandmarks]:
    """Each plant's primary-root start and tip, path, length and confidences.

    Args:
        root_prob: root probability, ``H x W`` float in [0, 1] (the model's
            working resolution).
        shoot_prob: shoot probability, same shape.
        seed_prob: seed probability, same shape, or ``None``.
        expected_plants: plants sown on the dish; more candidates are cut to
            this many (the heaviest, in a row).
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

    Returns:
        One :class:`PlantLandmarks` per plant found, numbered 1..N left to
        right. Plants not found at all are not listed (the caller, knowing
        the sowing positions, decides how to number them); a plant found
        without root has ``tip=None`` and a ``reason``.

    Raises:
        ValueError: maps that are not 2-D or differ in shape, or a bad parameter.
    """
    began = time.perf_counter()
    root, shoot, seed, mask, anchors = _maps_and_plants(
        root_prob, shoot_prob, seed_prob, occluded_prob, expected_plants, px_per_mm, threshold
    )
    if not anchors:
        logger.info("find_landmarks: no plant found (no shoot or seed above %.2f)", threshold)
        return []
    radius = start_radius_mm * px_per_mm
    graph = _graph(mask, anchors, px_per_mm, radius, max_gap_mm * px_per_mm)

    starts: list[int | None] = []
    wheres: list[tuple[float, float]] = []
    for anchor in anchors:
        where = (anchor.x, anchor.y)
        hit = graph.nearest(where, radius)
        if hit is None and anchor.base is not None:
            # A seed coat beside a long hypocotyl: the root starts at its bottom.
            fallback = graph.nearest(anchor.base, radius)
            if fallback is not None:
                where, hit = anchor.base, fallback
        wheres.append(where)
        starts.append(None if hit is None else graph.split(*hit))
    choices = choose_primaries(graph, starts, short_px=3.0 * px_per_mm)

    # The skeleton's paths are what the confidences judge (is there root
    # here?); the paths carried on to the root's end and back to the
    # junction give start, tip and length.
    skeleton_paths: list[np.ndarray | None] = []
    paths: list[np.ndarray | None] = []
    for best, _ in choices:
        if best is None:
            skeleton_paths.append(None)
            paths.append(None)
            continue
        skeleton = smooth_path(path_pixels(graph, best))
        skeleton_paths.append(skeleton)
        ended = extend_to_root_end(skeleton, root=root, px_per_mm=px_per_mm, threshold=threshold)
        paths.append(
            extend_to_junction(
                ended,
                root=root,
                shoot=shoot,
                seed=seed,
                px_per_mm=px_per_mm,
                threshold=threshold,
            )
        )
    tips = [None if p is None else (float(p[-1, 0]), float(p[-1, 1])) for p in paths]
    agreement = None
    if tip_agreement is not None:
        agreement = agreement_factors(tips, list(tip_agreement), px_per_mm)
    shoot_or_seed = [shoot] if seed is None else [shoot, seed]

    results: list[PlantLandmarks] = []
    for number, (where, (best, candidates), skeleton_path, path) in enumerate(
        zip(wheres, choices, skeleton_paths, paths, strict=True), start=1
    ):
        if best is None or path is None or skeleton_path is None:
            results.append(
                PlantLandmarks(number, None, None, 0.0, 0.0, reason=NO_ROOT, anchor=where)
            )
            continue
        s_conf, s_parts = start_confidence(
            root, shoot_or_seed, skeleton_path, where, px_per_mm=px_per_mm, search_radius_px=radius
        )
        t_conf, t_parts = tip_confidence(
            root,
            skeleton_path,
            px_per_mm=px_per_mm,
            best_score=best.score,
            rival_score=_rival(candidates, best, graph, px_per_mm),
            agreement=None if agreement is None else agreement[number - 1],
        )
        results.append(
            PlantLandmarks(
                plant=number,
                start=(float(path[0, 0]), float(path[0, 1])),
                tip=tips[number - 1],
                start_confidence=s_conf,
                tip_confidence=t_conf,
                path=path,
                length_px=arc_length(path),
                anchor=where,
                components={**s_parts, **t_parts},
            )
        )
    logger.debug(
        "find_landmarks: %d plants in %.1f ms", len(results), 1e3 * (time.perf_counter() - began)
    )
    return results
