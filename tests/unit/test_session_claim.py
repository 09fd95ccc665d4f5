"""tests/engine.py's claim on a test prefix: a second session with the same prefix on the same engine is
refused before its cleanup could remove the first one's objects; another prefix runs beside it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests import engine as test_engine

ROOT = Path(__file__).resolve().parents[2]
CHILD = "from tests import engine; engine.claim_prefix(); print('claimed')"


def _child(prefix: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MCPT_PREFIX": prefix}
    return subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)


def test_a_second_session_with_the_same_prefix_and_engine_is_refused() -> None:
    test_engine.claim_prefix()  # this session's claim (a second call keeps it)
    test_engine.claim_prefix()
    same = _child(test_engine.PREFIX)
    assert same.returncode != 0 and "claimed" not in same.stdout
    assert f"Another test session with MCPT_PREFIX={test_engine.PREFIX!r}" in same.stderr, same.stderr
    assert "MCPT_PREFIX=<other>-" in same.stderr
    other = _child(test_engine.PREFIX + "other-")
    assert other.returncode == 0 and other.stdout.strip() == "claimed", other.stderr
