"""Helpers shared by the network tools: option parsing, waiting, the resolver."""
from __future__ import annotations


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
    """Wait as a simulated packet exchange does: the time counts against the exec's
    deadline (ctx.waited) but is not slept for real, since no real packet is in flight;
    `ping -c 3` then costs a lesson no real seconds. `sleep` in a shell still waits for real.
    False when the deadline cut the wait short."""
    remaining = ctx.deadline - ctx.clock.monotonic() - ctx.waited
    if seconds <= 0:
        return remaining > 0
    ctx.waited += max(0.0, min(seconds, remaining))
    return seconds <= remaining


def resolver(ctx) -> StubResolver:
    return StubResolver(ctx)


def src_pod(ctx) -> dict:
    return ctx.pod
