"""`labkit` on the command line: run and inspect the embedded sandbox.

    labkit sandbox up [--seed N] [--pod-cidr CIDR] [--service-cidr CIDR] [--port N] [--json]
    labkit sandbox status [--json]
    labkit sandbox down
    labkit sandbox serve            (foreground)
    labkit sandbox dns-log [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="labkit", description="The course's library and embedded cluster.")
    sub = p.add_subparsers(dest="area", required=True)
    sb = sub.add_parser("sandbox", help="the embedded cluster on 127.0.0.1")
    verbs = sb.add_subparsers(dest="verb", required=True)
    for verb, text in (("up", "start in the background and wait until it answers"),
                       ("serve", "run in the foreground")):
        v = verbs.add_parser(verb, help=text)
        v.add_argument("--seed", type=int)
        v.add_argument("--pod-cidr")
        v.add_argument("--service-cidr")
        v.add_argument("--cluster-domain")
        v.add_argument("--port", type=int, default=0, help="API port (default: the last one, else any free)")
        v.add_argument("--dns-port", type=int, default=0)
        v.add_argument("--json", action="store_true")
    st = verbs.add_parser("status", help="where the running sandbox answers")
    st.add_argument("--json", action="store_true")
    verbs.add_parser("down", help="stop the background sandbox")
    log = verbs.add_parser("dns-log", help="the cluster DNS query log")
    log.add_argument("--json", action="store_true", help="one JSON object per line")
    return p


def _home() -> Path:
    from labkit.sandbox import default_home
    return default_home()


def _config_from(args, home: Path):
    from labkit.sandbox import SandboxConfig
    saved = home / "config.json"
    base = SandboxConfig.from_dict(json.loads(saved.read_text())) if saved.exists() else SandboxConfig()
    values = base.to_dict()
    for flag, field in (("seed", "seed"), ("pod_cidr", "pod_cidr"), ("service_cidr", "service_cidr"),
                        ("cluster_domain", "cluster_domain")):
        if getattr(args, flag) is not None:
            values[field] = getattr(args, flag)
    return SandboxConfig.from_dict(values)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    home = _home()
    from labkit.sandbox import _process
    if args.verb == "up":
        config = _config_from(args, home)
        home.mkdir(parents=True, exist_ok=True)
        (home / "config.json").write_text(json.dumps(config.to_dict(), indent=1))
        forwarded = ["--port", str(args.port), "--dns-port", str(args.dns_port)]
        status = _process.start_background(home, forwarded)
        print(json.dumps(status) if args.json else
              f"sandbox answering at {status['server']}\nkubeconfig: {status['kubeconfig']}\n"
              f"  export KUBECONFIG={status['kubeconfig']}")
        return 0
    if args.verb == "serve":
        return _serve(_config_from(args, home), home, args.port, args.dns_port)
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
        stopped = _process.stop_background(home)
        print("sandbox stopped" if stopped else "no sandbox was running")
        return 0
    if args.verb == "dns-log":
        return _dns_log(home, args.json)
    return 2


def _serve(config, home: Path, port: int, dns_port: int) -> int:
    import asyncio
    import signal
    from labkit.sandbox import Sandbox
    from labkit.sandbox import _process

    sandbox = Sandbox(home=home, config=config, port=port, dns_port=dns_port)

    async def run() -> None:
        await sandbox.astart()
        _process.write_status(sandbox)
        print(f"sandbox answering at {sandbox.server}; kubeconfig {sandbox.kubeconfig}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        await sandbox.astop()
        _process.clear_status(home)

    asyncio.run(run())
    return 0


def _dns_log(home: Path, as_json: bool) -> int:
    from labkit.sandbox import _process
    import urllib.request
    status = _process.read_status(home)
    if status is None:
        print("no sandbox is running", file=sys.stderr)
        return 1
    token = (home / "token").read_text().strip()
    req = urllib.request.Request(status["server"] + "/labkit/v1/dns-log",
                                 headers={"Authorization": f"Bearer {token}"})
    from labkit.sandbox._tls import client_context
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
