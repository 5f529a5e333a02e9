"""A test plugin: the ``band`` architecture, whose classes come from grey levels.

``band_net()`` is a real torch module whose logits peak at each class's grey
level (agar light, seed light grey, shoot mid grey, root dark), so pipeline
tests can assert what a user would notice: a dark root drawn at a known
place is found there. It is pixel-wise, so tiling must reproduce its output
exactly. Registered with ``--plugin tests/helpers/band_plugin.py`` or
``VISIONKIT_PLUGINS``, exactly as a third party's architecture would be.
"""

from __future__ import annotations

from typing import Any

from visionkit import hookimpl
from visionkit.specs import ArchitectureSpec

#: Grey levels: agar (background), root, shoot, seed, and the dark rim.
AGAR, ROOT, SHOOT, SEED, RIM = 200, 60, 120, 160, 10


def band_net(classes: int = 5, sharpness: float = 40.0) -> Any:
    """A pixel-wise module: ``logit_c = -sharpness * (x - centre_c)^2``.

    With ``classes`` other than 5, only the first ``classes`` bands are
    output (a model made for other classes).
    """
    import torch

    levels = (torch.tensor([AGAR, ROOT, SHOOT, SEED, -500.0]) / 255.0 - 0.5) / 0.25

    class BandNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("centres", levels[:classes].reshape(1, classes, 1, 1).clone())
            self.sharpness = sharpness

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return -self.sharpness * (x - self.centres) ** 2

    return BandNet().eval()


def _build(in_channels: int = 1, classes: int = 5, **params: Any) -> Any:
    return band_net(classes)


@hookimpl
def visionkit_register_architectures() -> list[ArchitectureSpec]:
    """The ``band`` test architecture."""
    return [ArchitectureSpec("band", _build, "grey-level bands (tests only)")]
