"""Locust users that replay synthetic Hades plates against a running portal.

Each simulated user is an operator with a token: mostly it POSTs one plate to
``/api/predictions/`` (the robot's call) and checks the answer is ``201`` with
plants, now and then it lists the last five predictions (what a person
watching the portal's page asks for). Plates are drawn once per locust process,
before any user starts, so drawing them never counts as load.

Environment:

- ``VISIONKIT_LOAD_TOKEN`` (required): an operator's API token.
- ``VISIONKIT_LOAD_PLATES``: how many different plates to cycle through (default 4).
- ``VISIONKIT_LOAD_SCALE``: draw plates at this fraction of the full 4202 x 3006
  Hades frame (``SynthConfig().scaled(s)``; default 1, full frames).
- ``VISIONKIT_LOAD_CROP``: ``1`` sends plates cut to the dish (``SynthPlate.cropped()``),
  as a client that crops before uploading would.

Run it through ``benchmarks/load_portal.py``, which starts the portal and reads
the figures back, or by hand against a portal already up::

    VISIONKIT_LOAD_TOKEN=... .venv/bin/locust -f benchmarks/load/locustfile.py \\
        --headless -u 2 -r 2 -t 60s --host http://127.0.0.1:8000
"""

from __future__ import annotations

import itertools
import logging
import os
from typing import Any

import cv2
import gevent
import locust.stats
from locust import HttpUser, between, events, task

__all__ = ["PlateUser", "make_plates"]

logger = logging.getLogger("visionkit.load")

#: Seed of the replayed plates (the same as ``benchmarks/bench_api.py``'s frames).
SEED = 40
_PLATES: list[tuple[str, bytes]] = []
_USERS = itertools.count()  # each new user starts the plate cycle one further on


def make_plates(n: int, scale: float = 1.0, crop: bool = False) -> list[tuple[str, bytes]]:
    """``n`` synthetic plates as (name, PNG bytes) at ``scale``, cut to the dish if ``crop``."""
    from visionkit.synth import SynthConfig, generate_plate

    config = SynthConfig() if scale == 1.0 else SynthConfig().scaled(scale)
    plates = []
    for index in range(n):
        plate = generate_plate(SEED, config, index=index)
        if crop:
            plate = plate.cropped()
        ok, png = cv2.imencode(".png", plate.image)
        if not ok:
            raise RuntimeError(f"could not encode plate {index} as PNG")
        name = plate.name if plate.name.endswith(".png") else f"{plate.name}.png"
        plates.append((name, png.tobytes()))
        logger.info("plate %d: %s, %dx%d px, %.1f MB as PNG", index, name,
                    plate.image.shape[1], plate.image.shape[0], png.nbytes / 1e6)  # fmt: skip
    return plates


@events.init.add_listener
def _draw_plates(environment: Any, **kwargs: Any) -> None:
    """Draw the plates once, when locust starts, before the first user spawns."""
    n = int(os.environ.get("VISIONKIT_LOAD_PLATES", "4"))
    scale = float(os.environ.get("VISIONKIT_LOAD_SCALE", "1"))
    crop = os.environ.get("VISIONKIT_LOAD_CROP", "0") == "1"
    _PLATES[:] = make_plates(n, scale, crop)


@events.test_stop.add_listener
def _let_the_csv_catch_up(environment: Any, **kwargs: Any) -> None:
    """Wait for locust's CSV writer to write the final figures before locust shuts down.

    The writer rewrites ``*_stats.csv`` once every ``CSV_STATS_INTERVAL_SEC`` and
    does not write again when the files close, so the requests that finish
    during ``--stop-timeout`` (the last of each user) would be missing from it.
    This listener runs once every user has stopped; sleeping here lets the
    writer run once more on the final figures.
    """
    gevent.sleep(2 * locust.stats.CSV_STATS_INTERVAL_SEC + 0.5)


class PlateUser(HttpUser):
    """An operator's client: uploads plates back to back, and sometimes lists the latest."""

    wait_time = between(0.05, 0.2)

    def on_start(self) -> None:
        """Take the token from the environment; start the plate cycle at this user's own place."""
        token = os.environ.get("VISIONKIT_LOAD_TOKEN")
        if not token:
            raise RuntimeError("set VISIONKIT_LOAD_TOKEN to an operator's API token")
        self.client.headers["Authorization"] = f"Token {token}"
        start = next(_USERS) % len(_PLATES)
        self._plates = itertools.islice(itertools.cycle(_PLATES), start, None)

    @task(10)
    def predict(self) -> None:
        """POST one plate; a success is ``201`` with at least one plant in the answer."""
        name, png = next(self._plates)
        with self.client.post(
            "/api/predictions/",
            files={"image": (name, png, "image/png")},
            name="/api/predictions/",
            timeout=600,
            catch_response=True,
        ) as answer:
            if answer.status_code != 201:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
            elif not answer.json().get("plants"):
                answer.failure(f"201 without plants: {answer.text[:200]}")
            else:
                answer.success()

    @task(1)
    def latest(self) -> None:
        """GET the five latest predictions, as the portal's list page does."""
        self.client.get("/api/predictions/?page_size=5", timeout=600)
