#!/bin/bash
# Renders every kustomize overlay under k8s/overlays with `kubectl kustomize` and validates
# every object against the Kubernetes JSON schemas, offline (kubernetes-validate ships
# them), in strict mode (unknown fields are errors) and for each version in
# K8S_VERSIONS. An object whose kind has no schema is an error too.
#
#   scripts/validate-k8s.sh                # every overlay
#   scripts/validate-k8s.sh dev            # one overlay
#   RENDER_DIR=out/k8s scripts/validate-k8s.sh   # keep the rendered YAML
#
# The invariants (security contexts, probes, NetworkPolicies, settings) are checked by
# tests/k8s/test_manifests.py, which also runs this script.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
[ -x "$PY" ] || PY=python3
KUBECTL=${KUBECTL:-kubectl}
# Oldest supported (preStop sleep, grpc probes) and the newest schemas shipped.
K8S_VERSIONS=${K8S_VERSIONS:-"1.30.0 latest"}

command -v "$KUBECTL" >/dev/null || { echo "validate-k8s: kubectl not found (needs kustomize v5)" >&2; exit 2; }
"$PY" -c 'import kubernetes_validate, yaml' 2>/dev/null \
  || { echo "validate-k8s: pip install kubernetes-validate (in the dev extras)" >&2; exit 2; }

if [ $# -gt 0 ]; then overlays=("$@"); else
  overlays=(); for d in k8s/overlays/*/; do overlays+=("$(basename "$d")"); done
fi
out=${RENDER_DIR:-$(mktemp -d)}
mkdir -p "$out"
[ -n "${RENDER_DIR:-}" ] || trap 'rm -rf "$out"' EXIT

status=0
for overlay in "${overlays[@]}"; do
  file="$out/$overlay.yaml"
  if ! "$KUBECTL" kustomize "k8s/overlays/$overlay" > "$file"; then
    echo "FAIL $overlay: kubectl kustomize failed" >&2; status=1; continue
  fi
  "$PY" - "$file" $K8S_VERSIONS <<'PY' || status=1
import sys

import yaml
from kubernetes_validate import utils as kv

path, versions = sys.argv[1], sys.argv[2:]
versions = [kv.latest_version() if v == "latest" else v for v in versions]
docs = [d for d in yaml.safe_load_all(open(path)) if d]
errors = 0
for version in versions:
    for doc in docs:
        name = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path)
            print(f"  {name} (k8s {version}): {where}: {exc.message}", file=sys.stderr)
            errors += 1
        except (kv.SchemaNotFoundError, kv.InvalidSchemaError) as exc:
            print(f"  {name} (k8s {version}): {exc.message}", file=sys.stderr)
            errors += 1
label = path.rsplit("/", 1)[-1].removesuffix(".yaml")
if errors:
    print(f"FAIL {label}: {errors} schema error(s)", file=sys.stderr)
    sys.exit(1)
print(f"ok   {label}: {len(docs)} objects valid against Kubernetes {', '.join(versions)} (strict)")
PY
done
exit $status
