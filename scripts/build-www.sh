#!/usr/bin/env bash
# Builds the browser bundle into www/: www/pkg/ (wasm + JS glue) and www/models/ (a copy of models/).
# After it, www/ is everything a web server needs to host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh wasm
cargo rustc --lib --target wasm32-unknown-unknown --profile wasm --crate-type cdylib
wasm-bindgen --target web --no-typescript --remove-name-section --out-dir www/pkg \
  target/wasm32-unknown-unknown/wasm/notecoder.wasm
rm -rf www/models && mkdir -p www/models
for m in models/*/; do
  name=$(basename "$m")
  mkdir -p "www/models/$name"
  cp "$m"/config.json "$m"/codebook.json "$m"/tokenizer.json "$m"/model.onnx "www/models/$name/"
done
# The service worker's list of files to keep offline, with their SHA-256 (checked before anything is cached).
(
  cd www
  files=$(ls index.html demo.css demo.js examples.js favicon.svg define.js note-coder.js notecoder.js worker.js \
    pkg/notecoder.js pkg/notecoder_bg.wasm models/coresponse-v1/{config.json,codebook.json,tokenizer.json,model.onnx})
  python3 - $files > asset-manifest.json <<'PY'
import hashlib, json, sys
files = {p: hashlib.sha256(open(p, "rb").read()).hexdigest() for p in sys.argv[1:]}
version = hashlib.sha256("".join(f"{p}:{h}\n" for p, h in files.items()).encode()).hexdigest()[:16]
print(json.dumps({"version": version, "files": files}, indent=1))
PY
)
ls -l www/pkg/notecoder_bg.wasm
