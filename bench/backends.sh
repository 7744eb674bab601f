#!/usr/bin/env bash
# Backend benchmark (run by hand, as root, not in CI). See bench/backends.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
exec python3 bench/backends.py "$@"
