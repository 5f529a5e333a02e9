"""The jobs page's start form in Chromium: the cost estimate follows the fields as they change.

See ``test_plate_pages.py`` for the browser set-up; the screenshot goes to
``artifacts/browser/job-start.png``.
"""

from __future__ import annotations

from typing import Any

import pytest

from portal.accounts.models import User
from portal.jobs.models import Job
from tests.portal.browser.test_plate_pages import CHROMIUM, _axe, _login, _shot
from tests.portal.browser.test_plate_pages import browser as browser
from tests.portal.browser.test_plate_pages import page as page

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed"),
]


def test_an_operator_sees_the_estimate_change_with_the_epochs(
    page: Any, live_server: Any, operator: User, dataset: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SUBSCRIPTION", "RESOURCE_GROUP", "WORKSPACE", "VM_SIZE"):
        monkeypatch.delenv(f"VISIONKIT_AZUREML_{name}", raising=False)
    monkeypatch.delenv("VISIONKIT_PRICE_TABLE", raising=False)
    base = live_server.url
    _login(page, base, "operator")
    page.goto(f"{base}/jobs/")
    line = page.locator("#estimate")
    # The form's defaults: 2 epochs x 64 patches on this server's CPU.
    assert "about 34 s on local-cpu × 1" in line.inner_text()
    assert page.get_by_role("radio", name="Azure ML").is_disabled()
    assert "Azure ML is not configured here" in page.locator("#azureml-hint").inner_text()

    page.get_by_label("Epochs").fill("200")
    page.wait_for_function(
        "() => document.querySelector('#estimate').innerText.includes('56 min')", timeout=10_000
    )
    assert "about 56 min on local-cpu × 1 ≈ $0.02" in line.inner_text()
    page.get_by_label("Patches per epoch").fill("0")
    page.wait_for_function(
        "() => document.querySelector('#estimate').innerText.includes('No estimate')",
        timeout=10_000,
    )
    assert "Patches per epoch: at least 1" in line.inner_text()
    page.get_by_label("Patches per epoch").fill("64")
    page.get_by_label("Epochs").fill("20")
    page.wait_for_function(
        "() => document.querySelector('#estimate').innerText.includes('about 6 min')",
        timeout=10_000,
    )
    _axe(page, "jobs")
    _shot(page, "job-start")
    assert not Job.objects.exists(), "estimating starts nothing"
