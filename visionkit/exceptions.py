"""Every error visionkit raises on purpose.

All of them derive from :class:`VisionkitError`, so robot code can catch one
class and still tell the cases apart::

    VisionkitError
    ├── PluginError                 a plugin misbehaves or a name is taken twice
    │   └── UnknownNameError        a source/adapter/architecture name nobody registered
    ├── ImageError                  an image cannot be used
    │   ├── ImageReadError          corrupt, truncated or unsupported file
    │   └── ImageTooLargeError      more pixels than the configured limit
    ├── SourceError                 a camera source cannot deliver frames
    │   └── SourceNotFoundError     no source plugin opens this URI, or it is empty
    ├── AdapterError                an output adapter failed to deliver
    ├── CalibrationError            a calibration is missing, degenerate or malformed
    ├── DatasetError                a data folder breaks the Hades mask convention
    ├── SettingsError               a prediction setting is out of range (also a ValueError)
    ├── StorageError                a storage (folder, Blob Storage) refuses, or lacks a file
    │   └── IntegrityError          a stored or fetched file's sha256 differs from its record
    └── ModelError                  a model is missing, malformed or mismatched

Each message names the file, URI or value at fault and says what to do.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "AdapterError",
    "CalibrationError",
    "DatasetError",
    "ImageError",
    "ImageReadError",
    "ImageTooLargeError",
    "IntegrityError",
    "ModelError",
    "PluginError",
    "SettingsError",
    "SourceError",
    "SourceNotFoundError",
    "StorageError",
    "UnknownNameError",
    "VisionkitError",
]


class VisionkitError(Exception):
    """Base class of every error visionkit raises deliberately."""


class PluginError(VisionkitError):
    """A plugin is malformed, or two plugins register the same name."""


class UnknownNameError(PluginError, KeyError):
    """A name was looked up that no plugin registered.

    The message lists the valid names so the caller can correct a typo.
    """

    def __init__(self, kind: str, name: str, valid: Iterable[str]) -> None:
        self.kind = kind
        self.name = name
        self.valid = sorted(valid)
        choices = ", ".join(self.valid) or "(none registered)"
        super().__init__(f"unknown {kind} {name!r}; valid {kind}s are: {choices}")

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0])


class ImageError(VisionkitError):
    """An image cannot be used."""


class ImageReadError(ImageError):
    """A file is not a readable image (corrupt, truncated or unsupported)."""


class ImageTooLargeError(ImageError):
    """An image has more pixels than the configured limit."""


class SourceError(VisionkitError):
    """A camera source cannot deliver frames."""


class SourceNotFoundError(SourceError):
    """No source plugin can open a URI, or what it names holds no images."""


class AdapterError(VisionkitError):
    """An output adapter could not deliver a prediction."""


class CalibrationError(VisionkitError):
    """A calibration is missing, degenerate (collinear points) or malformed."""


class DatasetError(VisionkitError):
    """A data folder breaks the Hades mask convention.

    ``problems`` holds every problem found, not just the first, so a user can
    fix a whole folder in one pass.
    """

    def __init__(self, message: str, problems: Iterable[str] = ()) -> None:
        self.problems = list(problems)
        if self.problems:
            message = message + "\n" + "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(message)


class SettingsError(VisionkitError, ValueError):
    """A setting (tile, scale, backend...) has a value outside its range.

    Also a :class:`ValueError`, so code that checked arguments the plain way
    keeps working.
    """


class StorageError(VisionkitError):
    """A storage cannot be reached, refuses the credentials, or lacks a container or file."""


class IntegrityError(StorageError):
    """A file's content does not match the sha256 its manifest or metadata records.

    ``key`` names the stored file at fault, so a user knows which one to push again.
    """

    def __init__(self, message: str, *, key: str = "") -> None:
        self.key = key
        super().__init__(message)


class ModelError(VisionkitError):
    """A model folder is missing, malformed, or does not fit the request."""
