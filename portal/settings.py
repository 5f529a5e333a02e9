"""Settings of the visionkit portal, every one read from the environment through ``portal.env``.

The defaults need nothing installed beyond ``pip``: SQLite beside the code,
django-q2's ORM broker in the same database. The same code runs scaled out by
setting ``DATABASE_URL`` (PostgreSQL) and ``VISIONKIT_REDIS_URL`` (Redis for
the job queue).

Production is the default: ``VISIONKIT_DEBUG`` is off, so
``VISIONKIT_SECRET_KEY`` is required, cookies are secure, HTTP is redirected
to HTTPS and HSTS is on. Development sets ``VISIONKIT_DEBUG=1`` and gets a
clearly marked, insecure key when it sets none. See ``docs/architecture.md``
for the full list of variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from portal.env import (
    AZURE_STORAGE_BACKEND,
    env_azure_storage,
    env_bool,
    env_database_url,
    env_float,
    env_int,
    env_list,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent

# Django's generic classes (ModelAdmin[...], QuerySet[...]) subscriptable at run time too.
django_stubs_ext.monkeypatch()

# -- core -----------------------------------------------------------------

DEBUG = env_bool("VISIONKIT_DEBUG", False)

#: Used only with VISIONKIT_DEBUG=1 and no key set; refused otherwise.
DEV_SECRET_KEY = "django-insecure-visionkit-development-only-never-use-in-production"

if DEBUG:
    SECRET_KEY = env_str("VISIONKIT_SECRET_KEY", DEV_SECRET_KEY)
else:
    SECRET_KEY = env_str("VISIONKIT_SECRET_KEY")
    if SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "VISIONKIT_SECRET_KEY is the development key while VISIONKIT_DEBUG is off: "
            "set a long random key (python -c 'import secrets; print(secrets.token_urlsafe(50))')"
        )

ALLOWED_HOSTS = env_list(
    "VISIONKIT_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else []
)
CSRF_TRUSTED_ORIGINS = env_list("VISIONKIT_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_q",
    "django_htmx",
    "portal.common",
    "portal.telemetry",
    "portal.accounts",
    "portal.registry",
    "portal.datasets",
    "portal.jobs",
    "portal.predictions",
    "portal.calibrations",
    "portal.serving",
    "portal.monitoring",
]

#: Decided before the first migration: the portal's own user model (roles in
#: portal/accounts/permissions.py).
AUTH_USER_MODEL = "accounts.User"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Counts, times and traces every request (/metrics, OpenTelemetry): before the rest, so
    # their time is in it.
    "portal.telemetry.middleware.MetricsMiddleware",
    # Static files (the Swagger UI's included) from the process itself: no CDN, no extra server.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
ASGI_APPLICATION = "portal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "portal" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.accounts.selectors.capabilities",
            ],
        },
    },
]

# -- database and job queue ----------------------------------------------

DATABASES = {
    "default": env_database_url("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("VISIONKIT_REDIS_URL", "")
_Q_TIMEOUT = env_int("VISIONKIT_Q_TIMEOUT", 3600, minimum=1)

Q_CLUSTER: dict[str, Any] = {
    "name": "visionkit",
    "workers": env_int("VISIONKIT_Q_WORKERS", 2, minimum=1),
    "timeout": _Q_TIMEOUT,
    "retry": _Q_TIMEOUT + 60,  # must exceed timeout, or a long job runs twice
    "max_attempts": 1,
    "queue_limit": 50,
    "save_limit": 250,
    "catch_up": False,
    "sync": env_bool("VISIONKIT_Q_SYNC", False),  # run tasks inline (tests)
    "orm": "default",
}
if REDIS_URL:
    del Q_CLUSTER["orm"]
    Q_CLUSTER["redis"] = REDIS_URL

# -- API --------------------------------------------------------------------

REST_FRAMEWORK: dict[str, Any] = {
    # Token first: an anonymous API call gets 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        *(["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    ],
    "DEFAULT_PAGINATION_CLASS": "portal.common.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "portal.common.errors.exception_handler",
    # ``?format=`` names an export format (GET /api/predictions/{id}/export/), not a renderer.
    "URL_FORMAT_OVERRIDE": None,
    # Token requests are password guesses too: throttled per client address.
    "DEFAULT_THROTTLE_RATES": {"token": env_str("VISIONKIT_TOKEN_RATE", "10/minute")},
}

SPECTACULAR_SETTINGS: dict[str, Any] = {
    "TITLE": "visionkit portal API",
    "DESCRIPTION": (
        "Predictions, model registry, data sets and jobs of the visionkit portal. "
        "Authenticate with `Authorization: Token <key>` (POST /api/auth/token/)."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the project's own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "StageEnum": "portal.registry.models.Stage",
        "JobKindEnum": "portal.jobs.models.Kind",
        "JobStatusEnum": "portal.jobs.models.Status",
        "JobBackendEnum": "portal.jobs.models.Backend",
        "PredictionSourceEnum": "portal.predictions.models.Source",
    },
}

# -- uploads ------------------------------------------------------------------

#: Largest image a user may upload (bytes); apps that take images enforce it.
VISIONKIT_MAX_UPLOAD_BYTES = env_int("VISIONKIT_MAX_UPLOAD_MB", 50, minimum=1) * 1024 * 1024
#: Request bodies other than files (JSON, form fields).
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000
DATA_UPLOAD_MAX_NUMBER_FILES = 100
#: Uploads above this are streamed to a temporary file, not held in memory.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

#: Largest data-set zip (POST /api/datasets/) and model archive (POST /api/models/).
VISIONKIT_MAX_DATASET_BYTES = env_int("VISIONKIT_MAX_DATASET_MB", 500, minimum=1) * 1024 * 1024
VISIONKIT_MAX_MODEL_BYTES = env_int("VISIONKIT_MAX_MODEL_MB", 500, minimum=1) * 1024 * 1024
#: Largest image in pixels (width x height), checked from the header before decoding: a
#: full Hades frame is 12.6 M pixels; a "pixel bomb" claims far more than it holds.
VISIONKIT_MAX_IMAGE_PIXELS = env_int("VISIONKIT_MAX_IMAGE_PIXELS", 60_000_000, minimum=1)

# -- review ------------------------------------------------------------------

#: The robot acts on a tip whose confidence reaches this; the pages colour tips by it
#: and flag plates with a tip below it for review.
VISIONKIT_TIP_CONFIDENCE = env_float("VISIONKIT_TIP_CONFIDENCE", 0.8, minimum=0.0, maximum=1.0)
#: Seedlings a Hades dish holds; another count flags the plate for review.
VISIONKIT_EXPECTED_PLANTS = env_int("VISIONKIT_EXPECTED_PLANTS", 5, minimum=1)
#: An image confidence (out-of-distribution score) below this flags the plate for review.
VISIONKIT_IMAGE_CONFIDENCE = env_float("VISIONKIT_IMAGE_CONFIDENCE", 0.5, minimum=0.0, maximum=1.0)

# -- jobs and models ------------------------------------------------------------

#: How often a running job's worker writes its heartbeat (seconds), and how old a
#: heartbeat may be before the reaper calls the worker dead.
VISIONKIT_JOB_HEARTBEAT_S = env_int("VISIONKIT_JOB_HEARTBEAT_S", 5, minimum=1)
VISIONKIT_JOB_STALE_S = env_int("VISIONKIT_JOB_STALE_S", 60, minimum=2)
#: Plates per django-q2 task of a batch-prediction job: the batch is split into such
#: shards so several workers share it (portal/predictions/claims.py).
VISIONKIT_BATCH_CHUNK = env_int("VISIONKIT_BATCH_CHUNK", 8, minimum=1)
#: Training and evaluation jobs log their runs to MLflow; model versions link to them.
VISIONKIT_JOB_TRACK = env_bool("VISIONKIT_JOB_TRACK", True)
#: The MLflow store (``MLFLOW_TRACKING_URI``; by default a SQLite file under var/, so a
#: worker's current directory does not decide where runs go) and its local artifact folder.
VISIONKIT_MLFLOW_URI = env_str(
    "MLFLOW_TRACKING_URI", f"sqlite:///{BASE_DIR / 'var' / 'mlflow' / 'mlruns.db'}"
)
VISIONKIT_MLFLOW_ARTIFACTS = Path(
    env_str("VISIONKIT_MLFLOW_ARTIFACTS", str(BASE_DIR / "var" / "mlflow" / "artifacts"))
)
#: Local scratch folder of running jobs (their inputs and outputs before storage).
VISIONKIT_JOB_DIR = Path(env_str("VISIONKIT_JOB_DIR", str(BASE_DIR / "var" / "jobs")))

# Azure ML training jobs (backend "azureml"; docs/azure.md). The workspace, compute and VM
# size come from VISIONKIT_AZUREML_* (visionkit.azureml.config); credentials from
# DefaultAzureCredential, never from here. The client factory is "module:callable" taking
# an AzureMLConfig; tests point it at visionkit.azureml.testing's fake.
VISIONKIT_AZUREML_CLIENT = env_str("VISIONKIT_AZUREML_CLIENT", "visionkit.azureml.config:ml_client")
VISIONKIT_AZUREML_POLL_S = env_float("VISIONKIT_AZUREML_POLL_S", 15.0, minimum=0.0)
#: Local copies of registered models, loaded once per process.
VISIONKIT_MODEL_CACHE = Path(
    env_str("VISIONKIT_MODEL_CACHE", str(BASE_DIR / "var" / "model-cache"))
)

# -- gates, serving, retraining and monitoring (docs/mlops.md) -----------------

#: What a candidate must match on the held-out data set to reach staging:
#: ``metric:higher|lower:tolerance``, comma-separated. Higher-is-better metrics pass at
#: candidate >= production - tolerance; lower-is-better at candidate <= production + tolerance.
VISIONKIT_GATE_METRICS = env_str(
    "VISIONKIT_GATE_METRICS",
    "root_f1:higher:0.01,tips_within_1mm:higher:0.02,length_smape:lower:1.0",
)
#: The data set name whose latest version is the held-out gate set (never trained on).
VISIONKIT_HOLDOUT_DATASET = env_str("VISIONKIT_HOLDOUT_DATASET", "holdout")
#: A candidate that passes its gate moves to staging by itself (production never does).
VISIONKIT_GATE_AUTO_STAGING = env_bool("VISIONKIT_GATE_AUTO_STAGING", True)
#: Whether the person who registered a version may approve it for production.
VISIONKIT_ALLOW_SELF_APPROVAL = env_bool("VISIONKIT_ALLOW_SELF_APPROVAL", False)
#: The smoke check before a switch: plants expected on the reference plate are
#: VISIONKIT_EXPECTED_PLANTS; every reference tip must be found within this (mm).
VISIONKIT_SMOKE_TOLERANCE_MM = env_float("VISIONKIT_SMOKE_TOLERANCE_MM", 1.0, minimum=0.0)
#: A lab's own reference plate (an image with ``<stem>.landmarks.json`` beside it);
#: empty: a fixed synthetic plate.
VISIONKIT_SMOKE_PLATE = env_str("VISIONKIT_SMOKE_PLATE", "")
#: Model versions one process keeps loaded (least recently used are unloaded).
VISIONKIT_MAX_LOADED_MODELS = env_int("VISIONKIT_MAX_LOADED_MODELS", 3, minimum=1)
#: Station (camera or robot name a request gives) -> model: ``station=model``, comma-separated;
#: a model is ``name`` (its production version), ``name:version``, ``name@staging`` or an id.
VISIONKIT_STATION_MODELS = env_list("VISIONKIT_STATION_MODELS", [])
#: Continuous training: the data set name whose new versions trigger retraining, whether
#: they do, how many newly reviewed tips do, and the training parameters (JSON) it uses
#: (it fine-tunes from the production version unless ``"fine_tune": false``).
VISIONKIT_TRAINING_DATASET = env_str("VISIONKIT_TRAINING_DATASET", "training")
VISIONKIT_RETRAIN_ON_DATASET = env_bool("VISIONKIT_RETRAIN_ON_DATASET", True)
VISIONKIT_RETRAIN_REVIEWED_TIPS = env_int("VISIONKIT_RETRAIN_REVIEWED_TIPS", 100, minimum=0)
VISIONKIT_RETRAIN_PARAMETERS = env_str(
    "VISIONKIT_RETRAIN_PARAMETERS", '{"epochs": 5, "lr": 0.0001, "fine_tune": true}'
)
#: Drift: predictions of the production version compared with its reference (the latest
#: this many), the fewest worth testing, and the share of drifted features that makes a
#: data set drift (Evidently's default is one half).
VISIONKIT_DRIFT_WINDOW = env_int("VISIONKIT_DRIFT_WINDOW", 200, minimum=2)
VISIONKIT_DRIFT_MIN_PREDICTIONS = env_int("VISIONKIT_DRIFT_MIN_PREDICTIONS", 20, minimum=2)
VISIONKIT_DRIFT_SHARE = env_float("VISIONKIT_DRIFT_SHARE", 0.5, minimum=0.0, maximum=1.0)
#: Live accuracy: an alert when the reviewed tips within 1 mm of the latest window fall
#: below this share (with at least VISIONKIT_ACCURACY_MIN_TIPS reviewed).
VISIONKIT_ACCURACY_WINDOW = env_int("VISIONKIT_ACCURACY_WINDOW", 100, minimum=1)
VISIONKIT_ACCURACY_MIN_TIPS = env_int("VISIONKIT_ACCURACY_MIN_TIPS", 10, minimum=1)
VISIONKIT_ALERT_TIPS_WITHIN_1MM = env_float(
    "VISIONKIT_ALERT_TIPS_WITHIN_1MM", 0.9, minimum=0.0, maximum=1.0
)
#: Who hears of alerts and of candidates ready for approval: e-mail addresses (beside the
#: approvers' own) through Django's mail settings, and webhook URLs that get a JSON POST.
VISIONKIT_ALERT_EMAILS = env_list("VISIONKIT_ALERT_EMAILS", [])
VISIONKIT_ALERT_WEBHOOKS = env_list("VISIONKIT_ALERT_WEBHOOKS", [])
#: Mail goes through SMTP once VISIONKIT_EMAIL_HOST is set; until then into files under
#: var/mail (one per message), so a fresh machine loses no alert.
EMAIL_HOST = env_str("VISIONKIT_EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "VISIONKIT_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = Path(env_str("VISIONKIT_EMAIL_DIR", str(BASE_DIR / "var" / "mail")))
EMAIL_PORT = env_int("VISIONKIT_EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("VISIONKIT_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = env_str("VISIONKIT_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("VISIONKIT_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = env_str("VISIONKIT_EMAIL_FROM", "visionkit@localhost")

# -- auth ---------------------------------------------------------------------

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# -- security ---------------------------------------------------------------

SESSION_COOKIE_SECURE = env_bool("VISIONKIT_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("VISIONKIT_SESSION_HOURS", 12, minimum=1) * 3600
SECURE_SSL_REDIRECT = env_bool("VISIONKIT_SSL_REDIRECT", not DEBUG)
#: Load balancers probe /healthz and /readyz over plain HTTP: never redirect them.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SECURE_HSTS_SECONDS = env_int("VISIONKIT_HSTS_SECONDS", 0 if DEBUG else 31_536_000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
#: Preloading is hard to undo, so it is opt-in.
SECURE_HSTS_PRELOAD = env_bool("VISIONKIT_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("VISIONKIT_BEHIND_PROXY", False):
    # Only behind a proxy that sets this header itself; otherwise clients could forge it.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# -- static files, media, i18n ------------------------------------------------

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "portal" / "static"]
STATIC_ROOT = Path(env_str("VISIONKIT_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
#: whitenoise serves STATIC_ROOT (filled by collectstatic); with finders it also
#: serves straight from the apps' static folders (development, tests).
WHITENOISE_USE_FINDERS = env_bool("VISIONKIT_STATIC_FINDERS", DEBUG)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("VISIONKIT_MEDIA_ROOT", str(BASE_DIR / "media")))

#: Uploaded and produced files (models, data sets, predictions) go through
#: ``storages["default"]``: local files here; the Azure settings swap the backend.
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Compressed copies made by collectstatic; names are not hashed, so a page
    # renders before collectstatic has run (tests, the first start).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
#: VISIONKIT_AZURE_STORAGE_CONNECTION_STRING (or _ACCOUNT_NAME with _ACCOUNT_KEY, _SAS_TOKEN or
#: a managed identity), _CONTAINER and _PREFIX put those files in Blob Storage (docs/storage.md).
_AZURE_STORAGE = env_azure_storage()
if _AZURE_STORAGE is not None:
    STORAGES["default"] = {"BACKEND": AZURE_STORAGE_BACKEND, "OPTIONS": _AZURE_STORAGE}

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# -- usage and capacity (docs/telemetry.md) ----------------------------------------

#: GET /metrics is let in with ``Authorization: Bearer <token>`` (empty: no token works)...
VISIONKIT_METRICS_TOKEN = env_str("VISIONKIT_METRICS_TOKEN", "")
#: ...or from these networks (addresses or CIDR ranges) when no proxy header says otherwise.
VISIONKIT_METRICS_NETWORKS = env_list("VISIONKIT_METRICS_NETWORKS", ["127.0.0.1/32", "::1/128"])
#: Prometheus scrapes over plain HTTP inside the network, as the probes do: never redirect it.
SECURE_REDIRECT_EXEMPT = [*SECURE_REDIRECT_EXEMPT, r"^metrics$"]
#: Where spans go: ``otlp`` (the default once an OTLP endpoint is set; the exporter reads the
#: OTEL_EXPORTER_OTLP_* variables), ``log`` (one line per span, logger visionkit.trace) or ``off``.
_OTLP_ENDPOINT = env_str("OTEL_EXPORTER_OTLP_ENDPOINT", "") or env_str(
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", ""
)
VISIONKIT_TRACING = env_str(
    "VISIONKIT_TRACING", "otlp" if _OTLP_ENDPOINT else "log", choices=("otlp", "log", "off")
)

# -- logging --------------------------------------------------------------------

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": env_str(
            "VISIONKIT_LOG_LEVEL", "INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR")
        ),
    },
}
