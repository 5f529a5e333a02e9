"""root_region: which root pieces the search may use."""

from __future__ import annotations

import numpy as np

from visionkit.landmarks.region import root_region


def _mask():
    mask = np.zeros((400, 400), bool)
    mask[105:200, 100] = True  # the root, just below an anchor at (100, 100)
    mask[220:300, 100] = True  # its continuation past a 20 px gap
    mask[350:352, 10:390] = True  # a streak far from both
    mask[50:60, 300] = True  # something above and beside
    return mask


def test_pieces_reached_from_the_anchor_within_the_gap_are_kept():
    region = root_region(_mask(), [(100.0, 100.0)], start_radius_px=30, gap_px=30)

    x0, y0 = region.origin
    kept = np.argwhere(region.mask) + np.array([y0, x0])
    assert not region.empty
    assert {int(x) for _, x in kept} == {100}
    assert kept[:, 0].min() == 105
    assert kept[:, 0].max() == 299


def test_a_smaller_gap_limit_drops_the_continuation():
    region = root_region(_mask(), [(100.0, 100.0)], start_radius_px=30, gap_px=10)

    assert region.origin[1] + region.mask.shape[0] == 200


def test_nothing_near_an_anchor_gives_an_empty_region():
    assert root_region(_mask(), [(250.0, 150.0)], start_radius_px=30, gap_px=30).empty
    assert root_region(_mask(), [], start_radius_px=30, gap_px=30).empty
    assert root_region(np.zeros((50, 50), bool), [(10.0, 10.0)], start_radius_px=5, gap_px=5).empty
