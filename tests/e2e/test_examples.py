"""docs/EXAMPLES.md is executable: every `call` and `prompt` block runs, in order, on the real engine."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import docker
import pytest
from mcp import Client

from mcp_docker.server import create_server
from tests.conftest import allow_settings
from tests.engine import PREFIX

pytestmark = [pytest.mark.anyio, pytest.mark.engine]

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "EXAMPLES.md"
BLOCK = re.compile(r"```(call|prompt)\n(.*?)\n```", re.S)


def blocks(image: str) -> list[tuple[str, dict[str, Any]]]:
    text = EXAMPLES.read_text().replace("busybox:1.36", image).replace("demo-", f"{PREFIX}demo-")
    return [(kind, json.loads(body)) for kind, body in BLOCK.findall(text)]


def test_examples_parse() -> None:
    found = blocks("img")
    assert len(found) >= 20
    assert {kind for kind, _ in found} == {"call", "prompt"}


async def test_examples_run_on_the_engine(docker_client: docker.DockerClient, test_image: str) -> None:
    async with Client(create_server(allow_settings())) as c:
        tools = {t.name for t in (await c.list_tools()).tools}
        for kind, block in blocks(test_image):
            if kind == "call":
                assert block["tool"] in tools, block
                result = await c.call_tool(block["tool"], block["arguments"])
                assert not result.is_error, (block, result.content[0].text if result.content else "")
                if block["tool"] == "docker_exec_command":
                    assert result.structured_content["stdout"] == "ready\n"
                if block["tool"] == "docker_read_file":
                    assert result.structured_content["text"] == "ready\n"
                if block["tool"] == "docker_container_logs" and "grep" in block["arguments"]:
                    assert result.structured_content["text"] == "error: /etc/worker.conf not found\n"
                if block["tool"] == "docker_list_files":
                    assert [e["name"] for e in result.structured_content["entries"]] == ["status"]
                if block["tool"] == "docker_inspect_network":
                    members = str(result.structured_content)
                    assert f"{PREFIX}demo-db" in members
                    assert f"{PREFIX}demo-app" in members
            else:
                prompt = await c.get_prompt(block["prompt"], block["arguments"])
                text = " ".join(getattr(m.content, "text", "") for m in prompt.messages)
                for name in block["arguments"].get("container", block["arguments"].get("containers", "")).split(","):
                    assert name in text
                if block["prompt"] == "troubleshoot_container":
                    assert "worker.conf not found" in text
                if block["prompt"] == "generate_compose":
                    assert "change-me" not in text  # env values stay redacted
    # The clean-up example really cleaned up.
    leftovers = [c.name for c in docker_client.containers.list(all=True) if c.name.startswith(f"{PREFIX}demo-")]
    assert leftovers == []
    with pytest.raises(docker.errors.NotFound):
        docker_client.networks.get(f"{PREFIX}demo-net")
    with pytest.raises(docker.errors.NotFound):
        docker_client.volumes.get(f"{PREFIX}demo-data")
