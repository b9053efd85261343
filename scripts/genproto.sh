#!/bin/sh
# Regenerate the Python stubs of proto/docspasta/<version>/*.proto (v1 and v2, served
# side by side) into OUT (default: the repo), where they land as the importable packages
# docspasta.v1 and docspasta.v2.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here}
py=${PYTHON:-python}
# The mypy-protobuf plugins live beside the interpreter (the venv's bin/).
PATH="$(dirname "$(command -v "$py")"):$PATH"
cd "$here/proto"
for version in v1 v2; do
  mkdir -p "$out/docspasta/$version"
  "$py" -m grpc_tools.protoc -I. \
    --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" --mypy_grpc_out="$out" \
    docspasta/$version/*.proto
  # The same files with their comments (source info), for server reflection to serve, so
  # `grpcurl describe` shows the documentation (docspasta/reflection.py).
  "$py" -m grpc_tools.protoc -I. --include_source_info \
    --descriptor_set_out="$out/docspasta/$version/descriptors.binpb" docspasta/$version/*.proto
  touch "$out/docspasta/$version/__init__.py"
done
