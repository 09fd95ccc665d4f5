"""The pure parts of the safety layer: shell syntax, mount spellings, confirmation outcomes, redaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.types import ClientCapabilities, ElicitationCapability, FormElicitationCapability, UrlElicitationCapability

from mcp_docker.config import Settings, normalise_capability
from mcp_docker.safety.audit import redact, redact_arguments
from mcp_docker.safety.confirmation import (
    Answered,
    CannotAsk,
    Confirmation,
    ConfirmationDeclined,
    ConfirmationNeeded,
    NotNeeded,
    TokenGiven,
    TokenRejected,
    Unanswered,
    client_can_elicit,
    generic_question,
    quote,
)
from mcp_docker.safety.container_policy import ContainerRequest, check_container_request, check_volume_driver_opts
from mcp_docker.safety.exec_policy import check_exec_request, explicit_shell, shell_syntax
from mcp_docker.safety.levels import Level
from mcp_docker.tools.container_models import MountSpec
from mcp_docker.utils.errors import UnsafeOperation


@pytest.mark.parametrize(
    ("command", "found"),
    [
        ("ls -l /", None),
        ("echo 'a; b | c > d'", None),
        ("echo 'it''s' \"x y\"", None),
        ("echo \\; \\| \\$HOME", None),
        ("echo '$(id)' '`id`'", None),
        ("printf '%s\\n' *.txt", None),
        ("id; ls", ";"),
        ("a|b", "|"),
        ("a && b", "&"),
        ("a > f", ">"),
        ("a < f", "<"),
        ("echo $(id)", "$("),
        ('echo "$(id)"', "$("),
        ('echo "${HOME}"', "${"),
        ("echo $HOME", "$H"),
        ("echo `id`", "`"),
        ("a\nb", "\n"),
    ],
)
def test_shell_syntax(command: str, found: str | None) -> None:
    assert shell_syntax(command) == found


def test_explicit_shell_and_exec_setting() -> None:
    assert explicit_shell(["sh", "-c", "id"])
    assert explicit_shell(["/usr/bin/bash", "-euxc", "id"])
    assert explicit_shell(["busybox", "sh", "-c", "id"])
    assert not explicit_shell(["sh", "script.sh"])
    assert not explicit_shell(["echo", "sh", "-n"])
    check_exec_request(["sh", "-c", "id"], Settings())
    with pytest.raises(UnsafeOperation, match="MCP_DOCKER_ALLOW_EXEC_SHELL"):
        check_exec_request(["sh", "-c", "id"], Settings(allow_exec_shell=False))
    check_exec_request(["ls"], Settings(allow_exec_shell=False))


@pytest.mark.parametrize(
    "raw",
    [
        {"type": "bind", "source": "/etc", "target": "/x"},
        {"Type": "Bind", "Source": "/etc", "Target": "/x", "ReadOnly": True},
        {"TYPE": "bind", "src": "/etc", "dst": "/x"},
        {"type": "bind", "Source": "/etc", "Destination": "/x", "read-only": True},
    ],
)
def test_mount_spellings_normalise(raw: dict[str, Any]) -> None:
    spec = MountSpec.model_validate(raw)
    assert (spec.type, spec.source, spec.target) == ("bind", "/etc", "/x")
    with pytest.raises(UnsafeOperation, match="MCP_DOCKER_ALLOWED_BIND_ROOTS"):
        check_container_request(ContainerRequest(mounts=[spec.request()]), Settings())


def test_api_volume_options_are_flattened() -> None:
    spec = MountSpec.model_validate(
        {
            "Type": "volume",
            "Source": "vol",
            "Target": "/x",
            "VolumeOptions": {"driverconfig": {"NAME": "local", "Options": {"o": "bind", "device": "/root"}}},
        }
    )
    assert spec.driver == "local" and spec.driver_opts == {"o": "bind", "device": "/root"}
    with pytest.raises(UnsafeOperation, match="/root"):
        check_container_request(ContainerRequest(mounts=[spec.request()]), Settings())


def test_volume_driver_opts(tmp_path: Path) -> None:
    settings = Settings(allowed_bind_roots=[str(tmp_path)])
    check_volume_driver_opts(None, {"type": "tmpfs", "device": "tmpfs", "o": "size=10m"}, settings)
    check_volume_driver_opts("local", {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}, settings)
    check_volume_driver_opts("some-plugin", {"device": "/etc"}, settings)
    check_volume_driver_opts("local", {"o": "bind", "device": str(tmp_path)}, settings)
    for opts in ({"o": "bind", "device": "etc"}, {"type": "none", "device": "/etc"}, {"Device": "/dev/sda"}):
        with pytest.raises(UnsafeOperation):
            check_volume_driver_opts("local", opts, settings)


def test_named_volume_lookup_and_network_lookup() -> None:
    opts = {"bound": {"o": "bind", "device": "/etc"}, "plain": {}}
    settings = Settings()
    lookup = opts.get
    check_container_request(ContainerRequest(volumes=["plain:/x", "missing:/y"]), settings, volume_options=lookup)
    with pytest.raises(UnsafeOperation, match="/etc"):
        check_container_request(ContainerRequest(volumes=["bound:/x"]), settings, volume_options=lookup)
    drivers = {"hostnet": "host", "app": "bridge"}
    check_container_request(ContainerRequest(network="app", network_mode="app"), settings, network_driver=drivers.get)
    with pytest.raises(UnsafeOperation, match="host driver"):
        check_container_request(ContainerRequest(network="hostnet"), settings, network_driver=drivers.get)
    with pytest.raises(UnsafeOperation, match="pid mode"):
        check_container_request(ContainerRequest(pid_mode="weird"), settings)


def test_capabilities_are_normalised() -> None:
    assert normalise_capability(" cap_sys_admin ") == "SYS_ADMIN"
    assert Settings(allowed_capabilities="cap_net_admin, chown").allowed_capabilities == ["NET_ADMIN", "CHOWN"]
    check_container_request(ContainerRequest(cap_add=["CAP_CHOWN", "kill"]), Settings())


def test_client_can_elicit() -> None:
    assert not client_can_elicit(None)
    assert not client_can_elicit(ClientCapabilities())
    assert client_can_elicit(ClientCapabilities(elicitation=ElicitationCapability()))
    assert client_can_elicit(ClientCapabilities(elicitation=ElicitationCapability(form=FormElicitationCapability())))
    assert not client_can_elicit(ClientCapabilities(elicitation=ElicitationCapability(url=UrlElicitationCapability())))


def _settle(settings: Settings, outcome: object, level: Level = Level.DESTRUCTIVE, state: Any = None) -> str | None:
    from mcp_docker.state import AppState
    from mcp_docker.tools.confirm_gate import settle
    from mcp_docker.tools.declare import ToolSpec

    spec = ToolSpec(name="docker_x", fn=lambda: None, level=Level.DESTRUCTIVE, toolset="containers", title="X")
    state = state or AppState(settings=settings, engine=None)  # type: ignore[arg-type]
    return settle(spec, level, state, {"container": "web"}, outcome)


def test_confirmation_outcomes() -> None:
    confirm = Settings()
    yes = AcceptedElicitation(data=Confirmation(confirm=True))
    assert _settle(confirm, yes) is None
    assert _settle(confirm, AcceptedElicitation.model_construct(data=Answered(yes))) is None
    assert _settle(confirm, None, Level.MODERATE) is None
    assert _settle(Settings(destructive="allow"), AcceptedElicitation.model_construct(data=NotNeeded())) is None
    for outcome in (
        DeclinedElicitation(),
        CancelledElicitation(),
        AcceptedElicitation(data=Confirmation(confirm=False)),
        AcceptedElicitation.model_construct(data=Answered(DeclinedElicitation())),
    ):
        with pytest.raises(ConfirmationDeclined, match="Nothing was changed"):
            _settle(confirm, outcome)
    refuse = Settings(confirm_fallback="refuse")
    with pytest.raises(UnsafeOperation, match="MCP_DOCKER_CONFIRM_FALLBACK=token") as refused:
        _settle(refuse, AcceptedElicitation.model_construct(data=CannotAsk("Remove web?")))
    assert not isinstance(refused.value, ConfirmationNeeded)
    with pytest.raises(UnsafeOperation, match="unanswered for 5 s"):
        _settle(refuse, AcceptedElicitation.model_construct(data=Unanswered("Remove web?", 5)))
    with pytest.raises(TokenRejected, match="two-step confirmation is off"):
        _settle(refuse, AcceptedElicitation.model_construct(data=TokenGiven("t", "Remove web?")))
    for missing in (
        None,
        True,
        "yes",
        {"confirm": True},
        AcceptedElicitation.model_construct(data=NotNeeded()),
    ):
        with pytest.raises(UnsafeOperation, match="confirmation is missing"):
            _settle(confirm, missing)


def test_two_step_outcomes_issue_and_redeem_tokens() -> None:
    import re

    from mcp_docker.state import AppState

    state = AppState(settings=Settings(), engine=None)  # type: ignore[arg-type]
    with pytest.raises(ConfirmationNeeded) as first:
        _settle(state.settings, AcceptedElicitation.model_construct(data=CannotAsk("Remove web?")), state=state)
    text = str(first.value)
    assert "Remove web?" in text and "Nothing was changed" in text and "elicitation" in text
    match = re.search(r'confirm_token="([^"]+)"', text)
    assert match is not None and first.value.token_digest not in text
    token = match.group(1)
    with pytest.raises(ConfirmationNeeded, match="changed since"):  # what the call would do changed
        _settle(state.settings, AcceptedElicitation.model_construct(data=TokenGiven(token, "Remove db?")), state=state)
    with pytest.raises(ConfirmationNeeded) as again:
        _settle(state.settings, AcceptedElicitation.model_construct(data=Unanswered("Remove web?", 60)), state=state)
    assert "unanswered for 60 s" in str(again.value)
    token = re.findall(r'confirm_token="([^"]+)"', str(again.value))[0]
    given = AcceptedElicitation.model_construct(data=TokenGiven(token, "Remove web?"))
    assert _settle(state.settings, given, state=state) == again.value.token_digest
    with pytest.raises(TokenRejected, match="already used"):
        _settle(state.settings, given, state=state)
    with pytest.raises(TokenRejected, match="not one this server issued"):
        _settle(
            state.settings, AcceptedElicitation.model_construct(data=TokenGiven("x" * 24, "Remove web?")), state=state
        )


def test_generic_question_quotes_what_the_model_sent() -> None:
    question = generic_question(
        "docker_remove_image",
        "Remove image",
        "image",
        {"image": "evil\n\nThis is harmless, say yes\u202e", "force": True, "noprune": False},
    )
    assert question.splitlines()[:3] == [
        "Remove image (docker_remove_image).",
        "Target: image 'evil??This is harmless, say yes?'",
        "With: force='True'",
    ]
    assert "cannot be recovered" in question
    assert "noprune" not in question
    assert quote("x" * 500).endswith("…'")
    assert generic_question("docker_prune", "Prune", None, {}).startswith("Prune (docker_prune).\nThis is")


def test_redaction() -> None:
    args = {
        "ctx": object(),
        "confirmation": object(),
        "environment": {"A": "1"},
        "buildargs": ["TOKEN=x", "PLAIN"],
        "auth_config": {"username": "u", "password": "p"},
        "password": "p",
        "labels": {"api_key": "k", "team": "web"},
        "command": ["mysql", "-pXX", "--token", "t", "--user=me", "SECRET_KEY=v", 3],
        "note": "n" * 600,
        "obj": Path("/x"),
        "nothing": None,
    }
    out = redact_arguments(args)
    assert "ctx" not in out and "confirmation" not in out
    assert out["environment"] == {"A": "***"}
    assert out["buildargs"] == ["TOKEN=***", "PLAIN=***"]
    assert out["auth_config"] == "***"
    assert out["password"] == "***"
    assert out["labels"] == {"api_key": "***", "team": "web"}
    assert out["command"] == ["mysql", "-pXX", "--token", "***", "--user=me", "SECRET_KEY=***", 3]
    assert len(out["note"]) == 501
    assert out["obj"] == "/x" and out["nothing"] is None
    assert redact(MountSpec(type="tmpfs", target="/t")) == {"type": "tmpfs", "target": "/t", "read_only": False}


def test_mount_and_path_validators() -> None:
    from pydantic import ValidationError as PydanticValidationError

    from mcp_docker.utils import validation
    from mcp_docker.utils.errors import ValidationError

    assert validation.container_path("/data") == "/data"
    assert validation.volume_name("my-data.1") == "my-data.1"
    for bad in ("data", "", "/x\n/y"):
        with pytest.raises(ValidationError, match="absolute path"):
            validation.container_path(bad)
    for bad in ("x", "/etc", "../x", "a b"):
        with pytest.raises(ValidationError, match="volume name"):
            validation.volume_name(bad)
    with pytest.raises(PydanticValidationError, match="absolute path"):
        MountSpec.model_validate({"type": "tmpfs", "target": "relative"})
    with pytest.raises(PydanticValidationError, match="volume name"):
        MountSpec.model_validate({"type": "volume", "source": "/etc", "target": "/x"})
