# visionkit: library, CLI and portal in one image.
#   docker build -t visionkit .
#   docker run --rm -v "$PWD/plates:/data" visionkit synth --out /data --n 2 --seed 1
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY visionkit ./visionkit
COPY plugins ./plugins
COPY portal ./portal
COPY manage.py ./
RUN pip install -c constraints.txt ".[ml,portal]" ./plugins/visionkit-ot2

RUN useradd --create-home visionkit
USER visionkit
ENTRYPOINT ["visionkit"]
CMD ["--help"]
