"""visionkit.pipeline: predict(), Predictor and Pipeline, from plate images to predictions."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import visionkit.pipeline as predict_module
from tests.helpers.models import BAND_PLUGIN, band_model
from tests.helpers.plates import draw_plate
from visionkit.adapters.json_adapter import JsonAdapter
from visionkit.exceptions import ImageError, ImageReadError, ImageTooLargeError, ModelError
from visionkit.imageio import write_image
from visionkit.modelfolder import ModelConfig, save_model
from visionkit.pipeline import Pipeline, Predictor, predict, resolve_model
from visionkit.plugins import get_plugin_manager
from visionkit.prediction import Prediction


@pytest.fixture
def plate_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "plates"
    write_image(folder / "plate_a.png", draw_plate(seed=1).image)
    write_image(folder / "plate_b.png", draw_plate(seed=2, plants=3).image)
    return folder


def _distance(point: object, truth: tuple[float, float]) -> float:
    return float(np.hypot(point.x - truth[0], point.y - truth[1]))  # type: ignore[attr-defined]


@pytest.mark.parametrize(("scale", "tolerance"), [(1.0, 2.0), (0.5, 3.0)])
def test_drawn_roots_are_found_where_they_are_in_input_pixels(
    scale: float, tolerance: float
) -> None:
    plate = draw_plate()
    prediction = predict(plate.image, band_model(), scale=scale, backend="torch")
    assert [p.plant for p in prediction.plants] == [1, 2, 3, 4, 5]
    for plant, tip, start in zip(prediction.plants, plate.tips, plate.starts, strict=True):
        assert plant.tip is not None
        assert _distance(plant.tip, tip) <= tolerance
        assert 0.0 <= plant.tip.confidence <= 1.0
        if scale == 1.0:  # at half scale the 3 px root's top blurs into the shoot's grey
            assert _distance(plant.start, start) <= 3.0
            assert plant.primary_root_length_px == pytest.approx(tip[1] - start[1], abs=6)
        assert plant.primary_root_length_mm == pytest.approx(
            plant.primary_root_length_px * prediction.dish.mm_per_px  # type: ignore[union-attr]
        )
    assert prediction.warnings == []


def test_a_prediction_fills_the_contract() -> None:
    plate = draw_plate()
    prediction = predict(plate.image, band_model(scale=0.5), backend="onnx", name="plate_07.png")
    data = prediction.to_dict()
    assert data["image"] == "plate_07.png"
    assert (data["width"], data["height"]) == (640, 480)
    assert data["model"] == {"name": "band", "version": "1", "sha256": "b" * 64}
    x0, _y0, x1, _y1 = data["dish"]["bbox"]
    assert abs(x0 - 110) <= 2
    assert abs(x1 - 550) <= 2
    assert data["dish"]["mm_per_px"] == pytest.approx(129 / 440, rel=0.03)
    assert set(data["confidence"]) == {"image", "root", "shoot", "seed"}
    assert all(0.0 <= v <= 1.0 for v in data["confidence"].values())
    assert data["confidence"]["image"] > 0.5
    assert set(data["timing_ms"]) == {"total", "read", "dish", "segment", "landmarks"}
    assert data["timing_ms"]["total"] >= data["timing_ms"]["segment"]
    assert set(prediction.mask_arrays) == {"root", "shoot", "seed"}
    for mask in prediction.mask_arrays.values():
        assert mask.shape == (480, 640)
        assert set(np.unique(mask)) <= {0, 255}
    json.dumps(data, allow_nan=False)


def test_fewer_plants_are_numbered_left_to_right_with_a_warning() -> None:
    plate = draw_plate(plants=3)
    prediction = predict(plate.image, band_model(), backend="torch")
    assert [p.plant for p in prediction.plants] == [1, 2, 3]
    xs = [p.tip.x for p in prediction.plants if p.tip]
    assert xs == sorted(xs)
    assert any("found 3 plants, expected 5" in w for w in prediction.warnings)


def test_a_dish_without_plants_lists_plants_with_null_tips_and_reasons() -> None:
    plate = draw_plate(plants=0)
    prediction = predict(plate.image, band_model(), backend="torch", expected_plants=4)
    assert [p.plant for p in prediction.plants] == [1, 2, 3, 4]
    assert all(p.tip is None and p.reason for p in prediction.plants)
    assert any("no plants found" in w for w in prediction.warnings)
    assert not prediction.mask_arrays["root"].any()


def test_a_black_image_is_flagged_and_no_tip_is_made_up() -> None:
    prediction = predict(np.zeros((200, 300), np.uint8), band_model(), backend="torch")
    assert prediction.dish is None
    assert prediction.confidence["image"] < 0.5
    assert any("no dish found" in w for w in prediction.warnings)
    assert any("out-of-distribution" in w for w in prediction.warnings)
    assert all(p.tip is None for p in prediction.plants)


def test_a_root_without_a_tip_found_says_why() -> None:
    from visionkit.prediction import Plant

    class Lost:
        tip = None
        start = None
        tip_confidence = start_confidence = 0.0
        path = np.zeros((0, 2))
        length_px = None
        reason = None
        anchor = (10.0, 10.0)
        components: ClassVar[dict[str, float]] = {}

    from visionkit.inference import segment_image

    seg = segment_image(band_model(), draw_plate().image, backend="torch")
    plants, warnings = predict_module._plants(seg, [Lost()], 1)  # type: ignore[list-item]
    assert plants == [Plant(1, None, None, reason="root tip not found")]
    assert warnings == ["root tip not found for 1 of 1 plants"]


def test_calibration_fills_robot_coordinates() -> None:
    plate = draw_plate()
    prediction = predict(plate.image, band_model(), calibration="ot2", backend="torch")
    for plant in prediction.plants:
        assert plant.robot is not None
        assert plant.robot.frame == "ot2"
        assert 0.1 < plant.robot.x < 0.25


def test_a_file_path_is_read_and_named(tmp_path: Path) -> None:
    path = write_image(tmp_path / "plate_x.png", draw_plate().image)
    prediction = predict(path, band_model(), backend="torch")
    assert prediction.image == "plate_x.png"
    assert prediction.timing_ms["read"] > 0
    with pytest.raises(ImageTooLargeError, match="plate_x.png"):
        predict(path, band_model(), backend="torch", max_pixels=1000)
    (tmp_path / "notes.png").write_text("not an image")
    with pytest.raises(ImageReadError, match="notes.png"):
        predict(tmp_path / "notes.png", band_model(), backend="torch")


def test_adapters_by_name_write_files_and_objects_stay_open(tmp_path: Path) -> None:
    plate = draw_plate()
    predict(
        plate.image,
        band_model(),
        adapters="json,csv",
        out_dir=tmp_path,
        name="p1.png",
        backend="torch",
    )
    assert json.loads((tmp_path / "p1.json").read_text())["masks"]["root"] == "p1_root_mask.png"
    assert (tmp_path / "p1_root_mask.png").is_file()
    assert len((tmp_path / "predictions.csv").read_text().splitlines()) == 6
    mine = JsonAdapter(tmp_path / "mine")
    predict(plate.image, band_model(), adapters=[mine], name="p2.png", backend="torch")
    predict(plate.image, band_model(), adapters=[mine], name="p3.png", backend="torch")
    assert [p.name for p in mine.written if p.suffix == ".json"] == ["p2.json", "p3.json"]


class _Collecting:
    """An adapter that keeps what it is given."""

    name = "labbot"

    def __init__(self) -> None:
        self.written: list[str] = []
        self.closed = False

    def write(self, prediction: Prediction) -> None:
        self.written.append(prediction.image)

    def close(self) -> None:
        self.closed = True


def test_an_adapter_registered_on_the_callers_plugin_manager_is_used() -> None:
    from visionkit import hookimpl
    from visionkit.specs import AdapterSpec

    made: list[_Collecting] = []

    def create(out_dir: object = None, **options: object) -> _Collecting:
        made.append(_Collecting())
        return made[-1]

    class LabBot:
        @hookimpl
        def visionkit_register_adapters(self) -> list[AdapterSpec]:
            return [AdapterSpec("labbot", create, "keeps predictions in memory")]

    pm = get_plugin_manager([str(BAND_PLUGIN), LabBot()])
    prediction = predict(
        draw_plate().image, band_model(), adapters="labbot", pm=pm, name="p.png", backend="torch"
    )
    assert [adapter.written for adapter in made] == [["p.png"]]
    assert made[0].closed
    assert prediction.image == "p.png"


def test_no_default_model_says_how_to_get_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(predict_module, "DEFAULT_MODEL_DIR", tmp_path / "models" / "default")
    with pytest.raises(ModelError, match="--model"):
        predict(np.zeros((10, 10), np.uint8))


def test_a_model_without_root_shoot_seed_is_refused(tmp_path: Path) -> None:
    from tests.helpers.band_plugin import band_net

    config = ModelConfig(architecture="band", classes=("background", "root"), name="two-class")
    save_model(band_net(classes=2), tmp_path / "m", config)
    pm = get_plugin_manager([str(BAND_PLUGIN)])
    with pytest.raises(ModelError, match="missing: shoot, seed"):
        resolve_model(tmp_path / "m", pm=pm)


def test_model_folders_are_loaded_once(tmp_path: Path) -> None:
    from tests.helpers.band_plugin import band_net

    save_model(band_net(), tmp_path / "band", band_model().config)
    pm = get_plugin_manager([str(BAND_PLUGIN)])
    first = resolve_model(tmp_path / "band", pm=pm)
    assert resolve_model(tmp_path / "band", pm=pm) is first
    assert resolve_model(first) is first
    assert len(first.sha256) == 64


def test_predictor_refuses_zero_expected_plants() -> None:
    with pytest.raises(ValueError, match="expected_plants"):
        Predictor(band_model(), expected_plants=0)


def test_pipeline_streams_a_folder_to_json_and_csv(plate_folder: Path, tmp_path: Path) -> None:
    (plate_folder / "plate_c.png").write_bytes(b"\x89PNG truncated")
    out = tmp_path / "out"
    with Pipeline(
        str(plate_folder), band_model(), ["json", "csv"], out_dir=out, backend="torch"
    ) as run:
        results = list(run)
    assert [Path(r.source_id).name for r in results] == [
        "plate_a.png",
        "plate_b.png",
        "plate_c.png",
    ]
    assert [r.ok for r in results] == [True, True, False]
    assert "plate_c.png" in str(results[2].error)
    assert run.errors == [results[2]]
    assert json.loads((out / "plate_a.json").read_text())["plants"][4]["tip"] is not None
    assert len(json.loads((out / "plate_b.json").read_text())["plants"]) == 3
    with (out / "predictions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["image"] for r in rows] == ["plate_a.png"] * 5 + ["plate_b.png"] * 3
    assert all(r["tip_x"] for r in rows)
    run.close()  # twice is fine


def test_pipeline_can_stop_at_the_first_error(plate_folder: Path, tmp_path: Path) -> None:
    (plate_folder / "plate_0.png").write_bytes(b"broken")
    with (
        Pipeline(
            str(plate_folder),
            band_model(),
            "json",
            out_dir=tmp_path,
            stop_on_error=True,
            backend="torch",
        ) as run,
        pytest.raises(ImageReadError, match="plate_0.png"),
    ):
        run.run()
    assert len(run.results) == 1


def test_pipeline_accepts_source_objects_and_a_ready_predictor(tmp_path: Path) -> None:
    from visionkit.frame import Frame

    class Frames:
        name = "memory"
        closed = False

        def __iter__(self) -> Iterator[Frame]:
            yield Frame(draw_plate().image, "cam0", {"name": "cam0_0001.png"})

        def close(self) -> None:
            self.closed = True

    source = Frames()
    predictor = Predictor(band_model(), backend="torch", masks=False)
    with Pipeline(source, predictor, None) as run:  # type: ignore[arg-type]
        (result,) = run.run()
    assert source.closed
    assert result.prediction is not None
    assert result.prediction.image == "cam0_0001.png"
    assert result.prediction.mask_arrays == {}


def test_pipeline_reports_a_source_that_fails_midway() -> None:
    from visionkit.exceptions import SourceError
    from visionkit.frame import Frame

    class Flaky:
        name = "flaky"

        def __iter__(self) -> Iterator[Frame]:
            yield Frame(draw_plate().image, "cam0")
            raise SourceError("camera unplugged")

        def close(self) -> None:
            pass

    with Pipeline(Flaky(), band_model(), None, backend="torch") as run:  # type: ignore[arg-type]
        results = run.run()
    assert [r.ok for r in results] == [True, False]
    assert "camera unplugged" in str(results[1].error)


def test_frames_single_channel_arrays_and_calibration_files(tmp_path: Path) -> None:
    from visionkit.calibration import Calibration
    from visionkit.frame import Frame

    plate = draw_plate()
    path = Calibration.preset("ot2").save(tmp_path / "deck.yaml")
    from_frame = predict(
        Frame(plate.image[:, :, None], "cam1", {"name": "cam1.png"}),
        band_model(),
        calibration=path,
        backend="torch",
    )
    assert from_frame.image == "cam1.png"
    assert all(p.robot is not None for p in from_frame.plants)
    with pytest.raises(ImageError, match="uint8"):
        predict(plate.image.astype(np.float32), band_model(), backend="torch")


def test_a_length_without_a_path_is_rescaled_to_input_pixels() -> None:
    from visionkit.inference import segment_image

    class Short:
        tip = (50.0, 80.0)
        start = (50.0, 30.0)
        tip_confidence = start_confidence = 0.7
        path = np.zeros((0, 2))
        length_px = 50.0
        reason = None
        anchor = (50.0, 25.0)
        components: ClassVar[dict[str, float]] = {}

    seg = segment_image(band_model(scale=0.5), draw_plate().image, backend="torch")
    (plant,), _ = predict_module._plants(seg, [Short()], 1)  # type: ignore[list-item]
    assert plant.primary_root_length_px == pytest.approx(100.0, rel=0.01)
    assert plant.tip is not None
    assert plant.tip.confidence == pytest.approx(0.7)


def test_an_unknown_adapter_name_lists_the_valid_ones(tmp_path: Path) -> None:
    from visionkit.exceptions import UnknownNameError

    with pytest.raises(UnknownNameError, match="json"):
        predict(
            draw_plate().image,
            band_model(),
            adapters="json,robotarm",
            out_dir=tmp_path,
            backend="torch",
        )


def test_pipeline_goes_on_when_an_adapter_fails_and_reports_close_errors(tmp_path: Path) -> None:
    from visionkit.adapters.base import BaseAdapter
    from visionkit.exceptions import AdapterError
    from visionkit.frame import Frame

    class Refusing(BaseAdapter):
        name = "refusing"
        calls = 0

        def write(self, prediction: object) -> None:
            self.calls += 1
            raise AdapterError("robot offline")

    frames = [Frame(draw_plate(seed=i).image, f"cam{i}") for i in range(2)]
    refusing = Refusing()
    with Pipeline(_Closable(frames), band_model(), [refusing], backend="torch") as run:  # type: ignore[arg-type]
        results = run.run()
    assert refusing.calls == 2
    assert [str(r.error) for r in results] == ["robot offline", "robot offline"]

    class BadClose(BaseAdapter):
        def close(self) -> None:
            raise AdapterError("disk full on close")

    run = Pipeline(_Closable([]), band_model(), None, backend="torch")  # type: ignore[arg-type]
    run._owned.append(BadClose())
    with pytest.raises(AdapterError, match="disk full"):
        run.close()


class _Closable:
    name = "list"

    def __init__(self, frames: list[object]) -> None:
        self.frames = frames

    def __iter__(self) -> Iterator[object]:
        return iter(self.frames)

    def close(self) -> None:
        pass


def test_tta_passes_feed_tip_agreement_into_tip_confidence() -> None:
    import dataclasses

    import torch

    from tests.helpers.band_plugin import band_net
    from visionkit.modelfolder import SavedModel

    class Shifted(torch.nn.Module):
        """The band model with its output moved 2 px right: not flip-equivariant."""

        def __init__(self) -> None:
            super().__init__()
            self.inner = band_net()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.roll(self.inner(x), shifts=2, dims=3)

    base = band_model()
    shifted = SavedModel(Shifted(), dataclasses.replace(base.config), base.path, "f" * 64)
    plate = draw_plate()
    steady = predict(plate.image, base, tta=True, backend="torch")
    assert all(p.tip is not None and p.tip.confidence > 0.95 for p in steady.plants)
    plain = predict(plate.image, shifted, backend="torch")
    wobbly = predict(plate.image, shifted, tta=True, backend="torch")
    for before, after in zip(plain.plants, wobbly.plants, strict=True):
        assert before.tip is not None
        assert after.tip is not None
        assert after.tip.confidence < before.tip.confidence - 0.05


def test_predict_is_reachable_from_the_package() -> None:
    import visionkit

    prediction = visionkit.predict(draw_plate().image, band_model(), backend="torch")
    assert len(prediction.plants) == 5
    assert visionkit.Pipeline is Pipeline


def test_pipeline_logs_an_unexpected_error_and_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    from visionkit.adapters.base import BaseAdapter
    from visionkit.frame import Frame

    class Flaky(BaseAdapter):
        name = "flaky"
        calls = 0

        def write(self, prediction: object) -> None:
            self.calls += 1
            if self.calls == 1:
                raise ZeroDivisionError("a bug in a plugin")

    frames = [Frame(draw_plate(seed=i).image, f"cam{i}") for i in range(2)]
    flaky = Flaky()
    with Pipeline(_Closable(frames), band_model(), [flaky], backend="torch") as run:  # type: ignore[arg-type]
        results = run.run()
    assert [r.ok for r in results] == [False, True]
    assert isinstance(results[0].error, ZeroDivisionError)
    assert "unexpected error" in caplog.text


def test_an_adapter_that_fails_costs_the_others_nothing() -> None:
    from visionkit.adapters.base import BaseAdapter
    from visionkit.exceptions import AdapterError
    from visionkit.frame import Frame
    from visionkit.pipeline import deliver

    class Down(BaseAdapter):
        name = "down"

        def write(self, prediction: object) -> None:
            raise AdapterError("robot bridge ws://127.0.0.1:9 refused")

    class Kept(BaseAdapter):
        name = "kept"

        def __init__(self) -> None:
            self.got: list[object] = []

        def write(self, prediction: object) -> None:
            self.got.append(prediction)

    kept = Kept()
    frames = [Frame(draw_plate(seed=1).image, "cam1")]
    with Pipeline(_Closable(frames), band_model(), [Down(), kept], backend="torch") as run:  # type: ignore[arg-type]
        (result,) = run.run()
    assert not result.ok
    assert result.prediction is not None  # predicted, and delivered where it could be
    assert kept.got == [result.prediction]
    assert "ws://127.0.0.1:9" in str(result.error)
    both = deliver([Down(), Down(), kept], result.prediction)
    assert isinstance(both, AdapterError)
    assert str(both).count("down: robot bridge") == 2
    assert deliver([kept], result.prediction) is None


def test_outputs_written_behind_give_the_same_files_and_report_each_failure(
    plate_folder: Path, tmp_path: Path
) -> None:
    from visionkit.frame import Frame

    write_image(plate_folder / "plate_c.png", draw_plate(seed=3).image)
    (plate_folder / "plate_d.png").write_bytes(b"not a png")
    drawn: list[str] = []

    def overlay(frame: Frame, prediction: Prediction) -> None:
        if prediction.image == "plate_b.png":
            raise OSError("disk full")
        drawn.append(prediction.image)

    runs = {}
    for overlap in (0, 2):
        out = tmp_path / f"overlap{overlap}"
        predictor = Predictor(band_model(), backend="torch")
        with Pipeline(
            str(plate_folder), predictor, ["json"], out_dir=out,
            frame_outputs=[overlay], overlap=overlap,
        ) as run:  # fmt: skip
            runs[overlap] = run.run()
        assert (out / "plate_c_root_mask.png").is_file()
    for sync, behind in zip(runs[0], runs[2], strict=True):
        assert behind.source_id == sync.source_id  # the same order
        assert type(behind.error) is type(sync.error)
        if sync.prediction is not None:
            assert behind.prediction is not None
            untimed = [
                {**p.to_dict(), "timing_ms": None} for p in (behind.prediction, sync.prediction)
            ]
            assert untimed[0] == untimed[1]
            assert np.array_equal(
                behind.prediction.mask_arrays["root"], sync.prediction.mask_arrays["root"]
            )
    failed = {Path(r.source_id).name: str(r.error) for r in runs[2] if r.error is not None}
    assert set(failed) == {"plate_b.png", "plate_d.png"}
    assert "disk full" in failed["plate_b.png"]
    assert (tmp_path / "overlap2" / "plate_b.json").is_file()  # the adapters still delivered
    assert drawn.count("plate_c.png") == 2
    assert not list((tmp_path / "overlap2").glob(".*.part"))


def test_overlap_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="overlap"):
        Pipeline([], band_model(), None, overlap=-1)  # type: ignore[arg-type]
