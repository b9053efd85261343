"""Smoke test of the built image (`make image-test`): every service runs from it the way
the manifests run it, and the four together crawl a small site.

Each container: read-only root filesystem, a tmpfs /tmp only, user 10001:10001, every
capability dropped, no-new-privileges, host network (loopback ports picked here). The
test checks, in each one, that the process really is uid 10001 with no effective
capabilities and cannot write outside /tmp; waits for gRPC health SERVING (crawler,
processor, orchestrator) and the bridge's /healthz; runs a job through the bridge's HTTP
API against a site served on 127.0.0.1 and reads its Markdown; then stops every
container with SIGTERM and expects exit status 0 (graceful shutdown).

Environment: ENGINE (docker or podman), IMAGE (default docspasta:dev). Needs
redis-server on this machine (scripts/system-deps.sh) and the venv's grpcio.
"""

from __future__ import annotations

import http.server as httpserver
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ENGINE = os.environ.get("ENGINE", "podman")
IMAGE = os.environ.get("IMAGE", "docspasta:dev")
RENDERER_IMAGE = os.environ.get("RENDERER_IMAGE", "docspasta-renderer:dev")
UID = "10001"
DEADLINE = float(os.environ.get("SMOKE_DEADLINE", "180"))  # seconds per wait, generous for a loaded machine
PREFIX = f"docspasta-smoke-{os.getpid()}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(what: str, check: Callable[[], bool], *, containers: list[str], deadline: float = DEADLINE) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if check():
            return
        for name in containers:  # a container that exited will never answer: fail now
            state = engine("inspect", name, "--format", "{{.State.Status}}", check=False).stdout.strip()
            if state not in ("running", "created", "configured"):
                raise SystemExit(f"image-test: {name} is {state or 'gone'} while waiting for {what}")
        time.sleep(0.5)
    raise SystemExit(f"image-test: timed out waiting for {what}")


def engine(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    out = subprocess.run([ENGINE, *args], capture_output=True, text=True, timeout=timeout)
    if check and out.returncode != 0:
        raise SystemExit(f"image-test: {ENGINE} {' '.join(args)} failed: {out.stderr.strip()}")
    return out


def run(service: str, env: dict[str, str], image: str = IMAGE) -> str:
    name = f"{PREFIX}-{service}"
    args = ["run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp:rw,size=256m,mode=1777",
            "--user", f"{UID}:{UID}", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
            "--network", "host"]
    for key, value in env.items():
        args += ["-e", f"{key}={value}"]
    engine(*args, image, service)
    return name


def grpc_serving(port: int) -> bool:
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        return reply.status == health_pb2.HealthCheckResponse.SERVING
    except grpc.RpcError:
        return False


def http(method: str, url: str, body: dict[str, object] | None = None, token: str = "") -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""


def check_locked_down(name: str) -> None:
    probe = ("import os\n"
             "status = dict(l.split(':', 1) for l in open('/proc/self/status'))\n"
             "try:\n    open('/opt/venv/x', 'w')\n    writable = True\n"
             "except OSError:\n    writable = False\n"
             "print(os.getuid(), os.getgid(), status['CapEff'].strip(), status['NoNewPrivs'].strip(), writable)\n")
    out = engine("exec", name, "python", "-c", probe).stdout.split()
    assert out == [UID, UID, "0000000000000000", "1", "False"], f"{name}: uid gid CapEff NoNewPrivs writable = {out}"


def serve_site(root: Path) -> tuple[httpserver.ThreadingHTTPServer, int]:
    pages = {
        "index.html": ("Smoke docs", "<p>Welcome to the smoke-test documentation.</p>"
                       '<a href="guide.html">Guide</a> <a href="api.html">API</a>'),
        "guide.html": ("Guide", "<p>The guide explains <code>docspasta</code> in containers.</p>"),
        "api.html": ("API", "<pre><code class=\"language-python\">print('hello from the image')</code></pre>"),
    }
    for name, (title, body) in pages.items():
        (root / name).write_text(f"<!doctype html><html><head><title>{title}</title></head>"
                                 f"<body><main><h1>{title}</h1>{body}</main></body></html>")

    class Quiet(httpserver.SimpleHTTPRequestHandler):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, directory=str(root), **kwargs)  # type: ignore[arg-type]

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = httpserver.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, int(server.server_address[1])


def main() -> int:
    redis = shutil.which("redis-server")
    if not redis:
        raise SystemExit("image-test: redis-server missing (make system-deps)")
    engine("image", "inspect", IMAGE)
    ports = {name: free_port() for name in ("crawler", "processor", "orchestrator", "bridge", "redis", "renderer")}
    # The renderer's image is built by `make image` when Dockerfile.renderer exists.
    renderer = (Path(__file__).resolve().parents[1] / "Dockerfile.renderer").exists()
    if renderer:
        engine("image", "inspect", RENDERER_IMAGE)
    tmp = tempfile.TemporaryDirectory(prefix="docspasta-smoke-")
    redis_proc = subprocess.Popen([redis, "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "",
                                   "--appendonly", "no", "--dir", tmp.name],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    site, site_port = serve_site(Path(tmp.name))
    names: list[str] = []
    try:
        common = {"LOG_LEVEL": "info"}
        names.append(run("crawler", {**common, "CRAWLER_BIND": f"127.0.0.1:{ports['crawler']}",
                                     "CRAWLER_ALLOW_PRIVATE_NETWORK": "true", "CRAWLER_ALLOWED_PORTS": "*"}))
        names.append(run("processor", {**common, "PROCESSOR_BIND": f"127.0.0.1:{ports['processor']}",
                                       "DATABASE_URL": "sqlite:////tmp/pages.db", "PROCESSOR_WORKERS": "1"}))
        if renderer:
            # The renderer fetches with the crawler's settings (and policy).
            names.append(run("renderer", {**common, "RENDERER_BIND": f"127.0.0.1:{ports['renderer']}",
                                          "CRAWLER_ALLOW_PRIVATE_NETWORK": "true", "CRAWLER_ALLOWED_PORTS": "*"},
                             image=RENDERER_IMAGE))
        names.append(run("orchestrator", {**common, "ORCHESTRATOR_BIND": f"127.0.0.1:{ports['orchestrator']}",
                                          "CRAWLER_TARGET": f"127.0.0.1:{ports['crawler']}",
                                          "PROCESSOR_TARGET": f"127.0.0.1:{ports['processor']}",
                                          "ORCHESTRATOR_INSTANCE_ID": "smoke",
                                          "DATABASE_URL": "sqlite:////tmp/jobs.db",
                                          "RENDERER_TARGET": f"127.0.0.1:{ports['renderer']}" if renderer else ""}))
        names.append(run("bridge", {**common, "BRIDGE_HOST": "127.0.0.1", "BRIDGE_PORT": str(ports["bridge"]),
                                    "REDIS_URL": f"redis://127.0.0.1:{ports['redis']}/0",
                                    "ORCHESTRATOR_TARGET": f"127.0.0.1:{ports['orchestrator']}",
                                    "PROCESSOR_TARGET": f"127.0.0.1:{ports['processor']}",
                                    "BRIDGE_ALLOW_PRIVATE_NETWORK": "true"}))
        started = time.monotonic()
        for service in ("crawler", "processor", "orchestrator") + (("renderer",) if renderer else ()):
            wait_for(f"{service} gRPC health SERVING", lambda p=ports[service]: grpc_serving(p), containers=names)
            print(f"ok   {service}: gRPC health SERVING ({time.monotonic() - started:.1f} s)")
        bridge = f"http://127.0.0.1:{ports['bridge']}"
        wait_for("bridge /healthz 200", lambda: http("GET", f"{bridge}/healthz")[0] == 200, containers=names)
        print(f"ok   bridge: /healthz 200 ({time.monotonic() - started:.1f} s)")
        for name in names:
            check_locked_down(name)
        print(f"ok   every container: uid/gid {UID}, CapEff 0, no-new-privileges, read-only root")

        status, body = http("POST", f"{bridge}/api/jobs", {"url": f"http://127.0.0.1:{site_port}/index.html"})
        assert status == 201, (status, body)
        job = json.loads(body)
        token, job_id = job["token"], job["job_id"]
        final: dict[str, object] = {}

        def finished() -> bool:
            code, raw = http("GET", f"{bridge}/api/jobs/{job_id}", token=token)
            if code == 200:
                final.update(json.loads(raw))
            return code == 200 and final.get("state") not in ("running", "queued", "unknown", None)

        wait_for(f"job {job_id} to finish", finished, containers=names)
        assert final.get("state") == "completed", final
        code, markdown = http("GET", f"{bridge}/api/jobs/{job_id}/markdown", token=token)
        text = markdown.decode()
        assert code == 200 and "hello from the image" in text and "explains `docspasta`" in text, text[:2000]
        print(f"ok   job {job_id}: completed, {text.count('hello from the image')} code block, "
              f"{len(text)} bytes of Markdown through the bridge")

        if renderer:
            # The same site rendered in Chromium inside the read-only renderer container.
            status, body = http("POST", f"{bridge}/api/jobs", {"url": f"http://127.0.0.1:{site_port}/index.html",
                                                              "render": "always"})
            assert status == 201, (status, body)
            job = json.loads(body)
            token, job_id = job["token"], job["job_id"]
            final.clear()
            wait_for(f"rendered job {job_id} to finish", finished, containers=names)
            assert final.get("state") == "completed", final
            code, markdown = http("GET", f"{bridge}/api/jobs/{job_id}/markdown", token=token)
            text = markdown.decode()
            assert code == 200 and "hello from the image" in text, text[:2000]
            print(f"ok   job {job_id}: rendered in Chromium in the renderer container, completed")

        for name in reversed(names):
            engine("stop", "-t", "60", name, timeout=90)
            code = engine("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
            assert code == "0", f"{name}: exit status {code} after SIGTERM"
        print("ok   every service stopped on SIGTERM with exit status 0")
        return 0
    except BaseException:
        for name in names:
            logs = engine("logs", "--tail", "40", name, check=False)
            print(f"--- {name}\n{logs.stdout}{logs.stderr}", file=sys.stderr)
        raise
    finally:
        for name in names:
            engine("rm", "-f", name, check=False)
        site.shutdown()
        redis_proc.terminate()
        redis_proc.wait(30)
        tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main())
