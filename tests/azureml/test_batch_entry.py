"""The parallel job's entry script, called locally on synthetic plates with the default model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visionkit.azureml import batch_entry
from visionkit.synth import SynthConfig
from visionkit.synth.dataset import generate_dataset


def test_init_and_run_predict_a_mini_batch_and_report_a_bad_plate(tmp_path: Path) -> None:
    plates = tmp_path / "plates"
    written = generate_dataset(plates, 2, seed=3, config=SynthConfig().scaled(0.25),
                               progress=False)  # fmt: skip
    images = sorted(str(p) for p in written if p.suffix == ".png" and "_mask" not in p.name)
    assert len(images) == 2
    broken = plates / "broken.png"
    broken.write_text("not an image")
    out = tmp_path / "predictions"
    with pytest.raises(RuntimeError, match="init"):
        batch_entry.run(images)
    batch_entry.init(["--out", str(out), "--azureml-extra", "1"])
    try:
        rows = [json.loads(r) for r in batch_entry.run([*images, str(broken)])]
    finally:
        batch_entry.shutdown()
    assert [r["ok"] for r in rows] == [True, True, False]
    assert "broken.png" in rows[2]["error"] or rows[2]["image"] == "broken.png"
    for row, image in zip(rows[:2], images, strict=True):
        contract = json.loads((out / row["json"]).read_text())
        assert contract["image"] == Path(image).name
        assert row["plants"] == len(contract["plants"]) > 0
        assert row["tips"] == sum(p["tip"] is not None for p in contract["plants"])
        assert (out / contract["masks"]["root"]).is_file()
