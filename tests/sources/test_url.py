"""The url source downloads from a real local HTTP server and fails clearly."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest

from visionkit.exceptions import ImageReadError, ImageTooLargeError, SourceError
from visionkit.sources import open_url, redact_url
from visionkit.sources.url import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, visionkit_open_source


def test_png_is_downloaded_and_decoded(server, make):
    pixels = make.gradient()
    server.serve_bytes("/snap/plate%201.png", make.png_bytes(pixels))
    with open_url(server.url("/snap/plate%201.png")) as source:
        assert len(source) == 1
        frames = list(source)
    assert len(frames) == 1
    frame = frames[0]
    np.testing.assert_array_equal(frame.image, pixels)
    assert frame.metadata["name"] == "plate 1.png"
    assert frame.metadata["content_type"] == "image/png"
    assert frame.metadata["bytes"] == len(make.png_bytes(pixels))
    assert frame.metadata["bit_depth"] == 8
    assert frame.source_id == server.url("/snap/plate%201.png")


def test_each_iteration_fetches_a_fresh_image(server, make):
    server.serve_bytes("/snap.png", make.png_bytes())
    source = open_url(server.url("/snap.png"))
    list(source)
    list(source)
    assert server.hits["/snap.png"] == 2
    source.close()
    source.close()


def test_defaults_are_ten_seconds_and_200_mb(server):
    source = open_url(server.url("/x.png"))
    assert source.timeout == DEFAULT_TIMEOUT == 10.0
    assert source.max_bytes == DEFAULT_MAX_BYTES == 200_000_000


@pytest.mark.parametrize(("status", "text"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500")])
def test_http_errors_name_the_url_and_status(server, status, text):
    server.serve_bytes("/broken.png", b"oops", status=status, content_type="text/plain")
    url = server.url("/broken.png" if status == 500 else "/missing.png")
    with pytest.raises(SourceError, match=text) as info:
        list(open_url(url))
    assert url in str(info.value)


def test_slow_server_times_out_saying_after_how_long(server, make):
    server.serve_bytes("/slow.png", make.png_bytes(), delay=1.5)
    started = time.monotonic()
    with pytest.raises(SourceError, match=r"timed out after 0\.5 s"):
        list(open_url(server.url("/slow.png"), timeout=0.5))
    assert time.monotonic() - started < 1.4


def test_garbage_body_is_an_image_read_error_naming_the_url(server):
    server.serve_bytes("/garbage.png", b"<html>not a picture</html>", content_type="text/html")
    with pytest.raises(ImageReadError, match=r"garbage\.png"):
        list(open_url(server.url("/garbage.png")))


def test_declared_size_over_max_bytes_is_refused(server):
    server.serve_bytes("/big.png", b"\0" * 5000)
    with pytest.raises(SourceError, match=r"declares 5,000 bytes, over max_bytes=1,000"):
        list(open_url(server.url("/big.png"), max_bytes=1000))


def test_undeclared_size_is_cut_off_while_streaming(server):
    server.serve_bytes("/endless.png", b"\0" * 300_000, send_length=False)
    with pytest.raises(SourceError, match=r"download passed [\d,]+ bytes, over max_bytes"):
        list(open_url(server.url("/endless.png"), max_bytes=100_000))


def test_pixel_limit_applies(server, make):
    server.serve_bytes("/plate.png", make.png_bytes())
    with pytest.raises(ImageTooLargeError, match="exceeds the limit of 50"):
        list(open_url(server.url("/plate.png"), max_pixels=50))


def test_refused_connection_is_a_source_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free once closed: nothing listens there
    with pytest.raises(SourceError, match=r"cannot download \(ConnectionError\)"):
        list(open_url(f"http://127.0.0.1:{port}/plate.png", timeout=2))


def test_messages_do_not_leak_passwords_or_signatures(server):
    url = server.url("/missing.png?sv=2024&sig=SECRETSIG").replace(
        "http://", "http://robot:hunter2@"
    )
    with pytest.raises(SourceError) as info:
        list(open_url(url))
    message = str(info.value)
    assert "hunter2" not in message
    assert "SECRETSIG" not in message
    assert "robot:***@" in message
    assert "sv=2024" in message


def test_redact_url_leaves_plain_urls_alone():
    assert redact_url("https://cam.local/a.png?size=2") == "https://cam.local/a.png?size=2"
    assert redact_url("https://h/a.png?token=x&b=1") == "https://h/a.png?token=***&b=1"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"timeout": 0}, "timeout=0"),
        ({"timeout": "soon"}, "timeout='soon'"),
        ({"max_bytes": -5}, "max_bytes=-5"),
        ({"retries": 3}, "no option 'retries'"),
    ],
)
def test_bad_options_are_refused(options, message):
    with pytest.raises(SourceError, match=message):
        open_url("https://cam.local/a.png", **options)


def test_open_url_refuses_other_schemes():
    with pytest.raises(SourceError, match="not an http"):
        open_url("ftp://cam.local/a.png")


@pytest.mark.parametrize(
    ("uri", "options", "claimed"),
    [
        ("https://cam.local/a.png", {}, True),
        ("http://cam.local/snapshot", {"stream": False}, True),
        ("http://cam.local/feed.mp4", {}, False),
        ("http://cam.local/feed", {"stream": True}, False),
        ("rtsp://cam.local/live", {}, False),
        ("plate.png", {}, False),
    ],
)
def test_hook_claims_image_urls_but_leaves_videos(uri, options, claimed):
    opened = visionkit_open_source(uri, options)  # opening sends no request yet
    assert (opened is not None) is claimed


def test_hook_honours_an_explicit_source_name():
    assert visionkit_open_source("https://cam.local/a.png", {"source": "opencv"}) is None
    opened = visionkit_open_source("https://cam.local/a", {"source": "url", "timeout": 3})
    assert opened is not None
    assert opened.timeout == 3.0


def test_server_that_stalls_mid_body_times_out(server):
    def stall(handler):
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.wfile.write(b"\x89PNG")
        handler.wfile.flush()
        time.sleep(1.5)

    server.routes["/stall.png"] = stall
    source = open_url(server.url("/stall.png"), timeout=0.3)
    assert server.url("/stall.png") in repr(source)
    with pytest.raises(SourceError, match=r"timed out after 0\.3 s"):
        list(source)
