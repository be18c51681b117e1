#!/usr/bin/env bash
# Regenerates the lock files from pyproject.toml: exact versions with hashes, for Python 3.11+ on
# every platform. Run it after adding, removing or bounding a dependency, and commit both files:
#     bash deploy/lock.sh
# (needs `uv`: pipx install uv, or pip install uv; add --upgrade to move every pin to the newest
# version the bounds allow).
set -euo pipefail
cd "$(dirname "$0")/.."
common=(--quiet --universal --python-version 3.11 --generate-hashes --no-header --annotation-style line "$@")
uv pip compile pyproject.toml "${common[@]}" --output-file requirements.lock
uv pip compile pyproject.toml --extra test "${common[@]}" --output-file requirements-test.lock
echo "Wrote requirements.lock (the image) and requirements-test.lock (tests/run.sh)."
