"""The sandbox's DNS against a real CoreDNS reading the same sandbox (differential test).

Runs when LABKIT_COREDNS_ORACLE names a CoreDNS binary (built with the kubernetes, cache,
loadbalance, errors and ready plugins); skipped otherwise, so a clone of the project
passes alone. The oracle runs kubeadm's Corefile on 127.0.0.1 and free ports, reading
the sandbox's API through its kubeconfig like any client-go program. Both servers get the
same questions, in the same order, over UDP and TCP; the answers must match but for the
differences named in ALLOWED, which come from how the oracle runs, not from the sandbox.
"""
from __future__ import annotations

import collections
import ipaddress
import os
import re
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.query
import dns.rcode
import dns.rdatatype
import dns.reversename
import pytest

ORACLE = os.environ.get("LABKIT_COREDNS_ORACLE", "")
pytestmark = pytest.mark.skipif(
    not (ORACLE and os.path.isfile(ORACLE) and os.access(ORACLE, os.X_OK)),
    reason="set LABKIT_COREDNS_ORACLE to a CoreDNS binary to compare the sandbox's DNS with it")

ZONE = "cluster.local."
DEADLINE = 30.0       # seconds for CoreDNS to start, sync, and catch up after a change

# What this test adds to the course's manifests: the shapes of the Kubernetes DNS
# specification (kubernetes/dns docs/specification.md) the course's lab lacks.
EXTRA = """
apiVersion: v1
kind: Namespace
metadata: {name: dnsdiff}
---
apiVersion: v1
kind: Pod
metadata: {name: api-0, namespace: dnsdiff, labels: {app: api}}
spec:
  containers:
  - name: web
    image: nginxdemos/hello:plain-text
    ports: [{name: http, containerPort: 80}, {name: dns, containerPort: 53, protocol: UDP}]
---
apiVersion: v1
kind: Pod
metadata: {name: api-1, namespace: dnsdiff, labels: {app: api}}
spec:
  containers:
  - name: web
    image: nginxdemos/hello:plain-text
    ports: [{name: http, containerPort: 80}, {name: dns, containerPort: 53, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: dnsdiff}
spec:
  selector: {app: api}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: dns, port: 53, targetPort: dns, protocol: UDP}
---
apiVersion: v1
kind: Service
metadata: {name: single, namespace: dnsdiff}
spec:
  selector: {app: api}
  ports:
  - {port: 8080, targetPort: 80}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, namespace: dnsdiff, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  containers:
  - {name: web, image: "nginxdemos/hello:plain-text", ports: [{name: pg, containerPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: dnsdiff, labels: {app: db}}
spec:
  hostname: db-1
  subdomain: db
  containers:
  - {name: web, image: "nginxdemos/hello:plain-text", ports: [{name: pg, containerPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: db-extra, namespace: dnsdiff, labels: {app: db}}
spec:
  containers:
  - {name: web, image: "nginxdemos/hello:plain-text", ports: [{name: pg, containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: dnsdiff}
spec:
  clusterIP: None
  selector: {app: db}
  ports:
  - {name: pg, port: 5432, targetPort: pg}
  - {name: admin, port: 8080, targetPort: 80}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: dnsdiff}
spec: {type: ExternalName, externalName: www.example.com}
---
apiVersion: v1
kind: Service
metadata: {name: ext-in, namespace: dnsdiff}
spec: {type: ExternalName, externalName: api.dnsdiff.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: manual, namespace: dnsdiff}
spec:
  clusterIP: None
  ports:
  - {name: web, port: 80}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: manual-1
  namespace: dnsdiff
  labels: {kubernetes.io/service-name: manual}
addressType: IPv4
ports:
- {name: web, port: 8080}
- {port: 9090}
endpoints:
- addresses: [10.10.200.5]
  hostname: m1
- addresses: [10.10.200.6]
  conditions: {ready: true}
- addresses: [10.10.200.7]
  conditions: {ready: false}
"""

# Enough ready endpoints that a UDP answer without EDNS (512 bytes) is truncated.
MANY = 40
EXTRA += f"""
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: many, namespace: dnsdiff}}
spec:
  replicas: {MANY}
  selector: {{matchLabels: {{app: many}}}}
  template:
    metadata: {{labels: {{app: many}}}}
    spec:
      containers:
      - {{name: web, image: "nginxdemos/hello:plain-text", ports: [{{name: http, containerPort: 80}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: many, namespace: dnsdiff}}
spec:
  clusterIP: None
  selector: {{app: many}}
  ports: [{{name: http, port: 80, targetPort: http}}]
"""

TYPES = ("A", "AAAA", "SRV", "PTR", "TXT", "SOA", "NS", "CNAME", "MX", "ANY")


# --- the oracle -----------------------------------------------------------------------
def _free_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 right now."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as t:
            t.bind(("127.0.0.1", 0))
            port = t.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                try:
                    u.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free port on 127.0.0.1")


def corefile(port: int, ready: int, kubeconfig: Path, context: str) -> str:
    """kubeadm's Corefile (cmd/kubeadm/app/phases/addons/dns/manifests.go) on loopback,
    without `forward` (the oracle asks nothing outside) and with `ready` on a free port."""
    return f""".:{port} {{
    bind 127.0.0.1
    errors
    ready 127.0.0.1:{ready}
    kubernetes cluster.local in-addr.arpa ip6.arpa {{
       kubeconfig {kubeconfig} {context}
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }}
    cache 30
    loadbalance
}}
"""


class Oracle:
    def __init__(self, home: Path, kubeconfig: Path, context: str) -> None:
        self.port, self.ready = _free_port(), _free_port()
        conf = home / "Corefile"
        conf.write_text(corefile(self.port, self.ready, kubeconfig, context))
        self.output = home / "coredns.log"
        self._out = open(self.output, "wb")
        self.proc = subprocess.Popen([ORACLE, "-conf", str(conf)], cwd=home,
                                     stdout=self._out, stderr=subprocess.STDOUT)

    def wait_ready(self) -> None:
        deadline = time.monotonic() + DEADLINE
        pause = 0.02
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"CoreDNS exited:\n{self.log()}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.ready}/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(pause)
            pause = min(pause * 2, 0.5)
        raise AssertionError(f"CoreDNS not ready after {DEADLINE} s:\n{self.log()}")

    def log(self) -> str:
        self._out.flush()
        return self.output.read_text(errors="replace")

    def problems(self) -> list[str]:
        """Lines that say CoreDNS failed: plugin errors, API (client-go) errors, panics.
        A name the kubernetes plugin lets fall through finds no plugin after it here (the
        oracle has no `forward`): the errors plugin logs that, and it is not a failure."""
        return [line for line in self.log().splitlines()
                if "[ERROR]" in line and "no next plugin found" not in line or "panic" in line.lower() or line.startswith("goroutine ")
                or re.match(r"[EF]\d{4} ", line)]       # klog's error and fatal lines

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()


@pytest.fixture(scope="module")
def world(lab, sandbox, tmp_path_factory):
    """The course's manifests plus EXTRA applied, and a CoreDNS reading the sandbox."""
    lab.apply(EXTRA)
    for pod in ("api-0", "api-1", "db-0", "db-1", "db-extra"):
        lab.wait("pod", pod, namespace="dnsdiff")
    lab.wait("deployment", "many", namespace="dnsdiff", timeout=60)
    oracle = Oracle(tmp_path_factory.mktemp("coredns"), sandbox.kubeconfig, "labkit-sandbox")
    try:
        oracle.wait_ready()
        yield oracle
    finally:
        oracle.stop()


# --- asking both ----------------------------------------------------------------------
class Asker:
    """Sends one question to both servers and records how the answers differ."""

    def __init__(self, oracle: Oracle, sandbox) -> None:
        self.servers = {"coredns": ("127.0.0.1", oracle.port), "sandbox": sandbox.dns_address}
        self.asked: set[tuple] = set()
        self.compared = 0
        self.allowed: collections.Counter = collections.Counter()
        self.differences: list[str] = []
        self.serials: set[tuple[int, int]] = set()
        self.truncated = 0
        self.full: dict[tuple, dict] = {}

    def query(self, name: str, rdtype: str, *, do: bool = False) -> dns.message.Message:
        q = dns.message.make_query(name, rdtype, use_edns=0 if do else None, want_dnssec=do)
        q.flags |= dns.flags.RD
        return q

    def send(self, server: str, q: dns.message.Message, tcp: bool) -> dns.message.Message:
        host, port = self.servers[server]
        if tcp:
            return dns.query.tcp(q, host, port=port, timeout=5)
        return dns.query.udp(q, host, port=port, timeout=5, ignore_trailing=True)

    def ask(self, name: str, rdtype: str, *, do: bool = False, transports=("udp", "tcp")) -> None:
        for transport in transports:
            q = self.query(name, rdtype, do=do)
            # CoreDNS's cache keys on (lowercase name, type, DO) (plugin/cache cache.go key):
            # the first answer to a key carries the plugin's TTLs, later ones count down.
            key = (name.lower().rstrip("."), rdtype, do)
            first = key not in self.asked
            self.asked.add(key)
            theirs = self.send("coredns", q, transport == "tcp")
            ours = self.send("sandbox", q, transport == "tcp")
            self.compared += 1
            label = f"{name} {rdtype}{' DO' if do else ''} ({transport})"
            self.compare(label, name, rdtype, theirs, ours, first)
            if transport == "udp":
                cut = (theirs, ours)
            elif "udp" in transports:
                for part, full in zip(cut, (theirs, ours)):
                    if part.flags & dns.flags.TC and not all(
                            _rr_set(getattr(part, k)) <= _rr_set(getattr(full, k))
                            for k in ("answer", "authority", "additional")):
                        self.differences.append(f"{label}: a truncated answer has records "
                                                f"the full one lacks")

    def compare(self, label: str, name: str, rdtype: str, theirs, ours, first: bool) -> None:
        if serials(theirs) and serials(ours):
            self.serials.add((max(serials(theirs)), max(serials(ours))))
        reason = allowed(name, rdtype, theirs, ours)
        a, b = summary(theirs), summary(ours)
        if theirs.flags & ours.flags & dns.flags.TC:
            # Truncated (miekg/dns Msg.Truncate): as many records as fit, in the order
            # loadbalance left them, so which ones differs; how many must not, and each
            # must be one of the full answer's (checked over TCP, asked next).
            for key in ("answer", "authority", "additional"):
                a[key], b[key] = len(a[key]), len(b[key])
            self.truncated += 1
        if reason is None and a != b:
            detail = [f"{k}: coredns {a[k]!r} != sandbox {b[k]!r}" for k in a if a[k] != b[k]]
            self.differences.append(f"{label}: " + "; ".join(detail))
            return
        if reason is not None:
            self.allowed[reason] += 1
            return
        ttl_a, ttl_b = ttls(theirs), ttls(ours)
        if theirs.flags & dns.flags.TC:
            ttl_a, ttl_b = ({k[0]: v for k, v in t.items()} for t in (ttl_a, ttl_b))
        slack = 0 if first else 1
        if ttl_a.keys() != ttl_b.keys() or any(abs(ttl_a[k] - ttl_b[k]) > slack for k in ttl_a):
            self.differences.append(f"{label}: TTLs coredns {ttl_a} != sandbox {ttl_b}")


def _rdata_text(rd) -> str:
    if rd.rdtype == dns.rdatatype.SOA:
        # The serial is the time of the last change each server saw; CoreDNS counts the
        # initial list of its own start (controller.go updateModified): see serials().
        return rd.replace(serial=0).to_text()
    return rd.to_text()


def _rr_set(section) -> frozenset:
    return frozenset((rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), _rdata_text(rd))
                     for rrset in section for rd in rrset)


def serials(msg: dns.message.Message) -> set[int]:
    return {rd.serial for section in (msg.answer, msg.authority) for rrset in section
            if rrset.rdtype == dns.rdatatype.SOA for rd in rrset}


def summary(msg: dns.message.Message) -> dict:
    """What must match: rcode, header flags, EDNS, the question and each section as a set
    (loadbalance shuffles; owner names compared as spelled)."""
    return {
        "rcode": dns.rcode.to_text(msg.rcode()),
        "flags": dns.flags.to_text(msg.flags),
        "question": [q.to_text() for q in msg.question],
        "edns": (msg.edns, msg.payload if msg.edns >= 0 else None,
                 dns.flags.edns_to_text(msg.ednsflags)),
        "answer": _rr_set(msg.answer),
        "authority": _rr_set(msg.authority),
        "additional": _rr_set(msg.additional),
    }


def ttls(msg: dns.message.Message) -> dict:
    return {(section, rrset.name.to_text(), rrset.rdtype): rrset.ttl
            for section, rrsets in (("answer", msg.answer), ("authority", msg.authority),
                                    ("additional", msg.additional)) for rrset in rrsets}


def in_zone(name: str) -> str | None:
    text = name.lower().rstrip(".") + "."
    for zone in (ZONE, "in-addr.arpa.", "ip6.arpa."):
        if text == zone or text.endswith("." + zone):
            return zone
    return None


def _from_cluster(msg: dns.message.Message) -> bool:
    """Whether a reply carries anything the kubernetes plugin makes (so was not relayed)."""
    for section in (msg.answer, msg.authority, msg.additional):
        for rrset in section:
            for rd in rrset:
                text = rd.to_text()
                if ".svc." + ZONE in text or ".pod." + ZONE in text or "ns.dns." in text:
                    return True
    return False


def allowed(name: str, rdtype: str, theirs, ours) -> str | None:
    """The name of the documented difference that explains a mismatch, if one does
    (/shared oracle README: what comes from how the oracle runs)."""
    zone = in_zone(name)
    servfail = theirs.rcode() == dns.rcode.SERVFAIL
    if zone is None:
        # No `forward` in the oracle: names outside the cluster zones get SERVFAIL
        # there; the sandbox relays them to its outside world.
        if servfail and not _from_cluster(ours):
            return "outside names: the oracle has no forward (SERVFAIL)"
        return None
    if zone != ZONE and servfail and not _from_cluster(ours):
        # fallthrough in-addr.arpa ip6.arpa: the plugin passes the name on; nothing follows
        # in the oracle. (The sandbox's relayed answer may carry AA: a cache hit sets it.)
        return "reverse names that fall through: the oracle has no forward (SERVFAIL)"
    lower = name.lower().rstrip(".") + "."
    if (lower == zone and rdtype == "NS") or lower == "ns.dns." + ZONE:
        # ns.go nsAddrs: the NS record names the kube-dns Service's IPs only when CoreDNS
        # runs in a pod behind it; the oracle runs beside the sandbox.
        if theirs.rcode() == ours.rcode() == dns.rcode.NOERROR and not theirs.answer:
            return "NS and ns.dns: the oracle is not behind the kube-dns Service"
    if ("ext." in lower and lower.startswith("ext.") or lower.split(".")[0] == "ext") \
            and rdtype in ("A", "AAAA"):
        # An ExternalName's outside target is resolved upstream (backend_lookup.go A:
        # k.Upstream.Lookup); the oracle has no upstream, so only the CNAME is kept.
        cname = lambda m: {rd.to_text() for r in m.answer if r.rdtype == dns.rdatatype.CNAME for rd in r}
        if cname(theirs) == cname(ours) and cname(theirs) \
                and all(r.rdtype == dns.rdatatype.CNAME for r in theirs.answer):
            return "ExternalName to an outside name: the oracle has no upstream"
    return None


# --- the questions --------------------------------------------------------------------
def cluster_names(api) -> dict:
    """Names of every kind the cluster's objects give, read from the sandbox's API."""
    from kubernetes import client
    core, disc = client.CoreV1Api(api), client.DiscoveryV1Api(api)
    services = core.list_service_for_all_namespaces().items
    pods = core.list_pod_for_all_namespaces().items
    slices = disc.list_endpoint_slice_for_all_namespaces().items
    names: dict[str, list] = {"services": [], "srv": [], "endpoints": [], "ptr": [], "pods": []}
    for svc in services:
        ns, name = svc.metadata.namespace, svc.metadata.name
        fqdn = f"{name}.{ns}.svc.{ZONE}"
        names["services"].append(fqdn)
        for p in svc.spec.ports or []:
            proto = (p.protocol or "TCP").lower()
            if p.name:
                names["srv"] += [f"_{p.name}._{proto}.{fqdn}", f"{p.name}.{proto}.{fqdn}",
                                 f"_{p.name}._{'udp' if proto == 'tcp' else 'tcp'}.{fqdn}"]
            names["srv"].append(f"_none._{proto}.{fqdn}")
        for ip in svc.spec.cluster_ips or []:
            if ip != "None":
                names["ptr"].append(dns.reversename.from_address(ip).to_text())
    for s in slices:
        svc = (s.metadata.labels or {}).get("kubernetes.io/service-name")
        for ep in s.endpoints or []:
            for ip in ep.addresses:
                label = ep.hostname or ip.replace(".", "-")
                names["endpoints"].append(f"{label}.{svc}.{s.metadata.namespace}.svc.{ZONE}")
                names["ptr"].append(dns.reversename.from_address(ip).to_text())
    for pod in pods:
        if pod.status.pod_ip:
            names["pods"].append(f"{pod.status.pod_ip.replace('.', '-')}.{pod.metadata.namespace}.pod.{ZONE}")
            names["ptr"].append(dns.reversename.from_address(pod.status.pod_ip).to_text())
    for key in names:
        names[key] = sorted(set(names[key]))
    return names


def fixed_names() -> list[str]:
    """Names that exist or fail the same way in every cluster: the zone's own names,
    missing ones, search-list expansions, literal wildcards (1.9.0 dropped wildcard
    support), reverse names, and names outside."""
    return [
        ZONE, f"svc.{ZONE}", f"pod.{ZONE}", f"default.svc.{ZONE}", f"nosuchns.svc.{ZONE}",
        f"dns-version.{ZONE}", f"ns.dns.{ZONE}", f"nosuch.{ZONE}", f"a.b.{ZONE}",
        f"missing.default.svc.{ZONE}", f"web-svc.nosuchns.svc.{ZONE}",
        f"web-svc.svc.{ZONE}", f"web-svc.{ZONE}", f"web-svc.default.default.svc.{ZONE}",
        f"web-svc.default.svc.{ZONE}default.svc.{ZONE}", f"google.com.default.svc.{ZONE}",
        f"a.b.c.web-svc.default.svc.{ZONE}", f"x.y.web-svc.default.svc.{ZONE}",
        f"*.default.svc.{ZONE}", f"web-svc.*.svc.{ZONE}", f"_http._tcp.*.default.svc.{ZONE}",
        f"*.web-svc.default.svc.{ZONE}", f"*.*.svc.{ZONE}",
        f"10-10-100-250.default.pod.{ZONE}", f"10-10-100-250.nosuchns.pod.{ZONE}",
        f"client.default.pod.{ZONE}", f"10-10-100.default.pod.{ZONE}",
        f"1-2-3-4.web-svc.default.svc.{ZONE}", f"dnsdiff.pod.{ZONE}",
        "in-addr.arpa.", "10.in-addr.arpa.", "100.10.10.in-addr.arpa.",
        "250.100.10.10.in-addr.arpa.", "254.0.0.10.in-addr.arpa.", "1.2.3.4.5.in-addr.arpa.",
        "ip6.arpa.", "example.com.", "web-svc.default.", "web-svc.",
    ]


def mixed(name: str) -> str:
    """Every other letter in upper case: a spelling the cache must echo as first asked."""
    return "".join(c.upper() if i % 2 else c for i, c in enumerate(name))


def questions(api) -> list[tuple[str, str]]:
    names = cluster_names(api)
    out: list[tuple[str, str]] = []
    # Upper-case spellings first: the cache answers the lower-case ones that follow
    # with the owner names as first asked (plugin/cache item.go toMsg copies the
    # stored records).
    for name in names["services"][:6] + [f"dns-version.{ZONE}", f"missing.default.svc.{ZONE}"]:
        for t in ("A", "SRV", "TXT", "AAAA"):
            out.append((name.upper(), t))
    for name in fixed_names() + names["services"]:
        out += [(name, t) for t in TYPES]
    for name in names["srv"]:
        out += [(name, "SRV"), (name, "A")]
    for name in names["endpoints"] + names["pods"]:
        out += [(name, t) for t in ("A", "AAAA", "TXT", "SOA", "SRV", "PTR", "ANY")]
    for name in names["ptr"]:
        out += [(name, "PTR"), (name, "SOA"), (name, "TXT")]
    for name in names["services"][::3] + names["endpoints"][::2]:
        out += [(mixed(name), "A"), (mixed(name), "SOA"), (mixed(name), "SRV")]
    out += [(ZONE, "AXFR"), (f"web-svc.default.svc.{ZONE}", "AXFR"),
            (f"web-svc.default.svc.{ZONE}", "CAA"), (f"web-svc.default.svc.{ZONE}", "HINFO")]
    return out


def test_answers_match_a_real_coredns(world, sandbox, api_client):
    asker = Asker(world, sandbox)
    started = time.monotonic()
    for name, rdtype in questions(api_client):
        asker.ask(name, rdtype)
    # A second pass with the DO bit (and so EDNS) set: new cache keys on both sides.
    for name, rdtype in questions(api_client)[::4]:
        asker.ask(name, rdtype, do=True, transports=("udp",))
    print(f"\n{asker.compared} questions compared in {time.monotonic() - started:.1f} s "
          f"({asker.truncated} truncated); allowed differences: {dict(asker.allowed)}")
    assert asker.compared > 1000 and asker.truncated > 0
    # Named difference: the SOA serial. CoreDNS's is the time its informers last saw a
    # Service or EndpointSlice change, its own start's initial list included
    # (controller.go updateModified); the sandbox's, the time it last rebuilt its index.
    # Both are Unix times no later than now.
    now = time.time()
    assert asker.serials and all(now - 3600 < s <= now + 1 for pair in asker.serials for s in pair)
    assert not asker.differences, "\n".join(asker.differences[:60])
    assert not world.problems(), "\n".join(world.problems())


# --- changes under a running CoreDNS ----------------------------------------------------
CHURN = """
apiVersion: v1
kind: Namespace
metadata: {name: churn}
---
apiVersion: v1
kind: Pod
metadata: {name: c-0, namespace: churn, labels: {app: churn}}
spec:
  hostname: c-0
  subdomain: ch
  containers:
  - {name: web, image: "nginxdemos/hello:plain-text", ports: [{name: http, containerPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: c-1, namespace: churn, labels: {app: churn}}
spec:
  containers:
  - {name: web, image: "nginxdemos/hello:plain-text", ports: [{name: http, containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ch, namespace: churn}
spec:
  clusterIP: None
  selector: {app: churn}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: front, namespace: churn}
spec:
  selector: {app: churn}
  ports: [{name: http, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: alias, namespace: churn}
spec: {type: ExternalName, externalName: front.churn.svc.cluster.local}
---
apiVersion: v1
kind: Service
metadata: {name: byhand, namespace: churn}
spec:
  clusterIP: None
  ports: [{name: db, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: byhand-1
  namespace: churn
  labels: {kubernetes.io/service-name: byhand}
addressType: IPv4
ports: [{name: db, port: 5432}]
endpoints:
- addresses: [10.10.210.1]
- addresses: [10.10.210.2]
  hostname: two
"""

# Each phase asks with cache keys (type, DO) no earlier phase used, so neither server
# answers from a cache filled before the change (plugin/cache keys on name, type, DO).
PHASE_KEYS = {
    "created": (("A", "SRV", "CNAME", "PTR", "SOA"), False),
    "changed": (("A", "SRV", "CNAME", "PTR", "SOA"), True),
    "deleted": (("AAAA", "TXT", "ANY", "MX", "NS"), False),
}
# The sentinel's probe: questions that tell "the probe Service has a ready endpoint"
# from "not yet", each a new cache key (see wait_synced).
PROBE_KEYS = [(t, do) for do in (False, True)
              for t in ("A", "SRV", "TXT", "AAAA", "MX", "ANY", "CNAME", "NS", "HINFO", "CAA")]


def sentinel(n: int) -> str:
    return f"""
apiVersion: v1
kind: Namespace
metadata: {{name: sync-{n}}}
---
apiVersion: v1
kind: Service
metadata: {{name: probe, namespace: sync-{n}}}
spec:
  clusterIP: None
  ports: [{{name: p, port: 1}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: probe-1
  namespace: sync-{n}
  labels: {{kubernetes.io/service-name: probe}}
addressType: IPv4
ports: [{{name: p, port: 1}}]
endpoints:
- addresses: [10.10.250.{n}]
"""


def wait_synced(lab, asker: Asker, oracle: Oracle, n: int) -> float:
    """Create a sentinel after the changes, then wait until CoreDNS answers for it.

    Each informer (Services, EndpointSlices, Namespaces) gets its events in order from one
    watch, so once CoreDNS sees the sentinel's Service and EndpointSlice, it has seen
    every change made before them. Every probe is a new cache key: a repeated question
    would be answered from CoreDNS's cache, filled before the sentinel arrived.
    """
    started = time.monotonic()
    lab.apply(sentinel(n))
    name = f"probe.sync-{n}.svc.{ZONE}"
    pause = 0.05
    for rdtype, do in PROBE_KEYS:
        assert oracle.proc.poll() is None, f"CoreDNS exited:\n{oracle.log()}"
        msg = asker.send("coredns", asker.query(name, rdtype, do=do), False)
        ok = msg.rcode() == dns.rcode.NOERROR
        if rdtype in ("A", "SRV"):
            ok = ok and bool(msg.answer)
        if ok:
            return time.monotonic() - started
        if time.monotonic() - started > DEADLINE:
            break
        time.sleep(pause)          # a back-off between polls, not a wait for an event
        pause = min(pause * 2, 2.0)
    raise AssertionError(f"CoreDNS did not see sentinel {n} within {DEADLINE} s:\n{oracle.log()[-3000:]}")


def churn_names(api, known: set) -> list[str]:
    names = cluster_names(api)
    found = [n for key in names for n in names[key] if ".churn." in n]
    found += [dns.reversename.from_address(ip).to_text() for ip in ("10.10.210.1", "10.10.210.2",
                                                                      "10.10.210.3")]
    found += [f"ch.churn.svc.{ZONE}", f"front.churn.svc.{ZONE}", f"alias.churn.svc.{ZONE}",
              f"byhand.churn.svc.{ZONE}", f"_http._tcp.front.churn.svc.{ZONE}",
              f"_web._tcp.front.churn.svc.{ZONE}", f"_db._tcp.byhand.churn.svc.{ZONE}",
              f"two.byhand.churn.svc.{ZONE}", f"c-0.ch.churn.svc.{ZONE}",
              f"10-10-210-1.churn.pod.{ZONE}", f"churn.pod.{ZONE}"]
    known.update(found)
    return sorted(known)


def compare_phase(asker: Asker, api, known: set, phase: str) -> None:
    types, do = PHASE_KEYS[phase]
    asker.serials.clear()
    for name in churn_names(api, known):
        for rdtype in types:
            asker.ask(name, rdtype, do=do)
    # Both servers stamped the sentinel's arrival as the last change (the sandbox on its
    # first question after it): the SOA serials agree to within the seconds that took.
    assert asker.serials
    assert all(abs(a - b) <= 2 for a, b in asker.serials), (phase, asker.serials)


def slice_ips(api, ns: str, svc: str) -> list[str]:
    from kubernetes import client
    slices = client.DiscoveryV1Api(api).list_namespaced_endpoint_slice(
        ns, label_selector=f"kubernetes.io/service-name={svc}").items
    return sorted(ip for s in slices for ep in s.endpoints or []
                  if ep.conditions is None or ep.conditions.ready is not False for ip in ep.addresses)


def test_coredns_follows_changes_and_agrees_again(world, lab, sandbox, api_client):
    from kubernetes import client
    from .conftest import wait_for
    core, disc = client.CoreV1Api(api_client), client.DiscoveryV1Api(api_client)
    asker = Asker(world, sandbox)
    known: set[str] = set()
    started = time.monotonic()
    lags = []

    # 1. Created: a namespace, pods, a headless, a ClusterIP, an ExternalName, a slice by hand.
    lab.apply(CHURN)
    for pod in ("c-0", "c-1"):
        lab.wait("pod", pod, namespace="churn")
    wait_for(lambda: len(slice_ips(api_client, "churn", "ch")) == 2)
    lags.append(wait_synced(lab, asker, world, 1))
    compare_phase(asker, api_client, known, "created")

    # 2. Changed: a pod replaced, a port renamed and one added, the ExternalName retargeted,
    #    the hand-written slice's endpoints and ports edited.
    core.delete_namespaced_pod("c-1", "churn", grace_period_seconds=0)
    lab.apply(CHURN.split("---")[2].replace("c-1", "c-2"))
    lab.wait("pod", "c-2", namespace="churn")
    core.patch_namespaced_service("front", "churn", {"spec": {"ports": [
        {"name": "web", "port": 80, "targetPort": "http"}, {"name": "alt", "port": 8080, "targetPort": 80}]}})
    core.patch_namespaced_service("alias", "churn", {"spec": {"externalName": "ch.churn.svc.cluster.local"}})
    disc.patch_namespaced_endpoint_slice("byhand-1", "churn", {
        "endpoints": [{"addresses": ["10.10.210.3"], "hostname": "three"},
                      {"addresses": ["10.10.210.2"], "conditions": {"ready": False}}],
        "ports": [{"name": "db", "port": 6432}]})
    pod_ips = lambda: sorted(p.status.pod_ip for p in core.list_namespaced_pod("churn").items
                             if p.status.pod_ip and not p.metadata.deletion_timestamp)
    wait_for(lambda: len(pod_ips()) == 2 and slice_ips(api_client, "churn", "ch") == pod_ips())
    lags.append(wait_synced(lab, asker, world, 2))
    compare_phase(asker, api_client, known, "changed")
    # The comparison saw the change (not two stale caches agreeing).
    srv = asker.send("coredns", asker.query(f"_web._tcp.front.churn.svc.{ZONE}", "SRV", do=True), False)
    assert srv.answer and srv.answer[0][0].port == 80
    hand = asker.send("coredns", asker.query(f"three.byhand.churn.svc.{ZONE}", "A", do=True), False)
    assert [rd.address for rd in hand.answer[0]] == ["10.10.210.3"]

    # 3. Deleted: Services, the slice, then the whole namespace.
    core.delete_namespaced_service("alias", "churn")
    disc.delete_namespaced_endpoint_slice("byhand-1", "churn")
    lab.delete("namespace", "churn", timeout=DEADLINE)
    lags.append(wait_synced(lab, asker, world, 3))
    compare_phase(asker, api_client, known, "deleted")
    gone = asker.send("coredns", asker.query(f"front.churn.svc.{ZONE}", "TXT"), True)
    assert gone.rcode() == dns.rcode.NXDOMAIN

    print(f"\nchanges: {asker.compared} questions compared in {time.monotonic() - started:.1f} s; "
          f"CoreDNS caught up in {', '.join(f'{lag:.2f}' for lag in lags)} s; "
          f"allowed differences: {dict(asker.allowed)}")
    assert world.proc.poll() is None, "CoreDNS exited"
    assert not asker.differences, "\n".join(asker.differences[:60])
    assert not world.problems(), "\n".join(world.problems())
    assert asker.compared > 300
