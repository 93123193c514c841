#!/usr/bin/env bash
# Installs (or builds) the benchmark peers from their pinned lockfiles.
#
#   benches/peers/install.sh [node] [python] [socketioxide]     (no argument: all three)
#
# node:          socket.io 4.8.4 (+ @socket.io/redis-adapter 8.3.0, redis 4.7.1 for --redis-url) via
#                `npm ci` (package-lock.json) into peers/node/node_modules
# python:        python-socketio 5.18.1 + uvicorn 0.54 (uvloop, httptools) into peers/python/.venv
# socketioxide:  socketioxide 0.18.9 (+ socketioxide-redis 0.4.4 for --redis-url) + axum 0.8 + tokio,
#                `cargo build --release --locked`
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(node python socketioxide)

for t in "${targets[@]}"; do
  case "$t" in
    node)
      command -v node >/dev/null || { echo "install.sh: node is required (Debian: apt-get install nodejs npm)" >&2; exit 1; }
      (cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error)
      ;;
    python)
      py=${PYTHON:-python3}
      [ -x "$here/python/.venv/bin/python" ] || "$py" -m venv "$here/python/.venv"
      "$here/python/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/python/requirements.txt"
      ;;
    socketioxide)
      cargo build --release --locked --quiet --manifest-path "$here/socketioxide/Cargo.toml"
      ;;
    *)
      echo "install.sh: unknown peer $t (node, python, socketioxide)" >&2
      exit 2
      ;;
  esac
done
