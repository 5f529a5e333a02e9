"""Shared small plates: a quarter-scale config keeps every synth test fast."""

from __future__ import annotations

import pytest

from visionkit.synth import SynthConfig, SynthPlate, generate_plate


@pytest.fixture(scope="session")
def small_config() -> SynthConfig:
    """Quarter-scale Hades frames (1050 x 752, about 5 px/mm)."""
    return SynthConfig().scaled(0.25)


@pytest.fixture(scope="session")
def half_config() -> SynthConfig:
    """Half-scale frames with roots long enough to branch (about 10 px/mm)."""
    return SynthConfig(root_length_mm=(30.0, 70.0)).scaled(0.5)


@pytest.fixture(scope="session")
def half_plate(half_config: SynthConfig) -> SynthPlate:
    """One half-scale plate with long roots."""
    return generate_plate(11, half_config)
