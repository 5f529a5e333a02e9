"""Camera sources: where frames come from.

Built-in sources, each a plugin module registered through the same hooks a
third party uses (:mod:`visionkit.hookspecs`):

=========  ==============================================================
``file``   one image file (PNG, JPEG, BMP, TIFF incl. the 12-bit Hades raw)
``glob``   image files matching a pattern, natural order
``folder`` every image in a folder (``recursive`` option), masks skipped
``hades``  NPEC Hades images with plate/experiment/date parsed from the name
``opencv`` a camera index, a video file, or an rtsp/rtmp/http stream
``url``    one image downloaded over http(s)
``azblob`` image blobs under an Azure Blob Storage prefix (``watch`` for new ones)
=========  ==============================================================

Open one with :func:`visionkit.open_source`, which asks each plugin in turn
(azblob, url, opencv, hades, then files last), or by name::

    from visionkit.plugins import open_source

    with open_source("plates/", source="folder", recursive=True) as frames:
        for frame in frames:
            ...

Every source yields :class:`~visionkit.frame.Frame` objects with ``uint8``
pixels and can be closed (it is a context manager).
"""

from __future__ import annotations

from visionkit.sources._paths import is_mask_file, natural_key
from visionkit.sources.base import BaseSource, Source
from visionkit.sources.files import ImageFilesSource, open_file, open_folder, open_glob
from visionkit.sources.hades import HadesName, HadesSource, open_hades, parse_hades_name
from visionkit.sources.opencv import OpenCVSource, open_opencv
from visionkit.sources.url import UrlSource, open_url, redact_url

__all__ = [
    "BaseSource",
    "HadesName",
    "HadesSource",
    "ImageFilesSource",
    "OpenCVSource",
    "Source",
    "UrlSource",
    "is_mask_file",
    "natural_key",
    "open_file",
    "open_folder",
    "open_glob",
    "open_hades",
    "open_opencv",
    "open_url",
    "parse_hades_name",
    "redact_url",
]
