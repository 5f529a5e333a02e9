"""Cost estimates from the price table, its override, and what a run records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visionkit.costs import DEFAULT_PRICES, estimate, estimate_run, price_table
from visionkit.exceptions import SettingsError
from visionkit.training.provenance import environment, run_cost


def test_an_estimate_is_price_times_hours_times_nodes() -> None:
    cost = estimate("Standard_NC24ads_A100_v4", 0.5, 2)
    assert cost.usd == pytest.approx(DEFAULT_PRICES["Standard_NC24ads_A100_v4"] * 0.5 * 2)
    assert "x2 for 0.50 h" in cost.describe()


def test_a_planned_run_uses_the_time_limit_when_given() -> None:
    planned = estimate_run(
        "Standard_NC4as_T4_v3",
        epochs=99,
        patches_per_epoch=10**6,
        time_limit_min=30,
        overhead_min=6,
    )
    assert planned.hours == pytest.approx(0.6)
    by_work = estimate_run("local-cpu", epochs=26, patches_per_epoch=480)
    assert by_work.hours == pytest.approx(26 * 480 / 3.8 / 3600)


def test_the_price_table_is_overridden_by_json_or_a_file(tmp_path: Path) -> None:
    assert price_table({"VISIONKIT_PRICE_TABLE": '{"local-cpu": 0.5}'})["local-cpu"] == 0.5
    table = tmp_path / "prices.json"
    table.write_text(json.dumps({"Standard_X": 1.25}))
    merged = price_table({"VISIONKIT_PRICE_TABLE": str(table)})
    assert merged["Standard_X"] == 1.25
    assert merged["Standard_NC4as_T4_v3"] == DEFAULT_PRICES["Standard_NC4as_T4_v3"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [("{nope", "not valid JSON"), ('{"a": -1, "b": "x"}', "a: -1 is not a price"),
     ("/no/such/prices.json", "neither a JSON object"), ("[1]", "must be a JSON object")],
)  # fmt: skip
def test_a_bad_price_table_is_refused_naming_the_fault(raw: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        price_table({"VISIONKIT_PRICE_TABLE": raw})


def test_an_unpriced_compute_lists_the_priced_ones() -> None:
    with pytest.raises(SettingsError, match="priced: .*local-cpu"):
        estimate("Standard_Unknown", 1.0)


def test_a_run_records_its_compute_duration_and_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    local = run_cost("cpu", 1800)
    assert local["compute"] == "local-cpu"
    assert local["duration_s"] == 1800.0
    assert local["estimated_usd"] == pytest.approx(DEFAULT_PRICES["local-cpu"] / 2)
    assert run_cost("cuda:0", 3600)["compute"] == "local-gpu"
    monkeypatch.setenv("VISIONKIT_COMPUTE", "Standard_NC4as_T4_v3")
    monkeypatch.setenv("VISIONKIT_NODES", "2")
    remote = run_cost("cuda", 3600)
    assert (remote["compute"], remote["nodes"]) == ("Standard_NC4as_T4_v3", 2)
    assert remote["estimated_usd"] == pytest.approx(2 * DEFAULT_PRICES["Standard_NC4as_T4_v3"])
    assert environment("cuda")["env.compute"] == "Standard_NC4as_T4_v3"
    monkeypatch.setenv("VISIONKIT_COMPUTE", "Standard_Unpriced")
    kept = run_cost("cuda", 60)
    assert kept["compute"] == "Standard_Unpriced"
    assert kept["estimated_usd"] is None
