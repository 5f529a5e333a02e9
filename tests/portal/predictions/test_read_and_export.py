"""Reading predictions back: filters on the Hades name fields, files, and every export format."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.predictions import exports, services
from portal.predictions.models import Prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def predictions(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> list[Prediction]:
    _, data = synthetic_plate
    names = [
        "035_43-14-ROOT1-2023-08-02_pvd_OD01_f6h1_03-Fish Eye Corrected.png",
        "036_43-14-ROOT1-2023-08-02_mock_OD0_f6h1_01-Fish Eye Corrected.png",
        "plain-name.png",
    ]
    return [
        services.create_prediction(image=data, image_name=name, user=operator) for name in names
    ]


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_hades_name_fields_are_filled_and_filter_the_list(
    viewer: User, predictions: list[Prediction]
) -> None:
    first, second, plain = predictions
    assert (first.experiment, first.plate, first.replicate) == ("43-14-ROOT1", "035", "03")
    assert first.condition.startswith("pvd")
    assert (plain.experiment, plain.plate) == ("", "")
    client = _client(viewer)
    assert client.get("/api/predictions/").json()["count"] == 3
    by_experiment = client.get("/api/predictions/", {"experiment": "43-14-ROOT1"}).json()
    assert by_experiment["count"] == 2
    by_plate = client.get("/api/predictions/", {"plate": "036"}).json()
    assert [row["id"] for row in by_plate["results"]] == [second.pk]
    assert client.get("/api/predictions/", {"replicate": "03"}).json()["count"] == 1
    model = predictions[0].model_version
    assert client.get("/api/predictions/", {"model": model.pk}).json()["count"] == 3
    assert client.get("/api/predictions/", {"model": model.pk + 1}).json()["count"] == 0
    oldest = client.get("/api/predictions/", {"ordering": "created_at"}).json()["results"]
    assert oldest[0]["id"] == first.pk
    assert client.get("/api/predictions/", {"page_size": 1}).json()["next"]


def test_the_export_formats_are_the_installed_file_adapters() -> None:
    formats = exports.file_formats()
    assert {"json", "csv", "coco", "ot2"} <= set(formats)
    assert "webhook" not in formats  # needs a URL: it writes no file


@pytest.mark.parametrize("fmt", ["json", "csv", "coco", "ot2"])
def test_each_export_format_downloads_a_file(
    viewer: User, predictions: list[Prediction], fmt: str
) -> None:
    response = _client(viewer).get(f"/api/predictions/{predictions[0].pk}/export/", {"format": fmt})
    assert response.status_code == 200, response.content
    assert "attachment; filename=" in response["Content-Disposition"]
    if fmt == "json":
        assert len(json.loads(response.content)["plants"]) == 5
    elif fmt == "csv":
        lines = response.content.decode().strip().splitlines()
        assert len(lines) == 1 + 5  # a header and a row per plant
    elif fmt == "ot2":
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            assert any(name.endswith(".ot2.py") for name in archive.namelist())


def test_an_unknown_export_format_lists_the_formats(
    viewer: User, predictions: list[Prediction]
) -> None:
    response = _client(viewer).get(f"/api/predictions/{predictions[0].pk}/export/?format=pdf")
    assert response.status_code == 400
    assert "csv" in response.json()["detail"]


def test_an_unknown_mask_class_names_the_masks(viewer: User, predictions: list[Prediction]) -> None:
    response = _client(viewer).get(f"/api/predictions/{predictions[0].pk}/masks/leaf/")
    assert response.status_code == 404
    assert "root, shoot, seed" in response.json()["detail"]


def test_a_user_without_a_role_cannot_read_predictions(
    stranger: User, predictions: list[Prediction]
) -> None:
    client = _client(stranger)
    assert client.get("/api/predictions/").status_code == 403
    assert client.get(f"/api/predictions/{predictions[0].pk}/overlay/").status_code == 403
