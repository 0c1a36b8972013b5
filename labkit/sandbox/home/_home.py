"""Where a sandbox keeps its state unless told otherwise."""
from __future__ import annotations

import os
from pathlib import Path


def default_home() -> Path:
    """`$LABKIT_HOME/sandbox`, by default `~/.labkit/sandbox`."""
    return Path(os.environ.get("LABKIT_HOME", Path.home() / ".labkit")) / "sandbox"
