"""BuildKit's rawjson progress (pretty-printed SolveStatus objects, then the CLI's own text) read in
arbitrary chunks: steps, their logs, the failing step and the CLI's error line."""

from __future__ import annotations

import base64
import json

from mcp_docker.docker.buildx import BuildkitLog, _drain


def _status(**parts: object) -> str:
    return json.dumps(parts, indent=2) + "\n"


def test_stream_in_small_chunks() -> None:
    run = "sha256:run"
    stream = (
        _status(vertexes=[{"digest": "sha256:def", "name": "[internal] load build definition from Dockerfile"}])
        + _status(vertexes=[{"digest": "sha256:from", "name": "[1/2] FROM docker.io/library/x", "cached": True,
                             "started": "t", "completed": "t"}])
        + _status(vertexes=[{"digest": run, "name": "[2/2] RUN echo hi && false", "started": "t"}])
        + _status(logs=[{"vertex": run, "stream": 1, "data": base64.b64encode(b"hi\nmore\n").decode()}])
        + _status(vertexes=[{"digest": run, "name": "[2/2] RUN echo hi && false", "started": "t",
                             "error": "process did not complete successfully: exit code: 1"}])
        + "Dockerfile:2\n--------------------\nERROR: failed to solve: process did not complete successfully\n"
    )  # fmt: skip
    log = BuildkitLog()
    messages: list[str] = []

    def report(message: str | None) -> None:
        if message:
            messages.append(message)

    buffer = ""
    for i in range(0, len(stream), 7):
        buffer = _drain(buffer + stream[i : i + 7], json.JSONDecoder(), log, report, eof=False)
    _drain(buffer, json.JSONDecoder(), log, report, eof=True)

    assert messages == ["[1/2] FROM docker.io/library/x (cached)", "[2/2] RUN echo hi && false"]
    assert log.steps == 2
    failed = log.failed()
    assert failed is not None and failed.name == "[2/2] RUN echo hi && false"
    assert failed.logs == ["hi", "more"]
    assert log.cli_error() == "failed to solve: process did not complete successfully"
    assert "Dockerfile:2" in log.log_text() and "[1/2] FROM docker.io/library/x CACHED" in log.log_text()


def test_text_that_looks_like_json_at_the_end_is_kept_as_text() -> None:
    log = BuildkitLog()
    rest = _drain("{ not json", json.JSONDecoder(), log, lambda m: None, eof=True)
    assert rest == "" and log.text_lines == ["{ not json"]
