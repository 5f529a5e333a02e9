"""What tests share besides fixtures: plates whose answer is known, folders and tiny models.

- :mod:`tests.helpers.plates`: :func:`~tests.helpers.plates.draw_plate` draws a
  plate with seedlings at known places (image, masks, true starts and tips);
  :func:`~tests.helpers.plates.write_plate` saves one in the Hades convention.
- :mod:`tests.helpers.models`: the band model (a real module that classifies
  pixels by grey level), the oracle (the same, sharp enough to be exact), and
  the tiny random U-Net, in memory or saved as model folders.
- :mod:`tests.helpers.band_plugin`: the ``band`` architecture as a plugin file.
- :mod:`tests.helpers.folders`: Hades-convention folders for the data tests.
- :mod:`tests.helpers.training`: the tiny training runs' model and settings.

Tests import from here; ``conftest.py`` files hold only fixtures (as
segmentation-models-pytorch keeps one base tester).
"""
