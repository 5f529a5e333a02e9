"""The data sets' pages: a zip checked with every problem shown, plates browsed with their masks."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from django.test import Client

from portal.accounts.models import User
from portal.datasets.models import DatasetVersion

pytestmark = pytest.mark.django_db


def _zip(folder: Path, *, broken: bool = False) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.iterdir()):
            data = path.read_bytes()
            if broken and path.name.endswith("_root_mask.tif"):
                data = b"not a tiff"
            archive.writestr(path.name, data)
    buffer.seek(0)
    buffer.name = "plates.zip"
    return buffer


def _logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_bad_zip_lists_every_problem_on_the_page(operator: User, plates_folder: Path) -> None:
    answer = _logged_in(operator).post("/datasets/", {"file": _zip(plates_folder, broken=True)})
    assert answer.status_code == 400
    page = answer.content.decode()
    assert re.search(r"\b[4-9]\d* problems to fix", page), page
    assert page.count("_root_mask.tif") >= 4
    assert not DatasetVersion.objects.exists()


def test_a_good_zip_opens_its_plates_with_their_masks(
    operator: User, viewer: User, plates_folder: Path
) -> None:
    client = _logged_in(operator)
    answer = client.post("/datasets/", {"file": _zip(plates_folder), "name": "tiny"}, follow=True)
    page = answer.content.decode()
    assert "stored as a new version" in page
    assert page.count('class="plate-card"') == 4
    assert "masks: root, shoot, seed, occluded_root" in page
    dataset = DatasetVersion.objects.get()
    preview = _logged_in(viewer).get(f"/datasets/{dataset.pk}/preview/0.png")
    assert preview["Content-Type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(preview.content, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    assert max(image.shape[:2]) <= 1024
    assert _logged_in(viewer).get(f"/datasets/{dataset.pk}/preview/9.png").status_code == 404


def test_a_viewer_browses_but_cannot_upload(
    viewer: User, dataset: Any, plates_folder: Path
) -> None:
    client = _logged_in(viewer)
    listing = client.get("/datasets/").content.decode()
    assert "Upload a data set" not in listing
    assert dataset.version[:12] in listing
    assert client.post("/datasets/", {"file": _zip(plates_folder)}).status_code == 403
