"""A push killed part way (SIGKILL, mid-file) resumes: only the missing blocks and files go."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from tests.storage.files import tree
from visionkit.data.manifest import MANIFEST_NAME, build_manifest
from visionkit.storage import open_storage, pull_folder, push_folder
from visionkit.storage.blob import BlobStorage

BLOCK = 64 << 10

#: Pushes argv[1] to argv[2] and kills itself (SIGKILL) right after staging block argv[3].
_KILLED_PUSH = """
import os, signal, sys
from visionkit.storage import open_storage, push_folder
from visionkit.storage.blob import BlobStorage

staged = 0
stage = BlobStorage._stage

def stage_then_die(self, *args):
    global staged
    stage(self, *args)
    staged += 1
    if staged == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)

BlobStorage._stage = stage_then_die
push_folder(sys.argv[1], open_storage(sys.argv[2], block_size=int(sys.argv[4])))
"""


def _folder(root: Path) -> Path:
    """Three files of 2, 16 and 5 blocks, and a manifest (one block)."""
    rng = np.random.default_rng(0)
    folder = root / "set"
    folder.mkdir()
    for name, blocks in (("a.bin", 2), ("b.bin", 16), ("c.bin", 5)):
        (folder / name).write_bytes(rng.bytes(blocks * BLOCK - 100))
    build_manifest(folder, validate=False, require_masks=False).write(folder / MANIFEST_NAME)
    return folder


def test_a_killed_push_resumes_with_only_the_missing_blocks(
    blob_env: dict[str, str], container: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    url = f"azblob://{container}/killed"
    killed = subprocess.run(
        [sys.executable, "-c", _KILLED_PUSH, str(folder), url, "9", str(BLOCK)],
        env={**os.environ, **blob_env}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]

    storage = open_storage(url, block_size=BLOCK)
    assert isinstance(storage, BlobStorage)
    # a.bin (2 blocks) was committed; b.bin had 7 of its 16 blocks staged and is invisible.
    assert [o.key for o in storage.list()] == ["a.bin"]
    assert not storage.exists("b.bin")
    assert not storage.exists(MANIFEST_NAME)

    resumed = push_folder(folder, storage)
    assert resumed.skipped == ["a.bin"]
    assert resumed.sent == ["b.bin", "c.bin", MANIFEST_NAME]
    assert resumed.blocks_reused == 7
    assert resumed.blocks_sent == (16 - 7) + 5 + 1
    size = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert resumed.bytes_sent == size["b.bin"] - 7 * BLOCK + size["c.bin"] + size[MANIFEST_NAME]

    out = tmp_path / "pulled"
    assert sorted(pull_folder(storage, out).verified) == ["a.bin", "b.bin", "c.bin"]
    assert tree(out) == tree(folder)


def test_blocks_staged_for_other_content_are_not_reused(
    blob_env: dict[str, str], container: str, tmp_path: Path
) -> None:
    folder = _folder(tmp_path)
    storage = open_storage(f"azblob://{container}/changed", block_size=BLOCK)
    push_folder(folder, storage)
    (folder / "b.bin").write_bytes(b"new content " * 20_000)
    build_manifest(folder, validate=False, require_masks=False).write(folder / MANIFEST_NAME)
    again = push_folder(folder, storage)
    assert again.sent == ["b.bin", MANIFEST_NAME]
    assert again.blocks_reused == 0
    assert storage.read_bytes("b.bin") == (folder / "b.bin").read_bytes()
