"""curl 7.88 and wget (BusyBox 1.35, GNU) over the simulated network.

Names resolve through the pod's resolver (real DNS to the sandbox server); the TCP
connection and the HTTP exchange are simulated by ctx.network. Waits for a
connection that never comes really elapse, bounded by -m / --connect-timeout /
-T and by the exec deadline. Timings shown (-w %{time_total}, progress meter)
are the network's seeded values, so a notebook prints the same numbers each run.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from .._context import tool
from .._network import ConnectError
from .._resolver import is_address
from ._netcommon import resolver, wait

CURL_VERSION = "7.88.1"
METER_HEAD = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
              "                                 Dload  Upload   Total   Spent    Left  Speed\n")


@dataclass
class _Target:
    scheme: str
    host: str
    port: int
    path: str


def _parse_url(url: str) -> _Target | None:
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(parts.scheme, parts.hostname, port, path)


def _max5(n: int) -> str:
    """lib/progress.c max5data()."""
    if n < 100000:
        return f"{n:5d}"
    if n < 10000 * 1024:
        return f"{n // 1024:4d}k"
    if n < 100 * 1024 * 1024:
        return f"{n // 1048576:2d}.{(n % 1048576) // (1048576 // 10)}M"
    return f"{n // 1048576:4d}M"


def _time2str(seconds: int) -> str:
    if seconds <= 0:
        return "--:--:--"
    h, rest = divmod(seconds, 3600)
    return f"{h:2d}:{rest // 60:02d}:{rest % 60:02d}"


def _meter_line(total: int, received: int, speed: int, spent_s: int, known: bool) -> str:
    expected = total if known else received
    pct_total = received * 100 // expected if expected else 0
    pct_dl = received * 100 // total if known and total else 0
    return (f"\r{pct_total:3d} {_max5(expected)}  {pct_dl:3d} {_max5(received)}  "
            f"{0:3d} {_max5(0)}  {_max5(speed)}  {_max5(0)} --:--:-- {_time2str(spent_s)} "
            f"--:--:-- {_max5(speed)}")


class _Curl:
    def __init__(self) -> None:
        self.head = self.silent = self.show_error = self.verbose = self.include = False
        self.fail = False
        self.output: str | None = None
        self.write_out: str | None = None
        self.max_time = self.connect_timeout = 0.0
        self.resolve: dict[tuple[str, int], str] = {}
        self.headers: list[str] = []
        self.method: str | None = None
        self.url: str | None = None


def _parse_curl(argv: list[str]) -> _Curl | str:
    c = _Curl()
    args = list(argv[1:])
    takes = {"-o", "--output", "-w", "--write-out", "-m", "--max-time", "--connect-timeout",
             "--resolve", "-H", "--header", "-X", "--request", "-A", "--user-agent"}
    i = 0
    while i < len(args):
        a = args[i]
        value = None
        if a in takes:
            if i + 1 >= len(args):
                return f"option {a}: requires parameter"
            value = args[i + 1]
            i += 1
        elif a.startswith("--") and "=" in a:
            a, value = a.split("=", 1)
        elif a.startswith("-") and not a.startswith("--") and len(a) > 2 and a[1] in "owmHXA":
            a, value = a[:2], a[2:]
        if a in ("-I", "--head"):
            c.head = True
        elif a in ("-s", "--silent"):
            c.silent = True
        elif a in ("-S", "--show-error"):
            c.show_error = True
        elif a in ("-v", "--verbose"):
            c.verbose = True
        elif a in ("-i", "--include"):
            c.include = True
        elif a in ("-f", "--fail"):
            c.fail = True
        elif a in ("-o", "--output"):
            c.output = value
        elif a in ("-w", "--write-out"):
            c.write_out = value
        elif a in ("-m", "--max-time"):
            c.max_time = float(value)
        elif a == "--connect-timeout":
            c.connect_timeout = float(value)
        elif a == "--resolve":
            host, port, addr = value.split(":", 2)
            c.resolve[(host.lower(), int(port))] = addr.strip("[]")
        elif a in ("-H", "--header"):
            c.headers.append(value)
        elif a in ("-X", "--request"):
            c.method = value
        elif a in ("-A", "--user-agent", "-L", "--location", "-k", "--insecure", "-4",
                   "--http1.1", "-N", "--no-buffer", "--compressed"):
            pass
        elif a.startswith("-") and len(a) > 2 and not a.startswith("--") and \
                all(ch in "sSIivfLk4N" for ch in a[1:]):
            # Bundled short flags such as -sS or -sI.
            args[i + 1:i + 1] = [f"-{ch}" for ch in a[1:]]
        elif a.startswith("-") and a != "-":
            return f"option {a}: is unknown"
        else:
            c.url = a
        i += 1
    if c.url is None:
        return "no URL specified"
    return c


def _write_out(fmt: str, values: dict[str, str]) -> str:
    fmt = fmt.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
    return re.sub(r"%\{([a-z_]+)\}", lambda m: values.get(m.group(1), ""), fmt)


@tool("curl")
def curl(ctx, argv: list[str]) -> int:
    c = _parse_curl(argv)
    if isinstance(c, str):
        ctx.stderr.write(f"curl: {c}\ncurl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    err = ctx.stderr
    meter = not c.silent          # stdout is a pipe in an exec: curl shows its meter on stderr
    values = {"http_code": "000", "response_code": "000", "remote_ip": "", "remote_port": "",
              "num_connects": "0", "size_download": "0", "time_namelookup": "0.000000",
              "time_connect": "0.000000", "time_total": "0.000000", "url_effective": c.url,
              "content_type": "", "size_header": "0"}
    target = _parse_url(c.url)

    if target is None:
        scheme = c.url.split("://", 1)[0]
        return _fail(ctx, c, values, False, 1,
                     f'Protocol "{scheme}" not supported or disabled in libcurl')
    if meter:
        err.write(METER_HEAD + _meter_line(0, 0, 0, 0, False))
    # Name lookup.
    network = ctx.network
    lookup_us = 0
    if (target.host.lower(), target.port) in c.resolve:
        ip = c.resolve[(target.host.lower(), target.port)]
    else:
        found = resolver(ctx).getaddrinfo(target.host)
        lookup_us = sum(network.jitter(120, 400) for _ in found.queries)
        ipv4 = [a for a in found.addresses if ":" not in a]
        if not found.ok or not ipv4:
            return _fail(ctx, c, values, meter, 6, f"Could not resolve host: {target.host}")
        ip = ipv4[0]
    values["time_namelookup"] = f"{lookup_us / 1e6:.6f}"
    if c.verbose:
        err.write(f"*   Trying {ip}:{target.port}...\n")
    limit = min(t for t in (c.connect_timeout, c.max_time, 1e9) if t > 0)
    try:
        conn = network.connect(ctx.pod, ip, target.port)
        if target.scheme == "https":
            raise ConnectError("refused", conn.rtt_us)   # the hello images serve plain HTTP only
    except ConnectError as exc:
        values["remote_ip"], values["remote_port"] = ip, str(target.port)
        if exc.kind == "refused":
            spent = (lookup_us + exc.rtt_us) // 1000
            return _fail(ctx, c, values, meter, 7, f"Failed to connect to {target.host} port "
                         f"{target.port} after {spent} ms: Couldn't connect to server")
        waited = wait(ctx, limit)
        spent = int(limit * 1000) + network.jitter(0, 3) if waited and limit < 1e9 else \
            int(limit * 1000)
        if c.verbose:
            err.write(f"* Connection timed out after {spent} milliseconds\n")
        return _fail(ctx, c, values, meter, 28, f"Failed to connect to {target.host} port "
                     f"{target.port} after {spent} ms: Timeout was reached", spent * 1000)
    connect_us = lookup_us + conn.rtt_us
    values.update(remote_ip=ip, remote_port=str(target.port), num_connects="1",
                  time_connect=f"{connect_us / 1e6:.6f}")
    method = c.method or ("HEAD" if c.head else "GET")
    host_header = target.host if target.port == 80 else f"{target.host}:{target.port}"
    request = [f"{method} {target.path} HTTP/1.1", f"Host: {host_header}",
               f"User-Agent: curl/{CURL_VERSION}", "Accept: */*"]
    for h in c.headers:
        key = h.split(":", 1)[0].strip().lower()
        request = [r for r in request if r.split(":", 1)[0].lower() != key] + [h]
    if c.verbose:
        err.write(f"* Connected to {target.host} ({ip}) port {target.port} (#0)\n")
        err.write("".join(f"> {line}\r\n" for line in request) + "> \r\n")
    agent = next((h.split(":", 1)[1].strip() for h in request if h.lower().startswith("user-agent:")), "-")
    response = network.http(conn, method, target.path, ctx.clock.now(),
                             client=f"{ctx.pod_ip}:{network.jitter(32768, 60999)}", user_agent=agent)
    total_us = connect_us + network.rtt_us(ctx.pod, ip) + network.jitter(40, 160)
    head_lines = [f"HTTP/1.1 {response.status} {response.reason}"] + [
        f"{k}: {v}" for k, v in response.headers]
    head_text = "".join(line + "\r\n" for line in head_lines) + "\r\n"
    if c.verbose:
        err.write("".join(f"< {line}\r\n" for line in head_lines) + "< \r\n")
    body = response.body
    out = ""
    if c.head or c.include:
        out += head_text
    if not c.head:
        out += body.decode(errors="replace")
    if c.output and c.output != "-":
        if c.output != "/dev/null":
            ctx.files[c.output] = out
    else:
        ctx.stdout.write(out)
    length = response.header("Content-Length")
    known = length is not None
    total = int(length) if known else len(body)
    received = len(body)
    speed = int(received * 1_000_000 / total_us) if total_us else 0
    if c.verbose and body:
        err.write(f"{{ [{len(body)} bytes data]\n")
    if meter:
        err.write(_meter_line(total, received, speed, total_us // 1_000_000, known) + "\n")
    if c.verbose:
        err.write(f"* Connection #0 to host {target.host} left intact\n")
    values.update(http_code=f"{response.status:03d}", response_code=str(response.status),
                  size_download=str(received), time_total=f"{total_us / 1e6:.6f}",
                  content_type=response.header("Content-Type") or "",
                  size_header=str(len(head_text)))
    if c.write_out is not None:
        ctx.stdout.write(_write_out(c.write_out, values))
    return 0


def _fail(ctx, c: _Curl, values: dict, meter: bool, code: int, message: str,
          spent_us: int = 0) -> int:
    if meter and spent_us:
        ctx.stderr.write(_meter_line(0, 0, 0, spent_us // 1_000_000, False))
    if meter:
        ctx.stderr.write("\n" if c.verbose else "")
    if c.verbose:
        ctx.stderr.write("* Closing connection 0\n")
    if not c.silent or c.show_error:
        ctx.stderr.write(f"curl: ({code}) {message}\n")
    values["time_total"] = f"{spent_us / 1e6:.6f}"
    if c.write_out is not None:
        ctx.stdout.write(_write_out(c.write_out, values))
    return code


# -- wget ---------------------------------------------------------------------------

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
        err.write("BusyBox v1.35.0 multi-call binary.\n\nUsage: wget [-cqS] [--spider] "
                  "[-O FILE] [-o LOGFILE] [--header STR]\n\t[--post-data STR | --post-file FILE] "
                  "[-Y on/off]\n\t[-P DIR] [-U AGENT] [-T SEC] URL...\n")
        return 1
    target = _parse_url(url)
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
        if exc.kind == "refused":
            err.write(f"wget: can't connect to remote host ({ip}): Connection refused\n")
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
