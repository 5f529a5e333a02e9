"""POST /api/predictions/ and what it keeps: the contract, the files, the row; bad input refused."""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.predictions import loader
from portal.predictions.models import Prediction
from tests.portal.predictions.conftest import png_bytes
from visionkit.imageio import decode_image

pytestmark = pytest.mark.django_db

CONTRACT_KEYS = {"image", "width", "height", "model", "dish", "masks", "confidence", "plants",
                 "timing_ms"}  # fmt: skip


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _upload(data: bytes, name: str) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


def _post(client: APIClient, data: bytes, name: str, **fields: Any) -> Any:
    return client.post("/api/predictions/", {"image": _upload(data, name), **fields},
                       format="multipart")  # fmt: skip


def test_a_synthetic_plate_gets_its_five_plants_and_everything_is_kept(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes],
    stored_files: Callable[..., list[str]],
) -> None:  # fmt: skip
    name, data = synthetic_plate
    client = _client(operator)
    response = _post(client, data, name)
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) >= CONTRACT_KEYS
    assert body["model_version"] == production_model.pk
    assert body["model"]["sha256"] == production_model.sha256
    assert len(body["plants"]) == 5
    assert sum(plant["tip"] is not None for plant in body["plants"]) == 5
    assert all(0.0 <= plant["tip"]["confidence"] <= 1.0 for plant in body["plants"])
    row = Prediction.objects.get(pk=body["id"])
    assert (row.model_version, row.created_by, row.source) == (production_model, operator, "api")
    assert (row.experiment, row.plate) == ("18-1-ROOT1", "001")
    assert row.input_stats["dish_found"] is True
    assert 0 < row.input_stats["grey_mean"] < 255
    files = stored_files()
    assert len(files) == 5  # input, three masks, overlay
    overlay = client.get(body["overlay_url"])
    assert overlay.status_code == 200
    assert overlay["Content-Type"] == "image/png"
    from PIL import Image

    root_png = b"".join(client.get(body["mask_urls"]["root"]).streaming_content)
    root = Image.open(io.BytesIO(root_png))
    assert root.size == (body["width"], body["height"])
    assert root.mode == "1", "masks are stored as 1-bit PNGs"
    assert set(np.unique(decode_image(root_png)[0]).tolist()) == {0, 255}


def test_the_real_dish_gets_five_plants_and_robot_coordinates_with_a_calibration(
    operator: User, production_model: Any, real_crop: bytes
) -> None:
    body = _post(_client(operator), real_crop, "hades_dish_crop.png", calibration="ot2").json()
    assert len(body["plants"]) == 5
    assert all(plant["robot"] is not None for plant in body["plants"] if plant["tip"])


def test_the_model_is_loaded_once_for_many_requests(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    loader.clear()
    name, data = synthetic_plate
    client = _client(operator)
    for _ in range(3):
        assert _post(client, data, name).status_code == 201
    assert loader.load_count() == 1


@pytest.mark.parametrize(
    ("data", "name", "said"),
    [
        (b"this is not an image", "notes.png", "not a readable image"),
        (b"", "empty.png", "empty"),
    ],
)
def test_an_upload_that_is_not_an_image_is_refused_and_nothing_is_kept(
    operator: User, production_model: Any, stored_files: Callable[..., list[str]],
    data: bytes, name: str, said: str,
) -> None:  # fmt: skip
    response = _post(_client(operator), data, name)
    assert response.status_code == 400
    assert said in response.json()["detail"]
    assert Prediction.objects.count() == 0
    assert stored_files() == []


def _pixel_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims ``width x height`` pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_a_pixel_bomb_is_refused_before_it_is_decoded(
    operator: User, production_model: Any, stored_files: Callable[..., list[str]]
) -> None:
    response = _post(_client(operator), _pixel_bomb(30_000, 30_000), "bomb.png")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "30000 x 30000 = 900,000,000 pixels" in detail
    assert "VISIONKIT_MAX_IMAGE_PIXELS" in detail
    assert stored_files() == []
    assert Prediction.objects.count() == 0


def test_an_upload_over_the_size_limit_gets_413_naming_the_limit(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes],
    stored_files: Callable[..., list[str]],
) -> None:  # fmt: skip
    name, data = synthetic_plate
    with override_settings(VISIONKIT_MAX_UPLOAD_BYTES=10_000):
        response = _post(_client(operator), data, name)
    assert response.status_code == 413
    assert "the limit is 10000 bytes" in response.json()["detail"]
    assert "VISIONKIT_MAX_UPLOAD_MB" in response.json()["detail"]
    assert stored_files() == []


def test_an_image_without_a_dish_answers_with_warnings_and_no_made_up_tips(
    operator: User, production_model: Any
) -> None:
    blank = np.full((600, 800), 200, np.uint8)
    response = _post(_client(operator), png_bytes(blank), "blank.png")
    assert response.status_code == 201
    body = response.json()
    assert body["warnings"]
    assert all(plant["tip"] is None for plant in body["plants"])
    assert body["confidence"]["image"] < 0.5


def test_without_a_model_in_production_the_answer_says_to_promote_one(
    operator: User, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    response = _post(_client(operator), data, name)
    assert response.status_code == 409
    assert "promote" in response.json()["detail"]


def test_an_unknown_calibration_is_refused_listing_the_known_ones(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    response = _post(_client(operator), data, name, calibration="../../etc/passwd")
    assert response.status_code == 400
    assert "ot2" in response.json()["detail"]


def test_a_viewer_cannot_predict_and_anonymous_callers_get_401(
    viewer: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> None:
    name, data = synthetic_plate
    assert _post(_client(viewer), data, name).status_code == 403
    assert _post(APIClient(), data, name).status_code == 401
