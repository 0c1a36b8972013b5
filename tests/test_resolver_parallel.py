"""The A/AAAA pair as the C library sends it, the conntrack race that can lose one reply
(glibc resolv/res_send.c send_dg; musl src/network/res_msend.c), and NodeLocal DNSCache."""
from __future__ import annotations

import copy
import time

import pytest

from labkit.sandbox._cluster import StaticCluster
from labkit.sandbox.runtime import _nodelocal, _parallel
from labkit.sandbox.runtime._resolver import StubResolver

from .test_resolver import CLIENT_POD, HOSTS, RESOLV_CONF, ZoneServer, make_ctx


@pytest.fixture
def server():
    s = ZoneServer()
    yield s
    s.close()


def racing_pod(name="client", probability="1", uid=None):
    pod = copy.deepcopy(CLIENT_POD)
    pod["metadata"]["name"] = name
    pod["metadata"]["uid"] = uid or f"uid-{name}-{time.monotonic_ns()}"
    pod["metadata"]["annotations"] = {_parallel.ANNOTATION: probability}
    return pod


def ctx_for(server, pod, options="", libc="glibc", cluster=None):
    conf = RESOLV_CONF.replace("options ndots:5", f"options ndots:5 {options}".rstrip())
    ctx = make_ctx(server, pod=pod, libc=libc, cluster=cluster,
                   files={"/etc/resolv.conf": conf, "/etc/hosts": HOSTS}, timeout=60)
    return ctx


def test_race_off_by_default_sends_both_and_never_stalls(server):
    found = StubResolver(ctx_for(server, CLIENT_POD)).getaddrinfo("web-svc.default.svc.cluster.local.")
    assert server.log == [("A", "web-svc.default.svc.cluster.local"), ("AAAA", "web-svc.default.svc.cluster.local")]
    assert found.stalled == 0 and found.ok


def test_glibc_send_dg_lost_reply_costs_the_timeout_then_asks_again_one_at_a_time(server):
    ctx = ctx_for(server, racing_pod())
    start = time.monotonic()
    found = StubResolver(ctx).getaddrinfo("web-svc.default.svc.cluster.local.")
    assert time.monotonic() - start < 2                # the 5 s are the sandbox's, not slept
    assert found.ok and found.addresses == ["10.10.100.37"]
    assert found.stalled == 5.0 and ctx.waited == 5.0
    dropped = [q for q in found.queries if q.dropped]
    assert len(dropped) == 1 and dropped[0].rcode is None
    # The lost query never reached the server; the retry asks A then AAAA again.
    assert len(server.log) == 3 and server.log[-2:] == [
        ("A", "web-svc.default.svc.cluster.local"), ("AAAA", "web-svc.default.svc.cluster.local")]


def test_glibc_keeps_single_request_for_the_rest_of_the_process(server):
    ctx = ctx_for(server, racing_pod())
    found = StubResolver(ctx).getaddrinfo("google.com")      # 4 candidates, only the first races
    assert found.ok and found.stalled == 5.0
    assert sum(q.dropped for q in found.queries) == 1


def test_timeout_option_sets_the_stall(server):
    found = StubResolver(ctx_for(server, racing_pod(), "timeout:2")).getaddrinfo("google.com.")
    assert found.stalled == 2.0


@pytest.mark.parametrize("option", ["single-request", "single-request-reopen", "use-vc"])
def test_each_glibc_remedy_avoids_the_race(server, option):
    found = StubResolver(ctx_for(server, racing_pod(), option)).getaddrinfo("google.com.")
    assert found.ok and found.stalled == 0
    assert not any(q.dropped for q in found.queries)
    assert all(q.tcp for q in found.queries) == (option == "use-vc")


def test_musl_resends_only_the_lost_query_after_timeout_over_attempts(server):
    ctx = ctx_for(server, racing_pod(), "single-request-reopen use-vc", libc="musl")
    found = StubResolver(ctx).getaddrinfo("google.com.")
    assert found.stalled == 2.5                    # retry_interval = timeout / attempts
    assert len(server.log) == 2 and sorted(t for t, _ in server.log) == ["A", "AAAA"]
    assert not any(q.tcp for q in found.queries)   # musl reads no use-vc


def test_draws_are_seeded_per_pod_and_pair():
    outcomes = []
    for _ in range(2):
        server = ZoneServer()
        try:
            pod = racing_pod("same", "0.5", uid=f"u{len(outcomes)}")
            ctx = ctx_for(server, pod)
            outcomes.append([StubResolver(ctx).getaddrinfo("google.com.").stalled for _ in range(12)])
        finally:
            server.close()
    assert outcomes[0] == outcomes[1]
    assert 0 < outcomes[0].count(5.0) < 12


def test_getent_hosts_asks_one_family_at_a_time_and_never_races(server):
    found = StubResolver(ctx_for(server, racing_pod())).gethostbyname("google.com.")
    assert found.ok and not any(q.dropped for q in found.queries)


def nodelocal_cluster(pod):
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "node-local-dns", "namespace": "kube-system"}, "data": {"Corefile": ""}}
    return StaticCluster([pod, cm])


def test_nodelocal_absent_leaves_169_254_20_10_unanswered(server):
    conf = RESOLV_CONF.replace("10.0.0.10", _nodelocal.ADDRESS)
    ctx = make_ctx(server, files={"/etc/resolv.conf": conf, "/etc/hosts": HOSTS})
    assert StubResolver(ctx).view is None


def test_nodelocal_caches_per_node_forwards_cluster_names_over_tcp_and_never_races(server):
    pod = racing_pod()
    ctx = ctx_for(server, pod, cluster=nodelocal_cluster(pod))
    first = StubResolver(ctx).getaddrinfo("web-svc.default.svc.cluster.local.")
    again = StubResolver(ctx).getaddrinfo("web-svc.default.svc.cluster.local.")
    assert first.ok and again.ok and first.stalled == again.stalled == 0
    assert len(server.log) == 2                                 # the second lookup hit the cache
    assert server.clients[0]["pod"] == "node-local-dns-lab-worker"
    cache = _nodelocal.node_cache(ctx)
    assert (cache["hits"], cache["misses"]) == (2, 2)
    # The cluster DNS address itself is answered by the node's cache once the add-on is in.
    assert StubResolver(ctx).via_nodelocal


def test_nodelocal_entries_expire_with_the_success_ttl(server):
    pod = racing_pod()
    ctx = ctx_for(server, pod, cluster=nodelocal_cluster(pod))
    StubResolver(ctx).getaddrinfo("google.com.")
    ctx.clock.advance(_nodelocal.SUCCESS_TTL + 1)
    ctx.deadline += _nodelocal.SUCCESS_TTL + 1
    StubResolver(ctx).getaddrinfo("google.com.")
    assert len(server.log) == 4


def test_use_vc_sends_a_lone_family_over_tcp_too(server):
    found = StubResolver(ctx_for(server, CLIENT_POD, "use-vc")).gethostbyname("google.com.")
    assert found.ok and found.queries and all(q.tcp for q in found.queries)


def test_use_vc_through_nodelocal_is_answered_by_the_node_cache(server):
    pod = racing_pod()
    ctx = ctx_for(server, pod, "use-vc", cluster=nodelocal_cluster(pod))
    for _ in range(2):
        assert StubResolver(ctx).getaddrinfo("google.com.").ok
    assert len(server.log) == 2


def test_sandbox_setting_turns_the_race_on_for_every_pod(server):
    from labkit.sandbox._config import SandboxConfig
    pod = copy.deepcopy(CLIENT_POD)
    pod["metadata"]["uid"] = f"uid-setting-{time.monotonic_ns()}"
    ctx = ctx_for(server, pod)
    ctx.config = SandboxConfig(conntrack_race=1.0)
    assert StubResolver(ctx).getaddrinfo("google.com.").stalled == 5.0
    pod["metadata"]["annotations"] = {_parallel.ANNOTATION: "0"}        # the pod's own word wins
    assert StubResolver(ctx).getaddrinfo("google.com.").stalled == 0
