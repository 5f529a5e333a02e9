"""Writes of the predictions app: predict one uploaded image, or queue a batch of them.

:func:`create_prediction` is what the API, the pages, the batch job and
``manage.py predict`` all call. It checks the upload before decoding it (size,
then the pixel count from the header, so a "pixel bomb" is refused without
being unpacked), predicts with the process's cached
:class:`visionkit.Predictor` (:mod:`portal.predictions.loader`), stores the
input, one PNG mask per class and the overlay in the portal's file storage
under ``predictions/<uuid>/``, and writes the row. Whatever was stored is
removed again when anything fails, so a refused or failed prediction leaves
neither a row nor a file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import uuid
from collections.abc import Iterable
from pathlib import PurePath
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction

from portal.common.errors import PortalError
from portal.common.storage import files_under, remove_files
from portal.common.uploads import check_size
from portal.predictions import loader
from portal.predictions.models import Prediction, Source
from portal.registry.models import ModelVersion
from portal.telemetry.metrics import model_version_label, observe_prediction
from visionkit.tracing import span

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

    from portal.accounts.models import User
    from portal.jobs.models import Job
    from visionkit import Prediction as LibraryPrediction

__all__ = [
    "IMAGE_SUFFIXES",
    "browser_png",
    "create_batch",
    "create_prediction",
    "decode_stored",
    "input_stats",
]

logger = logging.getLogger(__name__)

#: Image files a prediction takes (as the library reads them).
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"})


def _read_bytes(image: UploadedFile | IO[bytes] | bytes, name: str) -> bytes:
    if isinstance(image, bytes):
        check_size(ContentFile(image, name=name))
        data = image
    else:
        if getattr(image, "size", None) is not None:  # an upload: refused before it is read
            check_size(image)
        if hasattr(image, "seek"):
            image.seek(0)
        data = image.read()
        check_size(ContentFile(data, name=name))
    if not data:
        raise PortalError(f"{name} is empty; upload a PNG, JPEG, TIFF or BMP plate image")
    return data


def _check_pixels(data: bytes, name: str) -> None:
    """Refuse an image whose header claims more pixels than allowed, before decoding it."""
    from PIL import Image, UnidentifiedImageError

    limit = int(settings.VISIONKIT_MAX_IMAGE_PIXELS)
    Image.MAX_IMAGE_PIXELS = None  # the limit below, with a message that names it
    try:
        with Image.open(io.BytesIO(data)) as img:  # reads the header only
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return  # not something PIL can parse: decoding says what it is
    if width * height > limit:
        raise PortalError(
            f"{name} is {width} x {height} = {width * height:,} pixels; the limit is "
            f"{limit:,} (VISIONKIT_MAX_IMAGE_PIXELS); downscale it"
        )


def _decode(data: bytes, name: str) -> np.ndarray:
    from visionkit.exceptions import ImageError
    from visionkit.imageio import decode_image

    _check_pixels(data, name)
    try:
        image, _ = decode_image(
            data, source=name, max_pixels=int(settings.VISIONKIT_MAX_IMAGE_PIXELS)
        )
    except ImageError as exc:
        raise PortalError(f"{exc}") from exc
    return image


def decode_stored(data: bytes, name: str) -> np.ndarray:
    """A stored input decoded as a prediction decodes it (comparisons, re-runs)."""
    return _decode(data, name)


def input_stats(image: np.ndarray, prediction: LibraryPrediction) -> dict[str, Any]:
    """What drift monitoring compares: the image's features, its size, dish and scale."""
    from portal.monitoring.features import image_features

    return {
        "width": int(image.shape[1]),
        "height": int(image.shape[0]),
        "channels": 1 if image.ndim == 2 else int(image.shape[2]),
        **image_features(image),
        "dish_found": prediction.dish is not None,
        "mm_per_px": prediction.dish.mm_per_px if prediction.dish else None,
        "ood_confidence": prediction.confidence.get("image"),
    }


def _hades_fields(name: str) -> dict[str, Any]:
    from visionkit.sources.hades import parse_hades_name

    parsed = parse_hades_name(name)
    if parsed is None:
        return {}
    return {
        "experiment": parsed.experiment[:100],
        "plate": parsed.plate[:20],
        "condition": (parsed.condition or "")[:100],
        "replicate": (parsed.replicate or "")[:20],
        "imaged_on": parsed.date,
    }


def _png(array: np.ndarray) -> bytes:
    """An 8-bit image (an overlay, a decoded input) as PNG (``encode_png``: ISA-L, level 1)."""
    from visionkit.png import encode_png

    return encode_png(array, 1)


def browser_png(data: bytes) -> bytes:
    """A stored input (TIFF, 16-bit...) as an 8-bit PNG a browser can show."""
    return _png(_decode(data, "the input"))


def _clean_name(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name or "image.png"
    return base[:255]


def create_prediction(
    *,
    image: UploadedFile | IO[bytes] | bytes,
    image_name: str,
    user: User | None,
    model_version: ModelVersion | int | str | None = None,
    calibration: str | None = None,
    tta: bool = False,
    source: str = Source.API,
    job: Job | None = None,
    station: str = "",
    batch_key: str = "",
) -> Prediction:
    """Predict one image and keep everything that explains the result.

    Args:
        image: the uploaded file, an open binary file or the bytes.
        image_name: the file name as the user gave it (Hades fields are read from it).
        user: who asked.
        model_version: a version, its id, ``name``, ``name:version`` or ``name@staging``;
            default the station's model or the deployment's live version
            (:mod:`portal.serving.router`, canary share included).
        calibration: a calibration preset name (``ot2``) to fill robot coordinates.
        tta: test-time augmentation (slower, steadier).
        source: how it was asked for (:class:`~portal.predictions.models.Source`).
        job: the batch job it belongs to.
        station: the camera or robot station that sent it.
        batch_key: the batch file it comes from; a second prediction of the same
            (job, batch_key) is refused by the database (``IntegrityError``).

    Raises:
        TooLarge: over ``VISIONKIT_MAX_UPLOAD_MB``.
        PortalError: not an image, too many pixels, an unknown calibration or model.
        Conflict: no model named and none in production.
    """
    from visionkit.exceptions import VisionkitError

    name = _clean_name(image_name)
    data = _read_bytes(image, name)
    from portal.serving.router import route

    chosen = route(model=model_version, station=station[:100])
    version = chosen.version
    calibrator = _calibration(calibration)
    with span("portal.predict", model_version=model_version_label(version), image=name):
        with span("visionkit.read", image=name):  # the portal decodes uploads itself
            array = _decode(data, name)
        predictor = loader.get_predictor(version, tta=tta)
        try:
            result = predictor.predict(array, name=name)
            if calibrator is not None:
                result = calibrator.apply(result)
        except VisionkitError as exc:
            raise PortalError(f"{name}: {exc}") from exc
    row = _keep(
        data=data, name=name, array=array, result=result, version=version, user=user,
        source=source, job=job, station=station[:100], served_as=chosen.how,
        batch_key=batch_key,
    )  # fmt: skip
    if chosen.compare_with is not None:
        from portal.serving.comparisons import queue_comparison

        transaction.on_commit(lambda: queue_comparison(
            prediction=row, other=chosen.compare_with, mode=chosen.mode))  # type: ignore[arg-type]  # fmt: skip
    return row


def _calibration(name: str | None) -> Any:
    """A calibration by name: a shipped preset or one saved in the portal; never a file path."""
    from portal.calibrations.services import resolve

    return resolve(name)


def _keep(
    *,
    data: bytes,
    name: str,
    array: np.ndarray,
    result: LibraryPrediction,
    version: ModelVersion,
    user: User | None,
    source: str,
    job: Job | None,
    station: str = "",
    served_as: str = "",
    batch_key: str = "",
) -> Prediction:
    from visionkit.overlay import render_overlay
    from visionkit.png import encode_mask_png

    storage = storages["default"]
    prefix = _prefix(job, batch_key)
    suffix = PurePath(name).suffix.lower() or ".png"
    stored: list[str] = []
    try:
        stored.append(storage.save(f"{prefix}/input{suffix}", ContentFile(data)))
        masks: dict[str, str] = {}
        for cls, mask in result.mask_arrays.items():
            png = encode_mask_png(mask)
            masks[cls] = storage.save(f"{prefix}/masks/{cls}.png", ContentFile(png))
            stored.append(masks[cls])
        overlay, _ = render_overlay(array, result, max_side=2048)
        stored.append(storage.save(f"{prefix}/overlay.png", ContentFile(_png(overlay))))
        contract = result.to_dict()
        contract["masks"] = {cls: f"masks/{cls}.png" for cls in masks}
        with transaction.atomic():
            row = Prediction.objects.create(
                model_version=version,
                job=job,
                source=source,
                station=station,
                served_as=served_as,
                batch_key=batch_key,
                image_name=name,
                image=stored[0],
                prefix=prefix,
                width=result.width,
                height=result.height,
                contract=contract,
                masks=masks,
                overlay=stored[-1],
                input_stats=input_stats(array, result),
                n_plants=len(result.plants),
                n_tips=sum(1 for plant in result.plants if plant.tip is not None),
                confidence=result.confidence.get("image"),
                created_by=user,
                **_hades_fields(name),
            )
    except BaseException:
        remove_files(stored)
        raise
    logger.info(
        "prediction %s: %s with %s v%s, %d/%d tips",
        row.pk, name, version.name, version.version, row.n_tips, row.n_plants,
    )  # fmt: skip
    observe_prediction(row)
    return row


def _prefix(job: Job | None, batch_key: str) -> str:
    """Where a prediction's files go: a fresh folder, or one fixed per batch plate.

    A batch plate's folder is the same on every attempt, so the files of an
    attempt whose worker was killed while storing them (no row refers to them)
    are found and removed by the next attempt instead of staying in storage.
    The claim on the plate (:mod:`portal.predictions.claims`) keeps two live
    attempts apart; when a row already exists, nothing is removed and the
    database refuses the duplicate.
    """
    if job is None or not batch_key:
        return f"predictions/{uuid.uuid4().hex}"
    prefix = f"predictions/batch-{job.pk}/{hashlib.sha256(batch_key.encode()).hexdigest()[:24]}"
    if not Prediction.objects.filter(job=job, batch_key=batch_key).exists():
        left = files_under(prefix)
        if left:
            logger.info("job %s: removing %d files an interrupted attempt left in %s",
                        job.pk, len(left), prefix)  # fmt: skip
            remove_files(left)
    return prefix


def create_batch(
    *,
    files: Iterable[UploadedFile] = (),
    archive: UploadedFile | None = None,
    user: User,
    model_version: ModelVersion | int | None = None,
    calibration: str | None = None,
    tta: bool = False,
) -> Job:
    """Store a batch of images (several files, or one zip) and queue a ``predict`` job for them.

    Only images are kept from a zip; other files are skipped and named in the job's log.

    Raises:
        PortalError: no images, an unsafe zip, an unknown calibration or model.
        TooLarge: a file or the zip over its limit.
    """
    import tempfile
    from pathlib import Path

    from portal.common.archives import extract_zip
    from portal.jobs import services as jobs

    version = loader.resolve_version(model_version)
    _calibration(calibration)
    storage = storages["default"]
    prefix = f"batches/{uuid.uuid4().hex}"
    stored: list[str] = []
    skipped: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="visionkit-batch-") as scratch:
            inputs: list[tuple[str, IO[bytes]]] = []
            if archive is not None:
                check_size(archive, limit=int(settings.VISIONKIT_MAX_DATASET_BYTES),
                           setting="VISIONKIT_MAX_DATASET_MB")  # fmt: skip
                for path in sorted(extract_zip(archive, Path(scratch))):
                    rel = path.relative_to(scratch).as_posix()
                    if path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith("."):
                        inputs.append((rel, path.open("rb")))
                    else:
                        skipped.append(rel)
            for upload in files:
                check_size(upload)
                inputs.append((_clean_name(upload.name or "image.png"), upload))
            if not inputs:
                raise PortalError(
                    "the batch holds no images; upload PNG, JPEG, TIFF or BMP files or a zip "
                    "of them" + (f" (skipped: {', '.join(skipped[:10])})" if skipped else "")
                )
            for index, (rel, handle) in enumerate(inputs):
                target = f"{prefix}/{index:05d}-{PurePath(rel).name}"
                stored.append(storage.save(target, ContentFile(handle.read())))
                if archive is not None:
                    handle.close()
        with transaction.atomic():
            job = jobs.submit_job(
                kind="predict",
                user=user,
                model_version=version,
                parameters={"calibration": calibration or "", "tta": tta},
                inputs=prefix,
            )
            if skipped:
                shown = ", ".join(skipped[:20]) + (" ..." if len(skipped) > 20 else "")
                job.log_tail = f"skipped {len(skipped)} file(s) that are not images: {shown}"
                job.save(update_fields=["log_tail"])
    except BaseException:
        remove_files(stored)
        raise
    if skipped:
        logger.info("batch %s: skipped %d files that are not images", prefix, len(skipped))
    return job
