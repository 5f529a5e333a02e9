"""Reviews through the API: verdicts stored beside the prediction, used by exports, never lost."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.predictions.models import Prediction, Review, TipLabel
from portal.predictions.services import create_prediction

pytestmark = pytest.mark.django_db


@pytest.fixture
def prediction(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> Prediction:
    name, data = synthetic_plate
    made = create_prediction(image=data, image_name=name, user=operator)
    assert made.n_tips >= 3
    return made


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _tip(prediction: Prediction, plant: int) -> dict[str, float]:
    return dict(prediction.contract["plants"][plant - 1]["tip"])


def _csv_tips(client: APIClient, prediction: Prediction) -> dict[str, dict[str, str]]:
    answer = client.get(f"/api/predictions/{prediction.pk}/export/?format=csv")
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    return {row["plant"]: row for row in rows}


def _tip_columns(row: dict[str, str]) -> tuple[str, str]:
    x = next(k for k in row if k.startswith("tip_x"))
    y = next(k for k in row if k.startswith("tip_y"))
    return row[x], row[y]


def test_a_review_is_stored_beside_the_prediction_and_exports_use_it(
    operator: User, prediction: Prediction
) -> None:
    original = dict(prediction.contract)
    first, second = _tip(prediction, 1), _tip(prediction, 2)
    moved = {"x": first["x"] + 12.0, "y": first["y"] - 8.0}
    box = prediction.contract["dish"]["bbox"]
    added = {"x": (box[0] + box[2]) / 2, "y": (box[1] + box[3]) / 2}
    entries = [
        {"plant": 1, "verdict": "moved", "tip": moved},
        {"plant": 2, "verdict": "rejected"},
        {"plant": 3, "verdict": "accepted"},
        {"plant": 9, "verdict": "added", "tip": added},
    ]
    client = _client(operator)
    answer = client.post(f"/api/predictions/{prediction.pk}/review/",
                         {"base": 0, "plants": entries}, format="json")  # fmt: skip
    assert answer.status_code == 201, answer.content
    assert answer.json()["number"] == 1

    prediction.refresh_from_db()
    assert prediction.contract == original, "a review must never overwrite the prediction"
    labels = {label.plant: label for label in TipLabel.objects.filter(prediction=prediction)}
    assert set(labels) == {1, 2, 3, 9}
    assert (labels[1].x, labels[1].predicted_x) == (moved["x"], first["x"])
    assert labels[2].x is None
    assert labels[2].predicted_x == second["x"]

    rows = _csv_tips(client, prediction)
    assert float(_tip_columns(rows["1"])[0]) == pytest.approx(moved["x"], abs=0.05)
    assert _tip_columns(rows["2"])[0] == ""
    assert float(_tip_columns(rows["9"])[1]) == pytest.approx(added["y"], abs=0.05)
    assert client.get(f"/api/predictions/{prediction.pk}/review/").json()["number"] == 1


def test_the_second_of_two_reviewers_is_refused_and_nothing_is_lost(
    operator: User, admin: User, prediction: Prediction
) -> None:
    entries = [{"plant": 1, "verdict": "rejected"}]
    first = _client(operator).post(f"/api/predictions/{prediction.pk}/review/",
                                   {"base": 0, "plants": entries}, format="json")  # fmt: skip
    assert first.status_code == 201
    late = _client(admin).post(f"/api/predictions/{prediction.pk}/review/",
                               {"base": 0, "plants": [{"plant": 1, "verdict": "accepted"}]},
                               format="json")  # fmt: skip
    assert late.status_code == 409
    assert "operator saved review 1" in late.json()["detail"]
    assert "reload" in late.json()["detail"]
    assert Review.objects.filter(prediction=prediction).count() == 1
    assert Review.objects.get().plants[0]["verdict"] == "rejected"

    again = _client(admin).post(f"/api/predictions/{prediction.pk}/review/",
                                {"base": 1, "plants": [{"plant": 1, "verdict": "accepted"}]},
                                format="json")  # fmt: skip
    assert again.status_code == 201
    assert again.json()["number"] == 2
    assert Review.objects.count() == 2, "the first review stays in the history"


def test_a_tip_outside_the_dish_and_bad_entries_are_refused_naming_each(
    operator: User, prediction: Prediction
) -> None:
    entries = [
        {"plant": 1, "verdict": "moved", "tip": {"x": -50, "y": 10}},
        {"plant": 7, "verdict": "accepted"},
        {"plant": 2, "verdict": "moved"},
    ]
    answer = _client(operator).post(f"/api/predictions/{prediction.pk}/review/",
                                    {"base": 0, "plants": entries}, format="json")  # fmt: skip
    assert answer.status_code == 400
    problems = "\n".join(answer.json()["problems"])
    assert "plant 1: the tip at (-50, 10) is outside the dish" in problems
    assert "plant 7: not in the prediction" in problems
    assert "plant 2: a moved tip needs x and y" in problems
    assert not Review.objects.exists()
    assert not TipLabel.objects.exists()


def test_a_viewer_reads_reviews_but_cannot_save_one(viewer: User, prediction: Prediction) -> None:
    client = _client(viewer)
    assert client.get(f"/api/predictions/{prediction.pk}/review/").status_code == 404
    answer = client.post(f"/api/predictions/{prediction.pk}/review/",
                         {"base": 0, "plants": []}, format="json")  # fmt: skip
    assert answer.status_code == 403
