"""Fixtures for the source tests: real image files, real videos, a real HTTP server."""

from __future__ import annotations

import http.server
import importlib.util
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pluggy
import pytest
from PIL import Image

from visionkit import plugins

HADES_NAME = "035_43-14-ROOT1-2023-08-08_pvd_OD01_f6h1_03-Fish Eye Corrected.png"


class Make:
    """Writers for real test inputs, handed to tests by the ``make`` fixture."""

    hades_name = HADES_NAME

    @staticmethod
    def gradient(height: int = 12, width: int = 16) -> np.ndarray:
        return gradient(height, width)

    @staticmethod
    def png(path: Path, array: np.ndarray | None = None) -> Path:
        return write_png(path, array)

    @staticmethod
    def png_bytes(array: np.ndarray | None = None) -> bytes:
        return png_bytes(array)

    @staticmethod
    def video(path: Path, frames: list[np.ndarray], *, fourcc: str = "MJPG") -> Path:
        return write_video(path, frames, fourcc=fourcc)


@pytest.fixture
def make() -> Make:
    """Writers for real PNG files, PNG bytes and video files."""
    return Make()


def gradient(height: int = 12, width: int = 16) -> np.ndarray:
    """A small 8-bit image whose every pixel is different enough to check."""
    return (np.arange(height * width).reshape(height, width) % 251).astype(np.uint8)


def write_png(path: Path, array: np.ndarray | None = None) -> Path:
    """Write ``array`` (default: :func:`gradient`) as a PNG with PIL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(gradient() if array is None else array).save(path)
    return path


def png_bytes(array: np.ndarray | None = None) -> bytes:
    """The bytes of a PNG of ``array``."""
    import io

    buffer = io.BytesIO()
    Image.fromarray(gradient() if array is None else array).save(buffer, format="PNG")
    return buffer.getvalue()


def write_video(
    path: Path,
    frames: list[np.ndarray],
    *,
    fourcc: str = "MJPG",
    fps: float = 10.0,
) -> Path:
    """Write BGR frames to a video file with cv2.VideoWriter; fail if it cannot."""
    import cv2

    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    assert writer.isOpened(), f"this OpenCV build cannot write {fourcc} to {path.suffix}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def source_pm(monkeypatch: pytest.MonkeyPatch) -> pluggy.PluginManager:
    """The real plugin manager, built-ins only (no third-party entry points).

    Built-in modules that other parts of the project have not written yet in
    this checkout are left out; once they all exist this filter changes nothing.
    """
    present = tuple(m for m in plugins.BUILTIN_PLUGINS if importlib.util.find_spec(m) is not None)
    monkeypatch.setattr(plugins, "BUILTIN_PLUGINS", present)
    monkeypatch.setenv(plugins.ENV_DISABLE_AUTOLOAD, "1")
    monkeypatch.delenv(plugins.ENV_PLUGINS, raising=False)
    return plugins.get_plugin_manager(autoload=False)


Route = Callable[[http.server.BaseHTTPRequestHandler], None]


class LocalServer:
    """A real HTTP server on 127.0.0.1 in a thread; routes map paths to handlers."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: dict[str, int] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.hits[path] = server.hits.get(path, 0) + 1
                route = server.routes.get(path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def serve_bytes(
        self,
        path: str,
        body: bytes,
        *,
        content_type: str = "image/png",
        status: int = 200,
        delay: float = 0.0,
        send_length: bool = True,
    ) -> None:
        def route(handler: http.server.BaseHTTPRequestHandler) -> None:
            if delay:
                time.sleep(delay)
            try:
                handler.send_response(status)
                handler.send_header("Content-Type", content_type)
                if send_length:
                    handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client hung up, as a timeout or a size limit should

        self.routes[path] = route


@pytest.fixture
def server() -> Iterator[LocalServer]:
    """A running local HTTP server, shut down after the test."""
    local = LocalServer()
    local.thread.start()
    try:
        yield local
    finally:
        local.httpd.shutdown()
        local.httpd.server_close()
