#!/usr/bin/env bash
# The benchmark, printed as Markdown (BENCHMARKS.md holds a full run). Installs what it needs.
#   bash scripts/bench.sh           full run: 20 page loads per cache state, a 2,000-char note typed key by key,
#                                   10,000 updates, 10,000 notes natively (about 2 minutes once built)
#   bash scripts/bench.sh --quick   the CI smoke run: every measurement, few repetitions, the debug CLI
#                                   (about 1 minute once built)
# Prints numbers only; nothing here asserts a budget (timings on shared machines are noisy).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=()
notes=10000
profile=release
if [ "${1:-}" = "--quick" ]; then quick=(--quick); notes=300; profile=debug; fi
bash scripts/setup.sh wasm browser python >&2
bash scripts/build-www.sh >&2
# --all-targets in the quick run: the same feature set as `cargo test --all-targets` (dev-dependencies switch on
# once_cell/std and rustix/default), so after the tests nothing is rebuilt (CI time and disk).
if [ "$profile" = release ]; then cargo build --release --quiet --bins --examples; else cargo build --all-targets --quiet; fi
echo "# notecoder benchmark"
echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(uname -sm), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/^Mem/ {print $2}') GiB;"
echo "commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (uncommitted changes)'); command: \`bash scripts/bench.sh ${quick[*]}\`"
echo
(cd tests/browser && node bench.mjs "${quick[@]}")
echo "## Native"
echo
.venv-training/bin/python bench/native.py --notes "$notes" --cli "target/$profile/notecoder" \
  --run-ids "target/$profile/examples/run_ids" \
  --repeat "$([ ${#quick[@]} -gt 0 ] && echo 1 || echo 3)"
