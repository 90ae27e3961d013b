#!/usr/bin/env bash
# Builds the demo and serves www/ on http://localhost:${PORT:-8000}/ (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-www.sh
port=${PORT:-8000}
echo "notecoder demo: http://localhost:$port/"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory www
