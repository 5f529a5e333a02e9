"""Per-image records: what makes a table adapter's file the same after one run or two.

The ``csv`` and ``coco`` adapters write one file for many images. Robot code
reads such a file as "the targets of these plates", so an image that is
predicted again must *replace* its rows, never add a second set (a robot
would inoculate twice). :class:`ImageRecords` keeps the records of each
image in first-seen order; putting an image's records again replaces them
in place. The adapters load it from the file an earlier run left, so images
from earlier runs into the same folder are kept, and write it back whole,
atomically (:func:`visionkit.adapters.write_text_atomic`), whenever a
replacement changed what is already on disk.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

__all__ = ["ImageRecords"]

RecordT = TypeVar("RecordT")


class ImageRecords(Generic[RecordT]):
    """Records grouped by image name, in the order images were first seen."""

    def __init__(self) -> None:
        self._by_image: dict[str, list[RecordT]] = {}

    @classmethod
    def grouped(cls, pairs: Iterable[tuple[str, RecordT]]) -> ImageRecords[RecordT]:
        """Records from ``(image, record)`` pairs, e.g. the rows of an existing file."""
        table: ImageRecords[RecordT] = cls()
        for image, record in pairs:
            table._by_image.setdefault(image, []).append(record)
        return table

    def put(self, image: str, records: Iterable[RecordT]) -> bool:
        """Set ``image``'s records; returns whether it replaced records already held."""
        replaced = image in self._by_image
        self._by_image[image] = list(records)
        return replaced

    def __contains__(self, image: object) -> bool:
        return image in self._by_image

    def __len__(self) -> int:
        """The number of images."""
        return len(self._by_image)

    def images(self) -> list[str]:
        """Image names in first-seen order."""
        return list(self._by_image)

    def items(self) -> Iterator[tuple[str, list[RecordT]]]:
        """``(image, records)`` in first-seen order."""
        yield from self._by_image.items()

    def records(self) -> Iterator[RecordT]:
        """Every record, image after image."""
        for rows in self._by_image.values():
            yield from rows
