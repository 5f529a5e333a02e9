"""Built-in architectures: thin wrappers over segmentation-models-pytorch.

Registered through ``visionkit_register_architectures`` like any plugin's.
Every build uses ``encoder_weights=None``: nothing is downloaded, weights
come from training or a saved model folder. torch and smp are imported only
inside :func:`_build`, so listing architectures stays fast.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from visionkit.hookspecs import hookimpl
from visionkit.specs import ArchitectureSpec

__all__ = ["SMALL_DECODER_CHANNELS", "visionkit_register_architectures"]

#: The small default model's decoder: 3.1 M parameters with mobilenet_v2,
#: fast enough for full plates on two CPU cores.
SMALL_DECODER_CHANNELS = (64, 32, 16, 16, 8)

_SMP_CLASSES: dict[str, tuple[str, str, dict[str, Any]]] = {
    "unet": ("Unet", "U-Net (smp)", {"encoder_name": "resnet34"}),
    "unetplusplus": ("UnetPlusPlus", "U-Net++ (smp)", {"encoder_name": "resnet34"}),
    "fpn": ("FPN", "Feature Pyramid Network (smp)", {"encoder_name": "resnet34"}),
    "deeplabv3plus": ("DeepLabV3Plus", "DeepLabV3+ (smp)", {"encoder_name": "resnet34"}),
    "unet-small": (
        "Unet",
        "small fast U-Net: mobilenet_v2 encoder, slim decoder (the default)",
        {"encoder_name": "mobilenet_v2", "decoder_channels": list(SMALL_DECODER_CHANNELS)},
    ),
}


def _build(
    smp_class: str,
    defaults: dict[str, Any],
    in_channels: int = 1,
    classes: int = 5,
    **params: Any,
) -> Any:
    """Build an smp model; unknown encoders fail listing the valid ones."""
    import segmentation_models_pytorch as smp

    from visionkit.exceptions import UnknownNameError

    options = {**defaults, **params}
    encoder = options.get("encoder_name", "resnet34")
    valid = smp.encoders.get_encoder_names()
    if encoder not in valid:
        raise UnknownNameError("encoder", str(encoder), valid)
    options["encoder_weights"] = None
    if "decoder_channels" in options:
        options["decoder_channels"] = tuple(options["decoder_channels"])
    factory = getattr(smp, smp_class)
    return factory(in_channels=in_channels, classes=classes, **options)


@hookimpl
def visionkit_register_architectures() -> list[ArchitectureSpec]:
    """The smp-based architectures."""
    return [
        ArchitectureSpec(
            name=name,
            build=partial(_build, smp_class, defaults),
            description=description,
            defaults=dict(defaults),
        )
        for name, (smp_class, description, defaults) in _SMP_CLASSES.items()
    ]
