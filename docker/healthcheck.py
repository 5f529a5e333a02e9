"""The image's health check: ``python docker/healthcheck.py [web|worker]``, exit 0 when healthy.

``web`` (the default, the Dockerfile's ``HEALTHCHECK``) asks the portal's own
``/healthz`` on the port gunicorn binds (``VISIONKIT_BIND``). Django answers
only host names in ``VISIONKIT_ALLOWED_HOSTS``, so the request names the first
of them as its ``Host`` (a leading dot or ``*`` becomes a name that matches),
never an address the portal would refuse with 400.

``worker`` has no port: it checks that the job queue's broker (Redis, or the
database for django-q2's ORM broker) answers, since a worker that cannot reach
it takes no job. Compose sets it as the worker's health check.

Standard library only, no curl in the image; one line on stderr says why a
check failed.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

__all__ = ["check_web", "check_worker", "health_url", "host_header", "main"]

_TIMEOUT_S = 4.0


def health_url(environ: Mapping[str, str]) -> str:
    """The ``/healthz`` URL of the gunicorn this container runs, from ``VISIONKIT_BIND``."""
    bind = environ.get("VISIONKIT_BIND", "").strip() or "127.0.0.1:8000"
    host, _, port = bind.rpartition(":")
    if not port.isdigit():
        raise ValueError(f"VISIONKIT_BIND={bind!r} has no port: give HOST:PORT")
    # A server bound to every address answers on the loopback one too.
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}/healthz"


def host_header(environ: Mapping[str, str]) -> str:
    """A ``Host`` the portal accepts: the first of ``VISIONKIT_ALLOWED_HOSTS``, else localhost."""
    hosts = [h.strip() for h in environ.get("VISIONKIT_ALLOWED_HOSTS", "").split(",") if h.strip()]
    if not hosts:
        return "localhost"
    first = hosts[0]
    if first == "*":
        return "localhost"
    return first.lstrip(".")


def check_web(environ: Mapping[str, str]) -> str | None:
    """``None`` when ``/healthz`` answers 200, else why not."""
    url = health_url(environ)
    request = urllib.request.Request(url, headers={"Host": host_header(environ)})
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT_S) as answer:
            if answer.status == 200:
                return None
            return f"{url} answered {answer.status}"
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}"
    except (urllib.error.URLError, OSError) as error:
        return f"{url} did not answer: {error}"


def check_worker(environ: Mapping[str, str]) -> str | None:
    """``None`` when the job queue's broker answers, else why not."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        import django

        django.setup()
        from django_q.brokers import get_broker

        broker = get_broker()
        if broker.ping():
            return None
        return f"the job broker ({type(broker).__name__}) does not answer"
    except Exception as error:  # any failure means unhealthy; say which
        return f"the worker's broker check failed: {type(error).__name__}: {error}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check ``argv[0]`` names (``web`` or ``worker``); 0 healthy, 1 not, 2 bad use."""
    args = list(sys.argv[1:] if argv is None else argv)
    role = args[0] if args else "web"
    checks = {"web": check_web, "worker": check_worker}
    if role not in checks or len(args) > 1:
        sys.stderr.write(f"usage: healthcheck.py [{'|'.join(checks)}]\n")
        return 2
    try:
        problem = checks[role](os.environ)
    except ValueError as error:
        problem = str(error)
    if problem is not None:
        sys.stderr.write(f"unhealthy: {problem}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
