"""Built-in smp architectures build offline and segment a tiny input."""

from __future__ import annotations

import pytest

from visionkit import plugins
from visionkit.exceptions import UnknownNameError
from visionkit.specs import ArchitectureSpec

torch = pytest.importorskip("torch", reason="the ml extra (torch) is not installed")

# Small encoders keep each build well under a second on two CPU cores.
_CASES = {
    "unet-small": {},
    "unet": {"encoder_name": "resnet18"},
    "unetplusplus": {"encoder_name": "resnet18"},
    "fpn": {"encoder_name": "resnet18"},
    "deeplabv3plus": {"encoder_name": "resnet18"},
}


@pytest.fixture(scope="module")
def specs() -> dict[str, ArchitectureSpec]:
    return plugins.architecture_specs(plugins.get_plugin_manager(autoload=False))


@pytest.mark.parametrize("name", sorted(_CASES))
def test_architecture_maps_a_grey_patch_to_class_logits(
    specs: dict[str, ArchitectureSpec], name: str
) -> None:
    model = specs[name].build(in_channels=1, classes=5, **_CASES[name])
    model.eval()
    with torch.no_grad():
        out = model(torch.rand(2, 1, 64, 64))
    assert tuple(out.shape) == (2, 5, 64, 64)


def test_small_default_is_about_three_million_parameters(
    specs: dict[str, ArchitectureSpec],
) -> None:
    model = specs["unet-small"].build(in_channels=1, classes=5)
    n = sum(p.numel() for p in model.parameters())
    assert 2_500_000 < n < 3_700_000


def test_unknown_encoder_lists_valid_encoders(specs: dict[str, ArchitectureSpec]) -> None:
    with pytest.raises(UnknownNameError, match="resnet34") as info:
        specs["unet"].build(encoder_name="resnet-35")
    assert info.value.kind == "encoder"
