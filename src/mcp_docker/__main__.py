"""The `mcp-docker` command: `serve` (the default) and `doctor`.

Every flag maps to a `MCP_DOCKER_*` setting; a flag given on the command line wins over the
environment. Nothing but the protocol is written to stdout while serving.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from mcp_docker import __version__
from mcp_docker.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mcp-docker",
        description="MCP server for the Docker engine. Settings also come from MCP_DOCKER_* variables.",
    )
    parser.add_argument("--version", action="version", version=f"mcp-docker {__version__}")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="serve MCP (the default)")
    doctor = sub.add_parser("doctor", help="check the engine and show the effective settings")
    doctor.add_argument("--json", action="store_true", help="print JSON")
    for p in (parser, serve, doctor):
        p.add_argument("--transport", choices=["stdio", "http"], default=argparse.SUPPRESS)
        p.add_argument("--host", dest="http_host", default=argparse.SUPPRESS, help="HTTP bind address")
        p.add_argument("--port", dest="http_port", type=int, default=argparse.SUPPRESS, help="HTTP port")
        p.add_argument(
            "--read-only",
            dest="read_only",
            action="store_true",
            default=argparse.SUPPRESS,
            help="offer read-only tools only",
        )
        p.add_argument(
            "--destructive",
            choices=["confirm", "allow", "deny"],
            default=argparse.SUPPRESS,
            help="what destructive tools do",
        )
        p.add_argument("--confirm-timeout", dest="confirm_timeout", type=float, default=argparse.SUPPRESS)
        p.add_argument(
            "--confirm-fallback", dest="confirm_fallback", choices=["token", "refuse"], default=argparse.SUPPRESS
        )
        p.add_argument("--confirm-ttl", dest="confirm_ttl", type=float, default=argparse.SUPPRESS)
        p.add_argument("--allowed-hosts", dest="http_allowed_hosts", default=argparse.SUPPRESS, help="HTTP Host values")
        p.add_argument(
            "--allowed-origins", dest="http_allowed_origins", default=argparse.SUPPRESS, help="HTTP Origin values"
        )
        p.add_argument("--max-request-bytes", dest="max_request_bytes", type=int, default=argparse.SUPPRESS)
        p.add_argument("--max-concurrency", dest="max_concurrency", type=int, default=argparse.SUPPRESS)
        p.add_argument("--call-timeout", dest="call_timeout", type=float, default=argparse.SUPPRESS)
        p.add_argument("--long-call-timeout", dest="long_call_timeout", type=float, default=argparse.SUPPRESS)
        p.add_argument("--tool-timeouts", dest="tool_timeouts", default=argparse.SUPPRESS, help="tool=seconds,...")
        p.add_argument("--engine-timeout", dest="engine_timeout", type=float, default=argparse.SUPPRESS)
        p.add_argument("--toolsets", default=argparse.SUPPRESS, help="comma-separated toolsets")
        p.add_argument("--disabled-tools", dest="disabled_tools", default=argparse.SUPPRESS)
        p.add_argument("--log-level", dest="log_level", default=argparse.SUPPRESS)
        p.add_argument("--log-json", dest="log_json", action="store_true", default=argparse.SUPPRESS)
    return parser


def load_settings(overrides: dict[str, Any]) -> Settings:
    if "log_level" in overrides:
        overrides["log_level"] = str(overrides["log_level"]).upper()
    return Settings(**overrides)


def doctor(settings: Settings, as_json: bool) -> int:
    """Tell the user whether the engine is reachable, which one, its versions, and the settings."""
    from mcp_docker.docker.client import Engine
    from mcp_docker.safety.levels import refusal
    from mcp_docker.tools import all_tools

    health = Engine(timeout=settings.engine_timeout, connect_timeout=settings.connect_timeout).health()
    offered = [s.name for s in all_tools().values() if not refusal(s.name, s.lowest_level(), s.toolset, settings)]
    settings_view: dict[str, Any] = settings.model_dump(mode="json", exclude={"http_token"})
    settings_view["http_token"] = "set" if settings.http_token else None
    report: dict[str, Any] = {
        "engine": {k: v for k, v in health.__dict__.items() if v is not None},
        "settings": settings_view,
        "tools_offered": len(offered),
    }
    if as_json:
        print(json.dumps(report, indent=2))
    else:
        if health.reachable:
            print(f"engine: reachable at {health.endpoint} ({health.latency_ms} ms)")
            print(f"  server {health.server_version}, API {health.api_version}, {health.os}/{health.arch}")
        else:
            print(f"engine: NOT reachable at {health.endpoint}")
            print(f"  {health.error}")
        print(f"tools offered: {len(offered)}")
        print("settings:")
        for key, value in settings_view.items():
            print(f"  {key} = {value}")
    return 0 if health.reachable else 1


def serve(settings: Settings) -> int:
    import anyio

    from mcp_docker.server import create_server
    from mcp_docker.transport import run_http, run_stdio
    from mcp_docker.utils.logger import configure_logging, logger

    server = create_server(settings)
    configure_logging(settings.log_level, settings.log_json)
    # SIGTERM stops the server like Ctrl-C: in-flight calls are cancelled (which stops their engine
    # requests), the lifespan closes the engine client, and the process exits 0 without a traceback.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if settings.transport == "http":
            anyio.run(run_http, server, settings)
        else:
            anyio.run(run_stdio, server)  # returns at end of stdin
    except KeyboardInterrupt:
        logger.info("mcp-docker stopped by signal")
        _exit_past_a_pending_stdin_read()
    return 0


def _exit_past_a_pending_stdin_read() -> None:
    """Stopped by a signal while the stdin reader thread is blocked in a read: Python's shutdown would
    wait for that thread's lock on stdin and may abort ("could not acquire lock ... at interpreter
    shutdown"). Everything is closed by now, so flush and leave at once, with status 0."""
    import os
    import threading

    if any(t.name == "mcp-stdin" and t.is_alive() for t in threading.enumerate()):
        from mcp_docker.utils.logger import logger

        logger.complete()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from mcp_docker.utils.logger import configure_logging

    args = vars(_parser().parse_args(argv))
    command = args.pop("command", None) or "serve"
    as_json = bool(args.pop("json", False))
    try:
        settings = load_settings(args)
    except (PydanticValidationError, ValueError) as exc:
        print(f"mcp-docker: invalid settings: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_json)
    if command == "doctor":
        return doctor(settings, as_json)
    try:
        return serve(settings)
    except ValueError as exc:
        print(f"mcp-docker: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
