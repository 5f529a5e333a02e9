"""Splits are by image (or plate group), deterministic and complete."""

from __future__ import annotations

import random

import pytest

from visionkit.data.splits import group_by_regex, split_by_image

STEMS = [f"plate_{i:03d}" for i in range(50)]


def test_every_stem_lands_in_exactly_one_split() -> None:
    splits = split_by_image(STEMS)
    assert list(splits) == ["train", "val", "test"]
    members = [s for names in splits.values() for s in names]
    assert sorted(members) == STEMS
    assert {k: len(v) for k, v in splits.items()} == {"train": 40, "val": 5, "test": 5}
    assert all(names == sorted(names) for names in splits.values())


def test_the_split_is_deterministic_and_ignores_input_order() -> None:
    shuffled = STEMS[:]
    random.Random(1).shuffle(shuffled)
    assert split_by_image(shuffled, seed=5) == split_by_image(STEMS, seed=5)
    assert split_by_image(STEMS + STEMS[:3], seed=5) == split_by_image(STEMS, seed=5)
    assert split_by_image(STEMS, seed=5) != split_by_image(STEMS, seed=6)


def test_small_sets_still_fill_every_split() -> None:
    assert {k: len(v) for k, v in split_by_image(["a", "b", "c"]).items()} == {
        "train": 1,
        "val": 1,
        "test": 1,
    }
    assert split_by_image([]) == {"train": [], "val": [], "test": []}


def test_groups_never_straddle_splits() -> None:
    # a time series: five days of each of twelve dishes
    stems = [f"dish{d:02d}_day{t}" for d in range(12) for t in range(5)]
    group_of = group_by_regex(r"^(dish\d+)_")
    splits = split_by_image(stems, (0.5, 0.25, 0.25), seed=2, group_of=group_of)
    home = {}
    for name, members in splits.items():
        for stem in members:
            assert home.setdefault(group_of(stem), name) == name
    assert sorted(s for m in splits.values() for s in m) == sorted(stems)
    assert {k: len(v) for k, v in splits.items()} == {"train": 30, "val": 15, "test": 15}


def test_custom_names_and_zero_fractions() -> None:
    splits = split_by_image(STEMS, (0.7, 0.3, 0.0), names=("fit", "check", "never"))
    assert (len(splits["fit"]), len(splits["check"]), splits["never"]) == (35, 15, [])
    assert split_by_image(STEMS, (1.0,), names=("all",)) == {"all": STEMS}


def test_group_by_regex_keeps_unmatched_stems_apart() -> None:
    group_of = group_by_regex(r"(?P<plate>OD\d+)", group="plate")
    assert group_of("035_pvd_OD01_f6h1_03") == "OD01"
    assert group_of("no plate number") == "no plate number"
    optional = group_by_regex(r"^x(\d)?")
    assert optional("xa") == "xa"  # matched, but the group is empty


@pytest.mark.parametrize(
    ("fractions", "names", "message"),
    [
        ((0.5, 0.5), None, "pass names for 2 fractions"),
        ((0.8, 0.1, 0.2), None, "sum to 1"),
        ((1.2, -0.1, -0.1), None, "non-negative"),
        ((0.5, 0.5), ("a", "a"), "distinct split names"),
        ((0.5, 0.5), ("a",), "need 2 distinct"),
    ],
)
def test_bad_fractions_or_names_are_refused(
    fractions: tuple[float, ...], names: tuple[str, ...] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        split_by_image(STEMS, fractions, names=names)
