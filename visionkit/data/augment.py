"""Seeded augmentations for training patches, applied alike to image and labels.

Geometric changes (flips) move the label map with the image; photometric
ones (brightness, contrast, gamma, blur, noise) touch the image only. Every
random draw comes from the :class:`numpy.random.Generator` passed in, so a
patch is reproducible from its seed.

Vertical flips are off by default: plants grow downward (shoot up, root
down), so an upside-down seedling is outside the domain the model will see
and teaches it to look for tips at the top.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Augment"]


@dataclass(frozen=True)
class Augment:
    """A recipe of random changes; call it with ``(image, labels, rng)``.

    Attributes:
        hflip: probability of a left-right flip.
        vflip: probability of an up-down flip (0 by default, see module docs).
        brightness: the image shifts by ``U(-brightness, brightness)`` (image
            range is [0, 1]).
        contrast: the image is scaled about its mean by ``1 + U(-contrast, contrast)``.
        gamma: ``(low, high)``: the image is raised to a log-uniform power in
            this range; ``(1, 1)`` turns it off.
        blur_p: probability of a Gaussian blur, with sigma ``U(*blur_sigma)``.
        blur_sigma: ``(low, high)`` blur sigma in pixels.
        noise_p: probability of additive Gaussian noise, std ``U(0, noise_std)``.
        noise_std: the largest noise standard deviation (image range [0, 1]).
    """

    hflip: float = 0.5
    vflip: float = 0.0
    brightness: float = 0.1
    contrast: float = 0.2
    gamma: tuple[float, float] = (0.8, 1.25)
    blur_p: float = 0.2
    blur_sigma: tuple[float, float] = (0.5, 1.5)
    noise_p: float = 0.3
    noise_std: float = 0.03

    def __post_init__(self) -> None:
        for name in ("hflip", "vflip", "blur_p", "noise_p"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Augment.{name} is a probability in [0, 1], got {value}")
        for name in ("brightness", "contrast", "noise_std"):
            if getattr(self, name) < 0:
                raise ValueError(f"Augment.{name} must be >= 0, got {getattr(self, name)}")
        low, high = self.gamma
        if not 0 < low <= high:
            raise ValueError(
                f"Augment.gamma must be (low, high) with 0 < low <= high, got {self.gamma}"
            )
        low, high = self.blur_sigma
        if not 0 < low <= high:
            raise ValueError(
                "Augment.blur_sigma must be (low, high) with 0 < low <= high, "
                f"got {self.blur_sigma}"
            )

    @classmethod
    def none(cls) -> Augment:
        """A recipe that changes nothing (for evaluation or debugging)."""
        return cls(
            hflip=0.0,
            brightness=0.0,
            contrast=0.0,
            gamma=(1.0, 1.0),
            blur_p=0.0,
            noise_p=0.0,
        )

    def __call__(
        self, image: np.ndarray, labels: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """Augment one patch.

        Args:
            image: ``float32`` in [0, 1], ``(H, W)`` or ``(H, W, C)``.
            labels: integer label map ``(H, W)``.
            rng: the source of every random draw.

        Returns:
            New ``(image, labels)`` arrays; the inputs are not modified. The
            image stays ``float32`` in [0, 1].
        """
        out = np.asarray(image, dtype=np.float32)
        lab = labels
        # Draw every random number in a fixed order, whether or not it is used,
        # so toggling one option never changes the others' draws.
        draws = rng.random(4)
        shift = rng.uniform(-self.brightness, self.brightness) if self.brightness else 0.0
        scale = 1.0 + (rng.uniform(-self.contrast, self.contrast) if self.contrast else 0.0)
        low, high = self.gamma
        power = float(np.exp(rng.uniform(np.log(low), np.log(high)))) if high > low else low
        sigma = rng.uniform(*self.blur_sigma)
        std = rng.uniform(0.0, self.noise_std)
        if draws[0] < self.hflip:
            out, lab = out[:, ::-1], lab[:, ::-1]
        if draws[1] < self.vflip:
            out, lab = out[::-1], lab[::-1]
        if scale != 1.0 or shift:
            mean = float(out.mean())
            out = (out - mean) * scale + mean + shift
        out = np.clip(out, 0.0, 1.0)
        if power != 1.0:
            out = np.power(out, power, dtype=np.float32)
        if draws[2] < self.blur_p:
            import cv2

            out = np.asarray(cv2.GaussianBlur(np.ascontiguousarray(out), (0, 0), sigma), np.float32)
        if draws[3] < self.noise_p and std > 0:
            out = out + rng.normal(0.0, std, size=out.shape).astype(np.float32)
        out = np.clip(out, 0.0, 1.0).astype(np.float32, copy=False)
        return np.ascontiguousarray(out), np.ascontiguousarray(lab)
