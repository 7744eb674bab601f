#!/usr/bin/env bash
# Browser tests (tests/browser/test_pages.py) on Debian's chromium, driven by Playwright for
# Python; no browser is downloaded. Needs: the `chromium` and `python3-venv` packages (.ci/run
# installs them), the registries of PyPI and npm, and a built `courier` (cargo build).
# Screenshots go to target/browser-artifacts.
set -euo pipefail
cd "$(dirname "$0")/../.."

PLAYWRIGHT_VERSION=1.65.2
AXE_VERSION=4.14.1
deps=target/browser-deps
mkdir -p "$deps"

if [ ! -x "$deps/venv/bin/python" ] || ! "$deps/venv/bin/python" -c "import playwright" 2>/dev/null; then
    /usr/bin/python3 -m venv "$deps/venv"
    "$deps/venv/bin/pip" install -q "playwright==$PLAYWRIGHT_VERSION"
fi
if [ ! -f "$deps/axe-core-$AXE_VERSION/axe.min.js" ]; then
    (cd "$deps" && npm pack -q "axe-core@$AXE_VERSION" >/dev/null && mkdir -p "axe-core-$AXE_VERSION" \
        && tar xzf "axe-core-$AXE_VERSION.tgz" -C "axe-core-$AXE_VERSION" --strip-components=1)
fi
[ -x target/debug/courier ] || cargo build --locked -p courier-cli

export COURIER_BIN=target/debug/courier
export AXE_JS="$deps/axe-core-$AXE_VERSION/axe.min.js"
export CHROMIUM=${CHROMIUM:-/usr/lib/chromium/chromium}
export ARTIFACTS=${ARTIFACTS:-target/browser-artifacts}
# Playwright must use the system's chromium, never fetch one.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
timeout "${BROWSER_TEST_TIMEOUT:-600}" "$deps/venv/bin/python" -u tests/browser/test_pages.py
