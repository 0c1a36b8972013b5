"""`labkit` on the command line: the embedded sandbox and the workshop kit.

    labkit sandbox up|status|down|serve|dns-log      (`labkit sandbox --help`)
    labkit workshop create N|remove|list             (`labkit workshop --help`)
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["workshop"]:
        from labkit import workshop
        return workshop.main(argv[1:])
    from labkit import sandbox
    return sandbox.main(argv)
