"""getent (glibc nss/getent.c, 2.36 recorded; CentOS 7's 2.17 prints the same for these):
hosts, ahosts, ahostsv4, ahostsv6, passwd, group."""
from __future__ import annotations

from .._context import tool
from .._resolver import StubResolver, is_address


def _hosts(ctx, res: StubResolver, key: str) -> bool:
    if is_address(key):
        # gethostbyaddr: files, then PTR.
        name, _ = res.reverse(key)
        if name is None:
            return False
        ctx.stdout.write(f"{key:<15} {name}\n")
        return True
    found = res.gethostbyname(key)
    if not found.ok:
        return False
    for address in found.addresses:
        # print_hosts(): "%-15s %s" per address, with h_name.
        ctx.stdout.write(f"{address:<15} {found.canonical}\n")
    return True


def _ahosts(ctx, res: StubResolver, key: str, family: str) -> bool:
    # AI_ADDRCONFIG: an IPv4-only pod does not ask for AAAA.
    found = res.getaddrinfo(key, family=family, addrconfig=True)
    if not found.ok:
        return False
    canonical = found.canonical if found.source != "numeric" else key
    first = True
    for address in found.addresses:
        for socktype in ("STREAM", "DGRAM", "RAW"):
            ctx.stdout.write(f"{address:<15} {socktype:<6} {canonical if first else ''}\n")
            first = False
    return True


def _files_db(ctx, path: str, keys: list[str], by_number_field: int) -> int:
    lines = [l for l in ctx.files.get(path, "").splitlines() if l and not l.startswith("#")]
    if not keys:
        ctx.stdout.write("".join(l + "\n" for l in lines))
        return 0
    status = 0
    for key in keys:
        match = [l for l in lines if l.split(":")[0] == key
                 or (key.isdigit() and len(l.split(":")) > by_number_field
                     and l.split(":")[by_number_field] == key)]
        if match:
            ctx.stdout.write(match[0] + "\n")
        else:
            status = 2
    return status


@tool("getent")
def getent(ctx, argv: list[str]) -> int:
    args = [a for a in argv[1:] if not a.startswith("-")]
    if not args:
        ctx.stderr.write("getent: wrong number of arguments\n"
                         "Try `getent --help' or `getent --usage' for more information.\n")
        return 1
    db, keys = args[0], args[1:]
    if db in ("passwd", "group"):
        return _files_db(ctx, f"/etc/{db}", keys, 2)
    if db not in ("hosts", "ahosts", "ahostsv4", "ahostsv6"):
        ctx.stderr.write(f"Unknown database: {db}\n"
                         "Try `getent --help' or `getent --usage' for more information.\n")
        return 1
    res = StubResolver(ctx)
    if not keys:
        # Enumerating hosts lists /etc/hosts only (DNS has no enumeration).
        for address, names in res.hosts:
            ctx.stdout.write(f"{address:<15} {' '.join(names)}\n")
        return 0
    status = 0
    for key in keys:
        if db == "hosts":
            ok = _hosts(ctx, res, key)
        else:
            family = {"ahosts": "unspec", "ahostsv4": "inet", "ahostsv6": "inet6"}[db]
            ok = _ahosts(ctx, res, key, family)
        if not ok:
            status = 2
    return status
