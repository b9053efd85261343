#!/bin/bash
# Installs the contract and manifest checkers `make lint` and the contract tests use,
# into folders of this checkout (never committed, never global):
#   tests/contract/node_modules   buf (@bufbuild/buf ships the binary), @grpc/grpc-js and
#                                 @grpc/proto-loader, at the versions package-lock.json pins
#   build/tools/checkov           checkov in its own virtualenv: it pins ~80 packages
#                                 (boto3, an old `packaging`, ...) that must not leak into
#                                 the project's .venv
# Idempotent: does nothing when both are installed at the pinned versions.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
CHECKOV_VERSION=3.3.30
PYTHON=${PYTHON_FOR_TOOLS:-python3}

node_dir="$here/tests/contract"
stamp="$node_dir/node_modules/.docspasta-installed"
if [ ! -f "$stamp" ] || [ "$node_dir/package-lock.json" -nt "$stamp" ]; then
  command -v npm >/dev/null || { echo "contract-tools: npm missing (apt-get install nodejs npm)" >&2; exit 1; }
  echo "contract-tools: npm ci in tests/contract" >&2
  (cd "$node_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  touch "$stamp"
fi

venv="$here/build/tools/checkov"
if ! "$venv/bin/checkov" --version 2>/dev/null | grep -qx "$CHECKOV_VERSION"; then
  echo "contract-tools: checkov $CHECKOV_VERSION into build/tools/checkov" >&2
  "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "checkov==$CHECKOV_VERSION" >/dev/null
fi
