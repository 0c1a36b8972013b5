"""The pod network tools against the golden outputs in tests/fixtures/real-tool-output.

DNS really goes to a fixture server on 127.0.0.1 (test_resolver.ZoneServer, the
zone the samples were recorded against); ping and HTTP go through the simulated
Network over a small static cluster. Only what legitimately varies is masked:
message ids, query times, dates, request ids, round-trip times.
"""
from __future__ import annotations

import re
import shlex
import time

import pytest

from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox.runtime._context import TOOLS, ImageProfile
from labkit.sandbox.runtime._network import Network
import labkit.sandbox.runtime.tools  # noqa: F401  (registers the tools)

from tests.test_resolver import CLIENT_POD, SAMPLES, ZoneServer, make_ctx, sample_walk

WEB_POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "nginx-deployment-7b5544b744-mdt8j", "namespace": "default",
                 "labels": {"app": "web"}},
    "spec": {"nodeName": "lab-worker",
             "containers": [{"name": "nginx", "image": "nginxdemos/hello:plain-text"}]},
    "status": {"phase": "Running", "podIP": "10.10.100.37", "podIPs": [{"ip": "10.10.100.37"}]},
}
WEB_POD_2 = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "nginx-deployment-7b5544b744-x2v9q", "namespace": "default",
                 "labels": {"app": "web"}},
    "spec": {"nodeName": "lab-worker2",
             "containers": [{"name": "nginx", "image": "nginxdemos/hello:plain-text"}]},
    "status": {"phase": "Running", "podIP": "10.10.100.38", "podIPs": [{"ip": "10.10.100.38"}]},
}
CIP_SVC = {
    "apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-cip", "namespace": "default"},
    "spec": {"clusterIP": "10.0.0.37", "clusterIPs": ["10.0.0.37"], "selector": {"app": "web"},
             "ports": [{"name": "http", "port": 8080, "targetPort": 80, "protocol": "TCP"}]},
}
CIP_SLICE = {
    "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
    "metadata": {"name": "web-cip-abcde", "namespace": "default",
                 "labels": {"kubernetes.io/service-name": "web-cip"}},
    "addressType": "IPv4",
    "endpoints": [{"addresses": ["10.10.100.37"], "conditions": {"ready": True}},
                  {"addresses": ["10.10.100.38"], "conditions": {"ready": True}}],
    "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
}


def profiles(image: str) -> ImageProfile:
    server = "hello-html" if image == "nginxdemos/hello" else (
        "hello-plain" if image.startswith("nginxdemos/hello:plain") else None)
    return ImageProfile(ref=image, tools=frozenset(), http_server=server)


@pytest.fixture
def server():
    s = ZoneServer()
    yield s
    s.close()


def run(server, command: str, **kw) -> tuple[str, str, int]:
    cluster = StaticCluster([CLIENT_POD, WEB_POD, WEB_POD_2, CIP_SVC, CIP_SLICE])
    network = kw.pop("network", None) or Network(cluster, SandboxConfig(), profiles=profiles)
    ctx = make_ctx(server, cluster=cluster, network=network, **kw)
    argv = shlex.split(command)
    code = TOOLS[argv[0]](ctx, argv)
    return ctx.stdout.getvalue(), ctx.stderr.getvalue(), code


def golden(name: str) -> tuple[str, str, int]:
    """(command, output, exit code) of one sample; the stand-in's 127.0.0.53 is 10.0.0.10 here."""
    lines = (SAMPLES / name).read_bytes().decode().split("\n")
    command = lines[0][2:]
    exit_line = next(l for l in reversed(lines) if l.startswith("[exit "))
    body = "\n".join(lines[1:lines.index(exit_line)])
    body = body + "\n" if body else ""
    return command, body.replace("127.0.0.53", "10.0.0.10"), int(exit_line[6:-1])


def mask_dig(text: str) -> str:
    text = re.sub(r"id: \d+", "id: ID", text)
    text = re.sub(r"Query time: \d+ msec", "Query time: N msec", text)
    return re.sub(r"WHEN: .*", "WHEN: DATE", text)


@pytest.mark.parametrize("sample", [
    "dig-web-svc-fqdn.txt", "dig-nxdomain.txt", "dig-srv.txt", "dig-x.txt",
    "dig-noall-answer.txt", "dig-short.txt", "dig-short-search.txt",
    "dig-search-showsearch.txt", "dig-search-showsearch-missing.txt",
    "dig-search-showsearch-svc-ns.txt"])
def test_dig_matches_bind_9_18(server, sample):
    command, expected, code = golden(sample)
    out, err, rc = run(server, command)
    assert mask_dig(out) == mask_dig(expected)
    assert rc == code


def test_dig_when_line_uses_the_sandbox_clock(server):
    out, _, _ = run(server, "dig web-svc.default.svc.cluster.local")
    assert re.search(r";; WHEN: \w{3} \w{3} \d\d \d\d:\d\d:\d\d UTC \d{4}\n", out)
    assert ";; SERVER: 10.0.0.10#53(10.0.0.10) (UDP)" in out


def test_dig_tcp_says_tcp(server):
    out, _, rc = run(server, "dig +tcp web-svc.default.svc.cluster.local")
    assert ";; SERVER: 10.0.0.10#53(10.0.0.10) (TCP)" in out and rc == 0


def test_dig_at_an_outside_server_sends_nothing_and_times_out(server):
    start = time.monotonic()
    out, _, rc = run(server, "dig @8.8.8.8 +time=0.1 +tries=2 web-svc")
    assert server.log == []
    assert rc == 9
    assert out.startswith(";; communications error to 8.8.8.8#53: timed out\n" * 2)
    assert out.endswith("; (1 server found)\n;; global options: +cmd\n"
                        ";; no servers could be reached\n\n")
    assert time.monotonic() - start < 2


@pytest.mark.parametrize("sample", [
    "nslookup-web-svc.txt", "nslookup-svc-ns.txt", "nslookup-missing.txt", "nslookup-ptr.txt",
    "nslookup-debug.txt", "host-web-svc.txt", "host-missing.txt",
    "getent-hosts-web-svc.txt", "getent-hosts-svc-ns.txt", "getent-hosts-missing.txt",
    "getent-ahosts-web-svc.txt"])
def test_bind_and_glibc_tools_match_samples(server, sample):
    command, expected, code = golden(sample)
    out, err, rc = run(server, command)
    assert out + err == expected
    assert rc == code


@pytest.mark.parametrize("command", ["nslookup web-svc", "host web-svc"])
def test_bind_tools_send_what_resolver_walks_txt_lists(server, command):

    run(server, command)
    assert server.log == sample_walk(command)


@pytest.mark.parametrize("sample", ["busybox-nslookup-web-svc.txt", "busybox-nslookup-missing.txt"])
def test_busybox_nslookup_matches_sample(server, sample):
    command, expected, code = golden(sample)
    out, err, rc = run(server, command.removeprefix("busybox "), busybox=True)
    assert out + err == expected
    assert rc == code


def test_busybox_nslookup_walk(server):

    run(server, "nslookup web-svc", busybox=True)
    assert server.log == sample_walk("busybox nslookup web-svc")


def _mask_ping(text: str) -> str:
    text = re.sub(r"time=[\d.]+ ms", "time=T ms", text)
    text = re.sub(r"time \d+ms", "time Tms", text)
    return re.sub(r"= [\d./]+ ms", "= R ms", text)


def test_ping_service_name_shows_canonical_name_and_ptr(server):
    out, err, rc = run(server, "ping -c 2 -i 0.05 web-svc")
    assert rc == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "PING web-svc.default.svc.cluster.local (10.10.100.37) 56(84) bytes of data."
    assert re.fullmatch(r"64 bytes from 10-10-100-37\.web-svc\.default\.svc\.cluster\.local "
                        r"\(10\.10\.100\.37\): icmp_seq=1 ttl=64 time=0\.0[5-9]\d ms", lines[1])
    assert lines[3:5] == ["", "--- web-svc.default.svc.cluster.local ping statistics ---"]
    assert re.fullmatch(r"2 packets transmitted, 2 received, 0% packet loss, time \d+ms", lines[5])
    assert re.fullmatch(r"rtt min/avg/max/mdev = 0\.0\d\d/0\.0\d\d/0\.0\d\d/0\.0\d\d ms", lines[6])
    assert server.log[-1] == ("PTR", "37.100.10.10.in-addr.arpa")


def test_ping_numeric_localhost_layout_matches_sample(server):
    command, expected, code = golden("ping-localhost.txt")
    out, _, rc = run(server, command.replace("-c 3", "-c 3 -i 0.01"))
    assert _mask_ping(out) == _mask_ping(expected) and rc == code
    command, expected, code = golden("ping-ip-loopback.txt")
    out, _, rc = run(server, command.replace("-c 2", "-c 2 -i 0.01"))
    assert _mask_ping(out) == _mask_ping(expected) and rc == code


def test_ping_unknown_name_exits_2(server):
    command, expected, code = golden("ping-missing.txt")
    out, err, rc = run(server, command)
    assert (out + err, rc) == (expected, code)


def test_ping_cluster_ip_loses_everything(server):
    out, _, rc = run(server, "ping -c 2 -i 0.01 -W 0.05 10.0.0.37")
    assert rc == 1
    assert out == ("PING 10.0.0.37 (10.0.0.37) 56(84) bytes of data.\n\n"
                   "--- 10.0.0.37 ping statistics ---\n"
                   + re.search(r"2 packets transmitted, 0 received, 100% packet loss, time \d+ms\n",
                               out).group(0) + "\n")


def test_ping_across_nodes_is_slower_and_routed(server):
    out, _, _ = run(server, "ping -c 1 10.10.100.38")
    assert re.search(r"icmp_seq=1 ttl=62 time=0\.[1-3]\d\d ms", out)


def test_ping_is_deterministic_for_a_seed(server):
    assert run(server, "ping -c 3 -i 0.01 10.10.100.37") == run(server, "ping -c 3 -i 0.01 10.10.100.37")


def test_busybox_ping_format(server):
    out, _, rc = run(server, "ping -c 1 web-svc", busybox=True)
    assert rc == 0
    lines = out.splitlines()
    assert lines[0] == "PING web-svc (10.10.100.37): 56 data bytes"
    assert re.fullmatch(r"64 bytes from 10\.10\.100\.37: seq=0 ttl=64 time=0\.0\d\d ms", lines[1])
    assert lines[3] == "--- web-svc ping statistics ---"
    assert lines[4] == "1 packets transmitted, 1 packets received, 0% packet loss"
    assert re.fullmatch(r"round-trip min/avg/max = [\d.]+/[\d.]+/[\d.]+ ms", lines[5])
    _, err, rc = run(server, "ping -c 1 web-x", busybox=True)
    assert (err, rc) == ("ping: bad address 'web-x'\n", 1)


def _mask_body(text: str) -> str:
    text = re.sub(r"Date: .*", "Date: D", text)
    return re.sub(r"Request ID: [0-9a-f]{32}", "Request ID: R", text)


def test_curl_body_is_the_hello_plain_text_page(server):
    _, expected, code = golden("curl-plain.txt")
    out, err, rc = run(server, "curl -s http://web-svc/")
    expected = expected.replace("127.0.0.1:18080", "10.10.100.37:80").replace(
        "Server name: vm", "Server name: nginx-deployment-7b5544b744-mdt8j")
    assert _mask_body(out) == _mask_body(expected) and rc == code and err == ""
    assert re.search(r"Date: \d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\n", out)


def test_curl_head_headers_and_progress_meter(server):
    _, expected, code = golden("curl-I-nginx.txt")
    out, err, rc = run(server, "curl -I http://web-svc/")
    assert rc == code
    head = expected[expected.index("HTTP/1.1"):]
    def mask(t):
        t = re.sub(r"(Date|Expires): .*\r", r"\1: D\r", t)
        return re.sub(r"Content-Length: \d+", "Content-Length: N", re.sub(r"nginx/[\d.]+", "nginx/V", t))
    assert mask(out) == mask(head)
    length = re.search(r"Content-Length: (\d+)", out).group(1)
    # The meter: a first empty line, then the final one with the announced size (HEAD: 0 received).
    assert err == expected[:expected.index("HTTP/1.1")].replace("   133 ", f"{int(length):>6} ")
    date = re.search(r"Date: (.*)\r", out).group(1)
    expires = re.search(r"Expires: (.*)\r", out).group(1)
    assert date[-12:-4] != expires[-12:-4] or date == expires   # expires -1: one second earlier


def test_curl_write_out(server):
    command, expected, code = golden("curl-w.txt")
    out, _, rc = run(server, "curl -s -o /dev/null -w '%{remote_ip} %{http_code}\\n' http://web-svc/")
    assert out == expected.replace("127.0.0.1", "10.10.100.37") and rc == code


def test_curl_unknown_host(server):
    command, expected, code = golden("curl-missing.txt")
    out, err, rc = run(server, command)
    assert (out + err, rc) == (expected, code)


def test_curl_refused_and_timeout(server):
    _, err, rc = run(server, "curl -sS http://web-svc:8080/")
    assert rc == 7
    assert re.fullmatch(r"curl: \(7\) Failed to connect to web-svc port 8080 after \d+ ms: "
                        r"Couldn't connect to server\n", err)
    _, err, rc = run(server, "curl -sS -m 0.1 http://10.10.100.99/")
    assert rc == 28 and "Timeout was reached" in err


def test_curl_through_cluster_ip_balances_over_ready_endpoints(server):
    cluster = StaticCluster([CLIENT_POD, WEB_POD, WEB_POD_2, CIP_SVC, CIP_SLICE])
    network = Network(cluster, SandboxConfig(), profiles=profiles)
    seen = set()
    for _ in range(20):
        out, _, rc = run(server, "curl -s http://10.0.0.37:8080/", network=network)
        assert rc == 0
        seen.add(re.search(r"Server address: (.*)\n", out).group(1))
    assert seen == {"10.10.100.37:80", "10.10.100.38:80"}


def test_busybox_wget_matches_sample_layout(server):
    _, expected, code = golden("busybox-wget.txt")
    out, err, rc = run(server, "wget -q -O - http://web-svc/", busybox=True)
    expected = expected.replace("127.0.0.1:18080", "10.10.100.37:80").replace(
        "Server name: vm", "Server name: nginx-deployment-7b5544b744-mdt8j")
    assert _mask_body(out) == _mask_body(expected) and rc == code and err == ""
    _, err, rc = run(server, "wget -q -O - http://nosuch/", busybox=True)
    assert (err, rc) == ("wget: bad address 'nosuch'\n", 1)
