"""The embedded cluster: store, registry, controllers, API server and DNS in one loop.

`Sandbox` runs them on an asyncio loop in a background thread (tests, notebooks)
or in the foreground (`labkit sandbox serve`). It binds 127.0.0.1 only, requires
its bearer token, writes a kubeconfig, and keeps its state under its home so a
restart finds every object, name and IP as it was. A write is answered only once it
is on disk (see _journal), and only one server at a time serves a home (see _process).
"""
from __future__ import annotations

import asyncio
import base64
import json
import secrets
import socket
import threading
from pathlib import Path

from aiohttp import web

from . import _bootstrap, _bootstrap_policy
from .apiserver import _edge
from .home import _files, _process, _tls
from .home._home import default_home
from .apiserver._server import ApiServer
from ._clock import Clock
from ._config import SandboxConfig
from .controllers._manager import Controllers
from ._dnsclients import DnsClientRegistry
from .home._faultlog import RateLimit, sandbox_logger
from .registry._registry import Registry
from .apis._resources import by_plural
from .auth._tokens import TokenSigner, issuer_for
from .storage._store import Store

# Answers to any other method (a write, or an exec that may write) wait for the disk.
READ_ONLY = frozenset({"GET", "HEAD", "OPTIONS"})


class Sandbox:
    """An emulated Kubernetes cluster on loopback.

    >>> with Sandbox(home=tmp_path) as sb:
    ...     client = kubernetes.config.new_client_from_config(str(sb.kubeconfig))
    """

    def __init__(self, home: str | Path | None = None, config: SandboxConfig | None = None,
                 *, port: int = 0, dns_port: int = 0, persist: bool = True) -> None:
        self.home = _files.ensure_home(Path(home) if home else default_home())
        saved = self.home / "config.json"
        if config is None and saved.exists():
            config = SandboxConfig.from_dict(json.loads(saved.read_text()))
        self.config = config or SandboxConfig()
        self.port, self.dns_port = port, dns_port
        self.clock = Clock()
        self.store = Store(self.clock, self.config.seed, self.home / "state.json" if persist else None)
        self.store.quota_bytes = self.config.quota_bytes
        self.registry = Registry(self.store, self.config)
        self.dns_clients = DnsClientRegistry()
        self.token = self._token()
        self.kubeconfig = self.home / "kubeconfig"
        self._signer: TokenSigner | None = None
        self.server = ""
        self._dns = None                # the DNS server, loaded on first need (see dns._port)
        self._dns_port = None
        self._dns_lock = threading.Lock()
        self._network = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._lock: _process.HomeLock | None = None
        # Unexpected errors of the API and DNS servers go to home/sandbox.log (see _faultlog).
        self.logger, self._log_handler = None, None

    # --- lifecycle -----------------------------------------------------------------
    def __enter__(self) -> "Sandbox":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        """Start in a background thread; returns once the API and DNS answer."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.astart())
            except BaseException as e:  # report start-up errors to the caller
                failure.append(e)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.astop())
            # Streams still open (a `logs -f`, a watch) end with the loop.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.close()

        self._thread = threading.Thread(target=main, name="labkit-sandbox", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            raise failure[0]

    def stop(self) -> None:
        if self._loop and self._thread:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._thread = None

    async def astart(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Before touching any state file: a second server on one home would corrupt it.
        self._lock = _process.HomeLock(self.home)
        if self._log_handler is None:
            self.logger, self._log_handler = sandbox_logger(self.home, f"{id(self):x}")
        try:
            await self._astart_locked()
        except BaseException:
            # Undo what started, so a failed start leaves no task running and the home free.
            await self._stop_dns()
            if getattr(self, "controllers", None) is not None:
                await self.controllers.stop()
            if self._runner is not None:
                await self._runner.cleanup()
            self.store.close()
            self._lock.release()
            raise

    async def _astart_locked(self) -> None:
        _files.write_private(self.home / "config.json", json.dumps(self.config.to_dict(), indent=1))
        # The CA first: the root-CA publisher puts it into every namespace.
        self.ca_file, crt, key = _tls.ensure_certificates(self.home)
        if not self.store.load():
            for plural, obj in _bootstrap.objects(self.config):
                self.registry.create(by_plural(plural), obj["metadata"].get("namespace"), obj)
        else:
            self._report_node_versions()
            self._ensure_policy()
        self.controllers = Controllers(self.store, self.registry, self.config,
                                       root_ca=self.ca_file.read_text())
        self.controllers.runner = self.run_in_pod
        self.controllers.start()
        self.api = ApiServer(self)
        self.api.app.on_response_prepare.append(self._durable_before_answer)
        # aiohttp logs each malformed request with a traceback: to the sandbox's log, rate-limited.
        http_log = self.logger.getChild("http")
        if not http_log.filters:
            http_log.addFilter(RateLimit())
        self._runner = web.AppRunner(self.api.app, access_log=None, handle_signals=False, shutdown_timeout=0.5,
                                     logger=http_log, keepalive_timeout=_edge.HEADER_SECONDS,
                                     # kube-apiserver reads a gzip-encoded body as it comes, never inflated.
                                     auto_decompress=False)
        await self._runner.setup()
        sock = _bind("127.0.0.1", self.port) if self.port else \
            _bind("127.0.0.1", self._previous_port(), fallback=True)
        site = web.SockSite(self._runner, sock, ssl_context=_tls.server_context(crt, key))
        await site.start()
        self.port = sock.getsockname()[1]
        self.server = f"https://127.0.0.1:{self.port}"
        await self._start_dns()
        self._write_kubeconfig()

    def _ensure_policy(self) -> None:
        """The default roles and bindings, put back if missing, as kube-apiserver's
        rbac/bootstrap-roles post-start hook does on every start (a home from before RBAC too)."""
        for plural, obj in _bootstrap_policy.objects():
            resource = by_plural(plural)
            if self.store.get_resource(resource, None, obj["metadata"]["name"]) is None:
                self.registry.create(resource, None, obj)

    def token_signer(self) -> TokenSigner:
        """The ServiceAccount token signer; its key (home/pki/sa.key) is made on first need."""
        if self._signer is None:
            key = _tls.ensure_service_account_key(self.home)
            self._signer = TokenSigner(key.read_bytes(), issuer_for(self.config.cluster_domain))
        return self._signer

    def _report_node_versions(self) -> None:
        """Restored nodes report this release's kubelet, as restarted kubelets post their nodeInfo."""
        nodes = by_plural("nodes")
        for plural, obj in _bootstrap.objects(self.config):
            if plural != "nodes":
                continue
            name, info = obj["metadata"]["name"], obj["status"]["nodeInfo"]
            current = self.store.get_resource(nodes, None, name)
            if current is not None and current.get("status", {}).get("nodeInfo") != info:
                self.store.mutate(nodes, None, name,
                                  lambda node, info=info: node.setdefault("status", {}).update(nodeInfo=info))

    async def astop(self) -> None:
        try:
            await self._stop_dns()
            await self.controllers.stop()
            if self._runner is not None:
                await self._runner.cleanup()
            self.store.close()          # a snapshot, so the next start replays nothing
        except Exception:
            self.logger.exception("stopping the sandbox failed")
            raise
        finally:
            # Whatever failed above, the home is free again for the next server.
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            if self._log_handler is not None:
                self.logger.removeHandler(self._log_handler)
                self._log_handler.close()
                self._log_handler = None

    async def _durable_before_answer(self, request: web.Request, response: web.StreamResponse) -> None:
        """Hold every answer to a write until the store's changes so far are on disk:
        an acknowledged write survives a crash (aiohttp calls this before sending headers)."""
        if request.method not in READ_ONLY:
            await self.store.durable()

    async def _start_dns(self) -> None:
        """Bind the DNS port; the server loads on first need (dns._port), which for a
        cluster restored with its CoreDNS pods running is now."""
        from .dns._port import DnsPort
        self._dns_port = DnsPort("127.0.0.1", self.dns_port, self._loop, self._load_dns)
        self.store.add_listener(self._tell_dns)
        if any(_coredns_started(pod) for pod in self.store.list("pods", "kube-system")):
            self._load_dns()

    def _load_dns(self):
        """The DNS server, loaded and serving the bound port (once, from any thread)."""
        with self._dns_lock:
            if self._dns is None and self._dns_port is not None:
                from .dns import DnsServer
                server = DnsServer(self.store, self.config, self.clock, clients=self.dns_clients,
                                   host="127.0.0.1", port=self.dns_port, logger=self.logger)
                server.serve(*self._dns_port.release(), self._loop)
                self._dns = server
            return self._dns

    def _load_dns_for(self, coredns_pod: dict) -> None:
        server = self._load_dns()
        if server is not None:
            server.observe_pod(coredns_pod)

    async def _stop_dns(self) -> None:
        with self._dns_lock:        # a load under way finishes first; none starts after
            server, port = self._dns, self._dns_port
            self._dns = self._dns_port = None
        if server is not None:
            await server.stop()
        elif port is not None:
            port.close()

    @property
    def dns(self):
        """The DNS server (dns.DnsServer), loaded now if it was not yet; None when stopped."""
        return self._load_dns()

    def _tell_dns(self, event) -> None:
        """CoreDNS pods starting and the coredns ConfigMap changing reach the DNS server
        right after the change (not inside the store's lock: the DNS threads read the
        store under their own locks). The first CoreDNS pod to start loads the server."""
        obj, plural = event.object, event.resource.plural
        meta = obj.get("metadata") or {}
        if meta.get("namespace") != "kube-system" or self._loop is None:
            return
        if self._dns is None:
            if plural == "pods" and event.type != "DELETED" and _coredns_started(obj):
                # On a thread: the loop goes on answering while the server's modules load.
                # The server reads the Corefile and the pods as it loads; this pod may have
                # started after that read, by a load under way (observe_pod is once per pod).
                threading.Thread(target=self._load_dns_for, args=(obj,), name="labkit-dns-load",
                                 daemon=True).start()
            return
        if plural == "configmaps" and meta.get("name") == "coredns":
            self._loop.call_soon(self._dns.sync_corefile)
        elif plural == "pods" and event.type != "DELETED":
            self._loop.call_soon(self._dns.observe_pod, obj)
        elif plural == "pods":
            self._loop.call_soon(self._dns.coredns_logs.forget, meta["namespace"], meta["name"])

    @property
    def dns_address(self) -> tuple[str, int] | None:
        return self._dns_port.address if self._dns_port is not None else None

    # --- files ---------------------------------------------------------------------
    def _token(self) -> str:
        return _files.create_once(self.home / "token", secrets.token_urlsafe(32)).decode().strip()

    def _previous_port(self) -> int:
        try:
            return int((self.home / "port").read_text())
        except (OSError, ValueError):
            return 0

    def _write_kubeconfig(self) -> None:
        _files.write_private(self.home / "port", str(self.port))
        ca_data = base64.b64encode(self.ca_file.read_bytes()).decode()
        _files.write_private(self.kubeconfig, kubeconfig_text(self.server, ca_data, self.token))

    # --- what the API server asks of the sandbox -----------------------------------
    @property
    def network(self):
        """The simulated pod network, shared by every exec (created on first use)."""
        if self._network is None:
            from .runtime._network import Network
            self._network = Network(self.store, self.config, clock=self.clock)
        return self._network

    def pod_environment(self, pod: dict, container: str | None):
        """What a command in the pod's container sees (runtime.PodEnvironment): built here
        alone, for exec, attach and the commands the kubelet runs."""
        from .runtime import PodEnvironment
        return PodEnvironment.build(pod, container, config=self.config, cluster=self.store, clock=self.clock,
                                    dns_address=self.dns_address, dns_clients=self.dns_clients,
                                    network=self.network, timeout=self.config.exec_timeout_seconds,
                                    services_at_start=self.controllers.kubelet.services_at_start(pod))

    def run_in_pod(self, pod: dict, container: str, argv: list[str], stdin="", **streamed):
        """runtime.run in the pod; `streamed` carries on_output, tty and interrupt (exec -i)."""
        from . import runtime
        return runtime.run(self.pod_environment(pod, container), argv, stdin=stdin, **streamed)

    def attach_target(self, pod: dict, container: str):
        """What `pods/attach` joins: (argv, interrupt, log, start) of a container whose shell
        waits on its stdin, or None (see controllers._pod_containers)."""
        found = self.controllers.kubelet.containers.attached(pod, container)
        if found is None:
            return None
        interrupt, log, attempt = found
        from .controllers._containers import plan
        spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
        return plan(spec).argv, interrupt, log, attempt

    def container_log(self, pod: dict, container: str):
        """The log of a container whose command the kubelet runs (None for a server)."""
        return self.controllers.kubelet.containers.log(pod, container)

    def container_process_ended(self, pod: dict, container: str, attempt: int, code: int) -> None:
        self.controllers.kubelet.containers.process_ended(pod, container, attempt, code)

    def pod_logs(self, pod: dict, container: str) -> list[str]:
        """What the container wrote: CoreDNS's own log (see dns/_podlog), or for nginx
        images the start-up output, then the requests it served."""
        return [line for _, line in self.pod_log_position(pod, container)[0]]

    def pod_log_position(self, pod: dict, container: str,
                         previous: bool = False) -> tuple[list[tuple[float, str]], int]:
        """(the kept lines with when each was written, how many lines the container ever
        wrote): `logs -f` sends what came after the count it saw, also once old lines were
        rotated away; `logs --timestamps` prints the times. A container whose command the
        kubelet ran logs what it printed; `previous`: the start before this one (None when
        there was none)."""
        import datetime as dt
        from .runtime._images import startup_log
        kubelet = getattr(getattr(self, "controllers", None), "kubelet", None)
        ran = kubelet.containers.log(pod, container, previous) if kubelet is not None else None
        if previous:
            return ran.snapshot() if ran is not None else None
        if ran is not None:
            return ran.snapshot()
        spec = next(c for c in pod["spec"]["containers"] if c["name"] == container)
        started = (pod.get("status") or {}).get("startTime")
        if not started:
            return [], 0
        if "coredns" in (spec.get("image") or "") and self.dns is not None:   # nginx's log loads no DNS
            coredns = self.dns.pod_log(dict(pod, spec=dict(pod["spec"], containers=[spec])))
            if coredns is not None:
                return coredns
        moment = dt.datetime.strptime(started, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
        meta = pod["metadata"]
        served = self.network.access_log.get((meta["namespace"], meta["name"]), [])
        entries = [(moment.timestamp(), line) for line in startup_log(spec["image"], moment)] + list(served)
        return entries, len(entries)

    def call(self, fn, *args):
        """Run fn(*args) on the sandbox's loop and return its result (thread-safe)."""
        async def invoke():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result()

    def advance_clock(self, seconds: float) -> None:
        """Move the sandbox's clock forward (DNS cache expiry, ages) without waiting."""
        self.clock.advance(seconds)
        if getattr(self, "controllers", None) is not None:
            self.controllers.clock_moved()


def _bind(host: str, port: int, *, fallback: bool = False) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        if not fallback:             # a port asked for explicitly: say so rather than pick another
            sock.close()
            raise _process.SandboxError(f"cannot listen on {host}:{port}: {e.strerror}") from None
        sock.bind((host, 0))         # the previous port is taken: any free one will do
    sock.listen(128)
    sock.setblocking(False)
    return sock



def kubeconfig_text(server: str, ca_data: str, token: str) -> str:
    """The kubeconfig in yaml.safe_dump's layout, written without loading a YAML library at
    every start. Each value is a JSON string, which YAML reads back as the same string
    whatever it holds (a token of digits, one starting with "-")."""
    q = json.dumps
    return (f"apiVersion: v1\nkind: Config\npreferences: {{}}\nclusters:\n"
            f"- name: labkit-sandbox\n  cluster:\n    server: {q(server)}\n"
            f"    certificate-authority-data: {q(ca_data)}\n"
            f"users:\n- name: labkit-learner\n  user:\n    token: {q(token)}\n"
            f"contexts:\n- name: labkit-sandbox\n  context:\n    cluster: labkit-sandbox\n"
            f"    user: labkit-learner\n    namespace: default\ncurrent-context: labkit-sandbox\n")


def _coredns_started(pod: dict) -> bool:
    """A pod with a CoreDNS image that the kubelet has started (its startTime is set)."""
    return bool((pod.get("status") or {}).get("startTime")) and any(
        "coredns" in (c.get("image") or "") for c in (pod.get("spec") or {}).get("containers") or ())
