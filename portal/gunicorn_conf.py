"""gunicorn's settings for the portal: ``gunicorn -c portal/gunicorn_conf.py portal.wsgi``.

Each worker loads the production model once, as it starts (``post_worker_init``),
so no request pays for it and none loads it again. Environment:
``VISIONKIT_BIND`` (default ``127.0.0.1:8000``), ``VISIONKIT_WEB_WORKERS``
(default 2), ``VISIONKIT_WEB_TIMEOUT`` seconds (default 120: a full frame on a
small CPU takes seconds, a batch upload longer).
"""

from __future__ import annotations

import logging
import os
from typing import Any

bind = os.environ.get("VISIONKIT_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("VISIONKIT_WEB_WORKERS", "2"))
timeout = int(os.environ.get("VISIONKIT_WEB_TIMEOUT", "120"))
graceful_timeout = 20
# The access log names method, path and status; never headers, so tokens stay out of it.
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'
errorlog = "-"


def post_worker_init(worker: Any) -> None:
    """Load the production model into this worker before it takes requests."""
    from portal.predictions import loader

    try:
        version = loader.production_version()
        if version is not None:
            loader.get_predictor(version, tta=False)
    except Exception:  # a worker without a model still serves pages; /readyz says why
        logging.getLogger("portal.gunicorn").exception("could not preload the production model")


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live-only metric files (prometheus-client's multiprocess mode)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
