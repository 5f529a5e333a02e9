"""What the settings become under different environments (read fresh each time)."""

from __future__ import annotations

import os
import runpy
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS = Path(__file__).resolve().parents[2] / "portal" / "settings.py"
KEY = "k" * 60


def _settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in list(os.environ):
        if name.startswith("VISIONKIT_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS))


def test_production_refuses_to_start_without_a_secret_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ImproperlyConfigured, match="VISIONKIT_SECRET_KEY is required"):
        _settings(monkeypatch)


def test_production_refuses_the_development_key(monkeypatch: pytest.MonkeyPatch) -> None:
    dev_key = _settings(monkeypatch, VISIONKIT_DEBUG="1")["SECRET_KEY"]
    with pytest.raises(ImproperlyConfigured, match="development key"):
        _settings(monkeypatch, VISIONKIT_SECRET_KEY=dev_key)


def test_debug_without_a_key_uses_a_marked_insecure_one(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, VISIONKIT_DEBUG="1")
    assert settings["SECRET_KEY"].startswith("django-insecure-")
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["SECURE_SSL_REDIRECT"] is False
    assert "localhost" in settings["ALLOWED_HOSTS"]


def test_production_defaults_are_secure(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, VISIONKIT_SECRET_KEY=KEY)
    assert settings["DEBUG"] is False
    assert settings["SESSION_COOKIE_SECURE"] is settings["CSRF_COOKIE_SECURE"] is True
    assert settings["SECURE_SSL_REDIRECT"] is True
    assert settings["SECURE_HSTS_SECONDS"] == 31_536_000
    assert settings["X_FRAME_OPTIONS"] == "DENY"
    assert settings["ALLOWED_HOSTS"] == []
    assert "SECURE_PROXY_SSL_HEADER" not in settings
    assert settings["REST_FRAMEWORK"]["DEFAULT_RENDERER_CLASSES"] == [
        "rest_framework.renderers.JSONRenderer"
    ]


def test_default_database_is_sqlite_beside_the_code(monkeypatch: pytest.MonkeyPatch) -> None:
    database = _settings(monkeypatch, VISIONKIT_SECRET_KEY=KEY)["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(database["NAME"]) == SETTINGS.parents[1] / "db.sqlite3"


def test_database_url_selects_postgres(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(
        monkeypatch,
        VISIONKIT_SECRET_KEY=KEY,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/test",
    )
    assert settings["DATABASES"]["default"]["ENGINE"] == "django.db.backends.postgresql"


def test_job_queue_uses_the_database_unless_redis_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    orm = _settings(monkeypatch, VISIONKIT_SECRET_KEY=KEY)["Q_CLUSTER"]
    assert orm["name"] == "visionkit"
    assert orm["orm"] == "default"
    assert "redis" not in orm
    assert orm["retry"] > orm["timeout"]
    redis = _settings(
        monkeypatch, VISIONKIT_SECRET_KEY=KEY, VISIONKIT_REDIS_URL="redis://cache:6379/0"
    )["Q_CLUSTER"]
    assert redis["redis"] == "redis://cache:6379/0"
    assert "orm" not in redis


def test_proxy_header_is_trusted_only_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, VISIONKIT_SECRET_KEY=KEY, VISIONKIT_BEHIND_PROXY="1")
    assert settings["SECURE_PROXY_SSL_HEADER"] == ("HTTP_X_FORWARDED_PROTO", "https")


def test_upload_limit_comes_from_megabytes(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings(monkeypatch, VISIONKIT_SECRET_KEY=KEY, VISIONKIT_MAX_UPLOAD_MB="20")
    assert settings["VISIONKIT_MAX_UPLOAD_BYTES"] == 20 * 1024 * 1024
    assert settings["FILE_UPLOAD_MAX_MEMORY_SIZE"] < settings["VISIONKIT_MAX_UPLOAD_BYTES"]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("VISIONKIT_DEBUG", "sometimes"),
        ("VISIONKIT_Q_WORKERS", "0"),
        ("VISIONKIT_LOG_LEVEL", "LOUD"),
        ("DATABASE_URL", "mysql://u@h/db"),
    ],
)
def test_a_bad_variable_stops_start_up_naming_it(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    with pytest.raises(ImproperlyConfigured, match=name):
        _settings(monkeypatch, VISIONKIT_SECRET_KEY=KEY, **{name: value})
