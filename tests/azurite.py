"""A real Azurite Blob service for tests: started once per session, on a free port, then killed.

Azurite is Microsoft's Blob Storage emulator (npm package ``azurite``, installed
into ``node_modules`` by ``make setup``). :func:`start_azurite` runs
``node_modules/.bin/azurite-blob`` on 127.0.0.1 with in-memory persistence and
telemetry off, waits until it answers, and returns an :class:`Azurite` with
the connection string of its well-known development account. Tests use it
through the ``azurite`` fixture::

    from tests.azurite import azurite_fixture  # noqa: F401  (the session fixture "azurite")

    def test_something(azurite):
        client = BlobServiceClient.from_connection_string(azurite.connection_string)

The fixture skips, saying why, only when node or Azurite is not installed;
an Azurite that is installed but fails to start is an error.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = [
    "ACCOUNT",
    "ACCOUNT_KEY",
    "Azurite",
    "azurite_binary",
    "azurite_fixture",
    "start_azurite",
]

ROOT = Path(__file__).resolve().parents[1]

#: Azurite's built-in development account (public, documented by Microsoft: not a secret).
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


@dataclass(frozen=True)
class Azurite:
    """A running Azurite Blob endpoint.

    Attributes:
        port: where it listens on 127.0.0.1.
        process: the ``azurite-blob`` process (killed when the session ends).
    """

    port: int
    process: subprocess.Popen[bytes]

    @property
    def account_url(self) -> str:
        """The account's Blob endpoint, e.g. ``http://127.0.0.1:10000/devstoreaccount1``."""
        return f"http://127.0.0.1:{self.port}/{ACCOUNT}"

    @property
    def connection_string(self) -> str:
        """A connection string for the development account on this endpoint."""
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"BlobEndpoint={self.account_url};"
        )

    def new_container(self, stem: str = "test") -> str:
        """Create a container with a fresh name and return the name (tests never share one)."""
        from azure.storage.blob import BlobServiceClient

        name = f"{stem}-{uuid.uuid4().hex[:12]}"
        with BlobServiceClient.from_connection_string(self.connection_string) as service:
            service.create_container(name)
        return name


def azurite_binary() -> Path | None:
    """``node_modules/.bin/azurite-blob`` when it and node are installed, else ``None``."""
    binary = ROOT / "node_modules" / ".bin" / "azurite-blob"
    if shutil.which("node") is None or not binary.exists():
        return None
    return binary


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


#: In memory (nothing left on disk), no telemetry, any SDK's API version, no access log.
_FLAGS = ("--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent")


#: In memory (nothing left on disk), no telemetry, any SDK's API version, no access log.
_FLAGS = ("--inMemoryPersistence", "--disableTelemetry", "--skipApiVersionCheck", "--silent")


def start_azurite(binary: Path, workspace: Path, *, timeout: float = 30.0) -> Azurite:
    """Start ``azurite-blob`` on a free port and wait until it accepts connections.

    Raises:
        RuntimeError: it exited or did not answer within ``timeout`` seconds
            (the message holds the end of its log).
    """
    port = _free_port()
    log = workspace / "azurite.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(binary), "--blobHost", "127.0.0.1", "--blobPort", str(port), *_FLAGS],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workspace,
            # Only the well-known development account, whatever the caller's shell set.
            env={k: v for k, v in os.environ.items() if k != "AZURITE_ACCOUNTS"},
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if _answers(port):
            return Azurite(port=port, process=process)
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise RuntimeError(f"azurite did not start on port {port}: {log.read_text()[-2000:]}")


@pytest.fixture(scope="session", name="azurite")
def azurite_fixture() -> Iterator[Azurite]:
    """A real Azurite Blob service for the whole session; killed at the end."""
    binary = azurite_binary()
    if binary is None:
        pytest.skip("Azurite is not installed (needs node and `npm ci` for node_modules/azurite)")
    with tempfile.TemporaryDirectory(prefix="visionkit-azurite-") as workspace:
        server = start_azurite(binary, Path(workspace))
        try:
            yield server
        finally:
            server.process.kill()
            server.process.wait(timeout=10)
