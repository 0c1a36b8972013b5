"""Lesson 10's mechanisms end to end on the sandbox: the conntrack race a pod's annotation
turns on, its stall as curl's time_namelookup shows it, glibc's remedies from
dnsConfig.options, and NodeLocal DNSCache applied from the add-on's manifest."""
from __future__ import annotations

from pathlib import Path

import pytest

from labkit import nodelocaldns, plots, probes

NODELOCAL = Path(__file__).resolve().parent.parent / "manifests" / "addons" / "nodelocaldns.yaml"


def pod_yaml(name, options=(), race="0.5", image="centos:7"):
    opts = "".join(f"\n      - name: {o}" for o in options)
    config = f"\n  dnsConfig:\n    options:{opts}" if options else ""
    return f"""
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  annotations:
    sandbox.labkit.dev/conntrack-race: "{race}"
spec:{config}
  containers:
    - name: client
      image: {image}
      command: ["sleep", "infinity"]
"""


@pytest.fixture(scope="module")
def racing(lab):
    pods = {"scale-plain": (), "scale-reopen": ("single-request-reopen",), "scale-vc": ("use-vc",)}
    lab.apply("---".join(pod_yaml(name, opts) for name, opts in pods.items()), wait=True)
    yield pods
    for name in pods:
        lab.delete("pod", name, ignore_not_found=True, wait=False)


def test_race_stalls_show_in_curl_time_namelookup_and_remedies_remove_them(lab, racing):
    fqdn = "web-svc.default.svc.cluster.local."
    times = {pod: probes.lookup_times(lab, pod, fqdn, samples=16) for pod in racing}
    plain = times["scale-plain"]
    assert (plain["status"] == 200).all()
    stalls = plain[plain["namelookup_s"] >= 1]["namelookup_s"]
    assert len(stalls) >= 1 and ((stalls - 5.0).abs() < 0.01).all()       # glibc's timeout:5
    for pod in ("scale-reopen", "scale-vc"):
        assert times[pod]["namelookup_s"].max() < 1, pod
    assert plain.attrs["timings"]                                        # labelled as modelled
    plots.lookup_latency(times)


def test_use_vc_queries_reach_coredns_over_tcp(lab, racing):
    import labkit
    log = labkit.clusterdns.QueryLog(lab)
    log.clear()
    lab.exec("scale-vc", "getent ahosts web-svc.default.svc.cluster.local.")
    frame = log.frame()
    assert set(frame[frame["pod"] == "scale-vc"]["transport"]) == {"tcp"}
    log.close()


def test_nodelocal_install_caches_per_node_and_uninstall_restores(lab, racing):
    import labkit
    lines = nodelocaldns.install(lab, NODELOCAL)
    try:
        assert "configmap/node-local-dns created" in lines
        log = labkit.clusterdns.QueryLog(lab)
        log.clear()
        after = probes.lookup_times(lab, "scale-plain", "web-svc.default.svc.cluster.local.", samples=16)
        assert after["namelookup_s"].max() < 1                            # NOTRACK: no race
        frame = log.frame()
        assert len(frame) == 2 and set(frame["transport"]) == {"tcp"}    # one miss per type
        assert frame["pod"].str.startswith("node-local-dns-").all()
        rates = nodelocaldns.hit_rates({"n": 32}, {"n": len(frame)})
        assert rates.loc["n", "hit_rate"] == pytest.approx(1 - 2 / 32, abs=1e-3)
        log.close()
    finally:
        nodelocaldns.uninstall(lab, NODELOCAL)
    assert "169.254.20.10" not in lab.exec("scale-plain", "getent hosts kubernetes.io").stdout
    result = lab.exec("scale-plain", "getent ahosts web-svc.default.svc.cluster.local.")
    assert result.ok


def test_curl_max_time_cuts_a_stalled_lookup_short_with_code_28(lab, racing):
    # lib/multi.c: a -m shorter than the resolver's wait ends curl in the resolving state.
    script = ('i=0; while [ $i -lt 16 ]; do i=$((i+1)); '
              'curl -sS -o /dev/null -m 2 http://web-svc.default.svc.cluster.local./; echo "rc=$?"; done')
    out = lab.exec("scale-plain", script)
    codes = [line for line in out.stdout.splitlines() if line.startswith("rc=")]
    assert "rc=28" in codes and "rc=0" in codes
    assert "curl: (28) Resolving timed out after 2" in out.stderr
