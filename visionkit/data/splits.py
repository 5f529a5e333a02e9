"""Split plates into train/validation/test by image, never by patch.

Patches of one plate are near-copies of each other, and so are the frames of
one dish imaged day after day; if they land on both sides of a split, the
validation score measures memory, not skill. :func:`split_by_image` therefore
assigns whole images, and whole groups of images when ``group_of`` says which
belong together (e.g. :func:`group_by_regex` on the Hades plate number).

The split is deterministic: groups are ordered by a seeded SHA-256 of their
name (not Python's salted ``hash``), so the same stems and seed give the same
split on any machine, whatever order the stems come in. Adding plates can
move a few others between splits: store the split with the model it trained.
Each group, in that order, goes to the split furthest below its target share,
relative to that share: the fractions are met as closely as whole groups
allow, and every split with a positive fraction gets an image as soon as there
are enough (three images split 0.8/0.1/0.1 give 1/1/1).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence

__all__ = ["DEFAULT_SPLIT_NAMES", "group_by_regex", "split_by_image"]

#: Split names used when ``names`` is not given and there are three fractions.
DEFAULT_SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")


def group_by_regex(pattern: str, *, group: int | str = 1) -> Callable[[str], str]:
    """A ``group_of`` function: the part of a stem that ``pattern`` captures.

    ``re.search`` is used; a stem the pattern does not match is its own group.
    For example ``group_by_regex(r"^(.*)_t\\d+$")`` keeps ``dish7_t01`` and
    ``dish7_t02`` together.

    Raises:
        re.error: ``pattern`` is not a valid regular expression.
    """
    compiled = re.compile(pattern)

    def group_of(stem: str) -> str:
        match = compiled.search(stem)
        if match is None or match.group(group) is None:
            return stem
        return str(match.group(group))

    return group_of


def _rank(seed: int, group: str) -> str:
    return hashlib.sha256(f"{seed}\x00{group}".encode()).hexdigest()


def split_by_image(
    stems: Iterable[str],
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    *,
    names: Sequence[str] | None = None,
    group_of: Callable[[str], str] | None = None,
) -> dict[str, list[str]]:
    """Assign every stem to exactly one split (see the module docstring).

    Args:
        stems: image stems; duplicates are counted once.
        fractions: target share of images per split; must sum to 1.
        seed: changes which images go where.
        names: split names, one per fraction; ``train``/``val``/``test`` for
            three fractions.
        group_of: stem -> group key; stems with the same key share a split.

    Returns:
        Split name -> sorted stems, for every name (possibly empty), in order.

    Raises:
        ValueError: fractions are negative or do not sum to 1, or the names
            do not match the fractions.
    """
    fractions = [float(f) for f in fractions]
    if not fractions or any(f < 0 for f in fractions) or abs(sum(fractions) - 1.0) > 1e-6:
        raise ValueError(f"fractions must be non-negative and sum to 1, got {fractions}")
    if names is None:
        if len(fractions) != len(DEFAULT_SPLIT_NAMES):
            raise ValueError(f"pass names for {len(fractions)} fractions")
        names = DEFAULT_SPLIT_NAMES
    names = list(names)
    if len(names) != len(fractions) or len(set(names)) != len(names):
        raise ValueError(f"need {len(fractions)} distinct split names, got {names}")

    unique = sorted(set(stems))
    groups: dict[str, list[str]] = {}
    for stem in unique:
        key = group_of(stem) if group_of is not None else stem
        groups.setdefault(key, []).append(stem)
    order = sorted(groups, key=lambda g: (_rank(seed, g), g))

    total = len(unique)
    targets = [f * total for f in fractions]
    counts = [0] * len(fractions)
    result: dict[str, list[str]] = {name: [] for name in names}
    for key in order:
        members = groups[key]
        # The split furthest below its target, relative to that target (so a
        # small split gets its first image early); ties go to the first split,
        # and a split with a zero fraction never gets anything.
        deficits = [
            ((targets[i] - counts[i]) / targets[i] if targets[i] > 0 else float("-inf"), -i)
            for i in range(len(fractions))
        ]
        best = max(range(len(fractions)), key=lambda i: deficits[i])
        counts[best] += len(members)
        result[names[best]].extend(members)
    return {name: sorted(members) for name, members in result.items()}
