"""Robot calibration: from image pixels to a robot's frame.

A :class:`Calibration` is an affine map from *input coordinates* to a robot's
``x, y`` in metres, plus the ``z`` at which the robot inoculates. The input
coordinates are one of:

``"px"``
    pixels of the input image (x = column, y = row). Fits a fixed camera that
    always sees the robot deck the same way; made with :meth:`Calibration.fit`
    from pairs of image and robot points.
``"plate_mm"``
    millimetres from the top-left corner of the dish's bounding box (x to the
    right, y downwards). Independent of where the dish lies in the frame: the
    prediction's :class:`~visionkit.prediction.DishInfo` (bbox and
    ``mm_per_px``) converts a pixel to plate millimetres first. Made with
    :meth:`Calibration.from_plate` when the plate sits in a known slot.

The OT-2 preset (``visionkit/presets/ot2.yaml``, ``Calibration.preset("ot2")``)
holds the mapping used in the field with the NPEC Hades plates: the plate's
top-left corner at robot ``[0.10775, 0.062, 0.057]`` m, the robot's x axis
running down the image's rows and its y axis along the image's columns, so
``robot_x = 0.10775 + y_mm / 1000`` and ``robot_y = 0.062 + x_mm / 1000``.
Those numbers describe one deck layout; they are a configurable calibration,
not constants: copy the file, change it, or fit your own from measured points.

Calibration files are YAML or JSON (by suffix) and hold exactly one of:

``matrix``
    the 2x3 affine itself (what :meth:`Calibration.save` writes);
``plate``
    the arguments of :meth:`Calibration.from_plate` (``origin``,
    ``rotation_deg``, ``flip_x``, ``flip_y``, ``swap_axes``);
``points``
    a list of ``{image: [x, y], robot: [x, y, z]}`` pairs, fitted by least
    squares on load (at least three, not all on one line);

beside the optional keys ``frame``, ``z``, ``input_units``, ``residual_mm`` and
``reach_m``.

Fits are checked for units and plausibility, because a robot acts on them:

- robot points are metres; a coordinate farther than the frame's reach from
  its origin (``reach_m``: the file's, else the preset of the same frame
  name, else :data:`ROBOT_REACH_M`, 1 m: a lab deck is smaller) is refused,
  with the hint that millimetres were probably typed;
- a fit whose RMS residual exceeds :data:`RESIDUAL_REFUSE_MM` is refused with
  the figure; one above :data:`RESIDUAL_WARN_MM` (the robot's 1 mm accuracy)
  is logged once as a warning.

:meth:`Calibration.resolve` is the one place that turns "a file or a preset
name" into a calibration, for the command line, the pipeline and the portal.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from visionkit.exceptions import CalibrationError, UnknownNameError
from visionkit.prediction import DishInfo, Plant, Prediction, RobotPoint

__all__ = [
    "INPUT_UNITS",
    "RESIDUAL_REFUSE_MM",
    "RESIDUAL_WARN_MM",
    "ROBOT_REACH_M",
    "Calibration",
    "InputUnits",
    "preset_names",
    "preset_reach_m",
]

logger = logging.getLogger(__name__)

InputUnits = Literal["px", "plate_mm"]

#: The input coordinate systems a calibration can start from.
INPUT_UNITS: tuple[str, ...] = ("px", "plate_mm")

#: A fit whose RMS residual exceeds this (mm) is logged as a warning: the
#: robot must land within 1 mm of the true tip.
RESIDUAL_WARN_MM = 1.0

#: A fit whose RMS residual exceeds this (mm) is refused: its points do not
#: describe one rigid deck (a swapped pair, mixed units, a typo).
RESIDUAL_REFUSE_MM = 5.0

#: How far (m) from a robot frame's origin a coordinate may lie when neither
#: the file nor a preset of that frame says: lab decks are under a metre.
ROBOT_REACH_M = 1.0

_SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json"}
_KNOWN_KEYS = frozenset(
    {"frame", "z", "input_units", "residual_mm", "reach_m", "matrix", "plate", "points"}
)
_PLATE_KEYS = frozenset({"origin", "rotation_deg", "flip_x", "flip_y", "swap_axes"})
_COLLINEAR_HINT = "need at least 3 non-collinear points"


def preset_names() -> list[str]:
    """The names of the calibration presets shipped with visionkit."""
    folder = resources.files("visionkit").joinpath("presets")
    if not folder.is_dir():  # pragma: no cover - only for a broken install
        return []
    return sorted(p.name[: -len(".yaml")] for p in folder.iterdir() if p.name.endswith(".yaml"))


@dataclasses.dataclass(frozen=True, eq=False)
class Calibration:
    """An immutable map from input coordinates to a robot frame (metres).

    Attributes:
        frame: the robot frame's name, copied into every
            :class:`~visionkit.prediction.RobotPoint` (e.g. ``"ot2"``).
        matrix: 2x3 affine, ``[robot_x, robot_y] = matrix @ [u, v, 1]`` with
            ``u, v`` in ``input_units``. Read-only.
        z: the robot z (m) for the inoculation height.
        input_units: ``"px"`` (input-image pixels) or ``"plate_mm"``
            (millimetres from the dish box's top-left corner).
        residual_mm: RMS reprojection error of a fit in millimetres, or
            ``None`` when the calibration was not fitted.
    """

    frame: str
    matrix: np.ndarray
    z: float = 0.0
    input_units: InputUnits = "px"
    residual_mm: float | None = None

    def __post_init__(self) -> None:
        matrix = np.array(self.matrix, dtype=np.float64)
        if matrix.shape != (2, 3):
            raise CalibrationError(
                f"calibration matrix must be 2x3 (rows robot x and y), got shape {matrix.shape}"
            )
        if not np.all(np.isfinite(matrix)):
            raise CalibrationError(f"calibration matrix holds NaN or infinity: {matrix.tolist()}")
        singular = np.linalg.svd(matrix[:, :2], compute_uv=False)
        if singular[-1] <= 1e-9 * singular[0]:
            raise CalibrationError(
                f"calibration matrix {matrix.tolist()} is singular: it maps the plane onto a "
                f"line, so no robot point can be told apart; refit from non-collinear points"
            )
        matrix.flags.writeable = False
        object.__setattr__(self, "matrix", matrix)
        if self.input_units not in INPUT_UNITS:
            raise CalibrationError(
                f"input_units {self.input_units!r} is not one of {', '.join(INPUT_UNITS)}"
            )
        if not math.isfinite(float(self.z)):
            raise CalibrationError(f"calibration z must be a finite number, got {self.z!r}")
        object.__setattr__(self, "z", float(self.z))
        object.__setattr__(self, "frame", str(self.frame))

    # -- construction -----------------------------------------------------

    @classmethod
    def fit(
        cls,
        image_points: Sequence[Sequence[float]] | np.ndarray,
        robot_points: Sequence[Sequence[float]] | np.ndarray,
        *,
        frame: str = "robot",
        z: float | None = None,
        input_units: InputUnits = "px",
        reach_m: float | None = None,
        max_residual_mm: float = RESIDUAL_REFUSE_MM,
    ) -> Calibration:
        """Fit the affine map from point pairs by least squares.

        Args:
            image_points: N points ``[x, y]`` in ``input_units``.
            robot_points: the N matching robot points ``[x, y]`` or
                ``[x, y, z]`` in metres.
            frame: the robot frame's name.
            z: the inoculation height; by default the mean z of the robot
                points when they have one, else 0.
            input_units: what ``image_points`` are measured in.
            reach_m: the largest plausible robot coordinate in metres; by
                default the reach of the preset named like ``frame``, else
                :data:`ROBOT_REACH_M`.
            max_residual_mm: refuse a fit whose RMS residual exceeds this.

        Returns:
            The calibration, with ``residual_mm`` the RMS distance (mm) between
            the robot points and where the fit puts their image points; a
            residual above :data:`RESIDUAL_WARN_MM` is logged once as a warning.

        Raises:
            CalibrationError: fewer than three pairs, mismatched counts,
                non-finite values, all points on one line, a robot point beyond
                the frame's reach (millimetres typed as metres), or a residual
                above ``max_residual_mm``.
        """
        src = _as_points(image_points, "image points", widths=(2,))
        dst = _as_points(robot_points, "robot points", widths=(2, 3))
        if len(src) != len(dst):
            raise CalibrationError(
                f"got {len(src)} image points but {len(dst)} robot points; they must pair up"
            )
        if len(src) < 3:
            raise CalibrationError(f"{_COLLINEAR_HINT}, got {len(src)}")
        if _is_collinear(src):
            raise CalibrationError(f"{_COLLINEAR_HINT}: the image points all lie on one line")
        if _is_collinear(dst[:, :2]):
            raise CalibrationError(f"{_COLLINEAR_HINT}: the robot points all lie on one line")
        _check_reach(dst, frame, preset_reach_m(frame) if reach_m is None else reach_m)
        design = np.column_stack([src, np.ones(len(src))])
        solution, *_ = np.linalg.lstsq(design, dst[:, :2], rcond=None)
        matrix = solution.T
        errors_m = design @ solution - dst[:, :2]
        residual_mm = float(np.sqrt(np.mean(np.sum(errors_m**2, axis=1)))) * 1000.0
        if z is None:
            z = float(dst[:, 2].mean()) if dst.shape[1] == 3 else 0.0
        if residual_mm > max_residual_mm:
            raise CalibrationError(
                f"the fit's RMS residual is {residual_mm:.1f} mm, above the {max_residual_mm:g} mm "
                f"a rigid deck allows: the point pairs disagree (a swapped pair, a typo, or "
                f"points in other units); check them and fit again"
            )
        if residual_mm > RESIDUAL_WARN_MM:
            logger.warning(
                "calibration residual %.3f mm exceeds %.1f mm: check the point pairs",
                residual_mm,
                RESIDUAL_WARN_MM,
            )
        return cls(frame, matrix, z, input_units, residual_mm)

    @classmethod
    def from_plate(
        cls,
        *,
        origin: Sequence[float],
        rotation_deg: float = 0.0,
        flip_x: bool = False,
        flip_y: bool = False,
        swap_axes: bool = False,
        frame: str = "robot",
    ) -> Calibration:
        """A calibration from plate millimetres, for a plate in a known slot.

        The plate point ``(u, v)`` mm (u right, v down from the dish box's
        top-left corner) goes to the robot in this order: ``swap_axes``
        exchanges u and v; ``flip_x``/``flip_y`` negate the robot x/y
        component; the result turns by ``rotation_deg`` (counter-clockwise from
        robot +x towards +y), is scaled to metres and added to ``origin``.

        Args:
            origin: robot ``(x, y, z)`` in metres of the plate's top-left
                corner; z becomes the inoculation height.
        """
        values = _as_floats(origin, "origin")
        if len(values) != 3:
            raise CalibrationError(f"origin must be robot (x, y, z) in metres, got {list(origin)}")
        linear = np.array([[0.0, 1.0], [1.0, 0.0]]) if swap_axes else np.eye(2)
        linear = np.diag([-1.0 if flip_x else 1.0, -1.0 if flip_y else 1.0]) @ linear
        theta = math.radians(float(rotation_deg))
        rotation = np.array(
            [[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]]
        )
        linear = rotation @ linear / 1000.0
        matrix = np.column_stack([linear, values[:2]])
        return cls(frame, matrix, values[2], "plate_mm", None)

    @classmethod
    def resolve(cls, ref: Calibration | str | os.PathLike[str] | None) -> Calibration | None:
        """A calibration from an object, a YAML/JSON file, or a preset name such as ``"ot2"``.

        A path that exists, or ends in ``.yaml``, ``.yml`` or ``.json``, is a
        file (so a missing file is reported as missing, not as an unknown
        preset); anything else names a preset. ``None`` stays ``None``.

        Raises:
            CalibrationError: the file is missing or malformed.
            UnknownNameError: no preset has that name; the message lists them.
        """
        if ref is None or isinstance(ref, Calibration):
            return ref
        path = Path(ref)
        if path.exists() or path.suffix.lower() in _SUFFIXES:
            return cls.load(path)
        return cls.preset(str(ref))

    @classmethod
    def preset(cls, name: str) -> Calibration:
        """Load a calibration shipped with visionkit (``visionkit/presets/<name>.yaml``).

        Raises:
            UnknownNameError: no preset has that name; the message lists them.
        """
        names = preset_names()
        if name not in names:
            raise UnknownNameError("calibration preset", name, names)
        source = f"preset {name!r}"
        return cls.from_dict(_preset_mapping(name), source=source)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Calibration:
        """Read a calibration file (YAML or JSON, by suffix).

        The file holds ``matrix``, ``plate`` or ``points`` (see the module
        docstring); ``points`` are fitted on load.

        Raises:
            CalibrationError: the file is missing, unreadable, malformed
                (the message names the file and the key at fault), or its
                points are too few or collinear.
        """
        file = Path(path)
        return cls.from_dict(cls._read_mapping(file), source=str(file))

    @staticmethod
    def _read_mapping(file: Path) -> Any:
        kind = _suffix_kind(file)
        try:
            text = file.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CalibrationError(f"calibration file {file} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise CalibrationError(f"calibration file {file} cannot be read: {exc}") from exc
        return _parse(text, str(file), kind)

    @classmethod
    def fit_file(cls, path: str | os.PathLike[str]) -> Calibration:
        """Fit a calibration from a points file (``points:`` of image/robot pairs).

        Unlike :meth:`load`, refuses a file that holds a ready ``matrix`` or
        ``plate`` instead of measured points.

        Raises:
            CalibrationError: the file is missing or malformed, holds no
                ``points``, or its points are too few or collinear.
        """
        file = Path(path)
        data = cls._read_mapping(file)
        if not isinstance(data, Mapping) or "points" not in data:
            raise CalibrationError(
                f"{file}: no 'points' to fit; {_COLLINEAR_HINT} as "
                f"points: [{{image: [x, y], robot: [x, y, z]}}, ...]"
            )
        return cls.from_dict(data, source=str(file))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "calibration") -> Calibration:
        """Build a calibration from the mapping a calibration file holds.

        Args:
            data: the parsed file (see the module docstring).
            source: what to call the data in error messages (a file name).

        Raises:
            CalibrationError: a key is unknown, missing or malformed; the
                message starts with ``source`` and names the key.
        """
        try:
            return cls._from_mapping(data)
        except CalibrationError as exc:
            raise CalibrationError(f"{source}: {exc}") from exc

    @classmethod
    def _from_mapping(cls, data: Any) -> Calibration:
        if not isinstance(data, Mapping):
            raise CalibrationError(
                f"expected a mapping with matrix, plate or points, got {type(data).__name__}"
            )
        unknown = sorted(set(data) - _KNOWN_KEYS)
        if unknown:
            valid = ", ".join(sorted(_KNOWN_KEYS))
            raise CalibrationError(f"unknown key {unknown[0]!r}; valid keys are {valid}")
        forms = [k for k in ("matrix", "plate", "points") if k in data]
        if len(forms) != 1:
            found = ", ".join(forms) or "none of them"
            raise CalibrationError(
                f"give exactly one of 'matrix', 'plate' or 'points' (found {found})"
            )
        frame = data.get("frame", "robot")
        if not isinstance(frame, str) or not frame:
            raise CalibrationError(f"key 'frame' must be a non-empty string, got {frame!r}")
        z = _optional_float(data, "z")
        units = data.get("input_units", "plate_mm" if forms[0] == "plate" else "px")
        if units not in INPUT_UNITS:
            raise CalibrationError(
                f"key 'input_units' must be one of {', '.join(INPUT_UNITS)}, got {units!r}"
            )
        if forms[0] == "matrix":
            return cls._matrix_from_dict(data, frame, z, units)
        if forms[0] == "plate":
            return cls._plate_from_dict(data, frame, z, units)
        return cls._points_from_dict(data, frame, z, units)

    @classmethod
    def _matrix_from_dict(
        cls, data: Mapping[str, Any], frame: str, z: float | None, units: InputUnits
    ) -> Calibration:
        try:
            matrix = np.array(data["matrix"], dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise CalibrationError("key 'matrix' must be 2x3 (two rows of three numbers)") from exc
        if matrix.shape != (2, 3):
            raise CalibrationError(
                f"key 'matrix' must be 2x3 (two rows of three numbers), got shape {matrix.shape}"
            )
        residual = _optional_float(data, "residual_mm")
        return cls(frame, matrix, 0.0 if z is None else z, units, residual)

    @classmethod
    def _plate_from_dict(
        cls, data: Mapping[str, Any], frame: str, z: float | None, units: InputUnits
    ) -> Calibration:
        plate = data["plate"]
        if not isinstance(plate, Mapping):
            raise CalibrationError("key 'plate' must be a mapping with 'origin'")
        unknown = sorted(set(plate) - _PLATE_KEYS)
        if unknown:
            valid = ", ".join(sorted(_PLATE_KEYS))
            raise CalibrationError(f"unknown key 'plate.{unknown[0]}'; valid keys are {valid}")
        if "origin" not in plate:
            raise CalibrationError("key 'plate.origin' (robot x, y, z in m) is missing")
        if units != "plate_mm":
            raise CalibrationError("key 'input_units' must be 'plate_mm' for a 'plate' calibration")
        flags = {}
        for key in ("flip_x", "flip_y", "swap_axes"):
            value = plate.get(key, False)
            if not isinstance(value, bool):
                raise CalibrationError(f"key 'plate.{key}' must be true or false, got {value!r}")
            flags[key] = value
        rotation = _optional_float(plate, "rotation_deg", prefix="plate.")
        origin = _as_floats(plate["origin"], "key 'plate.origin'")
        reach = _optional_float(data, "reach_m")
        _check_reach(np.asarray([origin]), frame, reach or preset_reach_m(frame))
        calibration = cls.from_plate(
            origin=origin,
            rotation_deg=rotation or 0.0,
            frame=frame,
            **flags,
        )
        return calibration if z is None else dataclasses.replace(calibration, z=z)

    @classmethod
    def _points_from_dict(
        cls, data: Mapping[str, Any], frame: str, z: float | None, units: InputUnits
    ) -> Calibration:
        points = data["points"]
        if not isinstance(points, list):
            raise CalibrationError(
                "key 'points' must be a list of {image: [x, y], robot: [x, y, z]}"
            )
        reach = _optional_float(data, "reach_m")
        if reach is not None and reach <= 0:
            raise CalibrationError(
                f"key 'reach_m' must be a positive number of metres, got {reach}"
            )
        image, robot = [], []
        for i, pair in enumerate(points):
            if not isinstance(pair, Mapping) or "image" not in pair or "robot" not in pair:
                raise CalibrationError(
                    f"key 'points[{i}]' must be a mapping with 'image' and 'robot'"
                )
            image.append(_as_floats(pair["image"], f"key 'points[{i}].image'"))
            robot.append(_as_floats(pair["robot"], f"key 'points[{i}].robot'"))
        return cls.fit(image, robot, frame=frame, z=z, input_units=units, reach_m=reach)

    # -- output -------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The mapping :meth:`save` writes: ``matrix`` form, loadable by :meth:`from_dict`."""
        return {
            "frame": self.frame,
            "input_units": self.input_units,
            "z": self.z,
            "matrix": [[float(v) for v in row] for row in self.matrix],
            "residual_mm": None if self.residual_mm is None else round(self.residual_mm, 6),
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the calibration as YAML or JSON (by suffix), atomically.

        Raises:
            CalibrationError: the suffix is not ``.yaml``, ``.yml`` or ``.json``,
                or the file cannot be written (the message names it).
        """
        file = Path(path)
        kind = _suffix_kind(file)
        if kind == "json":
            text = json.dumps(self.to_dict(), indent=2) + "\n"
        else:
            import yaml

            header = "# visionkit calibration: [robot_x, robot_y] = matrix @ [u, v, 1]\n"
            text = header + yaml.safe_dump(self.to_dict(), sort_keys=False)
        tmp = file.with_name(f".{file.name}.part")
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, file)
        except OSError as exc:
            raise CalibrationError(f"cannot write calibration file {file}: {exc}") from exc
        finally:
            if tmp.exists():
                tmp.unlink()
        return file

    def describe(self) -> str:
        """A few human-readable lines: frame, units, the map written out."""
        (a, b, c), (d, e, f) = self.matrix.tolist()
        unit = "px" if self.input_units == "px" else "mm"
        lines = [
            f"frame:       {self.frame}",
            f"input units: {self.input_units}",
            f"robot_x = {a:+.6g}*u {b:+.6g}*v {c:+.6g}   (u, v in {unit}; robot in m)",
            f"robot_y = {d:+.6g}*u {e:+.6g}*v {f:+.6g}",
            f"robot_z = {self.z:.6g}",
            f"scale:       {self.mm_per_unit:.6g} mm per {unit}",
        ]
        if self.residual_mm is not None:
            lines.append(f"residual:    {self.residual_mm:.4f} mm RMS")
        return "\n".join(lines)

    @property
    def mm_per_unit(self) -> float:
        """Robot millimetres per input unit (the map's mean scale)."""
        return math.sqrt(abs(float(np.linalg.det(self.matrix[:, :2])))) * 1000.0

    # -- mapping ------------------------------------------------------------

    def to_input(self, x: Any, y: Any, dish: DishInfo | None = None) -> np.ndarray:
        """Image pixels to this calibration's input units (an ``(N, 2)`` array)."""
        points = np.column_stack([np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)])
        if self.input_units == "px":
            return points
        if dish is None:
            raise CalibrationError(
                f"calibration {self.frame!r} takes plate millimetres: pass the dish "
                f"(bbox and mm_per_px from the prediction) to convert pixels"
            )
        return (points - np.array(dish.bbox[:2], dtype=np.float64)) * float(dish.mm_per_px)

    def to_robot_many(
        self, points: Sequence[Sequence[float]] | np.ndarray, *, dish: DishInfo | None = None
    ) -> np.ndarray:
        """Map N image points ``[x, y]`` (pixels) to robot ``[x, y, z]`` (an ``(N, 3)`` array).

        Raises:
            CalibrationError: the calibration takes plate millimetres and no
                ``dish`` was given.
        """
        pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
        uv = self.to_input(pts[:, 0], pts[:, 1], dish)
        xy = uv @ self.matrix[:, :2].T + self.matrix[:, 2]
        return np.column_stack([xy, np.full(len(xy), self.z)])

    def to_robot(self, x: float, y: float, *, dish: DishInfo | None = None) -> RobotPoint:
        """Map one image pixel (x = column, y = row) to a robot point.

        Raises:
            CalibrationError: the calibration takes plate millimetres and no
                ``dish`` was given.
        """
        rx, ry, rz = self.to_robot_many([[x, y]], dish=dish)[0]
        return RobotPoint(self.frame, float(rx), float(ry), float(rz))

    def to_image(
        self, robot_x: float, robot_y: float, *, dish: DishInfo | None = None
    ) -> tuple[float, float]:
        """Map a robot ``(x, y)`` back to an image pixel (the inverse of :meth:`to_robot`).

        Raises:
            CalibrationError: the calibration takes plate millimetres and no
                ``dish`` was given.
        """
        linear, offset = self.matrix[:, :2], self.matrix[:, 2]
        u, v = np.linalg.solve(linear, np.array([robot_x, robot_y]) - offset)
        if self.input_units == "px":
            return float(u), float(v)
        if dish is None:
            raise CalibrationError(
                f"calibration {self.frame!r} gives plate millimetres: pass the dish to get pixels"
            )
        return (
            float(u / dish.mm_per_px + dish.bbox[0]),
            float(v / dish.mm_per_px + dish.bbox[1]),
        )

    def apply(self, prediction: Prediction) -> Prediction:
        """A copy of ``prediction`` with ``robot`` filled for every plant whose tip was found.

        Plants without a tip keep ``robot=None``. The input is not changed.

        Raises:
            CalibrationError: the calibration takes plate millimetres and the
                prediction has no dish.
        """
        tips = [(p.tip.x, p.tip.y) for p in prediction.plants if p.tip is not None]
        if tips and self.input_units == "plate_mm" and prediction.dish is None:
            raise CalibrationError(
                f"{prediction.image}: no dish was found, so pixels cannot be turned into plate "
                f"millimetres for calibration {self.frame!r}; use a pixel ('px') calibration"
            )
        robot = self.to_robot_many(tips, dish=prediction.dish) if tips else np.empty((0, 3))
        points = iter(robot)
        plants: list[Plant] = []
        for plant in prediction.plants:
            if plant.tip is None:
                plants.append(plant)
                continue
            rx, ry, rz = next(points)
            point = RobotPoint(self.frame, float(rx), float(ry), float(rz))
            plants.append(dataclasses.replace(plant, robot=point))
        return dataclasses.replace(
            prediction,
            plants=plants,
            confidence=dict(prediction.confidence),
            masks=dict(prediction.masks),
            timing_ms=dict(prediction.timing_ms),
            warnings=list(prediction.warnings),
            mask_arrays=dict(prediction.mask_arrays),
        )

    # -- value semantics ----------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Calibration):
            return NotImplemented
        return (
            self.frame == other.frame
            and self.input_units == other.input_units
            and math.isclose(self.z, other.z, abs_tol=1e-12)
            and bool(np.allclose(self.matrix, other.matrix, rtol=0.0, atol=1e-12))
        )

    def __hash__(self) -> int:
        return hash((self.frame, self.input_units))  # equal maps may differ by rounding


def _preset_mapping(name: str) -> Any:
    resource = resources.files("visionkit").joinpath("presets", f"{name}.yaml")
    return _parse(resource.read_text(encoding="utf-8"), f"preset {name!r}", "yaml")


def preset_reach_m(frame: str) -> float:
    """The reach (m) of the shipped preset for robot ``frame``, else :data:`ROBOT_REACH_M`."""
    if frame in preset_names():
        reach = _preset_mapping(frame).get("reach_m")
        if isinstance(reach, int | float) and reach > 0:
            return float(reach)
    return ROBOT_REACH_M


def _check_reach(robot: np.ndarray, frame: str, reach_m: float) -> None:
    """Refuse robot points beyond the frame's reach: most often millimetres typed as metres."""
    beyond = np.flatnonzero(np.abs(robot).max(axis=1) > reach_m)
    if not len(beyond):
        return
    worst = int(beyond[0])
    largest = float(np.abs(robot[worst]).max())
    point = ", ".join(f"{v:g}" for v in robot[worst])
    hint = (
        f"; robot points are metres: [{', '.join(f'{v / 1000:g}' for v in robot[worst])}] "
        f"if you typed millimetres"
        if largest / 1000.0 <= reach_m
        else ""
    )
    raise CalibrationError(
        f"robot point {worst + 1} [{point}] lies {largest:g} m from the {frame!r} frame's "
        f"origin, beyond its {reach_m:g} m reach{hint}"
    )


def _parse(text: str, source: str, kind: str) -> Any:
    import yaml

    try:
        return json.loads(text) if kind == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:  # json.JSONDecodeError is a ValueError
        raise CalibrationError(f"{source}: not valid {kind.upper()}: {exc}") from exc


def _suffix_kind(file: Path) -> str:
    kind = _SUFFIXES.get(file.suffix.lower())
    if kind is None:
        raise CalibrationError(
            f"calibration file {file}: unknown suffix {file.suffix!r}; use .yaml, .yml or .json"
        )
    return kind


def _as_floats(value: Any, what: str) -> list[float]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise CalibrationError(f"{what} must be a list of numbers, got {value!r}")
    out = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int | float):
            raise CalibrationError(f"{what} must be a list of numbers, got {value!r}")
        if not math.isfinite(item):
            raise CalibrationError(f"{what} holds a non-finite number: {value!r}")
        out.append(float(item))
    return out


def _optional_float(data: Mapping[str, Any], key: str, *, prefix: str = "") -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise CalibrationError(f"key '{prefix}{key}' must be a number, got {value!r}")
    return float(value)


def _as_points(points: Any, what: str, *, widths: tuple[int, ...]) -> np.ndarray:
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CalibrationError(f"{what} must be a list of [x, y] numbers: {exc}") from exc
    if array.ndim != 2 or array.shape[1] not in widths:
        shape = " or ".join(f"[{', '.join('xyz'[:w])}]" for w in widths)
        raise CalibrationError(f"{what} must be a list of {shape}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise CalibrationError(f"{what} hold NaN or infinity")
    return array


def _is_collinear(points: np.ndarray) -> bool:
    """True when the points span no area (all on one line, or all the same)."""
    centred = points - points.mean(axis=0)
    singular = np.linalg.svd(centred, compute_uv=False)
    if singular[0] == 0.0:
        return True
    return bool(singular[-1] / singular[0] < 1e-6)
