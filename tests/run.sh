#!/usr/bin/env bash
# The test command: installs Wegweiser with its test tools into .venv from the lock file, makes
# sure Debian's Chromium is there for the browser tests, then runs ruff and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
# The exact, hashed versions of the lock file (regenerate it with deploy/lock.sh), then Wegweiser itself.
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements-test.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .

if [ ! -x /usr/bin/chromium ]; then
    echo "Installing Debian's chromium for the browser tests..."
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    fi
fi

# Posters are rendered with the Noto fonts and checked with poppler's pdftoppm and pdftotext.
if [ ! -x /usr/bin/pdftoppm ] || [ ! -d /usr/share/fonts/truetype/noto ]; then
    echo "Installing Debian's poppler-utils and fonts-noto-core for the poster tests..."
    as_root=""
    [ "$(id -u)" = 0 ] || as_root=sudo
    $as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq \
        poppler-utils fonts-noto-core >/dev/null
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python -m pytest -q "$@"
