#!/usr/bin/env bash
# Installs what the build and the tests need, on a fresh machine or an old one; each step is skipped when done.
#   bash scripts/setup.sh wasm      wasm32 target and the wasm-bindgen CLI at the crate's exact version
#   bash scripts/setup.sh browser   Debian's chromium and the browser tests' npm packages
#   bash scripts/setup.sh python    .venv-training/ with the pinned packages of training/requirements.txt
set -euo pipefail
cd "$(dirname "$0")/.."

need_wasm() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  # The CLI must be exactly the version of the wasm-bindgen crate in Cargo.lock.
  local want
  want=$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/version = |"/, ""); print; exit}' Cargo.lock)
  if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$want" ]; then
    echo "installing wasm-bindgen-cli $want (a few minutes, once)"
    cargo install wasm-bindgen-cli --version "$want"
  fi
}

need_browser() {
  if [ ! -x /usr/bin/chromium ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
}

need_python() {
  [ -x .venv-training/bin/python ] || python3 -m venv .venv-training
  .venv-training/bin/pip install --quiet --disable-pip-version-check -r training/requirements.txt
}

for what in "$@"; do
  case "$what" in
    wasm) need_wasm ;;
    browser) need_browser ;;
    python) need_python ;;
    *) echo "setup.sh: unknown part '$what' (wasm, browser, python)" >&2; exit 2 ;;
  esac
done
