"""Validators and output shaping: pure logic, no engine."""

from __future__ import annotations

import pytest

from mcp_docker.utils import validation
from mcp_docker.utils.errors import ValidationError
from mcp_docker.utils.output import (
    bounded_tail,
    clean_text,
    cut_bytes,
    decode,
    human_size,
    parse_duration,
    parse_time,
    redact_env,
    redact_mapping,
)


@pytest.mark.parametrize("name", ["web", "web-1", "a.b_c", "/web", "9lives"])
def test_container_names_ok(name: str) -> None:
    assert validation.container_name(name) == name.lstrip("/")


@pytest.mark.parametrize("name", ["", "-web", "we b", "web;rm", "x" * 300, "../x"])
def test_container_names_bad(name: str) -> None:
    with pytest.raises(ValidationError, match="Invalid container name"):
        validation.container_name(name)


@pytest.mark.parametrize(
    "ref",
    [
        "nginx",
        "nginx:1.27",
        "library/nginx:latest",
        "localhost:5000/team/app:v1",
        "ghcr.io/o/r@sha256:" + "a" * 64,
        "sha256:" + "b" * 64,
        "abcdef123456",
    ],
)
def test_image_refs_ok(ref: str) -> None:
    assert validation.image_reference(ref) == ref


@pytest.mark.parametrize("ref", ["", "UPPER/case", "nginx:", "a b", "nginx:tag with space", "-x"])
def test_image_refs_bad(ref: str) -> None:
    with pytest.raises(ValidationError, match="Invalid image reference"):
        validation.image_reference(ref)


def test_split_reference() -> None:
    assert validation.split_reference("localhost:5000/app:v1") == ("localhost:5000/app", "v1")
    assert validation.split_reference("localhost:5000/app") == ("localhost:5000/app", None)
    assert validation.split_reference("app@sha256:abc") == ("app@sha256:abc", None)


def test_ports() -> None:
    assert validation.container_port("80") == "80"
    assert validation.container_port(53) == "53"
    assert validation.container_port("53/UDP") == "53/udp"
    assert validation.container_port("8000-8010/tcp") == "8000-8010/tcp"
    for bad in ("http", "0", "70000", "80/icmp", "80-99999"):
        with pytest.raises(ValidationError):
            validation.container_port(bad)
    assert validation.host_binding(None) == ("127.0.0.1", None)
    assert validation.host_binding(8080) == ("127.0.0.1", 8080)
    assert validation.host_binding("8080") == ("127.0.0.1", 8080)
    assert validation.host_binding("0.0.0.0:80") == ("0.0.0.0", 80)
    assert validation.host_binding("[::1]:80") == ("::1", 80)
    assert validation.host_binding(":80") == ("127.0.0.1", 80)
    assert validation.host_binding("10.0.0.1:") == ("10.0.0.1", None)
    with pytest.raises(ValidationError, match="host port"):
        validation.host_binding("abc")
    with pytest.raises(ValidationError):
        validation.port_number(0)


def test_memory() -> None:
    assert validation.memory_bytes("512m") == 512 * 1024**2
    assert validation.memory_bytes("1g") == 1024**3
    assert validation.memory_bytes("1.5GiB") == int(1.5 * 1024**3)
    assert validation.memory_bytes(10_000_000) == 10_000_000
    with pytest.raises(ValidationError, match="Invalid memory"):
        validation.memory_bytes("lots")
    with pytest.raises(ValidationError, match="minimum"):
        validation.memory_bytes("1k")


def test_restart_policy() -> None:
    assert validation.restart_policy("always") == {"Name": "always"}
    assert validation.restart_policy("on-failure:3") == {"Name": "on-failure", "MaximumRetryCount": 3}
    for bad in ("sometimes", "always:3", "on-failure:x"):
        with pytest.raises(ValidationError):
            validation.restart_policy(bad)


def test_clean_text_strips_escapes_controls_and_bidi() -> None:
    raw = "\x1b[31mred\x1b[0m \x1b]0;title\x07ok\x00\x07 \u202eevil\u202c\r\nnext\ttab"
    assert clean_text(raw) == "red ok evil\nnext\ttab"
    assert clean_text("héllo wörld", max_bytes=2) == "h"


def test_bounding() -> None:
    assert cut_bytes("abcdef", 3) == ("abc", True)
    assert cut_bytes("abcdef", 3, keep="tail") == ("def", True)
    assert cut_bytes("ab", 3) == ("ab", False)
    text = "".join(f"line{i}\n" for i in range(100))
    kept, cut = bounded_tail(text, 30)
    assert cut and kept.endswith("line99\n") and len(kept.encode()) <= 30 and kept.startswith("line")
    huge, cut = bounded_tail("x" * 100, 10)
    assert cut and huge == "x" * 10
    assert bounded_tail("short", 100) == ("short", False)
    assert decode(None) == "" and decode(b"\xffa") == "\ufffda" and decode("s") == "s"


def test_redaction() -> None:
    assert redact_env(["A=1", "B=", "NOVALUE"]) == ["A=***", "B=***", "NOVALUE"]
    assert redact_env(["A=1"], redact=False) == ["A=1"]
    assert redact_env(None) == []
    assert redact_mapping({"k": "v"}) == {"k": "***"}


def test_times() -> None:
    assert parse_duration("10m") == 600
    assert parse_duration("1h30m") == 5400
    assert parse_duration("soon") is None
    assert parse_time(None, "since") is None
    assert parse_time("", "since") is None
    assert parse_time(1714564800, "since") == 1714564800
    assert parse_time("1714564800", "since") == 1714564800
    assert parse_time("10m", "since", now=1000.0) == 400
    assert parse_time("2024-05-01T12:00:00Z", "since") == 1714564800
    assert parse_time("2024-05-01T14:00:00+02:00", "since") == 1714564800
    with pytest.raises(ValidationError, match="time zone"):
        parse_time("2024-05-01T12:00:00", "since")
    with pytest.raises(ValidationError, match="RFC 3339"):
        parse_time("yesterday", "until")


def test_human_size() -> None:
    assert human_size(None) == "0 B"
    assert human_size(999) == "999 B"
    assert human_size(1500) == "1.5 KB"
    assert human_size(2_500_000_000) == "2.5 GB"


def test_engine_text_and_line_count() -> None:
    from mcp_docker.utils.output import engine_text, line_count

    text, cut = engine_text(b"\x1b[1mone\x1b[0m\ntwo\nthree\n", 10)
    assert (text, cut) == ("two\nthree\n", True)
    assert engine_text(None, 10) == ("", False)
    assert line_count("") == 0
    assert line_count("a\nb\n") == 2
    assert line_count("a\nb") == 2
