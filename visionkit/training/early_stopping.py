"""When does an epoch count as better? The rule early stopping and ``best/`` share.

A validation score can be undefined (``nan``: e.g. the IoU of a class that is
neither in the validation plates nor predicted). An undefined value never
counts as an improvement, except as the very first value, and any defined
value improves on an undefined best, so one empty epoch cannot freeze the run.
"""

from __future__ import annotations

import math

__all__ = ["is_improvement"]


def is_improvement(value: float, best: float | None, *, higher_is_better: bool) -> bool:
    """Whether ``value`` beats ``best`` (``None``: nothing yet, so it does).

    Ties do not count: a run whose metric stays flat stops after its patience.
    """
    if best is None:
        return True
    if math.isnan(value):
        return False
    if math.isnan(best):
        return True
    return value > best if higher_is_better else value < best
