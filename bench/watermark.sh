#!/usr/bin/env bash
# Watermark benchmark (run by hand, not in CI). See bench/watermark.py for what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v curl >/dev/null || { echo "needs curl" >&2; exit 1; }
cargo build --release --locked
cargo build --release --locked -p courier-scan --example make_corpus
exec python3 bench/watermark.py "$@"
