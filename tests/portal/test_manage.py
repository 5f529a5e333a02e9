"""``manage.py`` as an operator runs it: the deployment check and migrations.

Each test runs ``manage.py`` in a subprocess with its own environment, as a
deployment would, so no setting leaks in from the test process.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}

#: Tables that prove every app migrated: users, DRF tokens, the job queue.
EXPECTED_TABLES = {"accounts_user", "authtoken_token", "django_q_task", "django_session"}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("VISIONKIT_", "DJANGO_"))}
    clean.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _production_env() -> dict[str, str]:
    return {
        "VISIONKIT_SECRET_KEY": secrets.token_urlsafe(50),
        "VISIONKIT_ALLOWED_HOSTS": "portal.example.org",
        "VISIONKIT_HSTS_PRELOAD": "1",
    }


def test_deploy_check_passes_with_a_production_environment() -> None:
    done = _manage("check", "--deploy", "--fail-level", "WARNING", **_production_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout


def test_deploy_check_flags_a_debug_environment() -> None:
    done = _manage("check", "--deploy", "--fail-level", "WARNING", VISIONKIT_DEBUG="1")
    assert done.returncode != 0
    assert "security.W018" in done.stderr  # DEBUG on
    assert "security.W009" in done.stderr  # the development key


def test_missing_secret_key_stops_manage_py_with_a_clear_message() -> None:
    done = _manage("check")
    assert done.returncode != 0
    assert "VISIONKIT_SECRET_KEY is required" in done.stderr


def test_migrations_run_on_sqlite(tmp_path: Path) -> None:
    database = tmp_path / "portal.sqlite3"
    env = {**_production_env(), "DATABASE_URL": f"sqlite:///{database}"}
    done = _manage("migrate", "--noinput", **env)
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(database) as connection:
        tables = {row[0] for row in connection.execute("select name from sqlite_master")}
    assert tables >= EXPECTED_TABLES
    pending = _manage("makemigrations", "--check", "--dry-run", **env)
    assert pending.returncode == 0, pending.stdout + pending.stderr


@pytest.fixture
def postgres_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database on 127.0.0.1:5432, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(**POSTGRES, connect_timeout=3, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL is not reachable at 127.0.0.1:5432: {exc}")
    name = f"visionkit_migrate_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.services
def test_migrations_run_on_postgres(postgres_database: str) -> None:
    import psycopg

    url = f"postgres://postgres@127.0.0.1:5432/{postgres_database}"
    done = _manage("migrate", "--noinput", **_production_env(), DATABASE_URL=url)
    assert done.returncode == 0, done.stdout + done.stderr
    with psycopg.connect(**{**POSTGRES, "dbname": postgres_database}) as connection:
        rows = connection.execute(
            "select table_name from information_schema.tables where table_schema = 'public'"
        ).fetchall()
    assert {row[0] for row in rows} >= EXPECTED_TABLES


def test_the_openapi_schema_validates_without_warnings(tmp_path: Path) -> None:
    schema = tmp_path / "schema.yml"
    done = _manage("spectacular", "--validate", "--fail-on-warn", "--file", str(schema),
                   VISIONKIT_DEBUG="1")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = schema.read_text()
    for path in ("/api/predictions/", "/api/models/{id}/promote/", "/api/jobs/{id}/cancel/"):
        assert f"  {path}:" in text, path
