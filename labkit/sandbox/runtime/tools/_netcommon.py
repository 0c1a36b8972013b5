"""Helpers shared by the network tools: option parsing, waiting, the resolver."""
from __future__ import annotations

import time

from .._resolver import StubResolver


class UsageError(Exception):
    pass


def getopt(argv: list[str], with_arg: str, flags: str) -> tuple[dict[str, list[str]], list[str]]:
    """POSIX-style short options (`-c3`, `-qc 3`); options may follow operands, as GNU getopt allows."""
    opts: dict[str, list[str]] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i + 1:])
            break
        if arg.startswith("-") and len(arg) > 1:
            j = 1
            while j < len(arg):
                ch = arg[j]
                if ch in with_arg:
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        if i >= len(argv):
                            raise UsageError(f"option requires an argument -- '{ch}'")
                        value = argv[i]
                    opts.setdefault(ch, []).append(value)
                    break
                if ch in flags:
                    opts.setdefault(ch, []).append("")
                    j += 1
                    continue
                raise UsageError(f"invalid option -- '{ch}'")
        else:
            rest.append(arg)
        i += 1
    return opts, rest


def wait(ctx, seconds: float) -> bool:
    """Sleep for real, but never past the exec deadline; False when the deadline cut it short."""
    remaining = ctx.deadline - ctx.clock.monotonic()
    if seconds <= 0:
        return remaining > 0
    time.sleep(max(0.0, min(seconds, remaining)))
    return seconds <= remaining


def resolver(ctx) -> StubResolver:
    return StubResolver(ctx)


def src_pod(ctx) -> dict:
    return ctx.pod
