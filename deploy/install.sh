#!/bin/sh
# Installs Wegweiser into a new virtual environment TARGET from the lock file: exactly the pinned
# versions, every download checked against its hash. The container image runs this, and so does
# tests/unit/test_packaging.py, so what the image installs is tested here.
#     sh deploy/install.sh /opt/wegweiser
set -eu
target="$1"
cd "$(dirname "$0")/.."
python3 -m venv "$target"
"$target/bin/pip" install --quiet --disable-pip-version-check --require-hashes -r requirements.lock
"$target/bin/pip" install --quiet --disable-pip-version-check --no-deps .
"$target/bin/wegweiser" --version
