"""curl over the simulated network, in the wording of the image's curl (_curl_wording:
7.29 on CentOS 7, 7.88 on Debian, 8.x on Alpine).

Names resolve through the pod's resolver (real DNS to the sandbox server); the TCP
connection and the HTTP exchange are simulated by ctx.network. Waits for a
connection that never comes really elapse, bounded by -m / --connect-timeout /
-T and by the exec deadline. Timings shown (-w %{time_total}, progress meter)
are the network's seeded values, so a notebook prints the same numbers each run.
"""
from __future__ import annotations

import re

from .._context import tool
from .._images import tool_version
from .._network import ConnectError
from ._curl_wording import Wording
from ._netcommon import resolver, wait
from ._url import parse_url

METER_HEAD = ("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
              "                                 Dload  Upload   Total   Spent    Left  Speed\n")


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
        self.agent: str | None = None
        self.globoff = self.version = False
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
        elif a in ("-A", "--user-agent"):
            c.agent = value
        elif a in ("-g", "--globoff"):
            c.globoff = True
        elif a in ("-V", "--version"):
            c.version = True
        elif a in ("-L", "--location", "-k", "--insecure", "-4", "--http1.1", "-N",
                   "--no-buffer", "--compressed"):
            pass
        elif a.startswith("-") and len(a) > 2 and not a.startswith("--") and \
                all(ch in "sSIivfLk4NgV" for ch in a[1:]):
            # Bundled short flags such as -sS or -sI.
            args[i + 1:i + 1] = [f"-{ch}" for ch in a[1:]]
        elif a.startswith("-") and a != "-":
            return f"option {a}: is unknown"
        else:
            c.url = a
        i += 1
    if c.url is None and not c.version:
        return "no URL specified"
    return c


def _write_out(fmt: str, values: dict[str, str]) -> str:
    fmt = fmt.replace("\\n", "\n").replace("\\t", "\t").replace("\\r", "\r")
    return re.sub(r"%\{([a-z_]+)\}", lambda m: values.get(m.group(1), ""), fmt)


@tool("curl")
def curl(ctx, argv: list[str]) -> int:
    wording = Wording(tool_version(ctx.image.ref, "curl"))
    c = _parse_curl(argv)
    if isinstance(c, str):
        ctx.stderr.write(f"curl: {c}\ncurl: try 'curl --help' or 'curl --manual' for more information\n")
        return 2
    if c.version:
        ctx.stdout.write(wording.version_text())
        return 0
    err = ctx.stderr
    meter = not c.silent          # stdout is a pipe in an exec: curl shows its meter on stderr
    values = {"http_code": "000", "response_code": "000", "remote_ip": "", "remote_port": "",
              "num_connects": "0", "size_download": "0", "time_namelookup": "0.000000",
              "time_connect": "0.000000", "time_total": "0.000000", "url_effective": c.url,
              "content_type": "", "size_header": "0"}
    glob = None if c.globoff else wording.glob_error(c.url)
    if glob is not None:
        # src/tool_urlglob.c glob_url(): "curl: (%d) [globbing] %s\n" of a message that ends
        # in its own newline; shown unless -s without -S.
        if not c.silent or c.show_error:
            err.write(f"curl: (3) [globbing] {glob}\n")
        return 3
    target = parse_url(c.url)
    if target is None:
        scheme = c.url.split("://", 1)[0]
        return _fail(ctx, c, values, False, 1, wording.unsupported(scheme))
    if meter:
        err.write(METER_HEAD + _meter_line(0, 0, 0, 0, False))
    # Name lookup.
    network = ctx.network
    lookup_us = 0
    if (target.host.lower(), target.port) in c.resolve:
        ip = c.resolve[(target.host.lower(), target.port)]
    elif target.ipv6:
        ip = target.host                  # a literal: nothing to resolve
    else:
        found = resolver(ctx).getaddrinfo(target.host)
        # A reply lost to the conntrack race (runtime/_parallel.py) adds the resolver's wait.
        lookup_us = sum(network.jitter(120, 400) for q in found.queries if not q.dropped) \
            + int(found.stalled * 1e6)
        limit = min(t for t in (c.connect_timeout, c.max_time, 1e9) if t > 0)
        if found.stalled and lookup_us > limit * 1e6:
            # -m/--connect-timeout cut the resolver's wait short: lib/multi.c multi_runsingle()
            # in the resolving state, "Resolving timed out after %ld milliseconds", code 28.
            ctx.waited -= found.stalled - limit
            spent_us = int(limit * 1e6) + network.jitter(0, 2000)
            values["time_namelookup"] = "0.000000"
            return _fail(ctx, c, values, meter, 28,
                         f"Resolving timed out after {spent_us // 1000} milliseconds", spent_us)
        ipv4 = [a for a in found.addresses if ":" not in a]
        if not found.ok or not ipv4:
            return _fail(ctx, c, values, meter, 6, wording.unresolved(target.host))
        ip = ipv4[0]
    values["time_namelookup"] = f"{lookup_us / 1e6:.6f}"
    if c.verbose:
        err.write(wording.trying(target.host, ip, target.port))
    limit = min(t for t in (c.connect_timeout, c.max_time, 1e9) if t > 0)
    try:
        conn = network.connect(ctx.pod, ip, target.port)
        if target.scheme == "https" and conn.server != "outside":
            raise ConnectError("refused", conn.rtt_us)   # the hello images serve plain HTTP only
    except ConnectError as exc:
        values["remote_ip"], values["remote_port"] = ip, str(target.port)
        if exc.kind in ("refused", "unreachable"):
            spent = (lookup_us + exc.rtt_us) // 1000
            message = wording.connect_failed(target.host, target.port, spent, exc.kind)
            if c.verbose:
                err.write(wording.refused_trace(message, exc.kind))
            return _fail(ctx, c, values, meter, 7, message)
        waited = wait(ctx, limit)
        spent = int(limit * 1000) + network.jitter(0, 3) if waited and limit < 1e9 else \
            int(limit * 1000)
        if c.verbose:
            err.write(f"* Connection timed out after {spent} milliseconds\n")
        return _fail(ctx, c, values, meter, 28, wording.connect_timeout(target.host, target.port, spent),
                     spent * 1000)
    connect_us = lookup_us + conn.rtt_us
    if target.scheme == "https" and not network.certificate_names(conn, target.host):
        # The certificate names the outside host; curl checks it against the URL's host,
        # which for an ExternalName Service is the Service's name.
        values.update(remote_ip=ip, remote_port=str(target.port), num_connects="1")
        code, message = wording.cert_name_mismatch(target.host)
        if c.verbose:
            err.write(f"* Connected to {target.host} ({ip}) port {target.port} (#0)\n")
        return _fail(ctx, c, values, meter, code, message, after=wording.cert_help())
    values.update(remote_ip=ip, remote_port=str(target.port), num_connects="1",
                  time_connect=f"{connect_us / 1e6:.6f}")
    method = c.method or ("HEAD" if c.head else "GET")
    host_header = target.authority if target.port == 80 else f"{target.authority}:{target.port}"
    request = wording.request_headers(method, target.path, host_header,
                                      c.agent if c.agent is not None else f"curl/{wording.version}")
    for h in c.headers:
        key = h.split(":", 1)[0].strip().lower()
        request = [r for r in request if r.split(":", 1)[0].lower() != key] + [h]
    if c.verbose:
        err.write(f"* Connected to {target.host} ({ip}) port {target.port} (#0)\n")
        err.write("".join(f"> {line}\r\n" for line in request) + "> \r\n")
    agent = next((h.split(":", 1)[1].strip() for h in request if h.lower().startswith("user-agent:")), "-")
    host_sent = next((h.split(":", 1)[1].strip() for h in request if h.lower().startswith("host:")), "")
    response = network.http(conn, method, target.path, ctx.clock.now(), host=host_sent,
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
        err.write(wording.data_in(len(body)))
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
          spent_us: int = 0, after: str = "") -> int:
    if meter and spent_us:
        ctx.stderr.write(_meter_line(0, 0, 0, spent_us // 1_000_000, False))
    if meter:
        ctx.stderr.write("\n" if c.verbose else "")
    if c.verbose:
        ctx.stderr.write("* Closing connection 0\n")
    if not c.silent or c.show_error:
        ctx.stderr.write(f"curl: ({code}) {message}\n{after}")
    values["time_total"] = f"{spent_us / 1e6:.6f}"
    if c.write_out is not None:
        ctx.stdout.write(_write_out(c.write_out, values))
    return code
