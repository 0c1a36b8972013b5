"""`labkit` on the command line: today one area, the embedded sandbox.

    labkit sandbox up|status|down|serve|dns-log      (`labkit sandbox --help`)
"""
from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    from labkit import sandbox
    return sandbox.main(argv)
