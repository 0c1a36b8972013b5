"""BusyBox's wget (networking/wget.c) over the simulated network; the usage banner carries
the image's BusyBox version."""
from __future__ import annotations

from .._context import tool
from .._images import tool_version
from .._network import ConnectError
from .._resolver import is_address
from ._netcommon import resolver, wait
from ._url import parse_url


@tool("wget")
def wget(ctx, argv: list[str]) -> int:
    quiet = server_response = False
    output: str | None = None
    timeout = 900.0
    url = None
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("-O", "--output-document") and i + 1 < len(args):
            output = args[i + 1]
            i += 1
        elif a.startswith("-O") and len(a) > 2:
            output = a[2:]
        elif a in ("-T", "--timeout") and i + 1 < len(args):
            timeout = float(args[i + 1])
            i += 1
        elif a.startswith("--timeout="):
            timeout = float(a.split("=", 1)[1])
        elif a in ("-q", "--quiet"):
            quiet = True
        elif a in ("-S", "--server-response"):
            server_response = True
        elif a.startswith("-") and len(a) > 2 and not a.startswith("--"):
            for ch in a[1:]:
                if ch == "q":
                    quiet = True
                elif ch == "S":
                    server_response = True
                elif ch == "O":
                    if a.endswith("O") and i + 1 < len(args):
                        output = args[i + 1]
                        i += 1
                    else:
                        output = a[a.index("O") + 1:]
                    break
        else:
            url = a
        i += 1
    err = ctx.stderr
    if url is None:
        err.write(f"BusyBox v{tool_version(ctx.image.ref, 'busybox')} multi-call binary.\n\n"
                  "Usage: wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n"
                  "\t[--post-data STR | --post-file FILE] [-Y on/off]\n"
                  "\t[-P DIR] [-U AGENT] [-T SEC] URL...\n")
        return 1
    target = parse_url(url)
    if target is None:
        err.write(f"wget: not an http or ftp url: {url}\n")
        return 1
    if is_address(target.host):
        ip = target.host
    else:
        found = resolver(ctx).getaddrinfo(target.host)
        ipv4 = [a for a in found.addresses if ":" not in a]
        if not found.ok or not ipv4:
            err.write(f"wget: bad address '{target.host}'\n")
            return 1
        ip = ipv4[0]
    if not quiet:
        err.write(f"Connecting to {target.host}{'' if target.port == 80 else ':' + str(target.port)} "
                  f"({ip}:{target.port})\n")
    try:
        conn = ctx.network.connect(ctx.pod, ip, target.port)
    except ConnectError as exc:
        if exc.kind in ("refused", "unreachable"):
            reason = "Connection refused" if exc.kind == "refused" else "Network is unreachable"
            err.write(f"wget: can't connect to remote host ({ip}): {reason}\n")
        else:
            wait(ctx, timeout)
            err.write("wget: download timed out\n")
        return 1
    response = ctx.network.http(conn, "GET", target.path, ctx.clock.now(),
                                client=f"{ctx.pod_ip}:{ctx.network.jitter(32768, 60999)}", user_agent="Wget")
    if server_response:
        err.write(f"  HTTP/1.1 {response.status} {response.reason}\n" +
                  "".join(f"  {k}: {v}\n" for k, v in response.headers))
    body = response.body.decode(errors="replace")
    name = output or (target.path.rstrip("/").rsplit("/", 1)[-1] or "index.html")
    if output == "-":
        if not quiet:
            err.write("writing to stdout\n")
        ctx.stdout.write(body)
        if not quiet:
            err.write(f"-                    100% |********************************|  "
                      f"{len(body):>3}  0:00:00 ETA\nwritten to stdout\n")
        return 0
    if name in ctx.files and output is None:
        err.write(f"wget: can't open '{name}': File exists\n")
        return 1
    ctx.files[name if name.startswith("/") else name] = body
    if not quiet:
        err.write(f"saving to '{name}'\n{name:<20} 100% |********************************|  "
                  f"{len(body):>3}  0:00:00 ETA\n'{name}' saved\n")
    return 0
