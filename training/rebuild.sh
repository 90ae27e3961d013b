#!/usr/bin/env bash
# Rebuilds the shipped model (models/coresponse-v1/) and the parity fixture (tests/fixtures/parity.json) from the
# corpus sources, with the pinned versions of training/requirements.txt in a virtualenv (.venv-training/).
# Deterministic: the same sources give the same files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh python
.venv-training/bin/python training/corpus.py build
.venv-training/bin/python training/train.py
