"""A minimal MCP client over raw HTTP for the load scenarios (tests/performance/http_load.py):
legacy 2025-11-25 sessions or modern 2026-07-28 stateless requests, and the kind of each answer."""

from __future__ import annotations

import json
from typing import Any

import httpx2

LEGACY = "2025-11-25"
MODERN = "2026-07-28"
TOKEN = "load-token-" + "0123456789abcdef" * 2
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
META = {"io.modelcontextprotocol/protocolVersion": MODERN, "io.modelcontextprotocol/clientCapabilities": {}}
UNAVAILABLE = "Cannot reach the Docker engine"


def reply_of(response: httpx2.Response) -> dict[str, Any]:
    if response.headers.get("content-type", "").startswith("text/event-stream"):
        for line in response.text.splitlines():
            if line.startswith("data:") and line[5:].strip():
                data: dict[str, Any] = json.loads(line[5:])
                if "id" in data:
                    return data
        raise ValueError("no reply in the event stream")
    reply: dict[str, Any] = response.json()
    return reply


def error_kind(response: httpx2.Response) -> str | None:
    """None for a successful tool result; else a short kind ('http 503', 'jsonrpc -32602', 'engine
    unavailable', 'deadline', 'tool: ...')."""
    if response.status_code >= 400:
        return f"http {response.status_code}"
    reply = reply_of(response)
    if "error" in reply:
        return f"jsonrpc {reply['error'].get('code')}"
    result = reply.get("result", {})
    if result.get("isError"):
        text = (result.get("content") or [{}])[0].get("text", "")
        if UNAVAILABLE in text or "did not answer within" in text:
            return "engine unavailable"
        if "did not finish within" in text:
            return "deadline"
        return "tool: " + text[:60]
    return None


class McpHttp:
    """One client: a legacy session (initialize, then the session id) or modern stateless requests."""

    def __init__(self, http: httpx2.AsyncClient, url: str, era: str) -> None:
        self.http, self.url, self.era = http, url, era
        self.session: str | None = None
        self.next_id = 1

    def _headers(self, method: str, name: str | None) -> dict[str, str]:
        headers = {**ACCEPT, "Authorization": f"Bearer {TOKEN}"}
        if self.era == MODERN:
            headers.update({"MCP-Protocol-Version": MODERN, "Mcp-Method": method})
            if name:
                headers["Mcp-Name"] = name
        elif self.session:
            headers.update({"Mcp-Session-Id": self.session, "MCP-Protocol-Version": LEGACY})
        return headers

    async def initialize(self) -> httpx2.Response:
        init = {
            "jsonrpc": "2.0",
            "id": 0,
            "method": "initialize",
            "params": {"protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "load", "version": "1"}},
        }
        response = await self.http.post(self.url, json=init, headers=self._headers("initialize", None))
        if response.status_code == 200:
            self.session = response.headers.get("mcp-session-id")
        return response

    async def open(self) -> None:
        if self.era == LEGACY:
            response = await self.initialize()
            response.raise_for_status()
            note = {"jsonrpc": "2.0", "method": "notifications/initialized"}
            (await self.http.post(self.url, json=note, headers=self._headers("", None))).raise_for_status()

    async def close(self) -> None:
        if self.session:
            await self.http.delete(self.url, headers=self._headers("", None))

    async def call(self, tool: str, args: dict[str, Any]) -> httpx2.Response:
        params: dict[str, Any] = {"name": tool, "arguments": args}
        if self.era == MODERN:
            params["_meta"] = META
        body = {"jsonrpc": "2.0", "id": self.next_id, "method": "tools/call", "params": params}
        self.next_id += 1
        return await self.http.post(self.url, json=body, headers=self._headers("tools/call", tool))


def client_http(timeout: float) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(timeout=httpx2.Timeout(timeout), limits=httpx2.Limits(max_connections=4))
