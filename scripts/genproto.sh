#!/bin/sh
# Regenerate the Python stubs of proto/docspasta/v1/*.proto into OUT (default: the repo),
# where they land as the importable package docspasta.v1.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here}
py=${PYTHON:-python}
# The mypy-protobuf plugins live beside the interpreter (the venv's bin/).
PATH="$(dirname "$(command -v "$py")"):$PATH"
mkdir -p "$out/docspasta/v1"
cd "$here/proto"
"$py" -m grpc_tools.protoc -I. \
  --python_out="$out" --pyi_out="$out" --grpc_python_out="$out" --mypy_grpc_out="$out" \
  docspasta/v1/*.proto
# The same files with their comments (source info), for server reflection to serve, so
# `grpcurl describe` shows the documentation (docspasta/reflection.py).
"$py" -m grpc_tools.protoc -I. --include_source_info \
  --descriptor_set_out="$out/docspasta/v1/descriptors.binpb" docspasta/v1/*.proto
touch "$out/docspasta/v1/__init__.py"
