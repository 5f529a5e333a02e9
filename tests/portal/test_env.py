"""The env helpers: typed values, defaults, and errors that name the variable."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from portal.env import env_bool, env_database_url, env_float, env_int, env_list, env_str


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        (" yes ", True),
        ("on", True),
        ("0", False),
        ("False", False),
        ("no", False),
        ("off", False),
    ],
)
def test_env_bool_reads_the_usual_spellings(raw: str, expected: bool) -> None:
    assert env_bool("FLAG", environ={"FLAG": raw}) is expected


def test_unset_or_empty_takes_the_default() -> None:
    assert env_bool("FLAG", True, environ={}) is True
    assert env_bool("FLAG", False, environ={"FLAG": "  "}) is False
    assert env_int("N", 3, environ={"N": ""}) == 3
    assert env_str("S", "x", environ={}) == "x"
    assert env_list("L", ["a"], environ={}) == ["a"]


@pytest.mark.parametrize(
    ("helper", "value", "wanted"),
    [
        (env_bool, "maybe", "1/true/yes/on or 0/false/no/off"),
        (env_int, "2.5", "a whole number"),
        (env_int, "many", "a whole number"),
    ],
)
def test_bad_value_names_variable_value_and_what_to_give(
    helper: object, value: str, wanted: str
) -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        helper("VISIONKIT_THING", environ={"VISIONKIT_THING": value})  # type: ignore[operator]
    message = str(info.value)
    assert "VISIONKIT_THING" in message
    assert repr(value) in message
    assert wanted in message


@pytest.mark.parametrize(
    "helper", [env_str, env_bool, env_int, env_float, env_list, env_database_url]
)
def test_required_variable_that_is_unset_says_so(helper: object) -> None:
    with pytest.raises(ImproperlyConfigured, match="VISIONKIT_NEEDED is required"):
        helper("VISIONKIT_NEEDED", environ={})  # type: ignore[operator]


def test_env_int_range() -> None:
    assert env_int("N", environ={"N": "5"}, minimum=1, maximum=5) == 5
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("N", environ={"N": "0"}, minimum=1)
    with pytest.raises(ImproperlyConfigured, match="at most 5"):
        env_int("N", environ={"N": "6"}, maximum=5)


def test_env_float_reads_numbers_in_range_and_refuses_the_rest() -> None:
    assert env_float("X", environ={"X": "0.75"}, minimum=0.0, maximum=1.0) == 0.75
    assert env_float("X", 0.5, environ={}) == 0.5
    for raw, said in (("1.5", "at most 1.0"), ("-1", "at least 0.0"), ("nan", "finite"),
                      ("high", "a number")):  # fmt: skip
        with pytest.raises(ImproperlyConfigured, match=said):
            env_float("X", environ={"X": raw}, minimum=0.0, maximum=1.0)


def test_env_str_choices() -> None:
    assert env_str("LEVEL", environ={"LEVEL": "INFO"}, choices=("INFO", "DEBUG")) == "INFO"
    with pytest.raises(ImproperlyConfigured, match="one of INFO, DEBUG"):
        env_str("LEVEL", environ={"LEVEL": "LOUD"}, choices=("INFO", "DEBUG"))


def test_env_list_splits_on_commas_and_drops_blanks() -> None:
    hosts = env_list("HOSTS", environ={"HOSTS": " a.example.org, ,b.example.org,"})
    assert hosts == ["a.example.org", "b.example.org"]


def test_env_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VISIONKIT_TEST_FLAG", "yes")
    assert env_bool("VISIONKIT_TEST_FLAG") is True


# -- database URLs


def test_sqlite_absolute_and_relative_paths() -> None:
    absolute = env_database_url(environ={"DATABASE_URL": "sqlite:////srv/visionkit/db.sqlite3"})
    assert absolute["ENGINE"] == "django.db.backends.sqlite3"
    assert absolute["NAME"] == "/srv/visionkit/db.sqlite3"
    assert absolute["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    relative = env_database_url(environ={"DATABASE_URL": "sqlite:///db.sqlite3"})
    assert relative["NAME"] == "db.sqlite3"
    memory = env_database_url(environ={"DATABASE_URL": "sqlite://:memory:"})
    assert memory["NAME"] == ":memory:"


def test_default_database_url_is_used_when_unset() -> None:
    assert env_database_url("DATABASE_URL", "sqlite:////tmp/x.sqlite3", environ={})["NAME"] == (
        "/tmp/x.sqlite3"
    )


def test_postgres_url_gives_every_connection_field() -> None:
    url = (
        "postgres://vk%40lab:s%3Acret@db.example.org:6432/visionkit?sslmode=require&conn_max_age=60"
    )
    config = env_database_url(environ={"DATABASE_URL": url})
    assert config == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "visionkit",
        "USER": "vk@lab",
        "PASSWORD": "s:cret",
        "HOST": "db.example.org",
        "PORT": "6432",
        "CONN_MAX_AGE": 60,
        "OPTIONS": {"sslmode": "require"},
    }


def test_postgres_url_without_password_or_port() -> None:
    config = env_database_url(environ={"DATABASE_URL": "postgresql://postgres@127.0.0.1/test"})
    assert (config["USER"], config["PASSWORD"], config["PORT"]) == ("postgres", "", "")
    assert "OPTIONS" not in config


@pytest.mark.parametrize(
    ("url", "wanted"),
    [
        ("mysql://u@h/db", "sqlite:/// or postgres://"),
        ("postgres://u@h:5432/", "a database name"),
        ("postgres://u@h:port/db", "a numeric port"),
        ("postgres://u@h/db?conn_max_age=soon", "conn_max_age"),
        ("sqlite://host/db.sqlite3", "sqlite:////absolute"),
        ("sqlite:///", "with a file path"),
    ],
)
def test_bad_database_url_names_the_variable(url: str, wanted: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL") as info:
        env_database_url(environ={"DATABASE_URL": url})
    assert wanted in str(info.value)


def test_password_is_not_shown_in_errors() -> None:
    with pytest.raises(ImproperlyConfigured) as info:
        env_database_url(environ={"DATABASE_URL": "postgres://u:hunter2@h:bad/db"})
    assert "hunter2" not in str(info.value)
    assert "u:***@h" in str(info.value)
