"""Experiments: root length per plant by condition, its spread, a plate's growth, the CSV."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client

from portal.accounts.models import User
from portal.predictions.models import Prediction
from portal.predictions.services import create_prediction

pytestmark = pytest.mark.django_db

NAMES = (
    "001_77-2-ROOT1-2026-02-01_mock_OD0_f1h1_01-Fish Eye Corrected.png",
    "001_77-2-ROOT1-2026-02-03_mock_OD0_f1h1_01-Fish Eye Corrected.png",
    "002_77-2-ROOT1-2026-02-01_pvd_OD01_f6h1_02-Fish Eye Corrected.png",
)


@pytest.fixture
def experiment(
    operator: User, production_model: Any, synthetic_plate: tuple[str, bytes]
) -> list[Prediction]:
    _, data = synthetic_plate
    return [create_prediction(image=data, image_name=name, user=operator) for name in NAMES]


def _measured(predictions: list[Prediction]) -> int:
    return sum(
        1 for p in predictions for plant in p.contract["plants"]
        if plant.get("primary_root_length_mm") is not None
    )  # fmt: skip


def test_the_experiment_table_groups_plants_by_condition_and_plate(
    viewer: User, experiment: list[Prediction]
) -> None:
    client = Client()
    client.force_login(viewer)
    listing = client.get("/experiments/").content.decode()
    assert "77-2-ROOT1" in listing
    page = client.get("/experiments/77-2-ROOT1/")
    text = page.content.decode()
    assert page.context["plate"] == "001"
    conditions = [s["condition"] for s in page.context["summary"]]
    assert conditions == ["mock_OD0_f1h1", "pvd_OD01_f6h1"]
    assert [g["date"] for g in page.context["chart"]["growth"]] == ["2026-02-01", "2026-02-03"]
    assert text.count("<tr><td>00") == _measured(experiment)
    assert Prediction.objects.filter(imaged_on="2026-02-03").count() == 1


def test_the_plant_table_downloads_as_csv(viewer: User, experiment: list[Prediction]) -> None:
    client = Client()
    client.force_login(viewer)
    answer = client.get("/experiments/77-2-ROOT1/?format=csv")
    assert answer["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(answer.content.decode())))
    assert len(rows) == _measured(experiment)
    assert {r["condition"] for r in rows} == {"mock_OD0_f1h1", "pvd_OD01_f6h1"}
    assert all(float(r["primary_root_length_mm"]) > 0 for r in rows)


def test_an_unknown_experiment_is_404_and_no_experiment_says_how_to_get_one(
    viewer: User,
) -> None:
    client = Client()
    client.force_login(viewer)
    assert client.get("/experiments/nothing/").status_code == 404
    assert "Experiments come from Hades file names" in client.get("/experiments/").content.decode()
