"""The plates of the predictions' tests, for the calibration tests too."""

from tests.portal.predictions.conftest import synthetic_plate

__all__ = ["synthetic_plate"]
