#!/usr/bin/env bash
# Backup benchmark (run by hand, not in CI). See bench/backup.py for what it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v age >/dev/null || { echo "needs Debian's age: apt-get install age" >&2; exit 1; }
cargo build --release --locked
exec python3 bench/backup.py "$@"
