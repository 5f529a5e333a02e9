"""Source options given as text (CLI, YAML) are coerced; nonsense is refused."""

from __future__ import annotations

import pytest

from visionkit.exceptions import SourceError
from visionkit.sources._options import as_bool, as_positive_float, as_positive_int, check_known


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (0, False), (1, True), ("Yes", True), (" off ", False), ("", False)],
)
def test_flags_accept_bools_numbers_and_words(value, expected):
    assert as_bool("folder", "recursive", value) is expected


@pytest.mark.parametrize("value", [2, "maybe", None, 1.0])
def test_flags_refuse_anything_else(value):
    with pytest.raises(SourceError, match=r"source 'folder': option recursive=.* true or false"):
        as_bool("folder", "recursive", value)


def test_numbers_accept_text_and_refuse_bools_and_small_values():
    assert as_positive_int("opencv", "every_n", " 3 ") == 3
    assert as_positive_int("opencv", "gray_tolerance", 0, minimum=0) == 0
    assert as_positive_float("url", "timeout", "0.25") == 0.25
    for bad in (True, 0, "-1", 2.5):
        with pytest.raises(SourceError, match="at least 1"):
            as_positive_int("opencv", "every_n", bad)
    for bad in (True, 0, "nan", float("inf"), None):
        with pytest.raises(SourceError, match="above 0"):
            as_positive_float("url", "timeout", bad)


def test_unknown_options_are_listed_with_the_valid_ones():
    check_known("file", {"max_pixels": 5}, {"max_pixels"})
    with pytest.raises(SourceError, match=r"no option 'a', 'b'; valid options are: max_pixels"):
        check_known("file", {"b": 1, "a": 2}, {"max_pixels"})
