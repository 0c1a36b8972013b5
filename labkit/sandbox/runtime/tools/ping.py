"""ping: iputils (20221126 as Debian ships it, CentOS 7's 20160308) and BusyBox's applet,
over the simulated network.

Without -c, ping runs until interrupted; an exec has no terminal to interrupt it, so
here it stops at the exec deadline and prints its statistics as after Ctrl-C.
Intervals and reply waits are simulated (they count against that deadline); round-trip
times and the statistics' `time` are the network's seeded values.
"""
from __future__ import annotations

import struct

from .._context import tool
from .._images import tool_version
from .._resolver import is_address
from ._netcommon import UsageError, getopt, resolver, wait

LINGER_SECONDS = 10.0        # iputils waits this long for outstanding replies (MAXWAIT)
# iputils s20160308 ping_common.c usage(): printed, with exit 2, when no destination is given.
_USAGE_2016 = ("Usage: ping [-aAbBdDfhLnOqrRUvV] [-c count] [-i interval] [-I interface]\n"
               "            [-m mark] [-M pmtudisc_option] [-l preload] [-p pattern] [-Q tos]\n"
               "            [-s packetsize] [-S sndbuf] [-t ttl] [-T timestamp_option]\n"
               "            [-w deadline] [-W timeout] [hop1 ...] destination\n")


def _float32_g(value: float) -> str:
    """iputils prints the loss as (float) ... with %g."""
    return "%g" % struct.unpack("f", struct.pack("f", value))[0]


def _iputils_time(us: int, rounded: bool = True) -> str:
    # ping_common.c gather_statistics(): fewer decimals as the time grows; s20160308 cuts
    # the digits off (triptime/1000, (triptime%1000)/100...), later releases round.
    if not rounded:
        if us >= 100000:
            return f"{us // 1000}"
        if us >= 10000:
            return f"{us // 1000}.{(us % 1000) // 100}"
        if us >= 1000:
            return f"{us // 1000}.{(us % 1000) // 10:02d}"
        return f"{us // 1000}.{us % 1000:03d}"
    if us >= 100000 - 50:
        return f"{(us + 500) // 1000}"
    if us >= 10000 - 5:
        return f"{(us + 50) // 1000}.{((us + 50) % 1000) // 100}"
    if us >= 1000:
        return f"{(us + 5) // 1000}.{((us + 5) % 1000) // 10:02d}"
    return f"{us // 1000}.{us % 1000:03d}"


def _isqrt(value: int) -> int:
    return int(max(value, 0) ** 0.5)


@tool("ping")
def ping(ctx, argv: list[str]) -> int:
    if ctx.image.busybox:
        return _busybox_ping(ctx, argv)
    try:
        opts, rest = getopt(argv[1:], "cWiwstI", "qn46vDOaU")
        count = int(opts["c"][-1]) if "c" in opts else 0
        interval = float(opts["i"][-1]) if "i" in opts else 1.0
        linger = float(opts["W"][-1]) if "W" in opts else LINGER_SECONDS
        deadline = float(opts["w"][-1]) if "w" in opts else 0.0
        size = int(opts["s"][-1]) if "s" in opts else 56
    except UsageError as exc:
        ctx.stderr.write(f"ping: {exc}\n")
        return 2
    except ValueError as exc:
        ctx.stderr.write(f"ping: invalid argument: '{str(exc).split(': ')[-1].strip(chr(39))}'\n")
        return 1
    legacy = tool_version(ctx.image.ref, "iputils") == "20160308"
    if not rest:
        if legacy:
            ctx.stderr.write(_USAGE_2016)
            return 2
        ctx.stderr.write("ping: usage error: Destination address required\n")
        return 1
    target = rest[-1]
    quiet, numeric = "q" in opts, "n" in opts or is_address(target)
    res = resolver(ctx)
    # s20160308 ping.c resolves with gethostbyname2(AF_INET): A queries only, and one
    # message for every failure; later releases use getaddrinfo and gai_strerror.
    found = res.getaddrinfo(target, family="inet" if legacy else "unspec")
    ipv4 = [a for a in found.addresses if ":" not in a]
    if not found.ok or not ipv4:
        if legacy:
            ctx.stderr.write(f"ping: unknown host {target}\n")
        else:
            ctx.stderr.write(f"ping: {target}: {res.message(found.error or 'EAI_NODATA')}\n")
        return 2
    ip = ipv4[0]
    hostname = found.canonical if found.source != "numeric" else target
    ctx.stdout.write(f"PING {hostname} ({ip}) {size}({size + 28}) bytes of data.\n")
    shown: str | None = None
    rtts: list[int] = []
    sent, elapsed_ms = 0, 0
    start = ctx.clock.monotonic() + ctx.waited
    if deadline:
        ctx.deadline = min(ctx.deadline, start + deadline)
    while True:
        sent += 1
        echo = ctx.network.ping(ctx.pod, ip)
        if echo is not None:
            rtts.append(echo.rtt_us)
            if not quiet:
                if shown is None:
                    name = None if numeric else res.reverse(ip)[0]
                    shown = ip if numeric else f"{name or ip} ({ip})"
                ctx.stdout.write(f"{size + 8} bytes from {shown}: icmp_seq={sent} ttl={echo.ttl} "
                                 f"time={_iputils_time(echo.rtt_us, not legacy)} ms\n")
        if count and sent >= count:
            break
        if not wait(ctx, interval):
            break
        elapsed_ms += int(interval * 1000) + ctx.network.jitter(1, 20)
    if echo is None and (not count or sent >= count):
        wait(ctx, linger if count else 0)
    if rtts and echo is not None:
        elapsed_ms += rtts[-1] // 1000
    received = len(rtts)
    loss = (sent - received) * 100.0 / sent
    ctx.stdout.write(f"\n--- {hostname} ping statistics ---\n"
                     f"{sent} packets transmitted, {received} received, "
                     f"{_float32_g(loss)}% packet loss, time {elapsed_ms}ms\n")
    if received:
        tsum, tsum2 = sum(rtts), sum(r * r for r in rtts)
        avg = tsum // received
        mdev = _isqrt((tsum2 - (tsum * tsum) // received) // received)
        ctx.stdout.write("rtt min/avg/max/mdev = " + "/".join(
            f"{v // 1000}.{v % 1000:03d}" for v in (min(rtts), avg, max(rtts), mdev)) + " ms")
    ctx.stdout.write("\n")
    return 0 if received else 1


def _busybox_ping(ctx, argv: list[str]) -> int:
    try:
        opts, rest = getopt(argv[1:], "cWwsItip", "qn46")
        count = int(opts["c"][-1]) if "c" in opts else 0
        linger = float(opts["W"][-1]) if "W" in opts else 10.0
        size = int(opts["s"][-1]) if "s" in opts else 56
        interval = float(opts["i"][-1]) if "i" in opts else 1.0
    except (UsageError, ValueError) as exc:
        ctx.stderr.write(f"ping: {exc}\n")
        return 1
    if len(rest) != 1:
        ctx.stderr.write(f"BusyBox v{tool_version(ctx.image.ref, 'busybox')} multi-call binary.\n\n"
                         "Usage: ping [OPTIONS] HOST\n")
        return 1
    target = rest[0]
    found = resolver(ctx).getaddrinfo(target)
    ipv4 = [a for a in found.addresses if ":" not in a]
    if not found.ok or not ipv4:
        ctx.stderr.write(f"ping: bad address '{target}'\n")
        return 1
    ip = ipv4[0]
    ctx.stdout.write(f"PING {target} ({ip}): {size} data bytes\n")
    rtts: list[int] = []
    sent = 0
    echo = None
    while True:
        echo = ctx.network.ping(ctx.pod, ip)
        if echo is not None:
            rtts.append(echo.rtt_us)
            if "q" not in opts:
                ctx.stdout.write(f"{size + 8} bytes from {ip}: seq={sent} ttl={echo.ttl} "
                                 f"time={echo.rtt_us // 1000}.{echo.rtt_us % 1000:03d} ms\n")
        sent += 1
        if count and sent >= count:
            break
        if not wait(ctx, interval):
            break
    if echo is None and count and sent >= count:
        wait(ctx, linger)
    received = len(rtts)
    ctx.stdout.write(f"\n--- {target} ping statistics ---\n"
                     f"{sent} packets transmitted, {received} packets received, "
                     f"{(sent - received) * 100 // sent}% packet loss\n")
    if received:
        avg = sum(rtts) // received
        ctx.stdout.write("round-trip min/avg/max = " + "/".join(
            f"{v // 1000}.{v % 1000:03d}" for v in (min(rtts), avg, max(rtts))) + " ms\n")
    return 0 if received else 1
