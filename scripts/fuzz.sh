#!/usr/bin/env bash
# Coverage-guided fuzzing of the segmenter, the tokenizer path, the whole suggest pipeline and the model-file
# loader (cargo-fuzz / libFuzzer, targets in fuzz/fuzz_targets/, invariants in fuzz/fuzz_targets/common.rs).
#   bash scripts/fuzz.sh                 every target for 60 s
#   bash scripts/fuzz.sh 3600 suggest    one target for an hour
#   FUZZ_QUICK=1 bash scripts/fuzz.sh 60 the CI run (scripts/test.sh): a quicker build (opt-level 1, no
#                                        AddressSanitizer; notecoder has no unsafe code) and a fixed seed and
#                                        number of runs per target, so that CI is repeatable (SECONDS caps it)
# The growing corpus is fuzz/corpus/<target>/ (not committed), started from the committed seeds in
# fuzz/seeds/<target>/; a crash leaves its input in fuzz/artifacts/<target>/ and fails the run. Installs
# cargo-fuzz (pinned) on first use. libFuzzer needs nightly rustc flags: the nightly toolchain when the machine
# has one, else the stable compiler with RUSTC_BOOTSTRAP=1 (same flags, no download).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(segment tokenize suggest model_files)
want=0.13.2
if [ "$(cargo fuzz --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
  echo "installing cargo-fuzz $want (about a minute, once)"
  cargo install cargo-fuzz --version "$want" --locked --quiet
fi
if rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  fuzz=(cargo +nightly fuzz)
else
  export RUSTC_BOOTSTRAP=1
  fuzz=(cargo fuzz)
fi
if [ -n "${FUZZ_QUICK:-}" ]; then
  mode=(--dev -s none)
else
  mode=(-O)
fi
cd fuzz
"${fuzz[@]}" build "${mode[@]}"
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t"
  echo "== fuzz $t for ${seconds}s"
  # -rss_limit_mb: tract and the tokenizer legitimately hold a few hundred MB. -max_len: 8 KB of note text;
  # model files up to 400 KB, so that the shipped model (306 KB) is tried whole (libFuzzer cuts longer inputs).
  max_len=8192
  [ "$t" = model_files ] && max_len=400000
  extra=()
  if [ -n "${FUZZ_QUICK:-}" ]; then
    case "$t" in segment) runs=20000 ;; tokenize) runs=5000 ;; *) runs=3000 ;; esac
    extra=(-seed=1 -runs="$runs")
  fi
  log=$(mktemp)
  status=0
  "${fuzz[@]}" run "${mode[@]}" "$t" "corpus/$t" "seeds/$t" -- -max_total_time="$seconds" -rss_limit_mb=4096 \
    -max_len="$max_len" -print_final_stats=1 "${extra[@]}" >"$log" 2>&1 || status=$?
  grep -E '^(stat::number_of_executed_units|stat::new_units_added|stat::peak_rss_mb|Done [0-9]+ runs)' "$log" || true
  if [ "$status" -ne 0 ]; then
    # The fuzzer's report: the panic message and the input's path (inputs are note-like text, never real notes).
    grep -E -A12 'panicked|ERROR: libFuzzer|==[0-9]+==ERROR' "$log" | head -60 >&2 || tail -40 "$log" >&2
    echo "fuzz $t failed (exit $status); the input is in fuzz/artifacts/$t/" >&2
    rm -f "$log"
    exit 1
  fi
  rm -f "$log"
  echo "corpus/$t: $(ls "corpus/$t" | wc -l) inputs, $(du -sk "corpus/$t" | cut -f1) KB"
done
