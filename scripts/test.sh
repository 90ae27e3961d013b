#!/usr/bin/env bash
# Runs every test: Rust unit, integration and doc tests (parity with onnxruntime, CLI, model files), the corpus
# check, then the browser tests in headless Chromium against a fresh build of www/, then a short run of the
# benchmark (it must run; its numbers are printed, not judged), then a short, repeatable run of each fuzz target. Installs what
# it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh wasm browser
echo "== corpus sources"
python3 training/corpus.py check corpus/src/*.jsonl
echo "== Rust tests"
cargo test --all-targets
cargo test --doc
echo "== REFI-QDA exchange, read by independent Python packages"
bash scripts/setup.sh python
.venv-training/bin/python -m unittest discover -s tests/python -v
echo "== browser build"
bash scripts/build-www.sh
echo "== browser tests"
(cd tests/browser && npm test)
echo "== benchmark smoke run (numbers only, no budget is asserted)"
bash scripts/bench.sh --quick
echo "== fuzzing: a fixed seed and 3,000-20,000 runs per target, at most 60 s each (bash scripts/fuzz.sh for real runs)"
FUZZ_QUICK=1 bash scripts/fuzz.sh 60
