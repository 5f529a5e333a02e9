"""The predictions' pages through Django's test client: roles, empty states, errors, content."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.jobs.models import Job
from portal.predictions.models import Prediction

pytestmark = pytest.mark.django_db


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _file(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def test_empty_pages_say_what_to_do_next(operator: User, viewer: User) -> None:
    home = _logged_in(operator).get("/").content.decode()
    assert "No model is in production yet" in home
    assert "Drop a plate image" in home
    plates = _logged_in(viewer).get("/predictions/").content.decode()
    assert "No plate matches" in plates
    assert "ask an operator" in plates
    assert 'href="/predictions/new/"' not in plates


def test_one_dropped_plate_opens_in_the_viewer_with_its_plant_table(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    client = _logged_in(operator)
    response = client.post("/predictions/new/", {"images": _file(name, data)})
    prediction = Prediction.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/predictions/{prediction.pk}/"
    assert prediction.source == "page"
    page = client.get(response["Location"]).content.decode()
    assert page.count('<th scope="row">') == prediction.n_plants == 5
    for label in ("csv", "coco", "json", "ot2", "overlay", "root mask"):
        assert f">{label}</a>" in page, label
    assert 'id="plate-data"' in page


def test_several_plates_become_one_batch_job(
    operator: User,
    production_model: Any,
    synthetic_plate: tuple[str, bytes],
    django_capture_on_commit_callbacks: Any,
) -> None:
    name, data = synthetic_plate
    client = _logged_in(operator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/predictions/new/", {"images": [_file(name, data), _file("b.png", data)]}
        )
    assert response.status_code == 302
    job = Job.objects.get()
    assert job.kind == "predict"
    listed = client.get("/predictions/").content.decode()
    assert f"job {job.pk}" in listed
    assert listed.count('class="plate-card"') == 2


def test_bad_uploads_get_a_message_on_the_page_and_nothing_is_kept(
    operator: User, production_model: Any, settings: Any
) -> None:
    client = _logged_in(operator)
    empty = client.post("/predictions/new/", {})
    assert empty.status_code == 400
    assert "Choose or drop at least one plate image" in empty.content.decode()

    fake = client.post("/predictions/new/", {"images": _file("fake.png", b"\x89PNG nope")})
    assert fake.status_code == 400
    assert "fake.png" in fake.content.decode()

    settings.VISIONKIT_MAX_UPLOAD_BYTES = 1024
    big = client.post("/predictions/new/", {"images": _file("big.png", b"\0" * 4096)})
    assert big.status_code == 413
    assert "the limit is 1024 bytes" in big.content.decode()
    assert not Prediction.objects.exists()


def test_a_plate_with_a_missing_tip_is_flagged_for_review(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    client = _logged_in(operator)
    client.post("/predictions/new/", {"images": _file(name, data)})
    prediction = Prediction.objects.get()
    contract = dict(prediction.contract)
    contract["plants"] = [dict(p) for p in contract["plants"]]
    contract["plants"][1]["tip"] = None
    contract["plants"][1]["reason"] = "root too faint"
    Prediction.objects.filter(pk=prediction.pk).update(contract=contract)

    flagged = re.compile(r"plant ([\d, ]*\b)?2\b[\d, ]*: no tip the robot would act on")
    page = client.get(f"/predictions/{prediction.pk}/").content.decode()
    assert flagged.search(page), page
    assert "no tip found: root too faint" in page
    home = client.get("/").content.decode()
    assert "Waiting for review" in home
    assert flagged.search(home)
    review_only = client.get("/predictions/?review=1").content.decode()
    assert review_only.count('class="plate-card"') == 1


def test_the_list_filters_by_the_hades_name_fields(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    client = _logged_in(operator)
    client.post("/predictions/new/", {"images": _file(name, data)})
    prediction = Prediction.objects.get()
    assert prediction.experiment
    hit = client.get(f"/predictions/?experiment={prediction.experiment}").content.decode()
    assert hit.count('class="plate-card"') == 1
    miss = client.get("/predictions/?experiment=no-such-experiment").content.decode()
    assert "No plate matches" in miss


def test_the_viewer_gets_the_input_as_uploaded_and_a_tiff_as_png(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    import cv2
    import numpy as np

    name, data = synthetic_plate
    client = _logged_in(operator)
    client.post("/predictions/new/", {"images": _file(name, data)})
    png = Prediction.objects.get()
    answer = client.get(f"/api/predictions/{png.pk}/image/")
    assert answer["Content-Type"] == "image/png"
    assert b"".join(answer.streaming_content) == data  # type: ignore[attr-defined]

    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    ok, tiff = cv2.imencode(".tif", image)
    assert ok
    client.post("/predictions/new/", {"images": _file("plate.tif", tiff.tobytes())})
    stored = Prediction.objects.get(image_name="plate.tif")
    shown = client.get(f"/api/predictions/{stored.pk}/image/")
    assert shown["Content-Type"] == "image/png"
    decoded = cv2.imdecode(np.frombuffer(shown.content, np.uint8), cv2.IMREAD_UNCHANGED)
    assert decoded.shape[:2] == image.shape[:2]
