"""Smoke test of the renderer image (Dockerfile.renderer), run by hand after building it:

    podman build --network=host -f Dockerfile.renderer --build-arg IMAGE=localhost/docspasta:dev \\
        -t docspasta-renderer:dev .
    .venv/bin/python -m tests.renderer.image_smoke docspasta-renderer:dev [podman|docker]

The container runs as the cluster runs it: read-only root, a tmpfs /tmp, user 10001, no
capabilities, no new privileges (host network, to reach a local test site). It must
serve health, render a script-built page with Debian's Chromium, and stop on SIGTERM."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from docspasta.v1 import renderer_pb2, renderer_pb2_grpc
from tests.renderer.sites import SpaSite


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def main(image: str, engine: str) -> None:
    spa = await SpaSite(n_pages=3).start()
    port = free_port()
    name = f"docspasta-renderer-smoke-{port}"
    subprocess.run([engine, "run", "-d", "--name", name, "--read-only", "--tmpfs", "/tmp:rw,size=512m,mode=1777",
                    "--user", "10001:10001", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
                    "--network", "host", "-e", f"RENDERER_BIND=127.0.0.1:{port}",
                    "-e", "CRAWLER_ALLOW_PRIVATE_NETWORK=true", "-e", "CRAWLER_ALLOWED_PORTS=*",
                    image, "renderer"], check=True, capture_output=True)
    try:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        deadline = time.monotonic() + 60
        while True:
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=2)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.aio.AioRpcError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("renderer image: not serving within 60 s")
            await asyncio.sleep(0.5)
        print("ok   health SERVING (read-only, uid 10001, no capabilities)")
        started = time.monotonic()
        response = await renderer_pb2_grpc.RendererStub(channel).Render(
            renderer_pb2.RenderRequest(url=spa.base + "/guide/topic-1"), timeout=120)
        assert not response.page.error, response.page.error_message
        assert str(spa.content("/guide/topic-1")["title"]) in response.page.html
        print(f"ok   rendered a script-built page in {time.monotonic() - started:.1f} s "
              f"(first page: browser start included), {response.subrequests} subrequests")
        await channel.close()
        started = time.monotonic()
        subprocess.run([engine, "stop", "-t", "40", name], check=True, capture_output=True)
        state = subprocess.run([engine, "inspect", "-f", "{{.State.ExitCode}}", name], capture_output=True,
                               text=True, check=True).stdout.strip()
        print(f"ok   SIGTERM: stopped in {time.monotonic() - started:.1f} s, exit code {state}")
        assert state == "0", state
    finally:
        subprocess.run([engine, "rm", "-f", name], capture_output=True)
        await spa.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "docspasta-renderer:dev",
                     sys.argv[2] if len(sys.argv) > 2 else "podman"))
