"""What labkit reads about the cluster instead of assuming it: the DNS cache time from the
Corefile, the cluster domain from the kubelet (or the Corefile), and what a learner without
cluster-wide read may see (403s named, the rest reported); one readiness query."""
from __future__ import annotations

import json

import pytest

import labkit
from labkit import _readiness, clusterdns, errors, probes, widgets
from labkit.sandbox import Sandbox, SandboxConfig

from .conftest import MANIFESTS

KUBEADM_COREFILE = """.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
"""


# --- the Corefile's cache time (plugin/cache computeTTL, plugin/kubernetes ttl) ---------------

@pytest.mark.parametrize("edit, seconds", [
    ((), 30),                                            # kubeadm: cache 30, ttl 30
    (("ttl 30", "ttl 0"), 5),                            # cache keeps an answer at least 5 s
    (("ttl 30", "ttl 300"), 30),                         # capped by the cache's TTL
    (("cache 30", "cache"), 30),                         # no cap: the records' TTL
    (("       ttl 30\n", ""), 5),                        # the kubernetes plugin's default ttl 5
    (("cache 30", "cache 2"), 2),                        # a cap below the 5 s floor wins
    (("cache 30\n", ""), 0),                             # no cache plugin: no stale answers
])
def test_cache_seconds_of_a_corefile(edit, seconds):
    text = KUBEADM_COREFILE.replace(*edit) if edit else KUBEADM_COREFILE
    assert clusterdns.cache_seconds(text) == seconds


def test_kubernetes_zone_is_the_cluster_domain():
    assert clusterdns.kubernetes_zone(KUBEADM_COREFILE) == "cluster.local"
    assert clusterdns.kubernetes_zone(KUBEADM_COREFILE.replace("cluster.local", "corp.example.")) == "corp.example"
    assert clusterdns.kubernetes_zone(".:53 {\n    forward . 8.8.8.8\n}\n") is None


class _RefusingCorefile:
    """A stand-in lab whose ConfigMap read RBAC refuses."""
    namespace_prefix = None

    def get_object(self, kind, name, namespace="default"):
        raise errors.Forbidden('configmaps "coredns" is forbidden: User "alice" cannot get resource '
                               '"configmaps" in API group "" in the namespace "kube-system"', code=403)


def test_cache_time_falls_back_to_kubeadms_30_with_a_note():
    seconds, source = clusterdns.cluster_cache_seconds(_RefusingCorefile())
    assert seconds == 30 and "could not be read" in source and "forbidden" in source


# --- a sandbox whose domain and cache time are not the usual ones ----------------------------

@pytest.fixture(scope="module")
def odd_lab(tmp_path_factory):
    config = SandboxConfig(pod_start_seconds=0.0, cluster_domain="corp.example", dns_cache_seconds=8, dns_ttl=30)
    with Sandbox(home=tmp_path_factory.mktemp("odd"), config=config) as sb:
        lab = labkit.connect(kubeconfig=sb.kubeconfig, quiet=True)
        lab.apply(MANIFESTS, wait=True)
        yield lab
        lab.close()


def test_the_cluster_domain_comes_from_the_cluster(odd_lab, capsys):
    assert odd_lab.cluster_domain == "corp.example"
    queries = widgets.resolver_queries("web-svc", lab=odd_lab)
    assert list(queries["query"])[:1] == ["web-svc.default.svc.corp.example"] and queries["exists"].iloc[-1]
    w = widgets.ndots_explorer("example.com", lab=odd_lab, static=False)
    assert "search default.svc.corp.example svc.corp.example corp.example" in w.queries.value
    assert "labkit:" not in capsys.readouterr().out     # no fallback note: the domain was read


def test_the_dns_wait_skips_the_corefiles_cache_time_not_30_s(odd_lab):
    odd_lab.scale("nginx-deployment", 1)
    probes.wait_dns(odd_lab, "client", "web-svc", 1)                 # the cache now holds one pod
    odd_lab.scale("nginx-deployment", 2)
    waited = probes.wait_dns(odd_lab, "client", "web-svc", 2, timeout=20)
    assert 9 <= waited < 15, waited                  # cache 8 (+1) skipped, where 30 was hard-coded


def test_scale_timeline_skips_to_the_corefiles_cache_expiry(odd_lab):
    odd_lab.scale("nginx-deployment", 1)
    df = probes.scale_timeline(odd_lab, "nginx-deployment", 3, "web-svc", interval=0.05, duration=20)
    assert df["pods_seen_in_dns"].iloc[-1] == 3
    skipped = df["clock_skipped"].max()
    assert 0 < skipped <= 8.1, skipped
    odd_lab.scale("nginx-deployment", 1)


# --- one readiness query ---------------------------------------------------------------------

def test_ready_pods_and_endpoints_are_one_query(lab):
    pods = lab.ready_pods(selector="app=web")
    addresses = lab.ready_endpoints("web-svc")
    assert {p["status"]["podIP"] for p in pods} == addresses and addresses
    assert lab.ready_endpoints("no-such-service") == set()
    ready = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    assert _readiness.condition_unmet(ready, "Ready") is None
    assert _readiness.condition_unmet({"status": {}}, "Available") == "condition Available not met"
    terminating = dict(pods[0], metadata=dict(pods[0]["metadata"], deletionTimestamp="2024-01-01T00:00:00Z"))
    assert _readiness.ready_pods([terminating]) == []


# --- a learner without cluster-wide read (RBAC 403 at the transport) -----------------------

def _forbid(lab, monkeypatch, *prefixes: str):
    """Make the API server refuse (403, as RBAC words it) every request under `prefixes`."""
    real = lab._transport.request

    def request(method, path, **kw):
        if any(path.startswith(p) for p in prefixes):
            resource = path.rstrip("/").split("/")[-1] if path.count("/") <= 3 else path.split("/")[5]
            status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Forbidden",
                      "code": 403, "details": {"kind": resource},
                      "message": f'{resource} is forbidden: User "system:serviceaccount:alice-default:learner" '
                                 f'cannot list resource "{resource}" in API group "" at the cluster scope'}
            raise errors.from_status(403, json.dumps(status))
        return real(method, path, **kw)
    monkeypatch.setattr(lab._transport, "request", request)


@pytest.fixture
def learner(sandbox, lab):
    learner = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    yield learner
    learner.close()


def test_doctor_reports_what_it_may_read_and_names_each_refusal(learner, monkeypatch, capsys):
    _forbid(learner, monkeypatch, "/api/v1/nodes")
    report = learner.doctor()
    out = capsys.readouterr().out
    assert report["nodes"] is None and "nodes" in report["not_readable"]
    assert "cannot list resource \"nodes\"" in report["not_readable"]["nodes"]
    # What it may read is still there: version, the Corefile's domain, kube-dns.
    assert report["server_version"].startswith("v1.")
    assert report["cluster_domain"] == "cluster.local" and report["cluster_dns"] == "10.0.0.10"
    assert report["dns_ready"] is True and report["images"]
    assert "nodes           not readable" in out
    assert "RBAC refused (403)" in out and 'cannot list resource "nodes"' in out


def test_doctor_without_kube_system_either(learner, monkeypatch, capsys):
    _forbid(learner, monkeypatch, "/api/v1/nodes", "/api/v1/namespaces/kube-system")
    report = learner.doctor(quiet=True)
    assert set(report["not_readable"]) == {"nodes", "Corefile", "kube-system/kube-dns"}
    assert report["cluster_domain"] is None and report["dns_ready"] is None
    assert report["backend"] == "sandbox" and report["server_version"]


def test_get_nodes_says_why_and_goes_on(learner, monkeypatch, capsys):
    _forbid(learner, monkeypatch, "/api/v1/nodes")
    nodes = learner.get("nodes")
    assert nodes.empty and list(nodes.columns)[:2] == ["NAME", "STATUS"]
    assert "forbidden" in nodes.attrs["forbidden"]
    out = capsys.readouterr().out
    assert out.startswith("labkit: cannot read nodes: nodes is forbidden") and "RBAC" in out
    assert len(learner.pods()) >= 1                   # the learner's own namespace still reads


def test_a_refusal_in_the_learners_own_namespace_still_raises(learner, monkeypatch):
    _forbid(learner, monkeypatch, "/api/v1/namespaces/default/pods")
    with pytest.raises(errors.Forbidden):
        learner.pods()


def test_the_core_states_readiness_once():
    from labkit.kube import readiness
    pod = {"status": {"conditions": [{"type": "PodScheduled", "status": "True"},
                                     {"type": "Ready", "status": "False", "reason": "ContainersNotReady"}]}}
    assert readiness.condition(pod, "Ready")["reason"] == "ContainersNotReady"
    assert not readiness.pod_ready(pod) and readiness.condition_true(pod, "PodScheduled")
    assert readiness.condition(None, "Ready") is None and not readiness.pod_ready({})
    endpoints = {"subsets": [{"addresses": [{"ip": "10.10.100.5"}], "notReadyAddresses": [{"ip": "10.10.100.6"}]}]}
    assert readiness.ready_addresses(endpoints) == {"10.10.100.5"} and readiness.ready_addresses(None) == set()
