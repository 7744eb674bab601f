#!/usr/bin/env bash
# Transit benchmark (run by hand, not in CI). See bench/transit.py for what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nginx >/dev/null || { echo "needs nginx: apt-get install nginx-light curl" >&2; exit 1; }
cargo build --release --locked
exec python3 bench/transit.py "$@"
