#!/usr/bin/env bash
# Memory benchmark (run by hand, not in CI). See bench/memory.py for what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
cargo build --release --locked -p courier-scan --example make_corpus
exec python3 bench/memory.py "$@"
