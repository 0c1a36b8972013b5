"""The system and process commands: hostname, env, printenv, sleep, date, id, whoami,
uname, which."""
from __future__ import annotations

import contextlib
import datetime as dt
import re
import time

from .._context import ToolContext, tool
from .._images import tool_path
from ._coreutils import _busybox


def _hosts_lookup(ctx: ToolContext, name: str) -> list[list[str]]:
    """Lines of /etc/hosts (as field lists) naming `name`."""
    found = []
    for line in ctx.files.get("/etc/hosts", "").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and name in fields[1:]:
            found.append(fields)
    return found


@tool("hostname")
def hostname(ctx: ToolContext, argv: list[str]) -> int:
    name = ctx.files.get("/etc/hostname", "").strip() or ctx.env.get("HOSTNAME", "")
    opts = "".join(a[1:] for a in argv[1:] if a.startswith("-") and not a.startswith("--"))
    longs = [a for a in argv[1:] if a.startswith("--")]
    if "i" in opts or "--ip-address" in longs:
        entries = [f[0] for f in _hosts_lookup(ctx, name) if ":" not in f[0]]
        if not entries:
            ctx.stderr.write("hostname: Name or service not known\n" if not _busybox(ctx) else
                             f"hostname: {name}: Unknown host\n")
            return 1
        # Both GNU and BusyBox print each address followed by a space.
        ctx.stdout.write("".join(f"{ip} " for ip in dict.fromkeys(entries)) + "\n")
        return 0
    if "f" in opts or "--fqdn" in longs or "--long" in longs:
        entries = _hosts_lookup(ctx, name)
        ctx.stdout.write((entries[0][1] if entries else name) + "\n")
        return 0
    if "s" in opts or "--short" in longs:
        ctx.stdout.write(name.split(".", 1)[0] + "\n")
        return 0
    if "d" in opts or "--domain" in longs:
        entries = _hosts_lookup(ctx, name)
        fqdn = entries[0][1] if entries else name
        ctx.stdout.write((fqdn.split(".", 1)[1] if "." in fqdn else "") + "\n")
        return 0
    if argv[1:]:
        ctx.stderr.write("hostname: you must be root to change the host name\n")
        return 1
    ctx.stdout.write(name + "\n")
    return 0


@tool("env")
def env(ctx: ToolContext, argv: list[str]) -> int:
    if len(argv) > 1 and not argv[1].startswith("-") and "=" not in argv[1]:
        ctx.stderr.write(f"env: '{argv[1]}': No such file or directory\n" if not _busybox(ctx) else
                         f"env: can't execute '{argv[1]}': No such file or directory\n")
        return 127
    ctx.stdout.write("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
    return 0


@tool("printenv")
def printenv(ctx: ToolContext, argv: list[str]) -> int:
    names = argv[1:]
    if not names:
        ctx.stdout.write("".join(f"{k}={v}\n" for k, v in ctx.env.items()))
        return 0
    code = 0
    for name in names:
        if name in ctx.env:
            ctx.stdout.write(ctx.env[name] + "\n")
        else:
            code = 1
    return code


@tool("sleep")
def sleep(ctx: ToolContext, argv: list[str]) -> int:
    """Real time passes (run() blocks a worker thread, never the server's loop), bounded by
    the exec's deadline; advancing the sandbox clock ends a sleep early."""
    total = 0.0
    for arg in argv[1:]:
        m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)", arg)
        if not m:
            if _busybox(ctx):
                ctx.stderr.write(f"sleep: invalid number '{arg}'\n")
            else:
                ctx.stderr.write(f"sleep: invalid time interval '{arg}'\n"
                                 "Try 'sleep --help' for more information.\n")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    if len(argv) < 2:
        ctx.stderr.write("sleep: missing operand\nTry 'sleep --help' for more information.\n"
                         if not _busybox(ctx) else "BusyBox: sleep: missing operand\n")
        return 1
    end = ctx.clock.monotonic() + total
    with ctx.turn.waiting() if ctx.turn is not None else contextlib.nullcontext():
        while True:                         # waiting, it leaves the interpreter to others
            now = ctx.clock.monotonic()
            if now >= ctx.deadline:
                from ..shell.errors import Timeout
                raise Timeout()
            if now >= end:
                return 0
            time.sleep(min(end - now, ctx.deadline - now, 0.05))


@tool("date")
def date(ctx: ToolContext, argv: list[str]) -> int:
    now = dt.datetime.fromtimestamp(ctx.clock.time(), dt.timezone.utc)
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "%a %b %e %H:%M:%S %Z %Y")
    fmt = fmt.replace("%s", str(int(ctx.clock.time()))).replace("%N", f"{now.microsecond * 1000:09d}")
    fmt = fmt.replace("%e", f"{now.day:2d}").replace("%Z", "UTC")
    ctx.stdout.write(now.strftime(fmt) + "\n")
    return 0


@tool("id")
def id_(ctx: ToolContext, argv: list[str]) -> int:
    from .._images import normalize
    image, _ = normalize(ctx.image.ref)
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-"))
    if "u" in flags:
        ctx.stdout.write("root\n" if "n" in flags else "0\n")
        return 0
    if "g" in flags:
        ctx.stdout.write("root\n" if "n" in flags else "0\n")
        return 0
    groups = "0(root)"
    if image == "busybox":
        groups += ",10(wheel)"
    elif ctx.image.libc == "musl":
        groups += (",1(bin),2(daemon),3(sys),4(adm),6(disk),10(wheel),11(floppy),20(dialout),"
                   "26(tape),27(video)")
    ctx.stdout.write(f"uid=0(root) gid=0(root) groups={groups}\n")
    return 0


@tool("whoami")
def whoami(ctx: ToolContext, argv: list[str]) -> int:
    ctx.stdout.write("root\n")
    return 0


@tool("uname")
def uname(ctx: ToolContext, argv: list[str]) -> int:
    node = ctx.files.get("/etc/hostname", "").strip()
    release, version = "6.8.0-45-generic", "#45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024"
    flags = "".join(a[1:] for a in argv[1:] if a.startswith("-")) or "s"
    if "a" in flags:
        tail = "Linux" if _busybox(ctx) else "GNU/Linux"
        ctx.stdout.write(f"Linux {node} {release} {version} x86_64 {tail}\n")
        return 0
    fields = {"s": "Linux", "n": node, "r": release, "v": version, "m": "x86_64",
              "o": "Linux" if _busybox(ctx) else "GNU/Linux"}
    ctx.stdout.write(" ".join(fields[f] for f in "snrvmo" if f in flags) + "\n")
    return 0


@tool("which")
def which(ctx: ToolContext, argv: list[str]) -> int:
    code = 0
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        if name in ctx.image.tools:
            ctx.stdout.write(tool_path(ctx.image, name) + "\n")
        else:
            code = 1
    return code
