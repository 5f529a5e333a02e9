"""The pages in a real browser: Playwright driving Debian's Chromium against a live server.

A person logs in, drops a plate on the Predict page, and checks the viewer:
the tips marked on the plate and the plant table; a mask layer toggled; the
dashboard showing the plate. axe-core runs on each page (no critical or
serious accessibility violation). Screenshots go to ``artifacts/browser/``
(git-ignored) for a person to look at. Skipped where ``/usr/bin/chromium``
is missing (``.ci/run`` installs it); nothing downloads a browser.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from portal.accounts.models import User
from tests.portal.conftest import PASSWORD
from tests.portal.predictions.conftest import REAL_CROP

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[3]
SHOTS = ROOT / "artifacts" / "browser"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Playwright's sync API runs an event loop; Django's async-safety check must allow the ORM.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    opened = context.new_page()
    yield opened
    context.close()


def _login(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base}/")


def _axe(page: Any, where: str) -> None:
    """axe-core in the page: no critical or serious violation."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    bad = [f"{v['id']} ({v['impact']}): {v['help']}" for v in found
           if v["impact"] in ("critical", "serious")]  # fmt: skip
    assert not bad, f"{where}: " + "; ".join(bad)


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _plate_file(tmp_path: Path) -> Path:
    from visionkit.synth import SynthConfig, generate_plate

    plate = generate_plate(1, SynthConfig())
    path = tmp_path / (plate.name if plate.name.endswith(".png") else f"{plate.name}.png")
    cv2.imwrite(str(path), plate.image)
    return path


def _predict_in_the_page(page: Any, base: str, image: Path) -> None:
    page.goto(f"{base}/predictions/new/")
    _axe(page, "upload")
    page.set_input_files("#images", str(image))
    page.get_by_role("button", name="Find the root tips").click()
    page.wait_for_url("**/predictions/*/", timeout=120_000)
    page.wait_for_selector("#viewer[data-ready='true']", timeout=60_000)


@pytest.mark.parametrize("which", ["synthetic", "real"])
def test_an_operator_drops_a_plate_and_sees_five_tips_and_five_rows(
    page: Any,
    live_server: Any,
    operator: User,
    production_model: Any,
    tmp_path: Path,
    which: str,
) -> None:
    if which == "real" and not REAL_CROP.is_file():
        pytest.skip(f"{REAL_CROP} is not on this machine")
    image = _plate_file(tmp_path) if which == "synthetic" else REAL_CROP
    base = live_server.url
    _login(page, base, "operator")
    _predict_in_the_page(page, base, image)

    tips = page.locator(".mark.act, .mark.unsure")
    assert tips.count() == 5
    assert page.locator("#plants tbody tr").count() == 5
    page.wait_for_selector("#viewer[data-layerroot='ready']", timeout=60_000)
    _axe(page, "viewer")
    _shot(page, f"viewer-{which}")

    root_opacity = "() => window.plateLayers.root.getOpacity()"
    assert page.evaluate(root_opacity) == 0.5
    page.locator('.layer-toggle[data-layer="root"]').uncheck()
    assert page.evaluate(root_opacity) == 0
    page.locator('.layer-toggle[data-layer="root"]').check()
    page.locator('.layer-opacity[data-layer="root"]').fill("0.8")
    assert page.evaluate(root_opacity) == 0.8
    page.get_by_label("tips and starts").uncheck()
    assert page.locator("#viewer.hide-marks").count() == 1

    page.goto(f"{base}/")
    assert page.locator(".plate-card").count() >= 1
    _axe(page, "dashboard")
    _shot(page, f"dashboard-{which}")


def test_a_file_that_is_not_an_image_is_named_before_upload_and_refused_by_the_server(
    page: Any, live_server: Any, operator: User, production_model: Any, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("not a plate")
    base = live_server.url
    _login(page, base, "operator")
    page.goto(f"{base}/predictions/new/")
    page.set_input_files("#images", str(notes))
    assert "not a plate image" in page.locator("#chosen").inner_text()
    page.get_by_role("button", name="Find the root tips").click()
    assert page.url.endswith("/predictions/new/"), "the page sent a file it had refused"

    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG not really an image")
    page.set_input_files("#images", str(fake))
    page.get_by_role("button", name="Find the root tips").click()
    page.wait_for_load_state()
    assert page.locator(".messages .error").count() == 1
    _shot(page, "upload-refused")


def test_a_viewer_reads_plates_but_has_no_predict_page(
    page: Any, live_server: Any, viewer: User
) -> None:
    base = live_server.url
    _login(page, base, "viewer")
    assert page.get_by_role("link", name="Predict").count() == 0
    assert "No plate has been predicted yet" in page.locator("main").inner_text()
    page.get_by_role("link", name="viewer").click()
    page.get_by_role("button", name="Make a token").click()
    assert page.get_by_label("Your new token (shown only now)").input_value()
    _axe(page, "account")
    answer = page.goto(f"{base}/predictions/new/")
    assert answer is not None
    assert answer.status == 403


def test_an_operator_moves_a_tip_rejects_another_and_the_csv_uses_the_review(
    page: Any, live_server: Any, operator: User, production_model: Any, tmp_path: Path
) -> None:
    import csv
    import io

    base = live_server.url
    _login(page, base, "operator")
    _predict_in_the_page(page, base, _plate_file(tmp_path))
    before = page.evaluate("() => JSON.parse(document.getElementById('plate-data').textContent)")
    first = before["plants"][0]
    tip = page.get_by_role("img", name=re.compile(rf"^plant {first['plant']} tip"))
    tip.focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")  # 2 px a press
    page.get_by_role("button", name=f"reject plant {before['plants'][1]['plant']}'s tip").click()
    page.get_by_role("button", name="Save review").click()
    page.wait_for_selector("#review-status:has-text('review 1 saved')")
    _axe(page, "viewer in review")
    _shot(page, "viewer-review")

    url = f"{base}/api/predictions/{page.url.rstrip('/').rsplit('/', 1)[1]}/export/?format=csv"
    rows = {r["plant"]: r for r in csv.DictReader(io.StringIO(page.request.get(url).text()))}
    moved = rows[str(first["plant"])]
    x_column = next(k for k in moved if k.startswith("tip_x"))
    assert float(moved[x_column]) == pytest.approx(first["tip"]["x"] + 10, abs=0.11)
    assert rows[str(before["plants"][1]["plant"])][x_column] == ""

    page.reload()
    assert "Reviewed (review 1) by operator" in page.locator("main").inner_text()
