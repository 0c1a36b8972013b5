"""The name the API server's exec handler imports the exec's memory limit by; the shell's
streams and memory live in `shell.io`."""
from __future__ import annotations

from .shell.io import MEMORY_LIMIT

__all__ = ["MEMORY_LIMIT"]
