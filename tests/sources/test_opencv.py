"""The opencv source reads real video files written by cv2, and fails fast on bad input."""

from __future__ import annotations

import logging
import time

import numpy as np
import pytest

from visionkit.exceptions import SourceError
from visionkit.sources import open_opencv
from visionkit.sources.opencv import visionkit_open_source


def _gray_frames(count: int = 7) -> list[np.ndarray]:
    """BGR frames of a flat grey level 30 * i, with a dark square."""
    frames = []
    for index in range(count):
        frame = np.full((48, 64, 3), 30 * index + 20, np.uint8)
        frame[8:16, 8:16] = 5
        frames.append(frame)
    return frames


@pytest.fixture
def colour_video(tmp_path, make):
    red_in_bgr = np.zeros((48, 64, 3), np.uint8)
    red_in_bgr[..., 2] = 200
    return make.video(tmp_path / "red.avi", [red_in_bgr] * 3)


def test_colour_video_frames_arrive_as_rgb(colour_video):
    with open_opencv(str(colour_video)) as source:
        frames = list(source)
    assert len(frames) == 3
    first = frames[0]
    assert first.image.shape == (48, 64, 3)
    assert first.image.dtype == np.uint8
    red, green, blue = (int(c) for c in first.image[24, 32])
    assert red > 180  # OpenCV's BGR was turned round
    assert max(green, blue) < 20
    assert first.metadata["name"] == "red.avi"
    assert first.metadata["kind"] == "video"
    assert first.metadata["channels"] == "rgb"
    assert first.source_id == str(colour_video)
    assert "video" in repr(source)


def test_lossless_grey_video_arrives_as_2d_frames(tmp_path, make):
    path = make.video(tmp_path / "grey.avi", _gray_frames(3), fourcc="png ")
    frames = list(open_opencv(str(path)))
    assert [f.image.ndim for f in frames] == [2, 2, 2]
    assert [int(f.image[0, 0]) for f in frames] == [20, 50, 80]
    assert int(frames[0].image[10, 10]) == 5


def test_lossy_grey_video_needs_a_tolerance_to_become_grey(tmp_path, make):
    path = make.video(tmp_path / "grey.avi", _gray_frames(2))  # MJPG blurs channels a little
    exact = next(iter(open_opencv(str(path))))
    tolerant = next(iter(open_opencv(str(path), gray_tolerance=6)))
    assert exact.image.ndim == 3
    assert tolerant.image.ndim == 2
    assert tolerant.metadata["channels"] == "near-equal-rgb"
    assert abs(int(tolerant.image[40, 40]) - 20) <= 3


def test_every_n_and_max_frames(tmp_path, make):
    path = make.video(tmp_path / "run.mp4", _gray_frames(7), fourcc="mp4v")
    every_third = open_opencv(str(path), every_n=3)
    assert len(every_third) == 3
    assert [f.metadata["frame_index"] for f in every_third] == [0, 3, 6]
    capped = open_opencv(str(path), every_n="2", max_frames=2)
    assert len(capped) == 2
    frames = list(capped)
    assert [f.metadata["frame_index"] for f in frames] == [0, 2]
    assert frames[1].metadata["position_ms"] > frames[0].metadata["position_ms"]
    assert frames[0].metadata["fps"] == pytest.approx(10.0)


def test_reading_goes_forward_and_close_is_safe_twice(tmp_path, make):
    path = make.video(tmp_path / "run.avi", _gray_frames(4))
    source = open_opencv(str(path))
    iterator = iter(source)
    next(iterator)
    assert [f.metadata["frame_index"] for f in source] == [1, 2, 3]
    source.close()
    source.close()
    assert list(source) == []


def test_missing_video_raises_source_error_with_the_path(tmp_path):
    missing = tmp_path / "nowhere.mp4"
    with pytest.raises(SourceError, match="no such video file") as info:
        open_opencv(str(missing))
    assert str(missing) in str(info.value)


def test_corrupt_video_raises_source_error(tmp_path):
    bad = tmp_path / "bad.avi"
    bad.write_bytes(b"this is not a video" * 50)
    with pytest.raises(SourceError, match=r"bad\.avi.*cannot open this video"):
        open_opencv(str(bad))


def test_missing_camera_fails_fast_instead_of_hanging():
    started = time.monotonic()
    with pytest.raises(SourceError, match="camera 99"):
        open_opencv("99")
    assert time.monotonic() - started < 10


def test_stream_over_http_is_read_and_has_no_length(tmp_path, make, server, caplog):
    path = make.video(tmp_path / "live.avi", _gray_frames(3))
    server.serve_bytes("/live.avi", path.read_bytes(), content_type="video/x-msvideo")
    source = open_opencv(server.url("/live.avi"))
    assert source.kind == "stream"
    with pytest.raises(TypeError, match="runs until closed"):
        len(source)
    with caplog.at_level(logging.WARNING):
        frames = list(source)
    assert len(frames) == 3
    assert frames[0].metadata["name"] == "live.avi"
    assert any("no more frames" in r.getMessage() for r in caplog.records)


def test_unopenable_stream_names_the_url():
    with pytest.raises(SourceError, match=r"rtsp://127\.0\.0\.1:9/none.*cannot open the stream"):
        open_opencv("rtsp://127.0.0.1:9/none")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"every_n": 0}, "every_n=0"),
        ({"max_frames": "lots"}, "max_frames='lots'"),
        ({"gray_tolerance": -1}, "gray_tolerance=-1"),
        ({"stream": "perhaps"}, "stream='perhaps'"),
        ({"fps": 5}, "no option 'fps'"),
    ],
)
def test_bad_options_are_refused(colour_video, options, message):
    with pytest.raises(SourceError, match=message):
        open_opencv(str(colour_video), **options)


@pytest.mark.parametrize(
    ("uri", "options", "claimed"),
    [
        ("98", {}, True),
        ("clip.MKV", {}, True),
        ("rtmp://127.0.0.1:9/live", {}, True),
        ("https://127.0.0.1:9/feed.mp4", {}, True),
        ("http://127.0.0.1:9/feed", {"stream": True}, True),
        ("http://127.0.0.1:9/snapshot.png", {}, False),
        ("plate.png", {}, False),
        ("plates/", {}, False),
        ("ftp://127.0.0.1:9/clip.mp4", {}, False),
    ],
)
def test_hook_claims_cameras_videos_and_streams(uri, options, claimed):
    # Nothing listens on these, so a claimed URI fails to open with SourceError,
    # while a URI left to other plugins gives None.
    message = ""
    try:
        opened = visionkit_open_source(uri, options)
    except SourceError as exc:
        message, opened = str(exc), True
    assert bool(opened) is claimed
    assert not message or uri.lower() in message.lower()


def test_hook_honours_an_explicit_source_name(colour_video):
    assert visionkit_open_source(str(colour_video), {"source": "file"}) is None
    opened = visionkit_open_source(str(colour_video), {"source": "opencv", "max_frames": 1})
    assert opened is not None
    assert len(list(opened)) == 1
