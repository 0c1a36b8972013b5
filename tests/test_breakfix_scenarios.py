"""labkit.scenarios on the sandbox: each one breaks the lab through the API, its check() is
false while broken and true once the learner's fix (applied here with kubectl) is in,
and reset() restores the lab. Instructor-only scenarios are refused under a workshop prefix."""
from __future__ import annotations

import json

import pytest

from labkit import errors, scenarios

ALLOW_DNS = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "allow-dns"},
             "spec": {"podSelector": {}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                                          "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
                                  "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]}}


def _fix_corefile(kubectl):
    cm = json.loads(kubectl("get", "configmap", "coredns", "-n", "kube-system", "-o", "json").stdout)
    cm["data"]["Corefile"] = cm["data"]["Corefile"].replace("    eror\n", "    errors\n")
    kubectl("replace", "-f", "-", input=json.dumps(cm))


def _recreate_legacy(kubectl):
    pod = json.loads(kubectl("get", "pod", "legacy", "-o", "json").stdout)
    kubectl("delete", "pod", "legacy")
    spec = {"containers": [{k: c[k] for k in ("name", "image", "command")} for c in pod["spec"]["containers"]]}
    kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "Pod",
                                                   "metadata": {"name": "legacy"}, "spec": spec}))
    kubectl("wait", "--for=condition=Ready", "pod/legacy", "--timeout=20s")


FIXES = {
    "selector-typo": lambda k: k("patch", "svc", "web-svc", "-p", '{"spec":{"selector":{"app":"web"}}}'),
    "wrong-targetport": lambda k: k("patch", "svc", "web-clusterip", "--type=json", "-p",
                                    '[{"op":"replace","path":"/spec/ports/0/targetPort","value":80}]'),
    "readiness": lambda k: k("patch", "deployment", "api", "--type=json", "-p",
                             '[{"op":"replace","path":"/spec/template/spec/containers/0/readinessProbe/httpGet/port",'
                             '"value":"http"}]'),
    "deny-egress": lambda k: k("apply", "-f", "-", input=json.dumps(ALLOW_DNS)),
    "dns-policy-default": _recreate_legacy,
    "coredns-down": lambda k: k("scale", "deployment", "coredns", "-n", "kube-system", "--replicas=2"),
    "corefile-typo": _fix_corefile,
}


def test_every_scenario_has_a_fix_here_and_the_catalogue_reads_well():
    assert set(FIXES) == set(scenarios.names())
    assert len(scenarios.names()) >= 6
    table = scenarios.summary()
    assert list(table.columns) == ["symptom", "cause", "fix"] and len(table) == len(FIXES)
    assert {s.name for s in scenarios.SCENARIOS.values() if s.instructor_only} == {"coredns-down", "corefile-typo"}


@pytest.mark.parametrize("name", list(FIXES))
def test_check_is_false_while_broken_and_true_after_the_fix(name, lab, kubectl):
    scenario = scenarios.get(name)
    scenario.start(lab)
    try:
        seen = scenario.look(lab)
        assert any(sign in seen for sign in ("(exit code ", "exit=2", "reload failed")), seen
        verdict = scenario.check(lab)
        assert not verdict and verdict.problems
        FIXES[name](kubectl)
        lab.sandbox_extras.clear_dns_cache()          # a negative answer may be cached for 30 s
        verdict = scenario.wait_healthy(lab, timeout=30)
        assert verdict, verdict
    finally:
        scenario.reset(lab)
    lab.sandbox_extras.clear_dns_cache()
    assert lab.exec("client", "getent hosts web-svc").exit_code == 0
    assert lab.list_objects("networkpolicies") == []


def test_reset_alone_restores_a_scenario_that_was_never_fixed(lab):
    scenario = scenarios.get("wrong-targetport").start(lab)
    assert not scenario.check(lab)
    scenario.reset(lab)
    assert scenario.check(lab)


def test_instructor_only_scenarios_are_refused_under_a_workshop_prefix(sandbox):
    import labkit
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True, namespace_prefix="alice")
    try:
        for name in ("coredns-down", "corefile-typo"):
            with pytest.raises(errors.NamespaceNotAllowed, match="kube-system"):
                scenarios.get(name).start(lab)
        assert not scenarios.table(lab).set_index("scenario").loc["coredns-down", "runs_here"]
        assert scenarios.get("selector-typo").allowed(lab)
    finally:
        lab.close()
