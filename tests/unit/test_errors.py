"""The one mapping from docker-py / requests errors to the project's hierarchy (no engine needed)."""

from __future__ import annotations

import docker.errors
import pytest
import requests
import requests.exceptions

from mcp_docker.utils import errors
from mcp_docker.utils.errors import engine_errors, map_engine_error


def api_error(status: int, explanation: str, cls: type[docker.errors.APIError] = docker.errors.APIError) -> Exception:
    response = requests.Response()
    response.status_code = status
    response.url = "http+docker://localhost/v1.41/x"
    response.reason = "reason"
    return cls("boom", response=response, explanation=explanation)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("container", errors.ContainerNotFound),
        ("network", errors.NetworkNotFound),
        ("volume", errors.VolumeNotFound),
        ("image", errors.ImageNotFound),
    ],
)
def test_404_names_the_subject_and_the_list_tool(kind: errors.Kind, expected: type[Exception]) -> None:
    mapped = map_engine_error(api_error(404, f"no such {kind}", docker.errors.NotFound), kind, "web")
    assert isinstance(mapped, expected)
    assert f"No such {kind} 'web'." in str(mapped)
    assert "docker_list_" in str(mapped)
    assert f"no such {kind}" in str(mapped)  # the engine's words are kept


def test_image_not_found_class_wins_and_unknown_kind_is_generic() -> None:
    mapped = map_engine_error(api_error(404, "pull access denied", docker.errors.ImageNotFound), "image", "x:1")
    assert isinstance(mapped, errors.ImageNotFound)
    assert "x:1" in str(mapped)
    service = map_engine_error(api_error(404, "gone", docker.errors.NotFound), "service", "api")
    assert isinstance(service, errors.NotFoundError)
    assert "No such service 'api'" in str(service)
    bare = map_engine_error(api_error(404, "gone", docker.errors.NotFound))
    assert isinstance(bare, errors.EngineError)
    assert "gone" in str(bare)


@pytest.mark.parametrize(
    ("status", "cls", "words"),
    [
        (409, errors.ConflictError, "Conflict"),
        (403, errors.EngineError, "refused"),
        (400, errors.EngineError, "rejected"),
        (500, errors.EngineError, "failed"),
    ],
)
def test_status_classes(status: int, cls: type[Exception], words: str) -> None:
    mapped = map_engine_error(api_error(status, "engine says \x1b[31mwhy\x1b[0m"))
    assert type(mapped) is cls
    assert words in str(mapped)
    assert "engine says why" in str(mapped)  # explanation kept, escape codes stripped


def test_transport_failures() -> None:
    assert isinstance(map_engine_error(requests.exceptions.ConnectionError("refused")), errors.DockerDaemonUnavailable)
    assert isinstance(map_engine_error(requests.exceptions.ReadTimeout("slow")), errors.OperationTimeout)
    assert "outcome is unknown" in str(map_engine_error(TimeoutError("slow")))
    assert isinstance(map_engine_error(FileNotFoundError("sock")), errors.DockerDaemonUnavailable)
    perm = map_engine_error(PermissionError("denied"))
    assert isinstance(perm, errors.DockerDaemonUnavailable)
    assert "docker' group" in str(perm)


def test_wrapped_negotiation_failure_is_classified_by_its_cause() -> None:
    try:
        try:
            raise requests.exceptions.ConnectionError("no socket")
        except requests.exceptions.ConnectionError as inner:
            raise docker.errors.DockerException("Error while fetching server API version") from inner
    except docker.errors.DockerException as exc:
        mapped = map_engine_error(exc)
    assert isinstance(mapped, errors.DockerDaemonUnavailable)
    assert "Cannot reach" in str(mapped)
    plain = map_engine_error(docker.errors.DockerException("odd"))
    assert isinstance(plain, errors.DockerDaemonUnavailable)


def test_engine_errors_context_maps_and_passes_own_errors() -> None:
    with pytest.raises(errors.ContainerNotFound), engine_errors("container", "db"):
        raise api_error(404, "x", docker.errors.NotFound)
    own = errors.ValidationError("bad", "fix it")
    with pytest.raises(errors.ValidationError) as info, engine_errors("container", "db"):
        raise own
    assert info.value is own
    assert str(own) == "bad fix it"
    # A programming error is not disguised as an engine error.
    with pytest.raises(KeyError), engine_errors():
        raise KeyError("bug")
    assert map_engine_error(own) is own
    assert "Unexpected engine error" in str(map_engine_error(RuntimeError("x")))


def test_to_tool_error_carries_message_and_hint() -> None:
    err = errors.ContainerNotFound("web").to_tool_error()
    assert (
        str(err) == "No such container 'web'. List them with docker_list_containers (all=true shows stopped ones too)."
    )


def test_401_and_403_say_different_things() -> None:
    """401 is about credentials; 403 is also the engine's answer for what an object's state forbids."""
    unauthenticated = str(map_engine_error(api_error(401, "unauthorized")))
    assert "docker login" in unauthenticated
    forbidden = str(map_engine_error(api_error(403, "network has active endpoints")))
    assert "forbidden" in forbidden
    assert "network has active endpoints" in forbidden
    assert "docker login" not in forbidden


def test_errors_and_output_do_not_import_each_other() -> None:
    """errors fences engine text with utils/text.py; it never needs utils/output.py (which imports errors)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from mcp_docker.utils import errors\n"
        "fenced = errors.engine_output(b'\\x1b[31mred\\x1b[0m line')\n"
        "explained = errors.map_engine_error(ValueError('bad \\x07bell'))\n"
        "assert 'red line' in fenced and '\\x1b' not in fenced, fenced\n"
        "assert 'mcp_docker.utils.output' not in sys.modules, 'errors imported output'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


# --- per-call meanings: the one table beside the general rules --------------------------------------


@pytest.mark.parametrize(
    ("call", "status", "cls", "words"),
    [
        ("pull", 500, errors.EngineError, "Pull failed: The engine failed (500)"),
        ("push", 502, errors.EngineError, "Push failed: The engine failed (502)"),
        ("build", 400, errors.EngineError, "The build was refused before it started:"),
        ("swarm", 503, errors.NotSwarmManager, "not a swarm manager"),
        ("rename", 409, errors.ConflictError, "The name 'web' is already taken"),
        ("prune", 409, errors.ConflictError, "Another prune is running"),
    ],
)
def test_a_status_means_more_for_some_calls(call: errors.Call, status: int, cls: type[Exception], words: str) -> None:
    exc = api_error(status, "engine says why")
    mapped = map_engine_error(exc, "image", "web", call)
    assert type(mapped) is cls
    assert words in mapped.message
    meaning = errors.CALL_MEANINGS[(call, "5xx" if call in ("pull", "push") else status)]
    assert mapped.hint == meaning.hint
    if call in ("pull", "push", "build"):
        assert "engine says why" in mapped.message  # the engine's explanation is kept
    with pytest.raises(cls) as raised, errors.call_meanings(call, "web"):
        raise exc
    assert words in raised.value.message and raised.value.hint == mapped.hint


def test_other_statuses_of_those_calls_follow_the_general_rules() -> None:
    for call, status in (("pull", 404), ("push", 401), ("build", 500), ("swarm", 500), ("rename", 404)):
        exc = api_error(status, "why")
        assert map_engine_error(exc, "image", "web", call).message == map_engine_error(exc, "image", "web").message
        with pytest.raises(docker.errors.APIError), errors.call_meanings(call, "web"):
            raise exc  # untouched: mapped later with the tool's kind and subject


def test_the_build_refusal_fences_the_engine_text() -> None:
    mapped = map_engine_error(api_error(400, "dockerfile parse error line 2: unknown instruction: FORM"), call="build")
    assert "<<<engine error" in mapped.message and "unknown instruction: FORM" in mapped.message
