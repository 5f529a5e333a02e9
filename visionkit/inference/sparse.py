"""Run the network only where a plant can be: skip the empty agar below the roots.

Roots, shoots and seeds cover a few per cent of a dish, yet a dense pass
spends the same multiply-accumulates on every pixel. The plants of a dish
lie in a band: five seedlings in a row near the top, their roots growing
down from it, and below them agar no root reached.
:func:`run_sparse_pass` runs the full model only over that band, with the
dense pass's own large tiles (the network needs context: small tiles lost
tips even when none was skipped), and grows the band until no plant leaves it:

1. **start band**: the same model runs once on the image shrunk by
   :data:`~visionkit.inference.gate.COARSE_FACTOR`
   (:func:`~visionkit.inference.gate.coarse_gate`, about a tenth of the
   dense pass's work); the band runs from the dish's top down to the coarse
   pass's lowest foreground pixel (outside the dish's rim, :data:`RIM`) and
   :data:`CONTEXT` rows more, and at least over the top :data:`SOWN_SHARE`,
   where the row is sown: a late seedling a few pixels long is invisible at
   the coarse scale, while a droplet or a speck lower down may not be. It
   spans the *whole width* (so a seedling the coarse pass missed in the row
   is still run) and is tiled like the dense pass (balanced tiles up to
   ``tile``, ``overlap`` shared).
2. **growth**: where a run strip's output has foreground above
   :data:`GROW_THRESHOLD` within :data:`GROW_MARGIN` rows of its bottom
   edge, a strip of :data:`GROW_STEP` more rows is run below it,
   overlapping the band by ``overlap`` rows (blended, so the seam gets
   context from both sides), and so on until no root leaves the band: a root
   is followed to its tip however faint the coarse pass found it.
3. **fill**: rows no strip covered are background with probability 1.

If the coarse pass finds nothing, every row is run (a dense pass): nothing
is skipped on a guess. :class:`SparseStats` lists the tiles run and the
coarse input, so benchmarks can report the multiply-accumulates spent.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from visionkit.inference.gate import COARSE_FACTOR, RunFn, check_logits, coarse_gate
from visionkit.inference.temperature import softmax
from visionkit.inference.tiling import TileBlender, balanced_tile, tiles

__all__ = [
    "CONTEXT",
    "GROW_MARGIN",
    "GROW_STEP",
    "GROW_THRESHOLD",
    "RIM",
    "SOWN_SHARE",
    "SparseStats",
    "run_sparse_pass",
]

logger = logging.getLogger(__name__)

#: Rows added below the coarse pass's lowest foreground for the start band
#: (64 lost seed F1 on one fresh validation set; 128 kept it on three, see
#: docs/predict.md#skipping-empty-agar).
CONTEXT = 128

#: Rows at the working image's top and bottom whose coarse foreground is
#: ignored: the image is the dish's box, so they hold its dark rim (and
#: condensation), which the coarse pass can take for seed or root; no
#: seedling is sown there, and growth still follows a root into them.
RIM = 48

#: The share of the dish's rows, from its top, that the band always covers:
#: the seedlings are sown in a row near the top (15-20 % of the way down on
#: the project's plates, about 13 % on the real crop), and a plate of late,
#: tiny seedlings gives the coarse pass nothing to see there.
SOWN_SHARE = 1 / 3

#: Rows a growth strip adds beyond the band's edge.
GROW_STEP = 256

#: Full-model foreground probability near a strip's edge that grows the band.
GROW_THRESHOLD = 0.05

#: How many rows inside a strip's edge foreground grows the band.
GROW_MARGIN = 16


@dataclass
class SparseStats:
    """What one sparse pass computed.

    Attributes:
        height: rows of the working image.
        rows: ``(first, last + 1)`` rows the strips covered.
        tile_shapes: ``(height, width)`` of every tile the full model ran on.
        coarse_shape: ``(height, width)`` of the coarse pass's input;
            ``(0, 0)`` when a gate was given.
        waves: strips run (1 when the start band held every plant).
    """

    height: int
    rows: tuple[int, int]
    tile_shapes: list[tuple[int, int]] = field(default_factory=list)
    coarse_shape: tuple[int, int] = (0, 0)
    waves: int = 0

    @property
    def tiles_run(self) -> int:
        """Tiles the full model ran on."""
        return len(self.tile_shapes)

    @property
    def skipped(self) -> float:
        """The share of the working image's rows no strip covered, in [0, 1]."""
        return 1.0 - (self.rows[1] - self.rows[0]) / self.height if self.height else 0.0

    @property
    def pixels(self) -> int:
        """Input pixels the network computed: the coarse pass's and every tile's."""
        (ch, cw) = self.coarse_shape
        return ch * cw + sum(h * w for h, w in self.tile_shapes)


def _strip_tiles(
    top: int, bottom: int, full_h: int, full_w: int, tile: int, overlap: int, multiple: int
) -> tuple[list[tuple[int, int]], tuple[int, int]]:
    """Tiles covering rows ``top..bottom`` of a ``full_h`` x ``full_w`` image, and their shape.

    Tiles are balanced as in the dense pass; a strip shorter than a tile's
    rounded height is moved up so its tiles stay inside the image.
    """
    tile_h = min(full_h, balanced_tile(bottom - top, tile, overlap, multiple))
    tile_w = balanced_tile(full_w, tile, overlap, multiple)
    height = max(bottom - top, tile_h)
    top = max(0, min(top, full_h - height))
    positions = tiles(height, full_w, (tile_h, tile_w), min(overlap, tile_h - 1, tile_w - 1))
    return [(y + top, x) for y, x in positions], (tile_h, tile_w)


def run_sparse_pass(
    run: RunFn,
    planes: np.ndarray,
    *,
    classes: int,
    batch: int,
    temperature: float,
    multiple: int,
    tile: int = 768,
    overlap: int = 64,
    gate: np.ndarray | None = None,
    coarse: float = COARSE_FACTOR,
    step: int = GROW_STEP,
) -> tuple[np.ndarray, SparseStats]:
    """Blended ``(classes, H, W)`` probabilities of ``(C_in, H, W)`` planes, empty rows skipped.

    See the module docstring. Channel 0 must be the background class.

    Args:
        tile: largest tile side (the dense pass's ``SegmentSettings.tile``).
        overlap: pixels neighbouring tiles and strips share.
        gate: ``(H, W)`` bool, the pixels whose rows start the band, instead
            of the coarse pass; growth follows roots from there.
        coarse: the coarse pass's scale relative to the working scale.
        step: rows a growth strip adds.

    Raises:
        ModelError: the model's output does not fit its config.
        ValueError: ``gate`` is not the planes' size.
    """
    _, height, width = planes.shape
    if gate is not None and gate.shape != (height, width):
        raise ValueError(f"gate must be {height} x {width} like the planes, got {gate.shape}")
    coarse_shape = (0, 0)
    if gate is None:
        gate, coarse_shape = coarse_gate(
            run, planes, classes=classes, temperature=temperature, multiple=multiple,
            factor=coarse,
        )  # fmt: skip
    pad_h, pad_w = -height % multiple, -width % multiple
    if pad_h or pad_w:
        planes = np.pad(planes, ((0, 0), (0, pad_h), (0, pad_w)), mode="symmetric")
    full_h, full_w = planes.shape[1:]
    rim = min(RIM, height // 4)
    found = np.flatnonzero(gate[rim : height - rim].any(axis=1)) + rim
    if found.size:
        sown = math.ceil(height * SOWN_SHARE)
        band = (0, min(height, max(sown, int(found[-1]) + 1 + CONTEXT)))
    else:
        band = (0, height)  # nothing seen: skip nothing
    stats = SparseStats(height=height, rows=(0, 0), coarse_shape=coarse_shape)
    blender = TileBlender(classes, full_h, full_w, overlap)
    strips = [band]
    while strips:
        top, bottom = strips.pop(0)
        stats.waves += 1
        grow_down, last = _run_strip(
            run, planes, blender, stats, top, bottom,
            classes=classes, batch=batch, temperature=temperature, tile=tile,
            overlap=overlap, multiple=multiple,
        )  # fmt: skip
        last = min(height, last)
        was = stats.rows
        stats.rows = (0, max(was[1], last))
        if grow_down and last >= was[1] and last < height:
            strips.append((last - overlap, min(height, last + step)))
    fill = np.zeros(classes, dtype=np.float32)
    fill[0] = 1.0
    result = blender.result(fill=fill)[:, :height, :width]
    logger.debug(
        "sparse pass: rows %d-%d of %d, %d tile(s) in %d strip(s)",
        stats.rows[0], stats.rows[1], height, stats.tiles_run, stats.waves,
    )  # fmt: skip
    return result, stats


def _run_strip(
    run: RunFn,
    planes: np.ndarray,
    blender: TileBlender,
    stats: SparseStats,
    top: int,
    bottom: int,
    *,
    classes: int,
    batch: int,
    temperature: float,
    tile: int,
    overlap: int,
    multiple: int,
) -> tuple[bool, int]:
    """Run the tiles over rows ``top..bottom`` into ``blender``; whether a root leaves it.

    Returns whether the output has foreground within :data:`GROW_MARGIN`
    rows of the strip's bottom, and the last + 1 row its tiles covered.
    """
    full_h, full_w = planes.shape[1:]
    positions, (tile_h, tile_w) = _strip_tiles(top, bottom, full_h, full_w, tile, overlap, multiple)
    last = max(y for y, _ in positions) + tile_h
    background = np.float32(1.0 - GROW_THRESHOLD)
    down = False
    for start in range(0, len(positions), batch):
        group = positions[start : start + batch]
        stack = np.stack([planes[:, y : y + tile_h, x : x + tile_w] for y, x in group])
        logits = run(stack)
        check_logits(logits, stack, classes)
        probs = softmax(logits, axis=1, temperature=temperature)
        for (y, x), values in zip(group, probs, strict=True):
            blender.add(values, y, x)
            stats.tile_shapes.append((tile_h, tile_w))
            if y + tile_h == last:
                down = down or bool((values[0, -GROW_MARGIN:] < background).any())
    return down, last
