"""labkit against the sandbox over real sockets: connect, verbs, errors, workshop mapping, probes, plots."""
from __future__ import annotations

import subprocess
import sys

import pytest

import labkit
from labkit import errors, plots, probes

from .conftest import MANIFESTS


def test_import_contacts_nothing():
    code = ("import sys, labkit; "
            "bad = [m for m in ('kubernetes', 'pandas', 'matplotlib', 'labkit.sandbox', 'urllib3') if m in sys.modules];"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_connect_reports_sandbox(sandbox, capsys):
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig)
    assert lab.backend == "sandbox" and lab.sandbox_extras is not None
    assert capsys.readouterr().out.startswith(f"labkit: using the embedded sandbox ({sandbox.server})")
    lab.close()


def test_apply_reports_like_kubectl(lab):
    again = lab.apply(MANIFESTS)
    assert set(again.actions().values()) == {"unchanged"}
    assert "deployment.apps/nginx-deployment unchanged" in repr(again)
    changed = lab.apply({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"a": "1"}})
    assert repr(changed) == "configmap/cm created"
    changed = lab.apply("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\ndata: {a: '2'}\n")
    assert repr(changed) == "configmap/cm configured"
    assert repr(lab.delete("configmap", "cm")) == "configmap/cm deleted"


def test_get_frames_have_kubectl_wide_columns(lab):
    pods = lab.pods()
    assert list(pods.columns) == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE"]
    client = pods[pods.NAME == "client"].iloc[0]
    assert client.READY == "1/1" and client.STATUS == "Running" and client.IP.startswith("10.10.100.")
    svc = lab.services().set_index("NAME")
    assert svc.loc["web-svc", "CLUSTER-IP"] == "None" and svc.loc["web-svc", "PORT(S)"] == "80/TCP"
    assert svc.loc["web-svc", "SELECTOR"] == "app=web"
    dep = lab.get("deploy").iloc[0]
    assert dep.IMAGES == "nginxdemos/hello:plain-text" and dep.SELECTOR == "app=web"


def test_exec_result(lab):
    r = lab.exec("client", "echo hi; echo oops >&2; exit 3")
    assert (r.stdout, r.stderr, r.exit_code, r.ok) == ("hi\n", "oops\n", 3, False)
    assert repr(r) == "hi\noops\n[exit code 3]"
    with pytest.raises(errors.ExecFailed, match="exit code 3"):
        r.check()
    assert lab.exec("client", ["hostname"]).stdout == "client\n"


def test_errors_are_labkit_errors(lab, sandbox):
    with pytest.raises(errors.NotFound) as e:
        lab.exec("no-such-pod", "true")
    assert e.value.status["reason"] == "NotFound" and e.value.__cause__ is not None
    with pytest.raises(errors.Invalid) as e:
        lab.apply({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "Bad_Name"},
                   "spec": {"ports": [{"port": 80}]}})
    assert e.value.causes and e.value.causes[0][0] == "metadata.name"
    with pytest.raises(errors.NotFound):
        lab.get("nosuchkind")


def test_unreachable_server_is_connection_failed(tmp_path):
    from labkit.sandbox import Sandbox, SandboxConfig
    sb = Sandbox(home=tmp_path, config=SandboxConfig(pod_start_seconds=0.0))
    sb.start()
    lab = labkit.connect(kubeconfig=sb.kubeconfig, quiet=True)
    lab.pods()
    sb.stop()
    with pytest.raises(errors.ConnectionFailed, match="connection refused"):
        lab.pods()


def test_workshop_prefix_maps_namespaces(sandbox):
    lab = labkit.connect(kubeconfig=sandbox.kubeconfig, namespace_prefix="ws1", quiet=True)
    assert lab.ns("test") == "ws1-test" and lab.ns("default") == "ws1-default"
    assert "kube-dns" in list(lab.services("kube-system").NAME)      # reading cluster DNS is fine
    with pytest.raises(errors.NamespaceNotAllowed):                     # changing it is not
        lab.delete("service", "kube-dns", namespace="kube-system")
    with pytest.raises(errors.NamespaceNotAllowed):                     # nor another learner's lab
        lab.pods("ws2-test")
    result = lab.apply([MANIFESTS / "namespace-test.yaml", MANIFESTS / "web-svc.yaml"])
    assert "namespace/ws1-test created" in repr(result)
    assert [(a.name, a.namespace) for a in result if a.kind == "service"] == [("web-svc", "ws1-default")]
    assert list(lab.services().NAME) == ["web-svc"]
    lab.reset()
    lab.reset()                                           # idempotent
    with pytest.raises(errors.NotFound):
        lab.get_object("namespace", "ws1-test")
    lab.close()


def test_resolv_conf_kubelet_config_doctor_logs(lab, capsys):
    rc = lab.resolv_conf("client", namespace="test")
    assert rc.search == ["test.svc.cluster.local", "svc.cluster.local", "cluster.local"]
    assert rc.options == {"ndots": 5} and rc.nameservers == [lab.kubelet_config()["clusterDNS"][0]]
    report = lab.doctor()
    assert report["cluster_domain"] == "cluster.local" and report["dns_ready"] is True and report["nodes"] >= 1
    assert "cluster_dns" in capsys.readouterr().out
    assert report["images"] == {"centos:7": "running", "nicolaka/netshoot:v0.13": "running",
                                "nginxdemos/hello:plain-text": "running"}
    assert isinstance(lab.logs("client"), str)


def test_scale_probes_and_plots(lab):
    lab.scale("nginx-deployment", 3)
    eps = lab.endpoints().set_index("NAME")
    assert eps.loc["web-svc", "ENDPOINTS"].count(":80") == 3
    df = probes.dns(lab, "client", "web-svc", samples=200)
    assert len(df) == 200 and set(df.rcode) == {"NOERROR"}
    assert df["first"].nunique() == 3 and all(len(a) == 3 for a in df.answers)
    fig = plots.answers_per_pod(df)
    ax = fig.axes[0]
    assert sorted(p.get_height() for p in ax.patches) == sorted(df["first"].value_counts().values)
    assert ax.lines[0].get_ydata()[0] == pytest.approx(200 / 3)
    web = probes.http(lab, "client", "http://web-svc/", samples=20)
    assert set(web.status) == {200} and web.server_name.str.startswith("nginx-deployment-").all()
    assert (web.server_address.str.split(":").str[0] == web.remote_ip).all()
    lab.scale("nginx-deployment", 1)
    assert lab.get("deploy").iloc[0].READY == "1/1"


def test_ping_search_walk_and_matrix(lab):
    # Earlier tests scaled the web pods down: CoreDNS's cache may still hold a removed pod's
    # address for 30 s (as on a real cluster), and a ping to it would get no reply.
    lab.sandbox_extras.clear_dns_cache()
    p = probes.ping(lab, "client", "web-svc", count=1)
    assert p.iloc[0].ptr_name.endswith(".web-svc.default.svc.cluster.local") and p.iloc[0].seq == 1
    walk = probes.search_walk(lab, "client", "web-svc.default", namespace="test")
    assert walk["query"].iloc[0].startswith("web-svc.default.test.svc.cluster.local")
    assert walk["answered"].iloc[-1] and walk["rcode"].iloc[0] == "NXDOMAIN"
    assert plots.search_walk(walk).axes[0].get_title()
    m = probes.resolution_matrix(lab, ["web-svc", "web-svc.default"], ["default", "test"])
    got = {(r.name, r.namespace): r.resolves for r in m.itertuples()}
    assert got == {("web-svc", "default"): True, ("web-svc.default", "default"): True,
                   ("web-svc", "test"): False, ("web-svc.default", "test"): True}
    assert plots.resolution_matrix(m).axes[0].images[0].get_array().sum() == 3
    assert len(plots.rtt_histogram(p).axes[0].patches) > 0


def test_a_deleted_pod_is_replaced_under_a_new_name_and_address(lab):
    lab.scale("nginx-deployment", 1)
    before = lab.pods(selector="app=web")
    old_name, old_ip = before.NAME.iloc[0], before.IP.iloc[0]
    lab.delete("pod", old_name)                          # returns once that pod is gone
    lab.wait("deployment", "nginx-deployment", "Available")
    import time
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = lab.pods(selector="app=web")
        if len(after) == 1 and after.STATUS.iloc[0] == "Running" and after.IP.iloc[0]:
            break
        time.sleep(0.05)
    assert after.NAME.iloc[0] != old_name and after.IP.iloc[0] != old_ip


def test_scale_down_returns_once_the_removed_pods_are_gone_and_wait_for_delete(lab, capsys):
    """Scaled-down pods terminate gracefully (the ReplicaSet controller deletes them
    through the API); lab.scale returns once they are gone, and lab.wait(..., "delete") is
    `kubectl wait --for=delete`."""
    lab.scale("nginx-deployment", 3)
    lab.scale("nginx-deployment", 1)
    assert len(lab.list_objects("pods", selector="app=web")) == 1
    name = lab.pods(selector="app=web").NAME.iloc[0]
    lab.show_kubectl = True
    lab.delete("pod", name, wait=False)
    assert lab.wait("pod", name, "delete") is None
    assert f"$ kubectl wait --for=delete pod/{name} --timeout=60s" in capsys.readouterr().out
    lab.show_kubectl = False
    lab.wait("deployment", "nginx-deployment", "Available")
