"""Reading the engine's pull/push/build streams, and stopping a stream when its call is cancelled."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import anyio
import pytest

from mcp_docker.tools.image_models import BuildLog, TransferProgress, history_layer, stream_error
from mcp_docker.tools.image_tools import _stream_with_progress
from mcp_docker.utils.errors import EngineError

pytestmark = pytest.mark.anyio


def test_pull_progress_counts_layers_and_bytes() -> None:
    progress = TransferProgress("pull")
    assert progress.feed({"status": "Pulling from team/app", "id": "v1"}) is None
    first = progress.feed({"status": "Pulling fs layer", "id": "aaaaaaaaaaaaaaaa"})
    assert first == "0/1 layers done, 0 B downloaded; aaaaaaaaaaaa: Pulling fs layer"
    progress.feed({"status": "Already exists", "id": "bbbb"})
    message = progress.feed(
        {"status": "Downloading", "id": "aaaaaaaaaaaaaaaa", "progressDetail": {"current": 500, "total": 2000}}
    )
    assert message is not None and "1/2 layers done, 500 B of 2.0 KB downloaded" in message
    done = progress.feed({"status": "Pull complete", "id": "aaaaaaaaaaaaaaaa"})
    assert done is not None and done.startswith("2/2 layers done, 2.0 KB of 2.0 KB")
    progress.feed({"status": "Digest: sha256:" + "c" * 64})
    progress.feed({"status": "Status: Downloaded newer image for team/app:v1"})
    assert progress.digest == "sha256:" + "c" * 64
    assert progress.status == "Status: Downloaded newer image for team/app:v1"


def test_push_progress_reads_aux_and_errors() -> None:
    progress = TransferProgress("push")
    progress.feed({"status": "The push refers to repository [r/app]"})
    progress.feed({"status": "Pushed", "id": "l1"})
    progress.feed({"status": "Mounted from other/app", "id": "l2"})
    progress.feed({"aux": {"Tag": "v1", "Digest": "sha256:" + "d" * 64, "Size": 528}})
    assert progress.pushed == {"l1"}
    assert progress.done_layers() == 2
    assert (progress.digest, progress.size) == ("sha256:" + "d" * 64, 528)
    with pytest.raises(EngineError, match="Push failed: denied: requested access"):
        progress.feed({"errorDetail": {"message": "denied: requested access\x1b[31m"}, "error": ""})


def test_build_log_tracks_steps_and_errors() -> None:
    log = BuildLog()
    assert log.feed({"stream": "Step 1/2 : FROM base\n"}) == "Step 1/2 : FROM base"
    assert log.feed({"stream": " ---> 123\n\n"}) is None
    assert log.feed({"stream": "Step 2/2 : RUN make\n"}) == "Step 2/2 : RUN make"
    log.feed({"stream": "compiling\x07...\n"})
    log.feed({"error": "returned a non-zero code: 2", "errorDetail": {"message": "returned a non-zero code: 2"}})
    log.feed({"error": "a later error"})
    log.feed({"aux": {"ID": "sha256:abc"}})
    log.feed({"status": "not a stream"})
    assert log.steps == 2
    assert log.step == "Step 2/2 : RUN make"
    assert log.step_output() == "compiling..."
    assert log.error == "returned a non-zero code: 2"
    assert log.image_id == "sha256:abc"
    assert log.text().endswith("compiling...\n")
    assert stream_error({"status": "fine"}) is None


def test_history_layer_shortens_instructions() -> None:
    layer = history_layer({"Id": "<missing>", "Created": 0, "CreatedBy": "/bin/sh -c #(nop) " + "x" * 300, "Size": 3})
    assert layer.id is None
    assert layer.created == ""
    assert len(layer.created_by) == 200 and layer.created_by.endswith("…")


class FakeContext:
    def __init__(self) -> None:
        self.messages: list[str] = []
        self.first = anyio.Event()

    async def report_progress(self, progress: float, total: float | None = None, message: str | None = None) -> None:
        self.messages.append(message or "")
        self.first.set()


async def test_cancelled_call_stops_reading_the_stream() -> None:
    ctx = FakeContext()
    stopped = threading.Event()

    def work(report: Any) -> None:
        report("started")
        try:
            while True:  # an endless engine stream
                report(None)
                time.sleep(0.01)
        finally:
            stopped.set()

    async with anyio.create_task_group() as tg:

        async def call() -> None:
            await _stream_with_progress(cast(Any, ctx), work)

        tg.start_soon(call)
        await ctx.first.wait()
        tg.cancel_scope.cancel()
    assert await anyio.to_thread.run_sync(stopped.wait, 30)
    assert ctx.messages == ["started"]
