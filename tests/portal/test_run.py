"""``make run`` as a user tries it: the portal up under gunicorn with its worker, driven over HTTP.

On SQLite by default; under ``make test-scaled`` on a fresh PostgreSQL database
of its own with Redis as the broker, as ``make run`` runs with those set.

``python -m portal.serve`` (what ``make run`` calls) is started in its own
process group on a free port with its own database, storage and ``var/``
folder. The test then does what the README tells a new user to do: log in
on the page with the printed demo login, get a token, POST a synthetic plate
and the real dish crop (skipped where it is absent), read back five plants,
download the overlay and a CSV export; and Ctrl-C stops the web server and
the worker both.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.e2e  # make test-e2e (after make test in CI) and make test-scaled

REAL_CROP = ROOT.parent / "shared" / "real" / "hades_dish_crop.png"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Portal:
    """A running ``portal.serve`` and what it printed."""

    def __init__(self, process: subprocess.Popen[str], url: str, log: Path) -> None:
        self.process, self.url, self.log = process, url, log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextlib.contextmanager
def _database(home: Path) -> Iterator[str]:
    """A fresh database of the run's own: SQLite, or PostgreSQL when the tests run scaled out."""
    given = os.environ.get("DATABASE_URL", "")
    if not given.startswith("postgres"):
        yield f"sqlite:///{home / 'portal.sqlite3'}"
        return
    import psycopg

    name = f"visionkit_make_run_{os.getpid()}"
    server = given.rsplit("/", 1)[0]
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    home = tmp_path_factory.mktemp("make-run")
    with _database(home) as database_url:
        yield from _serve(home, database_url)


def _serve(home: Path, database_url: str) -> Iterator[Portal]:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VISIONKIT_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    if os.environ.get("VISIONKIT_REDIS_URL"):  # scaled out: Redis as the broker too
        clean["VISIONKIT_REDIS_URL"] = os.environ["VISIONKIT_REDIS_URL"]
    env = {
        **clean,
        "PORT": str(port),
        "DATABASE_URL": database_url,
        "VISIONKIT_VAR_DIR": str(home / "var"),
        "VISIONKIT_MEDIA_ROOT": str(home / "media"),
        "VISIONKIT_STATIC_ROOT": str(home / "static"),
        "VISIONKIT_MODEL_CACHE": str(home / "model-cache"),
        "VISIONKIT_JOB_DIR": str(home / "jobs"),
        "MLFLOW_TRACKING_URI": f"sqlite:///{home / 'mlruns.db'}",
        "VISIONKIT_DEMO_PLATES": "1",
        "VISIONKIT_WEB_WORKERS": "1",
        "VISIONKIT_Q_WORKERS": "1",
    }
    log = home / "serve.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "portal.serve"], cwd=ROOT, env=env, stdout=out,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
    running = Portal(process, f"http://127.0.0.1:{port}/", log)
    deadline = time.monotonic() + 300
    while "Ctrl-C stops" not in running.output():
        if process.poll() is not None or time.monotonic() > deadline:
            os.killpg(process.pid, signal.SIGKILL)
            pytest.fail("portal.serve did not come up:\n" + running.output()[-4000:])
        time.sleep(0.5)
    try:
        yield running
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def _password(portal: Portal) -> str:
    found = re.search(r"logins: viewer, operator, approver, admin; password: (\S+)",
                      portal.output())  # fmt: skip
    assert found, portal.output()[-3000:]
    return found.group(1)


def _token(portal: Portal) -> str:
    answer = requests.post(
        portal.url + "api/auth/token/",
        data={"username": "operator", "password": _password(portal)},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["token"])


def test_the_printed_demo_login_opens_the_portal_page(portal: Portal) -> None:
    session = requests.Session()
    page = session.get(portal.url + "accounts/login/", timeout=30)
    assert page.status_code == 200
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
    assert csrf, page.text[:2000]
    answer = session.post(
        portal.url + "accounts/login/",
        data={"username": "viewer", "password": _password(portal),
              "csrfmiddlewaretoken": csrf.group(1)},
        headers={"Referer": portal.url + "accounts/login/"},
        timeout=30,
    )  # fmt: skip
    assert answer.status_code == 200, answer.text[:2000]
    assert answer.url == portal.url, "the login did not land on the home page"
    assert "viewer" in answer.text


def _plate(tmp_path: Path) -> Path:
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(1, SynthConfig())
    path = tmp_path / "plate.png"
    cv2.imwrite(str(path), plate.image)
    return path


def _predict(portal: Portal, token: str, image: Path) -> dict[str, object]:
    with image.open("rb") as handle:
        answer = requests.post(
            portal.url + "api/predictions/",
            headers={"Authorization": f"Token {token}"},
            files={"image": (image.name, handle, "image/png")},
            timeout=120,
        )
    assert answer.status_code == 201, answer.text[:2000]
    return dict(answer.json())


@pytest.mark.parametrize("which", ["synthetic", "real"])
def test_a_token_and_one_post_give_five_plants_an_overlay_and_a_csv(
    portal: Portal, tmp_path: Path, which: str
) -> None:
    if which == "real" and not REAL_CROP.is_file():
        pytest.skip(f"{REAL_CROP} is not on this machine")
    image = _plate(tmp_path) if which == "synthetic" else REAL_CROP
    token = _token(portal)
    body = _predict(portal, token, image)
    plants = body["plants"]
    assert isinstance(plants, list)
    assert len(plants) == 5, body.get("warnings")
    auth = {"Authorization": f"Token {token}"}
    overlay = requests.get(str(body["overlay_url"]), headers=auth, timeout=30)
    assert overlay.status_code == 200
    assert overlay.headers["Content-Type"] == "image/png"
    decoded = cv2.imdecode(np.frombuffer(overlay.content, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    height, width = int(str(body["height"])), int(str(body["width"]))
    assert max(decoded.shape[:2]) == min(2048, max(height, width))  # a browsable overlay
    assert abs(decoded.shape[1] / decoded.shape[0] - width / height) < 0.01
    exports = body["export_urls"]
    assert isinstance(exports, dict)
    csv = requests.get(str(exports["csv"]), headers=auth, timeout=30)
    assert csv.status_code == 200
    rows = [line for line in csv.text.splitlines() if line.strip()]
    assert len(rows) == 1 + 5, csv.text
    assert requests.get(str(body["overlay_url"]), timeout=30).status_code == 401


def test_readiness_and_the_api_docs_answer(portal: Portal) -> None:
    assert requests.get(portal.url + "readyz", timeout=30).status_code == 200
    docs = requests.get(portal.url + "api/docs/", timeout=30)
    assert docs.status_code == 200
    assert "cdn" not in docs.text.lower()
    script = re.search(r'src="(/static/[^"]+swagger-ui-bundle[^"]*\.js)"', docs.text)
    assert script, docs.text[:2000]
    assert requests.get(portal.url + script.group(1).lstrip("/"), timeout=30).status_code == 200


def test_ctrl_c_stops_the_web_server_and_the_worker(portal: Portal) -> None:
    children = subprocess.run(
        ["pgrep", "-g", str(portal.process.pid)], capture_output=True, text=True, check=False
    ).stdout.split()
    assert len(children) >= 3, "expected the supervisor, gunicorn and qcluster"
    os.killpg(portal.process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    assert portal.process.wait(timeout=60) == 0, portal.output()[-3000:]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        left = subprocess.run(["pgrep", "-g", str(portal.process.pid)], capture_output=True,
                              text=True, check=False).stdout.split()  # fmt: skip
        if not left:
            break
        time.sleep(0.5)
    assert not left, f"still running after Ctrl-C: {left}"
    with pytest.raises(requests.ConnectionError):
        requests.get(portal.url + "healthz", timeout=5)
