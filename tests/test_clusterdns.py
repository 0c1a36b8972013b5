"""labkit.clusterdns on the generic-cluster path: the Corefile and CoreDNS's query log read
through the Kubernetes API only, against a sandbox reached under another context name."""
from __future__ import annotations

import datetime as dt
import importlib.util
import re

import pytest

import labkit
from labkit import clusterdns, probes

from .conftest import MANIFESTS, ROOT


def _generic_kubeconfig(sandbox, tmp_path):
    spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "scripts" / "run_notebooks.py")
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    return runner.generic_kubeconfig(sandbox.kubeconfig, tmp_path / "kind.kubeconfig")


@pytest.fixture(scope="module")
def generic(sandbox, tmp_path_factory):
    lab = labkit.connect(kubeconfig=_generic_kubeconfig(sandbox, tmp_path_factory.mktemp("kube")), quiet=True)
    assert lab.backend == "cluster" and lab.sandbox_extras is None
    lab.apply(MANIFESTS, wait=True)
    yield lab
    lab.close()


def test_directives_are_read_and_changed_in_the_server_block():
    text = ".:53 {\n    errors\n    health {\n       lameduck 5s\n    }\n    cache 30\n    loadbalance\n}\n"
    assert clusterdns.directives(text) == ["errors", "health", "cache", "loadbalance"]
    assert clusterdns.directives(clusterdns.with_directive(text, "log"))[0] == "log"
    assert clusterdns.with_directive(text, "cache") == text
    assert "loadbalance" not in clusterdns.directives(clusterdns.without_directive(text, "loadbalance"))


def test_log_lines_parse_with_and_without_the_kubelets_timestamp():
    line = '[INFO] 10.244.0.5:46349 - 4829 "A IN web-svc.default.svc.cluster.local. udp 51 false 512" NOERROR qr,aa,rd 106 0.000150858s'
    plain, = clusterdns.parse_log(line)
    stamped, = clusterdns.parse_log("2026-11-30T01:02:03.5Z " + line, "coredns-x")
    assert (plain["client"], plain["port"], plain["qtype"], plain["rcode"]) == ("10.244.0.5", 46349, "A", "NOERROR")
    assert stamped["time"] == "2026-11-30T01:02:03.5Z" and stamped["coredns_pod"] == "coredns-x"
    assert clusterdns.parse_log(".:53\nCoreDNS-1.14.6\n[INFO] Reloading complete") == []


def test_rfc3339nano_times_sort_although_go_drops_trailing_zeros():
    assert clusterdns._key("2026-11-30T01:02:03.5Z") > clusterdns._key("2026-11-30T01:02:03.123Z")
    assert clusterdns._key("2026-11-30T01:02:04Z") > clusterdns._key("2026-11-30T01:02:03.999999999Z")


def test_pod_logs_with_timestamps_are_rfc3339nano_in_order(generic):
    pod = clusterdns._coredns_pods(generic)[0]
    text = generic._transport.request("GET", f"/api/v1/namespaces/kube-system/pods/{pod}/log",
                                      query={"timestamps": "true"}, raw=True)
    stamps = [line.split(" ", 1)[0] for line in text.splitlines()]
    assert stamps and all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z", s) for s in stamps)
    assert [clusterdns._key(s) for s in stamps] == sorted(clusterdns._key(s) for s in stamps)
    first = dt.datetime.strptime(stamps[0][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=dt.timezone.utc)
    assert abs((dt.datetime.now(dt.timezone.utc) - first).total_seconds()) < 3600


def test_query_log_turns_the_log_plugin_on_reads_the_walk_and_puts_the_corefile_back(generic):
    before = clusterdns.corefile(generic)
    assert "log" not in clusterdns.directives(before)
    with clusterdns.QueryLog(generic) as log:
        assert log.available
        assert "log" in clusterdns.directives(clusterdns.corefile(generic))
        walk = probes.search_walk(generic, "client", "web-svc.default", namespace="test", log=log)
        # glibc's search walk from `test` (ndots:5): the namespace's own domain first.
        assert list(walk["query"]) == ["web-svc.default.test.svc.cluster.local.", "web-svc.default.svc.cluster.local."]
        assert list(walk["rcode"]) == ["NXDOMAIN", "NOERROR"]
        log.clear()
        generic.exec("client", "curl -s -o /dev/null -m 1 http://example.com/")
        frame = log.frame()
        mine = frame[(frame["pod"] == "client") & (frame["namespace"] == "default")]
        assert sorted(mine["qtype"].value_counts().items()) == [("A", 4), ("AAAA", 4)]
    assert clusterdns.corefile(generic) == before


def test_search_walk_without_a_query_log_asks_the_pod_it_was_given(generic):
    with pytest.raises(labkit.errors.LabkitError, match="client has no dig"):
        probes.search_walk(generic, "client", "web-svc")
    walk = probes.search_walk(generic, "dnsutils", "web-svc.default")
    assert list(walk["query"])[-1] == "web-svc.default.svc.cluster.local."


def test_a_workshop_learner_gets_a_clear_skip_not_a_corefile_edit(sandbox, tmp_path):
    lab = labkit.connect(kubeconfig=_generic_kubeconfig(sandbox, tmp_path), namespace_prefix="alice", quiet=True)
    try:
        before = clusterdns.corefile(lab)
        log = clusterdns.QueryLog(lab)
        assert not log.available and "instructor" in log.reason
        assert log.frame().empty
        assert clusterdns.corefile(lab) == before
        with pytest.raises(labkit.errors.NamespaceNotAllowed):
            clusterdns.write_corefile(lab, before)
    finally:
        lab.close()
