"""``make run``: the portal on this machine in one command (``python -m portal.serve``).

It gives the local run what a deployment would set: a secret key generated
once into ``var/secret_key`` (mode 600, git-ignored), plain HTTP on
127.0.0.1 (no HTTPS redirect, cookies not marked secure), and the demo
password kept in ``var/demo_password`` unless ``VISIONKIT_DEMO_PASSWORD`` is
set (``VISIONKIT_VAR_DIR`` moves ``var/``; ``VISIONKIT_DEMO_PLATES`` sets how many
plates the seed predicts). Then it migrates, seeds the demo, collects the static files, and runs
gunicorn (``127.0.0.1:$PORT``, default 8000) and the django-q2 ``qcluster``
worker side by side: Ctrl-C (or SIGTERM) stops both, and if either one
dies the other is stopped too. ``DATABASE_URL`` and ``VISIONKIT_REDIS_URL``
switch it to PostgreSQL and Redis, as for a deployment.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

__all__ = ["main", "prepare_environment"]

logger = logging.getLogger("portal.serve")

ROOT = Path(__file__).resolve().parent.parent


def _private_value(path: Path, make: int) -> str:
    """The value kept in ``path``, made (``make`` random bytes) and saved mode 600 if absent."""
    if path.is_file():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(make)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(value + "\n")
    return value


def prepare_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a local run: ``environ`` (default: this one) with its defaults."""
    env = dict(os.environ if environ is None else environ)
    var = Path(env.get("VISIONKIT_VAR_DIR") or ROOT / "var")
    env.setdefault("VISIONKIT_SECRET_KEY", _private_value(var / "secret_key", 50))
    env.setdefault("VISIONKIT_DEMO_PASSWORD", _private_value(var / "demo_password", 12))
    env.setdefault("VISIONKIT_SSL_REDIRECT", "0")
    env.setdefault("VISIONKIT_SECURE_COOKIES", "0")
    env.setdefault("VISIONKIT_HSTS_SECONDS", "0")
    env.setdefault("VISIONKIT_ALLOWED_HOSTS", "127.0.0.1,localhost")
    env.setdefault(
        "VISIONKIT_CSRF_TRUSTED_ORIGINS",
        f"http://127.0.0.1:{_port(env)},http://localhost:{_port(env)}",
    )
    env.setdefault("VISIONKIT_BIND", f"127.0.0.1:{_port(env)}")
    env.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    env.setdefault("PYTHONUNBUFFERED", "1")
    if not env.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every gunicorn worker and the job worker write their metrics here; /metrics adds
        # them up. Emptied at each start: values of a previous run's processes are gone.
        metrics_dir = var / "prometheus"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    return env


def _port(env: dict[str, str]) -> str:
    return env.get("PORT") or "8000"


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], env=env, cwd=ROOT,
                   check=True)  # fmt: skip


def _banner(env: dict[str, str]) -> str:
    url = f"http://{env['VISIONKIT_BIND']}/"
    password = env["VISIONKIT_DEMO_PASSWORD"]
    return "\n".join([
        "",
        f"visionkit portal: {url}  (API docs: {url}api/docs/)",
        f"  logins: viewer, operator, approver, admin; password: {password}",
        f"  a token:  curl -s -d username=operator -d password={password} {url}api/auth/token/",
        f"  predict:  curl -H \"Authorization: Token $TOKEN\" -F image=@plate.png "
        f"{url}api/predictions/",
        "  Ctrl-C stops the web server and the worker.",
        "",
    ])  # fmt: skip


def _wait_until_up(env: dict[str, str], web: subprocess.Popen[bytes], seconds: float) -> bool:
    """Whether ``/healthz`` answers before ``seconds`` pass (and the server is still alive)."""
    import urllib.error
    import urllib.request

    url = f"http://{env['VISIONKIT_BIND']}/healthz"
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and web.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    return False


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 30
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    """Prepare, then supervise gunicorn and qcluster until Ctrl-C or one of them exits."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    env = prepare_environment()
    _manage(env, "migrate", "--no-input", "-v", "0")
    _manage(env, "seed_demo", "--plates", env.get("VISIONKIT_DEMO_PLATES", "3"))
    _manage(env, "collectstatic", "--no-input", "-v", "0")
    commands = {
        "the web server (gunicorn)": [sys.executable, "-m", "gunicorn", "-c",
                                      str(ROOT / "portal" / "gunicorn_conf.py"),
                                      "portal.wsgi:application"],
        "the job worker (qcluster)": [sys.executable, str(ROOT / "manage.py"), "qcluster"],
    }  # fmt: skip
    processes = [subprocess.Popen(argv, env=env, cwd=ROOT) for argv in commands.values()]
    names = dict(zip((p.pid for p in processes), commands, strict=True))
    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    if _wait_until_up(env, processes[0], 120):
        logger.info(_banner(env))
    code = 0
    while not stopping:
        for process in processes:
            if process.poll() is not None and not stopping:
                logger.error("%s exited (%s); stopping the portal", names[process.pid],
                             process.returncode)  # fmt: skip
                code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    logger.info("stopping the web server and the worker...")
    _stop(processes)
    return code


if __name__ == "__main__":
    sys.exit(main())
