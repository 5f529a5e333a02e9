"""What every camera source is: an iterable of frames that can be closed."""

from __future__ import annotations

from collections.abc import Iterator
from types import TracebackType
from typing import Protocol, runtime_checkable

from visionkit.frame import Frame

__all__ = ["BaseSource", "Source"]


@runtime_checkable
class Source(Protocol):
    """A stream of :class:`~visionkit.frame.Frame` objects.

    Finite sources (files, folders) end; live ones (a camera) run until closed.
    """

    name: str

    def __iter__(self) -> Iterator[Frame]:
        """Yield frames in order."""
        ...

    def close(self) -> None:
        """Release files, devices or connections; safe to call twice."""
        ...


class BaseSource:
    """Convenience base: context-manager support and a no-op :meth:`close`."""

    name: str = "source"

    def __iter__(self) -> Iterator[Frame]:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to release by default."""

    def __enter__(self) -> BaseSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
