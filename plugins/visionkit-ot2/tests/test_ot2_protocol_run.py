"""Run the written protocols: with Opentrons' own simulator, and against a small fake.

The simulator is the real check (labware names, API level, movement to
absolute deck points). It needs the ``opentrons`` package, which pins
numpy<2 and so lives in its own virtualenv; the fake runs everywhere and
checks the sequence of pipette actions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from visionkit_ot2.adapter import Ot2Adapter

from visionkit import Prediction

# -- a fake opentrons: just enough API to run a protocol and record what it does


@dataclass(frozen=True)
class _Point:
    x: float
    y: float
    z: float


@dataclass(frozen=True)
class _Location:
    point: _Point
    labware: Any


@dataclass
class _Recorder:
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class _Labware:
    def __init__(self, name: str, slot: str) -> None:
        self.name, self.slot = name, slot

    def __getitem__(self, well: str) -> str:
        return f"{well} of {self.name} in slot {self.slot}"


class _Pipette:
    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder

    def __getattr__(self, action: str) -> Callable[..., None]:
        return lambda *args, **kwargs: self._recorder.calls.append((action, args))


class _Protocol:
    def __init__(self) -> None:
        self.recorder = _Recorder()
        self.labware: list[tuple[str, str]] = []
        self.instruments: list[tuple[str, str]] = []

    def load_labware(self, name: str, slot: str) -> _Labware:
        self.labware.append((name, slot))
        return _Labware(name, slot)

    def load_instrument(self, name: str, mount: str, tip_racks: list[_Labware]) -> _Pipette:
        self.instruments.append((name, mount))
        return _Pipette(self.recorder)

    def comment(self, text: str) -> None:
        self.recorder.calls.append(("comment", (text,)))


def _run_with_fake(path: Path, monkeypatch: pytest.MonkeyPatch) -> _Protocol:
    fake_types = types.ModuleType("opentrons.types")
    fake_types.Point = _Point  # type: ignore[attr-defined]
    fake_types.Location = _Location  # type: ignore[attr-defined]
    fake_api = types.ModuleType("opentrons.protocol_api")
    fake_api.ProtocolContext = _Protocol  # type: ignore[attr-defined]
    package = types.ModuleType("opentrons")
    package.types = fake_types  # type: ignore[attr-defined]
    package.protocol_api = fake_api  # type: ignore[attr-defined]
    for name, module in [
        ("opentrons", package),
        ("opentrons.types", fake_types),
        ("opentrons.protocol_api", fake_api),
    ]:
        monkeypatch.setitem(sys.modules, name, module)
    namespace: dict[str, Any] = {"__name__": "protocol"}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    assert namespace["metadata"]["apiLevel"].startswith("2.")
    protocol = _Protocol()
    namespace["run"](protocol)
    return protocol


def test_fake_run_dispenses_once_per_found_tip_with_a_fresh_tip_each(
    tmp_path: Path, prediction: Prediction, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ot2Adapter(tmp_path, volume_ul=2.5).write(prediction)
    protocol = _run_with_fake(tmp_path / f"{prediction.stem}.ot2.py", monkeypatch)
    names = protocol.recorder.names()
    assert names.count("dispense") == 3
    assert names.count("pick_up_tip") == names.count("drop_tip") == 3
    dispenses = [args for name, args in protocol.recorder.calls if name == "dispense"]
    volume, location = dispenses[0]
    assert volume == 2.5
    assert location == _Location(_Point(163.4, 101.2, 58.0), None)  # 1 mm above the tip
    assert protocol.instruments == [("p20_single_gen2", "right")]
    assert ("opentrons_96_tiprack_20ul", "1") in protocol.labware
    comments = [args[0] for name, args in protocol.recorder.calls if name == "comment"]
    assert any(c.startswith("plant 3 skipped: no root tip found") for c in comments)


def test_fake_run_with_one_tip_for_the_plate(
    tmp_path: Path, prediction: Prediction, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ot2Adapter(tmp_path, new_tip="once").write(prediction)
    names = _run_with_fake(tmp_path / f"{prediction.stem}.ot2.py", monkeypatch).recorder.names()
    assert names.count("pick_up_tip") == names.count("drop_tip") == 1
    assert names.count("dispense") == 3


def test_fake_run_of_a_plate_with_no_tips_only_comments(
    tmp_path: Path, prediction: Prediction, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ot2Adapter(tmp_path, min_confidence=1.0).write(prediction)
    protocol = _run_with_fake(tmp_path / f"{prediction.stem}.ot2.py", monkeypatch)
    assert set(protocol.recorder.names()) == {"comment"}
    assert ("comment", ("no root tips to inoculate",)) in protocol.recorder.calls


# -- Opentrons' own simulator

_SIMULATE = """
import json, sys
from opentrons.simulate import simulate
result = {}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        log, _ = simulate(handle, file_name=path)
    entries = []
    for entry in log:
        payload = entry["payload"]
        location = payload.get("location")
        point = getattr(location, "point", None)
        entries.append({"text": payload["text"],
                        "point": None if point is None else [point.x, point.y, point.z]})
    result[path] = entries
print("RESULT" + json.dumps(result))
"""


def _simulate(python: str, paths: list[Path], home: Path) -> dict[str, list[dict[str, Any]]]:
    env = {**os.environ, "HOME": str(home)}  # opentrons writes its config under ~/.opentrons
    done = subprocess.run(
        [python, "-c", _SIMULATE, *map(str, paths)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line.removeprefix("RESULT"))  # type: ignore[no-any-return]


def test_opentrons_simulator_runs_one_dispense_per_found_tip(
    tmp_path: Path,
    prediction: Prediction,
    make_prediction: Callable[..., Prediction],
    opentrons_python: str,
) -> None:
    always, once, calibrated = tmp_path / "always", tmp_path / "once", tmp_path / "calibrated"
    Ot2Adapter(always).write(prediction)
    Ot2Adapter(once, new_tip="once", volume_ul=5).write(prediction)
    Ot2Adapter(calibrated, calibration="ot2").write(make_prediction(with_robot=False))
    paths = [folder / f"{prediction.stem}.ot2.py" for folder in (always, once, calibrated)]
    runs = _simulate(opentrons_python, paths, tmp_path / "home")

    def texts(folder: Path, start: str) -> list[dict[str, Any]]:
        return [
            e
            for e in runs[str(folder / f"{prediction.stem}.ot2.py")]
            if e["text"].startswith(start)
        ]

    dispenses = texts(always, "Dispensing")
    assert len(dispenses) == 3  # plants 1, 2, 4: plant 3 has no tip, plant 5 no robot point
    assert dispenses[0]["point"] == pytest.approx([163.4, 101.2, 58.0])
    assert dispenses[0]["text"].startswith("Dispensing 2.0 uL")
    assert len(texts(always, "Picking up tip")) == 3
    assert len(texts(always, "Dropping tip")) == 3
    assert any("plant 3 skipped" in e["text"] for e in runs[str(paths[0])])

    assert len(texts(once, "Dispensing 5.0 uL")) == 3
    assert len(texts(once, "Picking up tip")) == 1

    targets = json.loads((calibrated / f"{prediction.stem}.ot2.json").read_text(encoding="utf-8"))
    points = [e["point"] for e in texts(calibrated, "Dispensing")]
    assert len(points) == len(targets["targets"]) == 4
    for point, target in zip(points, targets["targets"], strict=True):
        assert point == pytest.approx([target["x_mm"], target["y_mm"], target["z_mm"] + 1.0])
