"""The embedded redis-server dies with the process that started it, even a SIGKILLed one
(`docspasta serve` killed by the OOM killer must not leave an orphan server behind)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap

import pytest

from bridge.redis_embedded import EmbeddedRedis

OWNER = textwrap.dedent("""
    import asyncio, sys
    from bridge.redis_embedded import EmbeddedRedis

    async def main():
        redis = await EmbeddedRedis().start()
        print(redis._proc.pid, flush=True)
        await asyncio.sleep(3600)

    asyncio.run(main())
""")


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except FileNotFoundError:
        return False


async def wait_until(predicate: object, seconds: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        await asyncio.sleep(0.05)
    return bool(predicate())  # type: ignore[operator]


async def test_redis_dies_with_a_sigkilled_owner() -> None:
    redis_pid = 0
    owner = await asyncio.create_subprocess_exec(sys.executable, "-c", OWNER, stdout=asyncio.subprocess.PIPE,
                                                 cwd=os.getcwd())
    try:
        assert owner.stdout is not None
        line = await asyncio.wait_for(owner.stdout.readline(), 60)
        redis_pid = int(line)
        assert alive(redis_pid)
        owner.send_signal(signal.SIGKILL)
        await owner.wait()
        assert await wait_until(lambda: not alive(redis_pid), 30), "redis-server outlived its SIGKILLed owner"
    finally:
        if owner.returncode is None:
            owner.kill()
            await owner.wait()
        if redis_pid and alive(redis_pid):  # the failure case: leave no orphan behind
            os.kill(redis_pid, signal.SIGKILL)


async def test_stop_ends_the_server() -> None:
    redis = await EmbeddedRedis().start()
    assert redis._proc is not None
    pid = redis._proc.pid
    await redis.stop()
    assert not alive(pid)
    with pytest.raises(FileNotFoundError):
        os.stat(redis.socket_path)
