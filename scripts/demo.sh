#!/usr/bin/env bash
# Builds the demo and serves www/ on http://localhost:${PORT:-8000}/ (Ctrl-C stops it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-www.sh
port=${PORT:-8000}
if ! python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$port" 2>/dev/null; then
  echo "demo.sh: port $port is in use; choose another, e.g. PORT=8001 bash scripts/demo.sh" >&2
  exit 1
fi
echo "notecoder demo: http://localhost:$port/"
exec python3 -m http.server "$port" --bind 127.0.0.1 --directory www
