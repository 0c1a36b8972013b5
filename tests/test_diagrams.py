"""labkit.diagrams: the pictures show the values they are given."""
from __future__ import annotations

from labkit import diagrams


def _texts(fig) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_query_path_shows_the_pods_resolv_conf_and_the_coredns_endpoints():
    fig = diagrams.query_path("client", "10.96.0.10", ["default.svc.cluster.local", "svc.cluster.local"], 5,
                              "kube-dns", [("coredns-a", "10.244.0.2"), ("coredns-b", "10.244.0.3")])
    text = _texts(fig)
    for value in ("nameserver 10.96.0.10", "search default.svc.cluster.local", "+ 1 more", "ndots:5",
                  "ClusterIP 10.96.0.10", "coredns-a  10.244.0.2", "coredns-b  10.244.0.3", "watch"):
        assert value in text


def test_query_path_says_when_no_coredns_pod_is_ready():
    assert "(none ready)" in _texts(diagrams.query_path("client", "10.96.0.10", [], 5, "kube-dns", []))


def test_headless_versus_clusterip_counts_the_records():
    fig = diagrams.headless_vs_clusterip("web-svc", ["10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9"],
                                         "web-clusterip", "10.96.12.1")
    text = _texts(fig)
    assert "5 A records" in text and "... 1 more" in text and "1 A record\n10.96.12.1" in text
