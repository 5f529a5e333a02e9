"""Data sets through the API: a zip in the Hades mask convention becomes a version.

The version is the manifest hash that ``visionkit data manifest`` prints for
the same files; a bad zip gets 400 listing every problem, and a refused
upload leaves no row and no file.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from rest_framework.test import APIClient

from portal.accounts.models import User
from portal.common.errors import PortalError
from portal.datasets.models import DatasetVersion
from portal.datasets.services import download_dataset
from visionkit.data.manifest import build_manifest

pytestmark = pytest.mark.django_db


def _zip(folder: Path, *, under: str = "plates/", extra: dict[str, bytes] | None = None) -> Any:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, under + path.name)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    buffer.seek(0)
    buffer.name = "plates.zip"
    return buffer


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _upload(user: User, archive: Any, **fields: str) -> Any:
    return _client(user).post("/api/datasets/", {"file": archive, **fields}, format="multipart")


def test_a_good_zip_is_stored_as_the_version_its_manifest_names(
    operator: User, plates_folder: Path, stored_files: Callable[..., list[str]]
) -> None:
    response = _upload(operator, _zip(plates_folder), name="tiny", description="four plates")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["version"] == build_manifest(plates_folder).version
    assert (body["n_images"], body["n_masks"], body["name"]) == (4, 16, "tiny")
    stored = stored_files()
    assert f"datasets/{body['version']}/manifest.json" in stored
    assert len([name for name in stored if name.endswith(".png")]) == 4

    again = _upload(operator, _zip(plates_folder, under=""))  # the same files, laid out flat
    assert again.status_code == 200
    assert again.json()["id"] == body["id"]
    assert DatasetVersion.objects.count() == 1
    listed = _client(operator).get("/api/datasets/?name=tin").json()
    assert [item["id"] for item in listed["results"]] == [body["id"]]


def _copy(plates_folder: Path, target: Path) -> Path:
    target.mkdir()
    for path in plates_folder.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_bad_masks_get_400_listing_every_problem_and_nothing_stays(
    operator: User, plates_folder: Path, tmp_path: Path, stored_files: Callable[..., list[str]]
) -> None:
    import cv2

    bad = _copy(plates_folder, tmp_path / "bad")
    roots = sorted(bad.glob("*_root_mask.tif"))
    cv2.imwrite(str(roots[0]), np.zeros((7, 9), np.uint8))  # the wrong shape
    (roots[1]).write_bytes(b"not a tiff")  # unreadable
    orphan = roots[2].name.replace("ROOT1", "ROOT9")
    (bad / orphan).write_bytes(roots[2].read_bytes())  # a mask without its image
    response = _upload(operator, _zip(bad))
    assert response.status_code == 400, response.content
    body = response.json()
    assert "problem(s) with the Hades mask convention" in body["detail"]
    problems = "\n".join(body["problems"])
    assert len(body["problems"]) >= 3, problems
    assert roots[0].name in problems
    assert roots[1].name in problems
    assert "ROOT9" in problems
    assert str(tmp_path) not in problems
    assert "/tmp/" not in problems
    assert not DatasetVersion.objects.exists()
    assert stored_files() == []


def _member(name: str, data: bytes = b"x", *, symlink: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    if symlink:
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("name", "symlink", "needle"),
    [
        ("../evil.png", False, "outside"),
        ("/etc/evil.png", False, "absolute"),
        ("plates/link.png", True, "link"),
    ],
)
def test_hostile_zips_are_refused_before_anything_is_written(
    operator: User,
    plates_folder: Path,
    tmp_path: Path,
    stored_files: Callable[..., list[str]],
    name: str,
    symlink: bool,
    needle: str,
) -> None:
    archive = _zip(plates_folder)
    with zipfile.ZipFile(archive, "a") as handle:
        handle.writestr(_member(name, symlink=symlink), b"/etc/passwd" if symlink else b"x")
    archive.seek(0)
    response = _upload(operator, archive)
    assert response.status_code == 400, response.content
    assert needle in response.content.decode().lower(), response.json()
    assert not DatasetVersion.objects.exists()
    assert stored_files() == []
    assert not (tmp_path.parent / "evil.png").exists()


def test_too_many_members_or_a_zip_bomb_is_refused(
    operator: User, settings: Any, stored_files: Callable[..., list[str]]
) -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("plates/a.png", b"\0" * (6 * 1024 * 1024))
    bomb.seek(0)
    bomb.name = "bomb.zip"
    settings.VISIONKIT_MAX_DATASET_BYTES = 5 * 1024 * 1024
    response = _upload(operator, bomb)
    assert response.status_code in (400, 413), response.content
    assert "limit" in response.json()["detail"] or "large" in response.json()["detail"]
    assert stored_files() == []


def test_a_zip_over_the_upload_limit_gets_413_naming_it(
    operator: User, plates_folder: Path, settings: Any
) -> None:
    settings.VISIONKIT_MAX_DATASET_BYTES = 10 * 1024
    response = _upload(operator, _zip(plates_folder))
    assert response.status_code == 413
    assert "VISIONKIT_MAX_DATASET_MB" in response.json()["detail"]
    assert not DatasetVersion.objects.exists()


def test_viewers_read_data_sets_but_do_not_upload(
    viewer: User, plates_folder: Path, dataset: Any
) -> None:
    assert _upload(viewer, _zip(plates_folder)).status_code == 403
    client = _client(viewer)
    assert client.get("/api/datasets/").json()["count"] == 1
    detail = client.get(f"/api/datasets/{dataset.pk}/").json()
    assert detail["manifest"]["n_images"] == 4


def test_a_stored_file_changed_behind_the_portal_is_caught_on_download(
    dataset: Any, tmp_path: Path
) -> None:
    out = download_dataset(dataset=dataset, target=tmp_path / "copy")
    assert build_manifest(out).version == dataset.version

    storage = storages["default"]
    name = f"{dataset.prefix}/{dataset.manifest['files'][0]['path']}"
    storage.delete(name)
    storage.save(name, ContentFile(b"tampered"))
    with pytest.raises(PortalError, match="differs from its manifest"):
        download_dataset(dataset=dataset, target=tmp_path / "again")
