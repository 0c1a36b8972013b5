"""The CoreDNS pods' logs: start-up, reload and the `log` plugin, read through the API.

The pure parts (the Corefile grammar, reload's hash, the log format) are checked
against what a real CoreDNS prints; the rest runs a sandbox over real HTTP (the
official client, labkit and kubectl) and real DNS sockets on 127.0.0.1.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess

import pytest

from labkit.sandbox.dns import _caddyfile, _corefile, _podlog
from labkit.sandbox.dns._reload import Reloader
from labkit.sandbox import _bootstrap
from labkit.sandbox._config import SandboxConfig

from .conftest import kubectl_binary, wait_for

# plugin/log's Common Log Format: {remote}:{port} - {>id} "{type} {class} {name} {proto}
# {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}
QUERY_LINE = re.compile(r'\[INFO\] (?P<remote>[\d.]+):(?P<port>\d+) - (?P<id>\d+) '
                        r'"(?P<type>\S+) IN (?P<name>\S+) (?P<proto>udp|tcp) (?P<size>\d+) '
                        r'(?P<do>true|false) (?P<bufsize>\d+)" (?P<rcode>[A-Z]+) (?P<flags>[a-z,]+) '
                        r'(?P<rsize>\d+) (?P<duration>\d+\.\d+)s')

# Reported by real CoreDNS 1.10.1 and 1.11.1 pods of kubeadm clusters for kubeadm's
# Corefile (`[INFO] plugin/reload: Running configuration SHA512 = 591cf328...`).
KUBEADM_COREFILE_SHA512 = ("591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5"
                           "f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908")


# -- the Corefile grammar and reload's hash (pure) ------------------------------------------

def test_reload_hash_of_kubeadms_corefile_is_what_real_coredns_logs():
    """plugin/reload/reload.go: sha512 of json.Marshal of caddyfile.Parse's server blocks."""
    text = _bootstrap.corefile(SandboxConfig())
    blocks = _caddyfile.parse(text, _corefile.COREFILE_PATH)
    assert _caddyfile.fingerprint(blocks) == KUBEADM_COREFILE_SHA512


def test_reload_hash_ignores_comments_and_spacing_but_not_lines():
    text = _bootstrap.corefile(SandboxConfig())
    same = text.replace("    errors\n", "    errors   # report errors\n").replace("    ", "\t")
    moved = text.replace("    errors\n", "\n    errors\n")
    fp = lambda t: _caddyfile.fingerprint(_caddyfile.parse(t, "x"))     # noqa: E731
    assert fp(same) == fp(text) != fp(moved)


@pytest.mark.parametrize("edit, message", [
    # caddyfile/parse.go directive(): the build's directives only (checked at start and reload)
    (lambda t: t.replace("    errors\n", "    errors\n    foo bar\n"),
     "/etc/coredns/Corefile:3 - Error during parsing: Unknown directive 'foo'"),
    # blockContents/closeCurlyBrace: the last token seen stands where '}' should be
    (lambda t: t.rstrip().rstrip("}"),
     "/etc/coredns/Corefile:19 - Syntax error: Unexpected token 'loadbalance', expecting '}'"),
    (lambda t: t.replace("    loop\n", "    loop }\n"),
     "/etc/coredns/Corefile:17 - Error during parsing: Unexpected '}' because no matching opening brace"),
    (lambda t: t.replace("    loadbalance\n}\n", "    loadbalance {\n"),
     "/etc/coredns/Corefile:19 - Error during parsing: Unexpected EOF"),
    # the plugins' own setup checks, prefixed plugin/<name> (plugin.Error)
    (lambda t: t.replace("    loadbalance\n", "    loadbalance foo\n"),
     "plugin/loadbalance: unknown policy: foo"),
    (lambda t: t.replace("    loadbalance\n", "    loadbalance round_robin 2\n"),
     "plugin/loadbalance: /etc/coredns/Corefile:19 - Error during parsing: unknown property for round_robin"),
    (lambda t: t.replace("       ttl 30\n", "       ttl\n"),
     "plugin/kubernetes: /etc/coredns/Corefile:10 - Error during parsing: "
     "Wrong argument count or unexpected line ending after 'ttl'"),
    (lambda t: t.replace("       ttl 30\n", "       ttl 5000\n"),
     "plugin/kubernetes: /etc/coredns/Corefile:10 - Error during parsing: ttl must be in range [0, 3600]: 5000"),
    (lambda t: t.replace("       ttl 30\n", "       ttl thirty\n"),
     'plugin/kubernetes: strconv.Atoi: parsing "thirty": invalid syntax'),
    (lambda t: t.replace("    cache 30\n", "    cache 0\n"),
     "plugin/cache: cache TTL can not be zero or negative: 0"),
    (lambda t: t.replace("    cache 30\n", "    cache 30\n    cache 10\n"),
     "plugin/cache: this plugin can only be used once per Server Block"),
])
def test_corefiles_coredns_refuses_are_refused_with_its_words(edit, message):
    text = _bootstrap.corefile(SandboxConfig())
    with pytest.raises(_corefile.CorefileError) as err:
        _corefile.load(edit(text))
    assert str(err.value) == message


def test_arguments_coredns_accepts_load():
    text = _bootstrap.corefile(SandboxConfig())
    for edit in ("    cache 30 cluster.local\n", "    cache example.org\n", "    loadbalance round_robin\n"):
        key = edit.split()[0]
        changed = re.sub(rf"    {key}.*\n", edit, text)
        assert changed != text and _corefile.load(changed)
    settings = _corefile.parse(text.replace("    errors\n", "    errors\n    log\n"))
    assert settings.log and settings.log[0].names == (".",) and settings.ttl == 30


def test_reload_logs_what_the_reload_plugin_and_caddy_log():
    """plugin/reload/reload.go and coredns/caddy caddy.go Restart, as a real CoreDNS
    1.10.1 printed them for the same kinds of edits."""
    text = _bootstrap.corefile(SandboxConfig())
    reloader = Reloader(_corefile.CorefileSettings(True, 30, 30))
    assert reloader.follow(text) == []
    assert reloader.startup_lines() == [
        ".:53", f"[INFO] plugin/reload: Running configuration SHA512 = {KUBEADM_COREFILE_SHA512}"]
    with_log = text.replace("    errors\n", "    errors\n    log\n")
    lines = reloader.follow(with_log)
    sha = _caddyfile.fingerprint(_caddyfile.parse(with_log, "x"))
    assert lines == ["[INFO] Reloading", f"[INFO] plugin/reload: Running configuration SHA512 = {sha}",
                     "[INFO] Reloading complete"]
    assert reloader.settings.log
    assert reloader.follow(with_log.replace("    log\n", "    log   # who asks what\n")) == []
    broken = with_log.replace("    log\n", "    foo\n")
    error = "/etc/coredns/Corefile:3 - Error during parsing: Unknown directive 'foo'"
    assert reloader.follow(broken) == [
        "[INFO] Reloading", f"[ERROR] Restart failed: {error}",
        "[ERROR] plugin/reload: Corefile changed but reload failed: "
        f"starting with listener file descriptors: {error}"]
    assert reloader.settings.log                       # the old configuration still runs
    unbalanced = text.rstrip().rstrip("}")
    assert reloader.follow(unbalanced) == [
        "[WARNING] plugin/reload: Corefile parse failed: /etc/coredns/Corefile:19 - "
        "Syntax error: Unexpected token 'loadbalance', expecting '}'"]
    assert reloader.follow(text)[1] == (
        f"[INFO] plugin/reload: Running configuration SHA512 = {KUBEADM_COREFILE_SHA512}")
    assert not reloader.settings.log


@pytest.mark.parametrize("version, first, last", [
    ("1.11.3", ".:53", "linux/amd64, go1.21.11, a6338e9"),
    ("1.14.7", "maxprocs: Leaving GOMAXPROCS=2: CPU quota undefined", "linux/amd64, go1.26.6, 427fc80"),
    ("1.99.0", "maxprocs: Leaving GOMAXPROCS=2: CPU quota undefined", "CoreDNS-1.99.0"),
])
def test_startup_lines_follow_coremain_run_go(version, first, last):
    lines = _podlog.startup_lines(version, [".:53", "[INFO] plugin/reload: ..."], 2)
    assert lines[0] == first and lines[-1] == last
    assert lines[lines.index(".:53"):][:3] == [".:53", "[INFO] plugin/reload: ...", f"CoreDNS-{version}"]


def test_image_tag_names_the_version():
    assert _podlog.image_version("registry.k8s.io/coredns/coredns:v1.11.3") == "1.11.3"
    assert _podlog.image_version("coredns/coredns:1.10.1") == "1.10.1"
    assert _podlog.image_version("registry.k8s.io:5000/coredns/coredns:v1.14.7@sha256:ab") == "1.14.7"
    assert _podlog.image_version("nginxdemos/hello:plain-text") is None


def test_log_format_pieces_follow_plugin_pkg_replacer():
    assert _podlog.rflags(0x8000 | 0x0400 | 0x0200 | 0x0100) == "qr,aa,tc,rd"
    assert _podlog.rflags(0x8000 | 0x0100 | 0x0080 | 0x0020 | 0x0010) == "qr,rd,ra,ad,cd"
    assert _podlog._go_float(0.000150858) == "0.000150858"      # strconv 'f', -1: no exponent
    assert _podlog._go_float(1.5e-05) == "0.000015" and _podlog._go_float(2.0) == "2"
    rule = _corefile.LogRule((".",), "{proto} Request: {name} {type} {>ID} {/meta}")
    assert _podlog.query_line(rule, {"{proto}": "udp", "{name}": "a.", "{type}": "A", "{>id}": "7"}) \
        == "[INFO] udp Request: a. A 7 -"


# -- a running sandbox ------------------------------------------------------------------------

def _coredns_pods(core):
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    return [p for p in pods if p.status.phase == "Running" and p.status.start_time]


@pytest.fixture
def core(api_client):
    from kubernetes import client
    return client.CoreV1Api(api_client)


@pytest.fixture
def corefile(core):
    """Edit kube-system/coredns; the test's edits are undone afterwards."""
    original = core.read_namespaced_config_map("coredns", "kube-system").data["Corefile"]

    def edit(change):
        cm = core.read_namespaced_config_map("coredns", "kube-system")
        cm.data["Corefile"] = change(original)
        core.replace_namespaced_config_map("coredns", "kube-system", cm)
    yield edit
    edit(lambda text: text)


def _logs(core, tail=None):
    kw = {"tail_lines": tail} if tail is not None else {}
    return {p.metadata.name: core.read_namespaced_pod_log(p.metadata.name, "kube-system", **kw).splitlines()
            for p in _coredns_pods(core)}


def _reload(core, corefile, change):
    """Edit the Corefile and wait until every CoreDNS pod logged one more completed reload."""
    def done():
        return {name: lines.count("[INFO] Reloading complete") for name, lines in _logs(core).items()}
    before = done()
    corefile(change)
    wait_for(lambda: all(n > before.get(name, 0) for name, n in done().items()))


def test_coredns_pods_log_their_start_as_their_image_version_prints_it(core):
    pods = wait_for(lambda: len(_coredns_pods(core)) == 2 and _coredns_pods(core))
    for pod in pods:
        image = pod.spec.containers[0].image
        version = _podlog.image_version(image)
        log = core.read_namespaced_pod_log(pod.metadata.name, "kube-system").splitlines()
        start = log.index(".:53")
        assert log[start + 1] == f"[INFO] plugin/reload: Running configuration SHA512 = {KUBEADM_COREFILE_SHA512}"
        assert log[start + 2] == f"CoreDNS-{version}"
        if version in _podlog.RELEASES:
            go, commit = _podlog.RELEASES[version]
            assert log[start + 3] == f"linux/amd64, {go}, {commit}"


def test_log_plugin_writes_each_lookup_of_a_pod_to_the_pod_that_served_it(lab, core, corefile, sandbox):
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    client_ip = core.read_namespaced_pod("client", "default").status.pod_ip
    web = {p.status.pod_ip for p in core.list_namespaced_pod("default", label_selector="app=web").items}
    for _ in range(12):                      # twelve runs, twelve UDP flows for kube-proxy to place
        result = lab.exec("client", "getent hosts web-svc")
        assert result.exit_code == 0 and result.stdout.split()[0] in web
    logs = _logs(core)
    served = {name: [m for m in map(QUERY_LINE.fullmatch, lines) if m and m["remote"] == client_ip]
              for name, lines in logs.items()}
    assert all(served.values()), "both replicas answer some flows"
    lookups = [m for ms in served.values() for m in ms if m["name"] == "web-svc.default.svc.cluster.local."]
    assert lookups and all(m["type"] in ("A", "AAAA") and m["proto"] == "udp" for m in lookups)
    a = [m for m in lookups if m["type"] == "A"]
    assert a and all(m["rcode"] == "NOERROR" and m["flags"] == "qr,aa,rd" and m["do"] == "false"
                     and m["bufsize"] == "512" for m in a)
    # One flow, one pod: all queries from one client port went to the same replica.
    ports = {}
    for name, ms in served.items():
        for m in ms:
            assert ports.setdefault(m["port"], name) == name
    # labkit reads the same through the plain API (pods/log).
    first = next(iter(logs))
    assert lab.logs(first, namespace="kube-system").splitlines() == logs[first]


def test_with_log_each_pod_logs_its_loop_probe_after_a_reload(core, corefile):
    """plugin/loop/setup.go: every new server instance asks itself HINFO <rand>.<rand>.,
    forwarded upstream (NXDOMAIN); with `log` on it shows in each pod's log."""
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    for lines in _logs(core).values():
        probe = QUERY_LINE.fullmatch(lines[lines.index("[INFO] Reloading complete", -4) + 1])
        assert probe and probe["remote"] == "127.0.0.1" and probe["type"] == "HINFO"
        assert re.fullmatch(r"\d+\.\d+\.", probe["name"])
        assert (probe["rcode"], probe["flags"], probe["proto"]) == ("NXDOMAIN", "qr,rd,ra", "udp")
        assert int(probe["size"]) == 12 + len(probe["name"]) + 1 + 4


def test_log_lines_carry_the_querys_details_over_real_sockets(core, corefile, sandbox):
    """udp/tcp, EDNS buffer and DO bit, a name asked in mixed case (logged in lower case,
    request.Name), NXDOMAIN; {rsize} is the uncompressed reply before the OPT record."""
    import dns.message
    import dns.query
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    host, port = sandbox.dns_address
    q1 = dns.message.make_query("Kubernetes.Default.svc.cluster.local", "A", use_edns=0, payload=1232,
                                want_dnssec=True)
    r1 = dns.query.tcp(q1, host, port=port, timeout=3)
    q2 = dns.message.make_query("nope.default.svc.cluster.local", "A")
    r2 = dns.query.udp(q2, host, port=port, timeout=3)
    lines = [m for ls in _logs(core).values() for m in map(QUERY_LINE.fullmatch, ls) if m]
    # By id and name: a random id may repeat one of an earlier line's (a loop probe's).
    by_query = {(int(m["id"]), m["name"]): m for m in lines if m["remote"] == "127.0.0.1"}
    m1 = by_query[(q1.id, "kubernetes.default.svc.cluster.local.")]
    m2 = by_query[(q2.id, "nope.default.svc.cluster.local.")]
    assert (m1["name"], m1["proto"], m1["do"], m1["bufsize"]) == (
        "kubernetes.default.svc.cluster.local.", "tcp", "true", "65535")
    assert int(m1["size"]) == len(q1.to_wire())
    assert r1.answer and int(m1["rsize"]) == _uncompressed(r1)
    assert (m2["rcode"], m2["flags"], m2["proto"], m2["bufsize"]) == ("NXDOMAIN", "qr,aa,rd", "udp", "512")
    assert r2.rcode() == 3 and int(m2["rsize"]) == _uncompressed(r2)


def _uncompressed(msg) -> int:
    """miekg/dns Msg.Len() without compression: header, question, records, each name in full."""
    size = 12 + len(msg.question[0].name.to_wire()) + 4
    for section in (msg.answer, msg.authority, msg.additional):
        for rrset in section:
            for rd in rrset:
                size += len(rrset.name.to_wire()) + 10 + len(rd.to_wire())
    return size


class _LineReader:
    """A process's output lines, read in a thread so a test never blocks past a deadline."""

    def __init__(self, proc) -> None:
        import queue
        import threading
        self.proc, self.lines = proc, queue.Queue()
        threading.Thread(target=lambda: [self.lines.put(line.rstrip("\n")) for line in proc.stdout],
                         daemon=True).start()

    def read(self, count: int, wanted, timeout: float = 10.0) -> list[str]:
        import queue
        import time
        got: list[str] = []
        deadline = time.monotonic() + timeout
        while len(got) < count:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"only {len(got)} of {count} lines streamed") from None
            if wanted(line):
                got.append(line)
        return got


def test_a_corefile_coredns_refuses_is_logged_and_the_old_one_keeps_serving(lab, core, corefile, kubectl):
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    corefile(lambda t: t.replace("    errors\n", "    errors\n    foo\n"))        # and no `log`
    error = "/etc/coredns/Corefile:3 - Error during parsing: Unknown directive 'foo'"
    out = wait_for(lambda: (lambda o: o.count(f"[ERROR] Restart failed: {error}") == 2 and o)(
        kubectl("logs", "-n", "kube-system", "-l", "k8s-app=kube-dns", "--tail=-1").stdout))
    assert out.count("[ERROR] plugin/reload: Corefile changed but reload failed: starting with listener "
                     f"file descriptors: {error}") == 2
    before = sum(1 for ls in _logs(core).values() for line in ls if QUERY_LINE.fullmatch(line))
    for _ in range(3):
        assert lab.exec("client", "getent hosts web-svc").exit_code == 0
    after = sum(1 for ls in _logs(core).values() for line in ls if QUERY_LINE.fullmatch(line))
    assert after > before                      # still the configuration with `log`


def test_removing_log_stops_the_query_lines(lab, core, corefile):
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    assert lab.exec("client", "getent hosts web-svc").exit_code == 0
    _reload(core, corefile, lambda t: t)
    before = _logs(core)
    for _ in range(3):
        assert lab.exec("client", "getent hosts web-svc").exit_code == 0
    assert _logs(core) == before


def test_kubectl_logs_follows_a_coredns_pod(lab, core, corefile, sandbox, kubectl):
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    names = [p.metadata.name for p in _coredns_pods(core)]
    env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig))
    followers = [subprocess.Popen([kubectl_binary(), "logs", "-f", "--tail=1", "-n", "kube-system", name],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for name in names]
    try:
        streams = [_LineReader(p) for p in followers]
        last = _logs(core, tail=1)
        for stream, name in zip(streams, names):      # the last line so far: the stream is open
            assert stream.read(1, lambda line: True) == last[name]
        import dns.message
        import dns.query
        host, port = sandbox.dns_address
        sent = set()        # (source port, query id): a random id alone may repeat an earlier query's
        for _ in range(8):                      # eight flows: each replica gets some
            q = dns.message.make_query("web-svc.default.svc.cluster.local", "A")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind(("127.0.0.1", 0))
                dns.query.udp(q, host, port=port, timeout=3, sock=sock)
                sent.add((sock.getsockname()[1], q.id))

        def ours(line: str) -> bool:
            m = QUERY_LINE.fullmatch(line)
            return bool(m) and (int(m["port"]), int(m["id"])) in sent
        expected = {name: sorted(line for line in ls if ours(line)) for name, ls in _logs(core).items()}
        assert sum(map(len, expected.values())) == 8 and all(expected.values())
        for stream, name in zip(streams, names):
            streamed = stream.read(len(expected[name]), ours)
            assert sorted(streamed) == expected[name]
    finally:
        for p in followers:
            p.terminate()
            p.wait(timeout=5)


def test_labkit_reads_the_query_log_through_the_kubernetes_api(lab, core, corefile):
    """clusterdns.read_log(): only pods/log, so it works on a real cluster with `log` on too."""
    _reload(core, corefile, lambda t: t.replace("    errors\n", "    errors\n    log\n"))
    client_ip = core.read_namespaced_pod("client", "test").status.pod_ip
    assert lab.exec("client", "getent hosts web-svc.default", namespace="test").exit_code == 0
    from labkit import clusterdns
    df = clusterdns.read_log(lab)
    mine = df[df.client == client_ip]
    # glibc's search walk from `test`: web-svc.default.test.svc.cluster.local fails first.
    names = list(dict.fromkeys(mine.qname))
    assert names[:2] == ["web-svc.default.test.svc.cluster.local.", "web-svc.default.svc.cluster.local."]
    assert set(mine[mine.qname == names[0]].rcode) == {"NXDOMAIN"}
    assert "NOERROR" in set(mine[mine.qname == names[1]].rcode)
    assert set(mine.coredns_pod) <= {p.metadata.name for p in _coredns_pods(core)}
    assert (mine.duration > 0).all() and (mine.bufsize == 512).all()


def _kube_dns_slice(*pods):
    return {"kind": "EndpointSlice", "metadata": {"name": "kube-dns-x", "namespace": "kube-system",
                                                   "labels": {"kubernetes.io/service-name": "kube-dns"}},
            "addressType": "IPv4",
            "ports": [{"name": "dns", "port": 53, "protocol": "UDP"},
                      {"name": "dns-tcp", "port": 53, "protocol": "TCP"}],
            "endpoints": [{"addresses": [ip], "conditions": {"ready": ready},
                           "targetRef": {"kind": "Pod", "namespace": "kube-system", "name": name}}
                          for name, ip, ready in pods]}


def test_kube_proxy_places_each_flow_on_one_ready_coredns_pod_by_seed():
    """One pick per flow (a client socket), among ready endpoints only, the same for the
    same seed: so two replicas share the lines, reproducibly."""
    from labkit.sandbox._cluster import StaticCluster
    cluster = StaticCluster([_kube_dns_slice(("coredns-a", "10.10.100.3", True),
                                             ("coredns-b", "10.10.100.2", True),
                                             ("coredns-c", "10.10.100.4", False))])

    def placements(seed):
        logs = _podlog.CoreDnsLogs(seed)
        clients = [{"pod": f"p{i}"} for i in range(20)]
        first = [logs.serving_pod(cluster, "udp", 40000 + i, c)[1] for i, c in enumerate(clients)]
        again = [logs.serving_pod(cluster, "udp", 40000 + i, c)[1] for i, c in enumerate(clients)]
        assert again == first                                  # a flow stays where it went
        return first
    picks = placements(1)
    assert set(picks) == {"coredns-a", "coredns-b"}            # never the not-ready one
    assert placements(1) == picks and placements(2) != picks
    logs = _podlog.CoreDnsLogs(1)
    assert logs.serving_pod(cluster, "tcp", 5, None)[2] in ("10.10.100.2", "10.10.100.3")
    assert _podlog.CoreDnsLogs(1).serving_pod(StaticCluster(), "udp", 5, None) is None


def test_kubectl_logs_timestamps_still_prints_the_log(core, kubectl):
    name = _coredns_pods(core)[0].metadata.name
    plain = kubectl("logs", "-n", "kube-system", name).stdout.splitlines()
    stamped = kubectl("logs", "--timestamps", "-n", "kube-system", name).stdout.splitlines()
    assert any(line.endswith(plain[0]) for line in stamped) and any("CoreDNS-" in line for line in stamped)
