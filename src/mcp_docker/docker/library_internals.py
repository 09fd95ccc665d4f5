"""Every place the server leans on docker-py, requests or urllib3 beyond their public API, one function each.

Written against docker 7.x (`docker>=7.2,<8`) on requests 2.32+ and urllib3 2.x. Each function says
which shape it relies on and why; `tests/unit/test_library_shapes.py` asserts every one of those
shapes and names the function here to fix when a release changes one. Code elsewhere calls these
functions, never the libraries' private attributes.

Three kinds of reliance:
- docker-py's `APIClient` helpers for endpoints its public methods do not cover (the archive API
  streamed, a container update with `NanoCpus` and `PidsLimit`), and its API version negotiation;
- the `requests.Session` that an `APIClient` is: its `send` (the engine gate) and
  `merge_environment_settings` (the engine's own CA) replaced on the instance;
- urllib3's pools behind the session's adapters: which connection a call was handed, so cancelling
  the call can shut that connection's socket.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# --- docker-py APIClient helpers (docker 7.x) ---


def api_url(api: Any, template: str, *args: str) -> str:
    """The engine URL of `template` ('/containers/{0}/archive') with `args` quoted in.

    Relies on: `APIClient._url(pathfmt, *args)` (it prefixes the negotiated API version)."""
    return str(api._url(template, *args))


def api_get(api: Any, url: str, **kwargs: Any) -> Any:
    """GET `url` with docker-py's timeout and headers; `stream=True` leaves the body unread.

    Relies on: `APIClient._get(url, **kwargs)` returning the `requests.Response`. `get_archive` reads
    the whole tar into chunks of its own choosing and sends `Accept-Encoding`; this streams it raw."""
    return api._get(url, **kwargs)


def api_put(api: Any, url: str, **kwargs: Any) -> Any:
    """PUT `url` (a body given as a file object is streamed).

    Relies on: `APIClient._put(url, **kwargs)` returning the `requests.Response`."""
    return api._put(url, **kwargs)


def api_post_json(api: Any, url: str, body: dict[str, Any]) -> Any:
    """POST `body` as JSON to `url`.

    Relies on: `APIClient._post_json(url, data=body)`. `update_container` cannot send `NanoCpus`
    or `PidsLimit`."""
    return api._post_json(url, data=body)


def raise_for_status(api: Any, response: Any) -> None:
    """Raise docker-py's own error (`NotFound`, `APIError`...) for a failed response, as its methods do.

    Relies on: `APIClient._raise_for_status(response)`."""
    api._raise_for_status(response)


def json_result(api: Any, response: Any) -> Any:
    """The decoded JSON body of a response, after `raise_for_status`.

    Relies on: `APIClient._result(response, json=True)`."""
    return api._result(response, True)


def engine_api_version(api: Any) -> str:
    """The newest API version the engine speaks, asked of it (GET /version).

    Relies on: `APIClient._retrieve_server_version()`, what `version="auto"` uses in the constructor;
    called later so the TLS settings are fixed first (see `docker.client._negotiate`)."""
    version: str = api._retrieve_server_version()
    return version


def use_api_version(api: Any, version: str) -> None:
    """Make every later request of `api` use API `version`.

    Relies on: `APIClient._version`, read by `_url` and by `api_version`."""
    api._version = version


def unix_socket_path(api: Any) -> str | None:
    """The socket path of an `APIClient` that talks to a unix-socket engine, else None.

    Relies on: `APIClient._custom_adapter` being docker-py's `UnixHTTPAdapter` (attribute
    `socket_path`) for a unix:// base URL, and something without `socket_path` otherwise."""
    path = getattr(getattr(api, "_custom_adapter", None), "socket_path", None)
    return path if isinstance(path, str) else None


def raw_socket(sock: Any) -> Any:
    """The OS socket under what `exec_start(..., socket=True)` returns (a `socket.SocketIO` on unix
    and tcp engines), so it can be shut down while another thread reads it.

    Relies on: `SocketIO._sock` (the stdlib's), falling back to `sock` itself."""
    return getattr(sock, "_sock", sock)


# --- the requests.Session an APIClient is ---

_GATED = "_mcp_docker_gated"


def check_before_send(api: Any, check: Callable[[Any], None]) -> None:
    """Call `check(request)` with every prepared request before `api` sends it (once per client); an
    exception from `check` stops the request.

    Relies on: every docker-py request (JSON calls, streams, builds, attach and exec hijacks)
    going through `requests.Session.send(request, **kwargs)`, looked up on the instance."""
    if getattr(api, _GATED, False):
        return
    send = api.send

    def checked_send(request: Any, **kwargs: Any) -> Any:
        check(request)
        return send(request, **kwargs)

    api.send = checked_send
    setattr(api, _GATED, True)


def keep_session_ca(api: Any) -> None:
    """Verify on every request against the CA file the session was given (DOCKER_CERT_PATH/ca.pem).

    requests replaces a session's CA file with $REQUESTS_CA_BUNDLE / $CURL_CA_BUNDLE (set on many
    machines) unless the CA is given per request, which docker-py does not do: the engine's
    certificate would then be checked against the public CAs and always fail.

    Relies on: `requests.Session.merge_environment_settings(url, proxies, stream, verify, cert)`
    deciding the `verify` of each request, looked up on the instance; `Session.verify` is the CA."""
    ca = getattr(api, "verify", None)
    if not isinstance(ca, str):
        return
    merge = api.merge_environment_settings

    def merge_keeping_ca(url: str, proxies: Any, stream: Any, verify: Any, cert: Any) -> Any:
        return merge(url, proxies, stream, ca if verify is None or verify is True else verify, cert)

    api.merge_environment_settings = merge_keeping_ca


# --- urllib3 pools behind the session's adapters ---

_TRACKED = "_mcp_docker_tracked"
_WATCHED = "_mcp_docker_watched"
_CALL = "_mcp_docker_call"
ADAPTER_METHODS = ("get_connection", "get_connection_with_tls_context")
"""The requests `HTTPAdapter` methods that return the urllib3 pool for a request (requests 2.32+ calls
the second; docker-py's unix, ssh and npipe adapters answer it with their own `get_connection`)."""


def hook_pools(api: Any, handed_out: Callable[[Any], None], given_back: Callable[[Any], None]) -> None:
    """Call `handed_out(conn)` when any pool of `api` hands a connection to a request, `given_back(conn)`
    when it is returned (unix, tcp, tls and ssh adapters; each hooked once).

    Relies on: `api.adapters` (requests' mounted adapters), the adapter methods `ADAPTER_METHODS`
    returning a urllib3 `HTTPConnectionPool`, and that pool's `_get_conn(timeout)` and
    `_put_conn(conn)`, the only way urllib3 hands connections out and takes them back."""

    def hook(pool: Any) -> Any:
        if getattr(pool, _TRACKED, False):
            return pool
        get_conn, put_conn = pool._get_conn, pool._put_conn

        def tracked_get(*args: Any, **kwargs: Any) -> Any:
            conn = get_conn(*args, **kwargs)
            handed_out(conn)
            return conn

        def tracked_put(conn: Any) -> Any:
            given_back(conn)
            return put_conn(conn)

        pool._get_conn, pool._put_conn = tracked_get, tracked_put
        setattr(pool, _TRACKED, True)
        return pool

    for adapter in getattr(api, "adapters", {}).values():
        for method in ADAPTER_METHODS:
            original = getattr(adapter, method, None)
            if original is None or getattr(original, _TRACKED, False):
                continue

            def wrapped(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                return hook(_original(*args, **kwargs))

            setattr(wrapped, _TRACKED, True)
            setattr(adapter, method, wrapped)


def watch_connect(conn: Any, connected: Callable[[Any], None]) -> None:
    """Call `connected(conn)` each time `conn` opens its socket (hooked once per connection).

    Relies on: urllib3 connections being handed out unconnected and opening their socket in
    `connect()` on the first request."""
    if getattr(conn, _WATCHED, False) or not callable(getattr(conn, "connect", None)):
        return
    original = conn.connect

    def connect(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        connected(conn)
        return result

    conn.connect = connect
    setattr(conn, _WATCHED, True)


def connection_socket(conn: Any) -> Any | None:
    """The open socket of a urllib3 connection, or None before it connected.

    Relies on: `HTTPConnection.sock` (http.client's, which urllib3's connection extends)."""
    return getattr(conn, "sock", None)


def call_of(conn: Any) -> Any | None:
    """What `mark_call` last stored on a pooled connection (the call using it), or None."""
    return getattr(conn, _CALL, None)


def mark_call(conn: Any, call: Any | None) -> None:
    """Store `call` on a pooled connection (urllib3 connections take attributes; they have no slots)."""
    setattr(conn, _CALL, call)
