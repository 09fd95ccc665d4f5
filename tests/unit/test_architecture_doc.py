"""docs/ARCHITECTURE.md's module map names every module under src/mcp_docker (so it cannot go stale)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "mcp_docker"


def test_every_module_is_in_the_module_map() -> None:
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    table = text[text.index("## Module map") :]
    table = table[: table.index("\n## ", 1)]
    modules = sorted(
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if p.name != "__init__.py" or p.parent.name in ("tools", "resources", "prompts")
    )
    missing = [m for m in modules if f"`{m}`" not in table]
    assert missing == [], f"add these modules to the module map in docs/ARCHITECTURE.md: {missing}"
    # and the map names no module that is gone
    named = {
        part.strip("`")
        for line in table.splitlines()
        if line.startswith("| `")
        for part in line.split("|")[1].split(",")
    }
    gone = sorted(n for n in (x.strip().strip("`") for x in named) if n.endswith(".py") and not (PACKAGE / n).exists())
    assert gone == [], f"the module map names modules that do not exist: {gone}"
