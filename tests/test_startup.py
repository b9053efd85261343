"""The local stack's start-up and shut-down costs that are behaviour, not just speed:
metrics that a process which exposes none never builds (nor imports prometheus_client
for), and service children started before their settings exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from docspasta.service_process import ServiceProcess


# Child-process code: a pool of one worker converts one page, inside ``async def main()``.
CONVERT_ONE_PAGE = (
    "from processor.limits import PageLimits\n"
    "from processor.pool import ConversionPool\n"
    "async def main():\n"
    "    pool = await ConversionPool(workers=1, limits=PageLimits()).start()\n"
    "    try:\n"
    "        page = '<html><head><title>T</title></head><body><main><p>x</p></main></body></html>'\n"
    "        assert (await pool.convert(page, 'http://x.test/', timeout=60)).title == 'T'\n"
    "    finally:\n"
    "        await pool.close()\n")


# Child-process code: another thread runs (a daemon: it ends with the interpreter).
BESIDE_A_THREAD = (
    "import threading\n"
    "threading.Thread(target=threading.Event().wait, daemon=True).start()\n")


def _python(code: str) -> subprocess.CompletedProcess[str]:
    # A fresh interpreter: which modules a process imports is process-wide state.
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_a_process_that_exposes_no_metrics_never_imports_prometheus_client() -> None:
    ran = _python(
        "import sys\n"
        "from docspasta import metrics, rpc\n"
        "assert 'prometheus_client' not in sys.modules, 'imported with docspasta.metrics'\n"
        "metrics.disable()\n"
        "metrics.PAGES_FETCHED.labels('ok').inc()\n"
        "metrics.FETCH_SECONDS.observe(0.1)\n"
        "metrics.ACTIVE_JOBS.set_function(lambda: 3)\n"
        "with metrics.FETCHES_IN_FLIGHT.track_inprogress():\n"
        "    pass\n"
        "assert isinstance(metrics.PAGES_FETCHED, metrics.Unrecorded)\n"
        "assert 'prometheus_client' not in sys.modules, 'imported by a disabled metric'\n")
    assert ran.returncode == 0, ran.stderr


def test_a_conversion_worker_imports_the_converter_and_not_the_pools_machinery() -> None:
    """What a worker's start costs is what it imports, paid again at every replacement:
    asyncio, threads and subprocess handling are the pool's side (processor/pool.py)."""
    ran = _python(
        "import sys\n"
        "from processor.worker import worker_entry\n"
        "assert 'processor.convert' in sys.modules\n"
        "heavy = sorted(m for m in ('asyncio', 'concurrent.futures', 'processor.pool', 'grpc') if m in sys.modules)\n"
        "assert not heavy, heavy\n")
    assert ran.returncode == 0, ran.stderr


def test_the_command_imports_rich_after_its_children_have_their_settings_and_wcmatch_only_for_patterns() -> None:
    """Both are on the command's path to the children's settings otherwise (its longest
    path to a crawl's first request): rich is imported by crawl_command._console once
    LocalStack.launch sent them, wcmatch by the first include or exclude pattern."""
    ran = _python(
        "import sys\n"
        "import docspasta.cli, docspasta.crawl_command, docspasta.local, docspasta.outputs, orchestrator.server\n"
        "from orchestrator.options import effective_options\n"
        "from orchestrator.settings import OrchestratorSettings\n"
        "from docspasta.v1 import orchestrator_pb2 as pb\n"
        "effective_options(pb.JobOptions(), OrchestratorSettings())\n"
        "early = sorted(m for m in ('rich', 'wcmatch') if m in sys.modules)\n"
        "assert not early, early\n"
        "from orchestrator.scope import Pattern\n"
        "assert Pattern.parse('/docs/**').matches('http://a.test/docs/x') and 'wcmatch' in sys.modules\n")
    assert ran.returncode == 0, ran.stderr


def test_metrics_are_all_registered_at_the_first_use_of_one() -> None:
    """Made lazily, but all at once: an exposed registry has every series from the start
    (the autoscaler's gauge at 0 before the first fetch), as when they were made at import."""
    ran = _python(
        "from prometheus_client import generate_latest\n"
        "from docspasta import metrics\n"
        "metrics.PAGES_FETCHED.labels('ok').inc()\n"
        "text = generate_latest().decode()\n"
        "assert 'docspasta_pages_fetched_total{result=\"ok\"} 1.0' in text, text\n"
        "assert 'docspasta_crawler_fetches_in_flight 0.0' in text, text\n"
        "assert 'docspasta_webhook_deliveries_total' in text, text\n"
        "assert metrics.FETCHES_IN_FLIGHT._name == 'docspasta_crawler_fetches_in_flight'\n")
    assert ran.returncode == 0, ran.stderr


async def test_a_service_child_whose_command_ends_before_its_settings_exits_without_serving() -> None:
    child = ServiceProcess("crawler")
    try:
        child.close_stdin()  # the command failed (a usage error) before configuring it
        assert await child.wait(timeout=60) == 0
    finally:
        child.abandon()


async def test_a_service_child_started_before_its_settings_serves_once_they_come() -> None:
    from dataclasses import replace

    from crawler.settings import CrawlerSettings

    child = ServiceProcess("crawler")
    try:
        child.configure(replace(CrawlerSettings(), bind="127.0.0.1:0"))
        target = await child.ready(timeout=60)
        assert target.startswith("127.0.0.1:") and not target.endswith(":0")
        child.close_stdin()  # EOF: it stops gracefully
        assert await child.wait(timeout=60) == 0
    finally:
        child.abandon()


def test_the_commands_service_children_are_forks_that_hold_none_of_each_others_pipes() -> None:
    """``start_forked`` (what ``docspasta crawl`` uses): each child is a fork of the
    command (its command line, no interpreter of its own), named for ps and top, with
    the shared modules imported before the forks; the second child holds none of the
    first's pipes, so closing the first's stdin stops it at once (EOF there means the
    command went away), and a configured child serves and stops as a fresh one does."""
    ran = _python(
        "import asyncio, os, sys, time\n"
        "from dataclasses import replace\n"
        "from docspasta.service_process import SHARED_MODULES, start_forked\n"
        "assert 'grpc' not in sys.modules\n"
        "processor, crawler = start_forked(('processor', 'crawler'))\n"
        "assert all(name in sys.modules for name in SHARED_MODULES) and 'grpc' in sys.modules\n"
        "mine = open('/proc/self/cmdline', 'rb').read()\n"
        "for child in (processor, crawler):\n"
        "    assert open(f'/proc/{child.pid}/cmdline', 'rb').read() == mine, 'not a fork'\n"
        "    deadline = time.monotonic() + 60  # (the child names itself once it runs)\n"
        "    while (name := open(f'/proc/{child.pid}/comm').read().strip()) != f'dp-{child.kind}':\n"
        "        assert time.monotonic() < deadline, name\n"
        "        time.sleep(0.01)\n"
        "async def main():\n"
        "    from crawler.settings import CrawlerSettings\n"
        "    try:\n"
        "        processor.close_stdin()  # never configured: it exits without serving\n"
        "        assert await processor.wait(timeout=60) == 0\n"
        "        assert crawler.returncode is None\n"
        "        crawler.configure(replace(CrawlerSettings(), bind='127.0.0.1:0'))\n"
        "        target = await crawler.ready(timeout=60)\n"
        "        assert target.startswith('127.0.0.1:') and not target.endswith(':0'), target\n"
        "        crawler.close_stdin()\n"
        "        assert await crawler.wait(timeout=60) == 0\n"
        "    finally:\n"
        "        for child in (processor, crawler):\n"
        "            child.abandon()\n"
        "asyncio.run(main())\n")
    assert ran.returncode == 0, ran.stderr


def test_the_crawler_is_forked_before_the_shared_imports_and_the_processor_after() -> None:
    """The crawler (the longest start-up) is forked first and imports the shared modules
    on the core the command leaves idle meanwhile; the processor inherits them."""
    ran = _python(
        "import sys\n"
        "import docspasta.service_process as sp\n"
        "seen = {}\n"
        "real_fork = sp.fork\n"
        "def fork(run, **kw):\n"
        "    seen[run.args[0]] = all(name in sys.modules for name in sp.SHARED_MODULES)\n"
        "    return real_fork(run, **kw)\n"
        "sp.fork = fork\n"
        "children = sp.start_forked(('processor', 'crawler'))\n"
        "try:\n"
        "    assert [c.kind for c in children] == ['processor', 'crawler'], children\n"
        "    assert seen == {'crawler': False, 'processor': True}, seen\n"
        "finally:\n"
        "    for child in children:\n"
        "        child.abandon()\n")
    assert ran.returncode == 0, ran.stderr


def test_children_started_beside_a_thread_are_fresh_interpreters() -> None:
    """A fork copies one thread and every lock as it is: with another thread running
    (a stack started by a server or a test), ``start_forked`` starts interpreters."""
    ran = _python(
        BESIDE_A_THREAD +
        "from docspasta.service_process import start_forked\n"
        "children = start_forked(('crawler',))\n"
        "try:\n"
        "    assert b'docspasta.local' in open(f'/proc/{children[0].pid}/cmdline', 'rb').read()\n"
        "finally:\n"
        "    for child in children:\n"
        "        child.abandon()\n")
    assert ran.returncode == 0, ran.stderr


def test_a_forked_childs_exit_status_is_what_it_returned_or_raised() -> None:
    ran = _python(
        "import os\n"
        "from docspasta.forked import fork\n"
        "null = os.open(os.devnull, os.O_RDWR)\n"
        "assert fork(lambda: 3, stdin=null, stdout=null).wait(timeout=60) == 3\n"
        "assert fork(lambda: None, stdin=null, stdout=null).wait(timeout=60) == 0\n"
        "def fail():\n"
        "    raise ValueError('boom')\n"
        "assert fork(fail, stdin=null, stdout=null, stderr=null).wait(timeout=60) == 1\n"
        "def message():\n"
        "    raise SystemExit('said')\n"
        "assert fork(message, stdin=null, stdout=null, stderr=null).wait(timeout=60) == 1\n"
        + BESIDE_A_THREAD +
        "try:\n"
        "    fork(lambda: 0, stdin=null, stdout=null)\n"
        "except RuntimeError as exc:\n"
        "    assert 'thread' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('forked beside a thread')\n")
    assert ran.returncode == 0, ran.stderr


def test_conversion_workers_start_without_a_multiprocessing_resource_tracker() -> None:
    """The pool's workers are plain interpreters on a socket pair: multiprocessing's spawn
    started a resource tracker process (~40 ms of CPU, 13 MiB) in every processor."""
    ran = _python(
        "import asyncio\n"
        "from multiprocessing import resource_tracker\n"
        + CONVERT_ONE_PAGE +
        "asyncio.run(main())\n"
        "assert resource_tracker._resource_tracker._pid is None, 'a resource tracker was started'\n")
    assert ran.returncode == 0, ran.stderr


def test_preforked_workers_convert_and_hold_nothing_of_the_processor_but_their_socket() -> None:
    """``prefork`` (the local stack's processor child): the workers are forks of this
    process, not interpreters, with /dev/null for stdin and stdout (the processor's pipes
    are the stack's: EOF on them says the processor died) and no other descriptor of ours
    but their socket; a worker killed mid-run is replaced by a fresh interpreter."""
    ran = _python(
        "import asyncio, os, signal\n"
        "from processor.limits import PageLimits, PageTooLarge\n"
        "from processor.pool import ConversionPool\n"
        "page = '<html><head><title>T</title></head><body><main><p>x</p></main></body></html>'\n"
        "pool = ConversionPool(workers=2, limits=PageLimits()).prefork()\n"
        "async def main():\n"
        "    pool.launch()\n"
        "    try:\n"
        "        assert (await pool.convert(page, 'http://x.test/', timeout=60)).title == 'T'\n"
        "        for _ in range(600):\n"
        "            if len(pool.pids()) == 2: break\n"
        "            await asyncio.sleep(0.05)\n"
        "        mine = open('/proc/self/cmdline', 'rb').read()\n"
        "        for pid in pool.pids():\n"
        "            assert open(f'/proc/{pid}/cmdline', 'rb').read() == mine, 'not a fork'\n"
        "            fds = {int(fd): os.readlink(f'/proc/{pid}/fd/{fd}') for fd in os.listdir(f'/proc/{pid}/fd')}\n"
        "            assert fds[0] == fds[1] == '/dev/null', fds\n"
        "            assert len(fds) == 4 and sum(v.startswith('socket:') for v in fds.values()) == 1, fds\n"
        "        victim = pool.pids()[0]\n"
        "        os.kill(victim, signal.SIGKILL)\n"
        "        for _ in range(1200):\n"
        "            if pool.replaced or victim not in pool.pids(): break\n"
        "            try:\n"
        "                await pool.convert(page, 'http://x.test/', timeout=60)\n"
        "            except PageTooLarge:\n"
        "                pass  # the page given to the killed worker (the pool learns of it so)\n"
        "            await asyncio.sleep(0.05)\n"
        "        for _ in range(1200):\n"
        "            fresh = [p for p in pool.pids() if open(f'/proc/{p}/cmdline', 'rb').read() != mine]\n"
        "            if fresh: break\n"
        "            await asyncio.sleep(0.05)\n"
        "        assert fresh and b'processor.worker' in open(f'/proc/{fresh[0]}/cmdline', 'rb').read()\n"
        "        assert (await pool.convert(page, 'http://x.test/', timeout=60)).title == 'T'\n"
        "    finally:\n"
        "        await pool.close()\n"
        "asyncio.run(main())\n")
    assert ran.returncode == 0, ran.stderr


def test_prefork_refuses_a_process_that_runs_threads() -> None:
    ran = _python(
        BESIDE_A_THREAD +
        "from processor.limits import PageLimits\n"
        "from processor.pool import ConversionPool\n"
        "try:\n"
        "    ConversionPool(workers=1, limits=PageLimits()).prefork()\n"
        "except RuntimeError as exc:\n"
        "    assert 'thread' in str(exc)\n"
        "else:\n"
        "    raise AssertionError('forked beside a thread')\n")
    assert ran.returncode == 0, ran.stderr


def test_the_clis_output_step_does_not_import_the_converter() -> None:
    """The outputs written after a crawl count tokens with processor/tokens.py: the
    converter package (lxml, every pass) would be ~30 ms of serial time there."""
    ran = _python(
        "import asyncio, sys, tempfile\n"
        "from pathlib import Path\n"
        "from docspasta.bundle import PageDoc\n"
        "from docspasta.outputs import Outputs, PageTargets, write_pages\n"
        "async def pages():\n"
        "    yield PageDoc(url='https://d.example/', title='T', markdown='# T\\n\\ntext', token_estimate=3)\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    for split in (None, 100):\n"
        "        outputs = Outputs()\n"
        "        asyncio.run(write_pages(PageTargets(output=Path(tmp) / 'd.md', split_tokens=split), pages(), outputs,\n"
        "                                source_url='https://d.example/', notes=[]))\n"
        "        outputs.commit()\n"
        "assert 'processor.convert' not in sys.modules\n")
    assert ran.returncode == 0, ran.stderr


def test_children_do_not_import_packages_from_the_users_working_directory(tmp_path: Path) -> None:
    """A user crawling from inside a project with its own ``processor`` or ``crawler``
    folder: the service children and the conversion workers still run our code."""
    for name in ("processor", "crawler", "docspasta"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"raise SystemExit('imported the working directory {name}')\n")
    ran = subprocess.run(
        [sys.executable, "-P", "-c",
         "import asyncio\n"
         "from dataclasses import replace\n"
         "from crawler.settings import CrawlerSettings\n"
         "from docspasta.service_process import ServiceProcess\n"
         + CONVERT_ONE_PAGE +
         "    child = ServiceProcess('crawler')\n"
         "    try:\n"
         "        child.configure(replace(CrawlerSettings(), bind='127.0.0.1:0'))\n"
         "        assert (await child.ready(timeout=60)).startswith('127.0.0.1:')\n"
         "        child.close_stdin()\n"
         "        assert await child.wait(timeout=60) == 0\n"
         "    finally:\n"
         "        child.abandon()\n"
         "asyncio.run(main())\n"],
        cwd=tmp_path, capture_output=True, text=True, timeout=180)
    assert ran.returncode == 0, ran.stderr
    assert "imported the working directory" not in ran.stderr


async def test_released_services_stop_while_the_stack_is_still_open() -> None:
    """Once a crawl's pages are read (crawl_command._pages) the command releases its
    crawler and processor: they stop and exit while it writes the outputs, not after."""
    from dataclasses import replace

    from docspasta.local import LocalStack
    from processor.settings import ProcessorSettings
    from tests.conftest import local_crawler_settings

    async with LocalStack(crawler=local_crawler_settings(), processor=replace(ProcessorSettings(), workers=1),
                          processes=True) as stack:
        children = list(stack._children)
        assert sorted(child.kind for child in children) == ["crawler", "processor"]
        assert all(child.returncode is None for child in children)
        stack.release_services()
        for child in children:
            assert await child.wait(timeout=60) == 0  # a graceful stop, the stack still open
