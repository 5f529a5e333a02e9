"""The ``azblob://`` camera source against a real Blob service (Azurite)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from tests.helpers.folders import write_plate
from visionkit.exceptions import ImageReadError, SourceError, SourceNotFoundError
from visionkit.imageio import read_image
from visionkit.plugins import get_plugin_manager, open_source
from visionkit.sources.azblob import AzBlobSource, is_frame_key, open_azblob
from visionkit.storage import open_storage, push_folder


@pytest.fixture
def plates(tmp_path: Path) -> Path:
    """Plates 2 and 10 (natural order), their masks, a sidecar and a text file."""
    folder = tmp_path / "drop"
    (folder / "later").mkdir(parents=True)
    write_plate(folder, "plate_10", seed=1)
    write_plate(folder, "plate_2", seed=2)
    write_plate(folder / "later", "plate_3", seed=3)
    (folder / "plate_2.landmarks.json").write_text("{}")
    (folder / "notes.txt").write_text("not a frame")
    return folder


def test_frames_stream_from_blobs_in_natural_order(
    blob_env: dict[str, str], container: str, plates: Path
) -> None:
    push_folder(plates, open_storage(f"azblob://{container}/hades-1"))
    with open_source(f"azblob://{container}/hades-1") as frames:
        assert isinstance(frames, AzBlobSource)
        got = list(frames)
    assert [f.metadata["key"] for f in got] == ["later/plate_3.png", "plate_2.png", "plate_10.png"]
    for frame in got:
        expected, _ = read_image(plates / frame.metadata["key"])
        assert np.array_equal(frame.image, expected)
        assert frame.source_id == f"azblob://{container}/hades-1/{frame.metadata['key']}"
        assert len(frame.metadata["sha256"]) == 64
    flat = open_source(f"azblob://{container}/hades-1", recursive="false")
    assert [f.metadata["name"] for f in flat] == ["plate_2.png", "plate_10.png"]


def test_watch_mode_yields_blobs_that_arrive_later(
    blob_env: dict[str, str], container: str, plates: Path
) -> None:
    storage = open_storage(f"azblob://{container}/live")
    storage.put_file("plate_2.png", plates / "plate_2.png")
    source = open_azblob(f"azblob://{container}/live", watch=True, interval="0.2", idle_timeout=1.5)
    names = []
    for frame in source:
        names.append(frame.metadata["name"])
        if len(names) == 1:  # the imager drops the next plate while we predict this one
            threading.Timer(
                0.3, storage.put_file, ("plate_10.png", plates / "plate_10.png")
            ).start()
    assert names == ["plate_2.png", "plate_10.png"]


def test_closing_a_watching_source_stops_it(
    blob_env: dict[str, str], container: str, plates: Path
) -> None:
    source = open_azblob(f"azblob://{container}/empty", watch="yes", interval=0.1)
    threading.Timer(0.5, source.close).start()
    assert list(source) == []
    source.close()


def test_an_empty_prefix_or_a_missing_container_fails_at_open(
    blob_env: dict[str, str], container: str
) -> None:
    with pytest.raises(SourceNotFoundError, match="no images there"):
        open_source(f"azblob://{container}/nothing")
    with pytest.raises(SourceError, match="container 'no-such-box' does not exist"):
        open_source("azblob://no-such-box/x")
    with pytest.raises(SourceError, match="has no option 'colour'"):
        open_source(f"azblob://{container}/x", colour="red")
    with pytest.raises(SourceError, match="not an azblob:// URL"):
        open_source("plates/", source="azblob")


def test_a_blob_that_is_not_an_image_is_named_or_skipped(
    blob_env: dict[str, str], container: str, plates: Path
) -> None:
    storage = open_storage(f"azblob://{container}/bad")
    storage.write_bytes("plate_1.png", b"not a png")
    storage.put_file("plate_2.png", plates / "plate_2.png")
    with pytest.raises(ImageReadError, match=r"plate_1\.png"):
        list(open_source(f"azblob://{container}/bad"))
    kept = list(open_source(f"azblob://{container}/bad", skip_bad=True))
    assert [f.metadata["name"] for f in kept] == ["plate_2.png"]
    small = list(open_source(f"azblob://{container}/bad", skip_bad=True, max_bytes=10))
    assert small == []


def test_frame_keys_follow_the_folder_rules() -> None:
    assert is_frame_key("a/plate_1.png")
    assert not is_frame_key("a/plate_1.png", recursive=False)
    assert not is_frame_key("plate_1_root_mask.tif")
    assert not is_frame_key(".hidden/plate.png")
    assert not is_frame_key("manifest.json")
    assert not is_frame_key("plate.landmarks.json")


def test_azblob_is_a_registered_source_that_leaves_other_uris_alone() -> None:
    from visionkit.plugins import source_specs

    pm = get_plugin_manager(autoload=False)
    assert "azblob" in source_specs(pm)
    from visionkit.sources import azblob

    assert azblob.visionkit_open_source("plates/", {}) is None
    assert azblob.visionkit_open_source("azblob://x/y", {"source": "folder"}) is None


def test_visionkit_sources_lists_azblob() -> None:
    result = CliRunner().invoke(__import__("visionkit.cli").cli.main, ["sources"])
    assert "azblob" in result.output
