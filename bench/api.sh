#!/usr/bin/env bash
# API throughput on PostgreSQL (run by hand, as root, not in CI). See bench/api.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
exec python3 bench/api.py "$@"
