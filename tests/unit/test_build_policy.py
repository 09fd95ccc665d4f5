"""The Dockerfile policy (safety/build_policy.py): pure parsing, attacked with the forms a model could use."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_docker.config import Settings
from mcp_docker.safety.build_policy import check_build, check_dockerfile, parse
from mcp_docker.utils.errors import UnsafeOperation, ValidationError

DEFAULT = Settings()
NETWORK = Settings(allow_build_network=True)

REFUSED = [
    "FROM base\nADD http://example.com/x /x\n",
    "FROM base\nADD https://example.com/x /x\n",
    "FROM base\nadd HTTPS://example.com/x /x\n",
    "FROM base\nAdd --chown=1:1 --chmod=644 http://example.com/x /x\n",
    "FROM base\nADD --checksum=sha256:abc https://example.com/x /x\n",
    "FROM base\nADD git@github.com:moby/moby.git /src\n",
    "FROM base\nADD https://github.com/moby/moby.git#v1 /src\n",
    "FROM base\nADD git://example.com/repo.git /src\n",
    "FROM base\nADD ftp://example.com/x /x\n",
    "FROM base\nADD h\\ttp://example.com/x /x\n",
    "FROM base\nADD \"https://example.com/x\" '/x'\n",
    "FROM base\nADD --link --keep-git-dir=true https://example.com/r.git /r\n",
    "FROM base\nADD user@example.com:repo.git /r\n",
    "FROM base\nADD local.txt \\\n    http://example.com/x \\\n    /dst/\n",
    'FROM base\nADD ["http://example.com/x", "/x"]\n',
    "FROM base\nARG U=http://example.com/x\nADD $U /x\n",
    "FROM base\nADD ${U} /x\n",
    "# escape=`\nFROM base\nADD a.txt `\n  http://example.com/x /x\n",
    "FROM base\nONBUILD ADD http://example.com/x /x\n",
    "FROM base\nRUN --network=host wget -O- http://127.0.0.1/\n",
    "FROM base\nrun --NETWORK=host true\n",
    "FROM base\nRUN --network host true\n",
    "FROM base\nRUN --mount=type=cache,target=/c \\\n  --network=host true\n",
    "FROM base\nRUN --network=$NET true\n",
    "FROM base\nRUN --network=container:abc true\n",
    "FROM base\nCOPY --from=https://example.com/x.tar / /\n",
    "FROM base\nCOPY --from=$IMG / /\n",
    "FROM base\nADD --from=docker-image://evil/x / /\n",
    "FROM base\nRUN <<EOF\nADD http://example.com/x /x\nEOF\n",  # heredoc bodies read as instructions: refused
]


@pytest.mark.parametrize("dockerfile", REFUSED)
def test_network_reaching_instructions_are_refused(dockerfile: str) -> None:
    with pytest.raises(UnsafeOperation) as caught:
        check_dockerfile(dockerfile, DEFAULT)
    assert "MCP_DOCKER_ALLOW_BUILD_NETWORK" in str(caught.value)
    assert "nothing was sent" in str(caught.value)


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM base\nADD --security=insecure x /x\nRUN --security=insecure true\n",
        "FROM base\nRUN --security insecure true\n",
        "FROM base\nRUN --security=$S true\n",
    ],
)
def test_insecure_steps_need_allow_privileged(dockerfile: str) -> None:
    with pytest.raises(UnsafeOperation, match="MCP_DOCKER_ALLOW_PRIVILEGED"):
        check_dockerfile(dockerfile, NETWORK)
    check_dockerfile(dockerfile, Settings(allow_privileged=True))


@pytest.mark.parametrize(
    "dockerfile",
    [
        "FROM base AS build\nRUN echo hi > /x\nFROM base\nCOPY --from=build /x /x\nCOPY --from=0 /x /y\n",
        "FROM base\nCOPY --from=nginx:1.27 /etc/nginx /n\n",  # an image, pulled like FROM's
        "FROM base\nADD app.tar.gz /app\nADD --chown=1:1 a b /dst/\nCOPY $SRC /x\n",
        "FROM base\nRUN --network=none true\nRUN --network=default true\nRUN --mount=type=cache,target=/c true\n",
        "FROM base\n# ADD http://example.com/x /x (a comment)\nRUN echo 'ADD http://example.com'\n",
        "# syntax=docker/dockerfile:1.7\nFROM base\n",
        "FROM base\nRUN --security=sandbox true\n",
    ],
)
def test_ordinary_dockerfiles_pass(dockerfile: str) -> None:
    check_dockerfile(dockerfile, DEFAULT)


def test_allow_build_network_allows_urls_and_host_network() -> None:
    for dockerfile in REFUSED:
        check_dockerfile(dockerfile, NETWORK)


def test_custom_frontends_are_refused_whatever_the_settings() -> None:
    for frontend in ("evil/frontend:1", "docker.io/attacker/dockerfile", "ghcr.io/x/y"):
        with pytest.raises(UnsafeOperation, match="custom build frontend"):
            check_dockerfile(f"# syntax={frontend}\nFROM base\n", NETWORK)


def test_parse_joins_continuations_and_skips_comments() -> None:
    text = "# c\nFROM base\nRUN a \\\n  # inner comment\n  b\n\nCOPY x y"
    assert [(i.line, i.keyword, i.args) for i in parse(text)] == [
        (2, "FROM", "base"),
        (3, "RUN", "a  b"),
        (7, "COPY", "x y"),
    ]


def test_dockerfile_must_resolve_inside_the_context(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM base\n")
    (context / "sub").mkdir()
    outside = tmp_path / "secret.txt"
    outside.write_text("FROM secret\n")
    (context / "Linked").symlink_to(outside)
    (context / "sub" / "Inner").symlink_to(context / "Dockerfile")
    assert check_build(context, None, DEFAULT) == (context / "Dockerfile").resolve()
    assert check_build(context, "sub/Inner", DEFAULT) == (context / "Dockerfile").resolve()
    for name in ("/etc/passwd", "../../etc/passwd", "../secret.txt", str(outside), "Linked", "sub/../../secret.txt"):
        with pytest.raises(ValidationError, match="must be inside the build context"):
            check_build(context, name, DEFAULT)


def test_build_parameters_that_reach_the_network(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM base\n")
    with pytest.raises(UnsafeOperation, match="network_mode"):
        check_build(tmp_path, None, DEFAULT, network_mode="host")
    with pytest.raises(UnsafeOperation, match="extra_hosts"):
        check_build(tmp_path, None, DEFAULT, extra_hosts={"x": "1.2.3.4"})
    with pytest.raises(UnsafeOperation, match="BUILDKIT_SYNTAX"):
        check_build(tmp_path, None, NETWORK, buildargs={"BUILDKIT_SYNTAX": "evil/frontend"})
    check_build(tmp_path, None, DEFAULT, network_mode="default", extra_hosts=None)
    check_build(tmp_path, None, NETWORK, network_mode="host", extra_hosts=["x:1.2.3.4"])
