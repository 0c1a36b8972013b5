"""`labkit` on the command line: run and inspect the embedded sandbox.

    labkit sandbox up [--seed N] [--pod-cidr CIDR] [--service-cidr CIDR] [--nodes N] [--max-pods N]
                      [--port N] [--json]
    labkit sandbox status [--json]
    labkit sandbox down [--grace SECONDS]
    labkit sandbox serve            (foreground)
    labkit sandbox dns-log [--json]

Expected failures (bad flags, an unusable home, a port in use, a second server on one
home) print one line on stderr and exit 1 (2 for bad usage), never a traceback.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line, not argparse's usage block: `labkit sandbox up: error: ...`, exit 2."""
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="labkit", description="The course's library and embedded cluster.")
    sub = p.add_subparsers(dest="area", required=True, parser_class=_Parser)
    sb = sub.add_parser("sandbox", help="the embedded cluster on 127.0.0.1")
    verbs = sb.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    for verb, text in (("up", "start in the background and wait until it answers"),
                       ("serve", "run in the foreground")):
        v = verbs.add_parser(verb, help=text)
        v.add_argument("--seed", type=int)
        v.add_argument("--pod-cidr")
        v.add_argument("--service-cidr")
        v.add_argument("--cluster-domain")
        v.add_argument("--nodes", type=int, help="how many nodes (default 3: a control plane and 2 workers)")
        v.add_argument("--max-pods", type=int, help="the kubelet's maxPods on every node (default 110)")
        v.add_argument("--port", type=int, default=0, help="API port (default: the last one, else any free)")
        v.add_argument("--dns-port", type=int, default=0)
        v.add_argument("--json", action="store_true")
    st = verbs.add_parser("status", help="where the running sandbox answers")
    st.add_argument("--json", action="store_true")
    down = verbs.add_parser("down", help="stop the background sandbox; returns once its process is gone")
    down.add_argument("--grace", type=float, default=10.0,
                      help="seconds to wait after SIGTERM before SIGKILL (default 10)")
    log = verbs.add_parser("dns-log", help="the cluster DNS query log")
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def _home() -> Path:
    from .home._home import default_home
    return default_home()


def _config_from(args, home: Path):
    from ._config import SandboxConfig
    from .home._process import SandboxError
    saved = home / "config.json"
    try:
        base = SandboxConfig.from_dict(json.loads(saved.read_text())) if saved.exists() else SandboxConfig()
    except (ValueError, TypeError, AttributeError) as e:
        raise SandboxError(f"{saved} is not a sandbox configuration ({e}); remove it to use the defaults") from e
    values = base.to_dict()
    for flag, field in (("seed", "seed"), ("pod_cidr", "pod_cidr"), ("service_cidr", "service_cidr"),
                        ("cluster_domain", "cluster_domain")):
        if getattr(args, flag) is not None:
            values[field] = getattr(args, flag)
    if args.nodes is not None:
        if not 1 <= args.nodes <= 250:
            raise SandboxError(f"--nodes must be between 1 and 250, not {args.nodes}")
        values["nodes"] = SandboxConfig.node_names(args.nodes)
    if args.max_pods is not None:
        if not 1 <= args.max_pods <= 100000:
            raise SandboxError(f"--max-pods must be between 1 and 100000, not {args.max_pods}")
        values["max_pods"] = args.max_pods
    config = SandboxConfig.from_dict(values)
    try:
        config.pod_network, config.service_network
    except ValueError as e:
        raise SandboxError(f"bad network: {e}") from e
    return config


def main(argv: list[str] | None = None, own_process: bool = False) -> int:
    """The command line; `own_process` when the process is this command's alone (`up` may
    then fork it rather than start another interpreter)."""
    args = _parser().parse_args(argv)
    return _reported(lambda: _main(args, own_process))


def _reported(run) -> int:
    """run()'s exit code; an expected failure is one line on stderr and exit 1."""
    from .home._process import SandboxError
    try:
        return run()
    except SandboxError as e:
        print(f"labkit: {e}", file=sys.stderr)
    except OSError as e:        # an unusable home: not a directory, no permission, a full disk
        where = f": {e.filename}" if e.filename else ""
        print(f"labkit: {e.strerror or e}{where}", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    return 1


def _main(args, own_process: bool = False) -> int:
    home = _home()
    from .home import _process
    if args.verb == "up":
        # A running sandbox is reported as it is: its configuration is not rewritten under it.
        status = _process.read_status(home)
        if status is None:
            # The server starts first and reads the flags as this process would (it writes the
            # configuration, under the home's lock); this process checks them meanwhile, to
            # report a bad one itself while the server's modules load.
            forwarded = ["--port", str(args.port), "--dns-port", str(args.dns_port)]
            for flag in ("seed", "pod_cidr", "service_cidr", "cluster_domain", "nodes", "max_pods"):
                if getattr(args, flag) is not None:
                    forwarded += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
            # In a process of its own, the server is a fork of it: it starts with the modules
            # loaded here, and runs what `serve` would with the same flags.
            serve = (lambda: _reported(lambda: _serve(args, home))) if own_process else None
            status = _process.start_background(home, forwarded, check=lambda: _config_from(args, home), serve=serve)
        print(json.dumps(status) if args.json else
              f"sandbox answering at {status['server']}\nkubeconfig: {status['kubeconfig']}\n"
              f"  export KUBECONFIG={status['kubeconfig']}")
        return 0
    if args.verb == "serve":
        return _serve(args, home)
    if args.verb == "status":
        status = _process.read_status(home)
        if status is None:
            print("null" if args.json else "no sandbox is running", file=sys.stdout if args.json else sys.stderr)
            return 1
        print(json.dumps(status) if args.json else
              f"server: {status['server']}\nkubeconfig: {status['kubeconfig']}\n"
              f"dns: {status['dns']}\npid: {status['pid']}\nhome: {status['home']}")
        return 0
    if args.verb == "down":
        outcome = _process.stop_background(home, grace=args.grace)
        print({"stopped": "sandbox stopped", "none": "no sandbox was running",
               "killed": f"sandbox killed after {args.grace:g} s"}[outcome])
        return 0
    if args.verb == "dns-log":
        return _dns_log(home, args.json)
    return 2


def _serve(args, home: Path) -> int:
    import gc
    config = _config_from(args, home)
    # What start-up makes (modules, classes, the bootstrap's objects) lives as long as the
    # process: the collector's hundred passes over it while it loads (35 ms of a start) would
    # free nothing but some 2000 objects of import-time garbage. It waits until all of it is
    # frozen, out of its sight (the garbage with it), and is back on if start-up fails.
    gc.disable()
    try:
        import asyncio
        import signal
        from ._sandbox import Sandbox
        from .home import _process

        sandbox = Sandbox(home=home, config=config, port=args.port, dns_port=args.dns_port)

        async def run() -> None:
            await sandbox.astart()      # HomeBusy when another server holds the home
            # No full pass scans start-up's objects again, either (one took 46 ms just after
            # start-up, while the first requests waited).
            gc.freeze()
            gc.enable()
            _process.write_status(sandbox)
            print(f"sandbox answering at {sandbox.server}; kubeconfig {sandbox.kubeconfig}", flush=True)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
            _process.clear_status(home)     # while the lock is held: never another server's status
            await sandbox.astop()

        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(run())
        except BaseException:
            loop.close()
            raise
    finally:
        gc.enable()
    # The state is on disk and the home unlocked. Leave now rather than join worker threads
    # still running a command in a pod (an exec of `sleep 50` would hold the exit that long).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _dns_log(home: Path, as_json: bool) -> int:
    from .home import _process
    import urllib.request
    status = _process.read_status(home)
    if status is None:
        print("no sandbox is running", file=sys.stderr)
        return 1
    token = (home / "token").read_text().strip()
    req = urllib.request.Request(status["server"] + "/labkit/v1/dns-log",
                                 headers={"Authorization": f"Bearer {token}"})
    from .home._tls import client_context
    with urllib.request.urlopen(req, timeout=5, context=client_context(home / "pki" / "ca.crt")) as resp:
        entries = json.loads(resp.read())
    for e in entries:
        if as_json:
            print(json.dumps(e))
        else:
            client = e.get("client") or {}
            who = f"{client.get('namespace')}/{client.get('pod')}" if client else "-"
            print(f"{e['time']}  {who:30} {e['transport']:3} {e['qtype']:5} {e['qname']:50} {e['rcode']:8} "
                  f"{' '.join(e.get('answers') or [])}")
    return 0
