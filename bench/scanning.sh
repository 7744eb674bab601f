#!/usr/bin/env bash
# Scanning benchmark (run by hand, not in CI). See bench/scanning.py for what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clamd >/dev/null || { echo "needs clamd: apt-get install clamav-daemon curl" >&2; exit 1; }
cargo build --release --locked
cargo build --release --locked -p courier-scan --example make_corpus
export COURIER_BENCH_CLAMD_ADDR=${COURIER_BENCH_CLAMD_ADDR:-$(bash .ci/clamd.sh)}
cargo bench --locked -p courier-scan --bench detectors
exec python3 bench/scanning.py "$@"
