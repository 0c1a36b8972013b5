"""`labkit` on the command line: the embedded sandbox and the workshop kit.

    labkit sandbox up|status|down|serve|dns-log      (`labkit sandbox --help`)
    labkit workshop create N|remove|list             (`labkit workshop --help`)
"""
from __future__ import annotations

import os
import sys

# Verbs that are done once main() returns: nothing runs on after them (no threads, no
# server), so the process may end without the interpreter's teardown.
_QUICK = {("sandbox", "up"), ("sandbox", "status"), ("sandbox", "down")}


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["workshop"]:
        from labkit import workshop
        return workshop.main(argv[1:])
    from labkit import sandbox
    return sandbox.main(argv, own_process)


def run() -> None:
    """The `labkit` command (and `python -m labkit`): a process of its own."""
    code = main(own_process=True)
    if tuple(sys.argv[1:3]) in _QUICK:
        # Tearing the interpreter down took 35-40 ms after `up` (the modules its certificates
        # and its check of the flags loaded), a tenth of the time `up` takes: what it had
        # to say is said and flushed, so it leaves without that.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
