#!/usr/bin/env bash
# Test setup, the first half of the README's test command: the project with its test extra,
# and Debian's Chromium for the browser tests (Playwright drives the system browser; it never
# downloads one). Without root and apt-get, Chromium is left out and the browser tests skip,
# saying why (under CI=true they fail instead).
set -euo pipefail
cd "$(dirname "$0")/.."
pip install -e '.[test]'
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium
    else
        echo "tests/setup.sh: chromium is not installed and cannot be installed here" \
             "(needs root and apt-get): the browser tests will be skipped" >&2
    fi
fi
