#!/usr/bin/env bash
# `courier doc get` against `cat` (run by hand, as root to drop the page cache; not in CI).
# See bench/docget.py.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
exec python3 bench/docget.py "$@"
