#!/usr/bin/env bash
# Builds the browser bundle into www/: www/pkg/ (wasm + JS glue) and www/models/ (a copy of models/).
# After it, www/ is everything a web server needs to host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh wasm
cargo build --lib --target wasm32-unknown-unknown --profile wasm
wasm-bindgen --target web --no-typescript --remove-name-section --out-dir www/pkg \
  target/wasm32-unknown-unknown/wasm/notecoder.wasm
rm -rf www/models && mkdir -p www/models
for m in models/*/; do
  name=$(basename "$m")
  mkdir -p "www/models/$name"
  cp "$m"/config.json "$m"/codebook.json "$m"/tokenizer.json "$m"/model.onnx "www/models/$name/"
done
ls -l www/pkg/notecoder_bg.wasm
