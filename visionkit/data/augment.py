"""Seeded augmentations for training patches, applied alike to image and labels.

Geometric changes (flips, small rotations) move the label map with the
image; photometric ones (brightness, contrast, an illumination gradient,
gamma, blur, noise) touch the image only. Rotations stay small because roots
grow roughly downward; the gradient stands in for uneven lighting across a
plate, which other imaging set-ups show more than ours. Every
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
        rotate_p: probability of a rotation by ``U(-rotate_deg, rotate_deg)``
            degrees about the patch centre (edges mirrored, labels nearest).
        rotate_deg: the largest rotation in degrees.
        gradient: the image is multiplied by a linear ramp across the patch,
            ``1 +- U(0, gradient)`` at its edges, in a random direction.
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
    rotate_p: float = 0.3
    rotate_deg: float = 15.0
    gradient: float = 0.15

    def __post_init__(self) -> None:
        for name in ("hflip", "vflip", "blur_p", "noise_p", "rotate_p"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"Augment.{name} is a probability in [0, 1], got {value}")
        for name in ("brightness", "contrast", "noise_std", "rotate_deg", "gradient"):
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
            rotate_p=0.0,
            gradient=0.0,
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
        rotate = rng.random() < self.rotate_p
        angle = rng.uniform(-self.rotate_deg, self.rotate_deg)
        ramp = rng.uniform(0.0, self.gradient)
        direction = rng.uniform(0.0, 2.0 * np.pi)
        if draws[0] < self.hflip:
            out, lab = out[:, ::-1], lab[:, ::-1]
        if draws[1] < self.vflip:
            out, lab = out[::-1], lab[::-1]
        if rotate and angle:
            out, lab = _rotate(out, lab, angle)
        if scale != 1.0 or shift:
            mean = float(out.mean())
            out = (out - mean) * scale + mean + shift
        if ramp:
            out = out * _ramp(out.shape[:2], ramp, direction).reshape(
                out.shape[:2] + (1,) * (out.ndim - 2)
            )
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


def _rotate(image: np.ndarray, labels: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate image (bilinear) and labels (nearest) about the centre, edges mirrored."""
    import cv2

    height, width = labels.shape[:2]
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2.0, (height - 1) / 2.0), degrees, 1.0)
    size = (width, height)
    turned = cv2.warpAffine(
        np.ascontiguousarray(image),
        matrix,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    turned_labels = cv2.warpAffine(
        np.ascontiguousarray(labels).astype(np.uint8),
        matrix,
        size,
        flags=cv2.INTER_NEAREST,
        borderMode=cv2.BORDER_REFLECT_101,
    )
    return np.asarray(turned, np.float32).reshape(image.shape), np.asarray(
        turned_labels, labels.dtype
    )


def _ramp(shape: tuple[int, ...], amplitude: float, direction: float) -> np.ndarray:
    """A linear field from ``1 - amplitude`` to ``1 + amplitude`` along ``direction``."""
    height, width = shape
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    along = np.float32(np.cos(direction)) * xs + np.float32(np.sin(direction)) * ys
    peak = float(np.abs(along).max()) or 1.0
    return (1.0 + np.float32(amplitude / peak) * along).astype(np.float32)
