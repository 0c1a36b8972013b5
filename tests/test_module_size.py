"""No module of labkit (client, core or sandbox) over 600 lines (issue 10's bound): a module
that large holds more than one responsibility and is split by them instead."""
from __future__ import annotations

from pathlib import Path

import pytest

LABKIT = Path(__file__).resolve().parent.parent / "labkit"
LIMIT = 600
MODULES = sorted(LABKIT.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(LABKIT)) for p in MODULES])
def test_module_is_at_most_600_lines(path):
    lines = len(path.read_text().splitlines())
    assert lines <= LIMIT, f"{path.relative_to(LABKIT.parent)} has {lines} lines: split it by responsibility"
