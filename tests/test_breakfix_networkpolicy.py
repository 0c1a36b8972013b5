"""NetworkPolicy: served and validated as kube-apiserver does (pkg/apis/networking/validation),
defaulted as pkg/apis/networking/v1/defaults.go, and enforced on the sandbox's simulated
packets as the NetworkPolicy spec says (k8s.io/api networking/v1 types.go): a dropped
packet is never answered, so tools time out; DNS needs UDP and TCP 53 to CoreDNS allowed."""
from __future__ import annotations

import json

import pytest

from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox.apis._defaults import default
from labkit.sandbox.registry._admission import Invalid, validate
from labkit.sandbox.runtime._netpolicy import End, allows

from .conftest import wait_for


def policy(spec: dict, name: str = "p", namespace: str = "default") -> dict:
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
           "metadata": {"name": name, "namespace": namespace}, "spec": spec}
    return default("NetworkPolicy", obj)


def errors_of(spec: dict) -> list[tuple[str, str]]:
    with pytest.raises(Invalid) as err:
        validate("NetworkPolicy", policy(spec))
    return [(c["field"], c["message"]) for c in err.value.causes]


# -- defaulting and validation (pure) ---------------------------------------------------------

def test_policy_types_default_to_ingress_plus_egress_when_egress_rules_exist():
    """SetDefaults_NetworkPolicy; and a port's protocol defaults to TCP."""
    assert policy({"podSelector": {}})["spec"]["policyTypes"] == ["Ingress"]
    spec = policy({"podSelector": {}, "egress": [{"ports": [{"port": 53}]}]})["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["egress"][0]["ports"][0]["protocol"] == "TCP"
    assert policy({"podSelector": {}, "policyTypes": ["Egress"]})["spec"]["policyTypes"] == ["Egress"]


def test_validation_speaks_networking_validation_go():
    causes = errors_of({
        "podSelector": {},
        "policyTypes": ["Egress", "Sideways"],
        "ingress": [{"ports": [{"protocol": "ICMP", "port": 0}, {"port": "http", "endPort": 90},
                               {"endPort": 90}, {"port": 100, "endPort": 50}],
                     "from": [{}, {"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}]}],
        "egress": [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24", "10.0.0.0/8", "x"]}},
                           {"ipBlock": {"cidr": "nonsense"}}]}],
    })
    assert ("spec.ingress[0].ports[0].protocol", 'Unsupported value: "ICMP": supported values: '
            '"TCP", "UDP", "SCTP"') in causes
    assert ("spec.ingress[0].ports[0].port", "Invalid value: 0: must be between 1 and 65535, inclusive") in causes
    assert ("spec.ingress[0].ports[1].endPort",
            "Invalid value: 90: may not be specified when `port` is non-numeric") in causes
    assert ("spec.ingress[0].ports[2].endPort",
            "Invalid value: 90: may not be specified when `port` is not specified") in causes
    # upstream reports the port, not the endPort, as the bad value here
    assert ("spec.ingress[0].ports[3].endPort",
            "Invalid value: 100: must be greater than or equal to `port`") in causes
    assert ("spec.ingress[0].from[0]", "Required value: must specify a peer") in causes
    assert ("spec.ingress[0].from[1]", "Forbidden: may not specify both ipBlock and another peer") in causes
    assert ("spec.egress[0].to[0].ipBlock.except[0]",
            'Invalid value: "10.1.0.0/24": must be a strict subset of `cidr`') in causes
    assert ("spec.egress[0].to[0].ipBlock.except[1]",
            'Invalid value: "10.0.0.0/8": must be a strict subset of `cidr`') in causes
    assert ("spec.egress[0].to[0].ipBlock.except[2]",
            'Invalid value: "x": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)') in causes
    assert ("spec.egress[0].to[1].ipBlock.cidr",
            'Invalid value: "nonsense": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)') in causes
    assert ("spec.policyTypes[1]", 'Unsupported value: "Sideways": supported values: "Ingress", "Egress"') in causes


# -- the rules, on a fixed cluster (pure) ------------------------------------------------------

def _pod(name, ns, ip, labels, ports=()):
    return {"kind": "Pod", "metadata": {"name": name, "namespace": ns, "labels": labels},
            "spec": {"containers": [{"name": "c", "image": "x",
                                     "ports": [{"name": n, "containerPort": p, "protocol": "TCP"} for n, p in ports]}]},
            "status": {"phase": "Running", "podIP": ip}}


def _ns(name, **labels):
    return {"kind": "Namespace", "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


CLIENT = _pod("client", "default", "10.10.100.5", {"role": "client"})
WEB = _pod("web", "default", "10.10.100.6", {"app": "web"}, [("http", 80)])
TESTER = _pod("client", "test", "10.10.100.7", {"role": "client"})
DNS = _pod("coredns", "kube-system", "10.10.100.2", {"k8s-app": "kube-dns"})
BASE = [_ns("default"), _ns("test", team="qa"), _ns("kube-system"), CLIENT, WEB, TESTER, DNS]


def _ends(src, dst):
    return End(src["status"]["podIP"], src), End(dst["status"]["podIP"], dst)


def test_no_policy_allows_everything_and_a_selected_pod_is_isolated_per_direction():
    cluster = StaticCluster(BASE)
    assert allows(cluster, *_ends(CLIENT, WEB), "TCP", 80)
    cluster.add(policy({"podSelector": {"matchLabels": {"app": "web"}}, "policyTypes": ["Ingress"]}))
    assert not allows(cluster, *_ends(CLIENT, WEB), "TCP", 80)       # web isolated for ingress
    assert allows(cluster, *_ends(WEB, CLIENT), "TCP", 80)           # ...not for egress
    assert allows(cluster, *_ends(CLIENT, DNS), "UDP", 53)


def test_peers_pod_namespace_both_and_ipblock():
    ingress = lambda peers: StaticCluster(BASE + [policy({"podSelector": {"matchLabels": {"app": "web"}},  # noqa: E731
                                                          "ingress": [{"from": peers}]})])
    same_ns_clients = ingress([{"podSelector": {"matchLabels": {"role": "client"}}}])
    assert allows(same_ns_clients, *_ends(CLIENT, WEB), "TCP", 80)
    assert not allows(same_ns_clients, *_ends(TESTER, WEB), "TCP", 80)   # podSelector alone: own namespace
    qa = ingress([{"namespaceSelector": {"matchLabels": {"team": "qa"}}}])
    assert allows(qa, *_ends(TESTER, WEB), "TCP", 80) and not allows(qa, *_ends(CLIENT, WEB), "TCP", 80)
    both = ingress([{"namespaceSelector": {"matchLabels": {"team": "qa"}},
                     "podSelector": {"matchLabels": {"role": "nobody"}}}])
    assert not allows(both, *_ends(TESTER, WEB), "TCP", 80)
    block = ingress([{"ipBlock": {"cidr": "10.10.100.0/24", "except": ["10.10.100.7/32"]}}])
    assert allows(block, *_ends(CLIENT, WEB), "TCP", 80) and not allows(block, *_ends(TESTER, WEB), "TCP", 80)


def test_ports_protocols_ranges_named_ports_and_icmp():
    cluster = StaticCluster(BASE + [policy({"podSelector": {"matchLabels": {"role": "client"}},
                                            "policyTypes": ["Egress"],
                                            "egress": [{"ports": [{"protocol": "UDP", "port": 53},
                                                                  {"port": 8000, "endPort": 8080},
                                                                  {"port": "http"}]}]})])
    assert allows(cluster, *_ends(CLIENT, DNS), "UDP", 53)
    assert not allows(cluster, *_ends(CLIENT, DNS), "TCP", 53)
    assert allows(cluster, *_ends(CLIENT, WEB), "TCP", 8080) and not allows(cluster, *_ends(CLIENT, WEB), "TCP", 8081)
    assert allows(cluster, *_ends(CLIENT, WEB), "TCP", 80)            # WEB's containerPort named http
    assert not allows(cluster, *_ends(CLIENT, DNS), "TCP", 80)        # DNS has no port named http
    assert not allows(cluster, *_ends(CLIENT, WEB), "ICMP", None)     # a rule with ports never matches ICMP
    assert not allows(cluster, End("10.10.100.5", CLIENT), End("8.8.8.8"), "UDP", 54)


# -- over the real sockets: kubectl and the pod tools ------------------------------------------

DENY_EGRESS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
               "metadata": {"name": "default-deny-egress"},
               "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
ALLOW_DNS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": "allow-dns"},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                                  "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}}


@pytest.fixture
def clean_policies(kubectl):
    yield
    kubectl("delete", "networkpolicy", "--all", "-n", "default")


def test_kubectl_serves_networkpolicies(lab, kubectl, clean_policies):
    out = kubectl("apply", "-f", "-", input=json.dumps(DENY_EGRESS)).stdout
    assert out.strip() == "networkpolicy.networking.k8s.io/default-deny-egress created"
    table = kubectl("get", "netpol").stdout.splitlines()
    assert table[0].split() == ["NAME", "POD-SELECTOR", "AGE"]
    assert table[1].split()[:2] == ["default-deny-egress", "<none>"]
    bad = dict(DENY_EGRESS, metadata={"name": "bad"}, spec={"podSelector": {}, "policyTypes": ["Sideways"]})
    refused = kubectl("apply", "-f", "-", input=json.dumps(bad), check=False)
    assert refused.returncode == 1
    assert ('The NetworkPolicy "bad" is invalid: spec.policyTypes[0]: Unsupported value: "Sideways": '
            'supported values: "Ingress", "Egress"') in refused.stderr


def test_default_deny_egress_breaks_dns_until_port_53_to_coredns_is_allowed(lab, kubectl, clean_policies):
    assert lab.exec("client", "getent hosts web-svc").exit_code == 0
    kubectl("apply", "-f", "-", input=json.dumps(DENY_EGRESS))
    getent = kubectl("exec", "client", "--", "getent", "hosts", "web-svc", check=False)
    assert getent.returncode == 2 and getent.stdout == ""
    curl = kubectl("exec", "client", "--", "curl", "-sS", "web-svc", check=False)
    assert curl.returncode == 6 and "curl: (6) Could not resolve host: web-svc" in curl.stderr
    dig = kubectl("exec", "dnsutils", "--", "dig", "+tries=2", "web-svc.default.svc.cluster.local", check=False)
    assert dig.returncode == 9
    assert dig.stdout.count(";; communications error to 10.0.0.10#53: timed out") == 2
    ping = kubectl("exec", "client", "--", "ping", "-c", "2", "-W", "1", "10.10.100.1", check=False)
    assert ping.returncode == 1 and "2 packets transmitted, 0 received, 100% packet loss" in ping.stdout

    kubectl("apply", "-f", "-", input=json.dumps(ALLOW_DNS))
    ok = kubectl("exec", "client", "--", "getent", "hosts", "web-svc")
    assert ok.stdout.split()[1] == "web-svc.default.svc.cluster.local"
    # DNS is back; HTTP to the web pods is still dropped: curl waits out its limit.
    curl = kubectl("exec", "client", "--", "curl", "-sS", "--connect-timeout", "3", "web-svc", check=False)
    # CentOS 7's curl 7.29 words the connect timeout as multi.c did then.
    assert curl.returncode == 28 and "curl: (28) Connection timed out after 300" in curl.stderr


def test_udp_alone_is_not_enough_when_an_answer_needs_tcp(lab, kubectl, clean_policies):
    """A truncated answer sends the resolver to TCP 53: `dig +tcp` needs the TCP rule."""
    kubectl("apply", "-f", "-", input=json.dumps(DENY_EGRESS))
    udp_only = json.loads(json.dumps(ALLOW_DNS))
    udp_only["spec"]["egress"][0]["ports"] = [{"protocol": "UDP", "port": 53}]
    kubectl("apply", "-f", "-", input=json.dumps(udp_only))
    assert lab.exec("dnsutils", "dig +short web-svc.default.svc.cluster.local").exit_code == 0
    tcp = lab.exec("dnsutils", "dig +tcp +tries=1 +short web-svc.default.svc.cluster.local")
    assert tcp.exit_code == 9 and "timed out" in tcp.stdout


def test_ingress_policy_on_the_web_pods_lets_only_the_test_namespace_in(lab, kubectl, clean_policies):
    web_ip = lab.list_objects("pods", selector="app=web")[0]["status"]["podIP"]
    only_test = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "web-from-test"},
                 "spec": {"podSelector": {"matchLabels": {"app": "web"}},
                          "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "test"}}}],
                                       "ports": [{"port": "http"}]}]}}
    kubectl("apply", "-f", "-", input=json.dumps(only_test))
    blocked = lab.exec("client", f"curl -sS --max-time 2 http://{web_ip}/")
    assert blocked.exit_code == 28
    allowed = lab.exec("client", f"curl -sS --max-time 2 http://{web_ip}/", namespace="test")
    assert allowed.exit_code == 0 and "Server name: nginx-deployment-" in allowed.stdout
    # Through the ClusterIP too: the policy sees the backend pod after kube-proxy's DNAT.
    assert lab.exec("client", "curl -sS --max-time 2 http://web-clusterip/").exit_code == 28
    assert lab.exec("client", "curl -sS --max-time 2 http://web-clusterip.default/", namespace="test").exit_code == 0
