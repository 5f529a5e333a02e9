"""Through the public plugin API, each kind of URI reaches the right built-in source."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import visionkit
from visionkit import hookimpl, plugins
from visionkit.exceptions import SourceError, SourceNotFoundError, UnknownNameError
from visionkit.sources import BaseSource, Source
from visionkit.specs import SourceSpec

BUILT_IN = {"file", "glob", "folder", "hades", "opencv", "url"}


def test_source_specs_list_every_built_in(source_pm):
    specs = plugins.source_specs(source_pm)
    assert set(specs) >= BUILT_IN
    for name in BUILT_IN:
        spec = specs[name]
        assert isinstance(spec, SourceSpec)
        assert spec.description
        assert spec.examples
        assert callable(spec.open)


@pytest.fixture
def uris(tmp_path, make, server):
    """One URI of each kind, backed by real files and a real server."""
    make.png(tmp_path / "plain" / "plate_1.png")
    make.png(tmp_path / "hades" / make.hades_name)
    video = make.video(tmp_path / "run.avi", [np.full((16, 16, 3), 90, np.uint8)] * 2)
    server.serve_bytes("/snapshot.png", make.png_bytes())
    return {
        "file": str(tmp_path / "plain" / "plate_1.png"),
        "folder": str(tmp_path / "plain"),
        "glob": str(tmp_path / "plain" / "*.png"),
        "hades": str(tmp_path / "hades"),
        "opencv": str(video),
        "url": server.url("/snapshot.png"),
    }


@pytest.mark.parametrize("kind", sorted(BUILT_IN))
def test_open_source_picks_the_right_source(source_pm, uris, kind):
    with plugins.open_source(uris[kind], source_pm) as opened:
        assert isinstance(opened, Source)
        assert isinstance(opened, BaseSource)
        assert opened.name == kind
        frames = list(opened)
    assert frames
    assert all(f.image.dtype == np.uint8 for f in frames)


def test_top_level_open_source_reads_a_folder(source_pm, uris):
    # source_pm set up the environment so the default manager sees only built-ins
    with visionkit.open_source(uris["folder"]) as opened:
        assert [f.name for f in opened] == ["plate_1.png"]


def test_named_source_overrides_the_guess(source_pm, uris):
    opened = plugins.open_source(uris["hades"], source_pm, source="folder", recursive=True)
    assert opened.name == "folder"
    assert "hades" not in next(iter(opened)).metadata


def test_named_source_with_a_missing_path_says_not_found(source_pm, tmp_path):
    with pytest.raises(SourceNotFoundError, match="absent"):
        plugins.open_source(str(tmp_path / "absent"), source_pm, source="folder")


def test_unknown_source_name_lists_the_built_ins(source_pm, uris):
    with pytest.raises(UnknownNameError, match=r"valid sources are: .*folder.*hades.*opencv"):
        plugins.open_source(uris["folder"], source_pm, source="folders")


def test_a_missing_path_says_no_such_file(source_pm, tmp_path):
    missing = tmp_path / "absent.png"
    with pytest.raises(SourceNotFoundError, match="no such file or folder") as info:
        plugins.open_source(str(missing), source_pm)
    assert str(info.value).startswith(f"{missing}: ")


def test_camera_index_reaches_opencv(source_pm):
    with pytest.raises(SourceError, match="camera 97"):
        plugins.open_source("97", source_pm)


def test_another_plugin_can_claim_a_path_before_the_files_source(source_pm, uris):
    class Claimer(BaseSource):
        name = "claimer"

    class Plugin:
        @hookimpl
        def visionkit_open_source(self, uri, options):
            return Claimer() if uri.endswith("plain") else None

    source_pm.register(Plugin())
    assert plugins.open_source(uris["folder"], source_pm).name == "claimer"
    assert plugins.open_source(uris["file"], source_pm).name == "file"


def test_importing_source_plugins_loads_neither_cv2_nor_requests():
    code = (
        "import sys\n"
        "import visionkit.sources\n"
        "heavy = {'cv2', 'requests', 'torch'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
