"""What every output adapter is: something that takes predictions, then closes."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, runtime_checkable

from visionkit.prediction import Prediction

__all__ = ["Adapter", "BaseAdapter"]


@runtime_checkable
class Adapter(Protocol):
    """Delivers predictions: to files, a robot, a web service...

    ``write`` is called once per image; ``close`` once at the end, when
    adapters that gather (CSV, COCO) flush what they hold.
    """

    name: str

    def write(self, prediction: Prediction) -> None:
        """Deliver one prediction."""
        ...

    def close(self) -> None:
        """Flush and release; safe to call twice."""
        ...


class BaseAdapter:
    """Convenience base: context-manager support and a no-op :meth:`close`."""

    name: str = "adapter"

    def write(self, prediction: Prediction) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Nothing to flush by default."""

    def __enter__(self) -> BaseAdapter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
