"""Files the kubelet writes into pods: resolv.conf per dnsPolicy, hosts, hostname."""
from __future__ import annotations

from labkit.sandbox._config import SandboxConfig
from labkit.sandbox.runtime._podfiles import hosts, pod_files, pod_hostname, resolv_conf
from labkit.sandbox.runtime._images import normalize, profile, traits

CFG = SandboxConfig()


def pod(ns="default", name="client", ip="10.10.100.37", **spec):
    return {"metadata": {"name": name, "namespace": ns},
            "spec": {"containers": [{"name": "c", "image": "nginx"}], "nodeName": "lab-worker", **spec},
            "status": {"podIP": ip, "podIPs": [{"ip": ip}]}}


# ---------------------------------------------------------------- resolv.conf

def test_cluster_first_is_the_default():
    assert resolv_conf(pod(), config=CFG) == (
        "search default.svc.cluster.local svc.cluster.local cluster.local\n"
        "nameserver 10.0.0.10\noptions ndots:5\n")


def test_cluster_first_follows_namespace_domain_and_dns_ip():
    cfg = SandboxConfig(cluster_domain="lab.example", service_cidr="10.96.0.0/12")
    assert resolv_conf(pod(ns="test"), config=cfg) == (
        "search test.svc.lab.example svc.lab.example lab.example\n"
        "nameserver 10.96.0.10\noptions ndots:5\n")


def test_default_policy_inherits_the_node_resolv_conf():
    # A kind-like node: Docker's DNS on the network gateway, ndots:0, no search line.
    assert resolv_conf(pod(dnsPolicy="Default"), config=CFG) == "nameserver 172.18.0.1\noptions ndots:0\n"


def test_cluster_first_with_host_network_falls_back_to_default():
    # dns.go getPodDNSType: ClusterFirst + hostNetwork behaves as Default ...
    assert resolv_conf(pod(hostNetwork=True), config=CFG).startswith("nameserver 172.18.0.1\n")
    # ... and ClusterFirstWithHostNet gets cluster DNS.
    assert "nameserver 10.0.0.10\n" in resolv_conf(
        pod(hostNetwork=True, dnsPolicy="ClusterFirstWithHostNet"), config=CFG)


def test_none_policy_uses_only_dns_config():
    p = pod(dnsPolicy="None", dnsConfig={"nameservers": ["1.2.3.4"], "searches": ["ns1.svc.cluster-domain.example"],
                                         "options": [{"name": "ndots", "value": "2"}, {"name": "edns0"}]})
    assert resolv_conf(p, config=CFG) == (
        "search ns1.svc.cluster-domain.example\nnameserver 1.2.3.4\noptions ndots:2 edns0\n")


def test_dns_config_merges_onto_cluster_first():
    # appendDNSConfig: servers and searches appended without duplicates; options merged
    # by name with the pod's value winning.
    p = pod(dnsConfig={"nameservers": ["10.0.0.10", "8.8.8.8"],
                       "searches": ["svc.cluster.local", "corp.example"],
                       "options": [{"name": "ndots", "value": "1"}, {"name": "single-request-reopen"}]})
    assert resolv_conf(p, config=CFG) == (
        "search default.svc.cluster.local svc.cluster.local cluster.local corp.example\n"
        "nameserver 10.0.0.10\nnameserver 8.8.8.8\noptions ndots:1 single-request-reopen\n")


def test_nameservers_capped_at_three():
    p = pod(dnsConfig={"nameservers": ["1.1.1.1", "8.8.8.8", "9.9.9.9"]})
    assert resolv_conf(p, config=CFG).count("nameserver") == 3


# ---------------------------------------------------------------- hosts and hostname

_BOILERPLATE = ("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"
                "::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\n"
                "fe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")


def test_hosts_has_the_pod_ip_and_name():
    assert hosts(pod(), config=CFG) == _BOILERPLATE + "10.10.100.37\tclient\n"


def test_hosts_with_hostname_and_subdomain_has_the_fqdn_first():
    p = pod(hostname="web-0", subdomain="web-svc")
    assert hosts(p, config=CFG) == _BOILERPLATE + "10.10.100.37\tweb-0.web-svc.default.svc.cluster.local\tweb-0\n"


def test_host_aliases_section():
    p = pod(hostAliases=[{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]},
                         {"ip": "10.1.2.3", "hostnames": ["foo.remote"]}])
    assert hosts(p, config=CFG) == (_BOILERPLATE + "10.10.100.37\tclient\n\n"
                                    "# Entries added by HostAliases.\n"
                                    "127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\n")


def test_host_network_pod_gets_the_node_hosts_file():
    text = hosts(pod(hostNetwork=True), config=CFG)
    assert text.startswith("# Kubernetes-managed hosts file (host network).\n127.0.0.1\tlocalhost\n")
    assert text.endswith("172.18.0.3\tlab-worker\n")
    assert pod_hostname(pod(hostNetwork=True), config=CFG) == "lab-worker"


def test_hostname_file_and_long_names():
    long_name = "nginx-deployment-" + "x" * 46 + "-abcde"
    assert pod_files(pod(name=long_name), config=CFG)["/etc/hostname"] == long_name[:63].rstrip("-.") + "\n"
    fqdn = pod(hostname="web-0", subdomain="web-svc", setHostnameAsFQDN=True)
    assert pod_hostname(fqdn, config=CFG) == "web-0.web-svc.default.svc.cluster.local"


# ---------------------------------------------------------------- images

def test_image_reference_normalisation():
    assert normalize("docker.io/library/busybox:1.36") == ("busybox", "1.36")
    assert normalize("nginxdemos/hello:plain-text") == ("nginxdemos/hello", "plain-text")
    assert normalize("registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3") == (
        "registry.k8s.io/e2e-test-images/jessie-dnsutils", "1.3")
    assert normalize("localhost:5000/app") == ("localhost:5000/app", "latest")


def test_image_profiles():
    hello = profile("nginxdemos/hello:plain-text")
    assert (hello.libc, hello.http_server, hello.busybox) == ("musl", "hello-plain", True)
    assert profile("nginxdemos/hello").http_server == "hello-html"
    netshoot = profile("nicolaka/netshoot")
    assert {"dig", "curl", "ping", "nslookup", "host"} <= netshoot.tools and netshoot.libc == "musl"
    jessie = profile("registry.k8s.io/e2e-test-images/jessie-dnsutils:1.3")
    assert {"dig", "nslookup", "host"} <= jessie.tools and "ping" not in jessie.tools
    bb = profile("busybox")
    assert bb.busybox and bb.libc == "glibc" and "curl" not in bb.tools and "wget" in bb.tools
    assert profile("busybox:1.36-musl").libc == "musl"
    centos = profile("centos:7")
    assert {"bash", "ping", "curl", "getent"} <= centos.tools and "dig" not in centos.tools
    nginx = profile("nginx:1.27")
    assert "curl" in nginx.tools and not {"ping", "dig"} & nginx.tools
    assert traits("nginx").sh == "dash" and traits("alpine").sh == "ash"
    unknown = profile("example.com/app:1")
    assert "sh" in unknown.tools and "curl" not in unknown.tools
