#!/bin/bash
# `make lint`: the checks that need no running service.
#   scripts/lint.sh          everything below
#   scripts/lint.sh proto    the contract only (`make proto-check`)
# 1. the contract (proto/, buf from tests/contract/node_modules): buf lint (STANDARD, the
#    exceptions documented in proto/buf.yaml), buf format (no diff), buf breaking of each
#    package against its own baseline image: docspasta.v1 against the last release
#    (proto/baseline/v0.1.0.json), docspasta.v2 against its first image
#    (proto/baseline/v2-initial.json). Each image holds one package's files only, so the
#    other package's files are new to it and each check judges one package;
# 2. every k8s overlay rendered and validated against the Kubernetes schemas
#    (scripts/validate-k8s.sh), then checkov on each rendered overlay (offline; an
#    exception is a checkov.io/skip annotation with its reason, docs/operations.md).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
BUF="$here/tests/contract/node_modules/.bin/buf"
CHECKOV="$here/build/tools/checkov/bin/checkov"
BASELINE=${BUF_BASELINE:-baseline/v0.1.0.json}
BASELINE_V2=${BUF_BASELINE_V2:-baseline/v2-initial.json}
[ -x "$BUF" ] && [ -x "$CHECKOV" ] || scripts/contract-tools.sh

status=0
step() { echo "== $*"; }
fail() { echo "FAIL $*" >&2; status=1; }

step "buf lint"
(cd proto && "$BUF" lint) || fail "buf lint"
step "buf format -d --exit-code"
(cd proto && "$BUF" format -d --exit-code) || fail "buf format: run \`cd proto && $BUF format -w\`"
step "buf breaking --against $BASELINE (docspasta.v1)"
(cd proto && "$BUF" breaking --against "$BASELINE") || fail "buf breaking (v1)"
step "buf breaking --against $BASELINE_V2 (docspasta.v2)"
(cd proto && "$BUF" breaking --against "$BASELINE_V2") || fail "buf breaking (v2)"

if [ "${1:-}" != proto ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  step "kubectl kustomize + schema validation (scripts/validate-k8s.sh)"
  RENDER_DIR="$out" scripts/validate-k8s.sh || fail "validate-k8s"
  for file in "$out"/*.yaml; do
    overlay=$(basename "$file" .yaml)
    step "checkov: $overlay"
    # Offline: no guideline download, no platform mapping.
    BC_SKIP_MAPPING=TRUE "$CHECKOV" -f "$file" --framework kubernetes --compact --quiet --skip-download \
      > "$out/$overlay.checkov" 2>&1 || { cat "$out/$overlay.checkov" >&2; fail "checkov $overlay"; continue; }
    grep -E "^(Passed|Failed) checks" "$out/$overlay.checkov" || true
  done
fi
[ $status = 0 ] && echo "lint: ok"
exit $status
