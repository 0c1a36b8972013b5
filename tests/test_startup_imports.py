"""What the sandbox server loads before it answers /readyz, so `labkit sandbox up` stays fast.

A module on the forbidden list serves something other than start-up (a command in a pod,
kubectl's Tables, protobuf bodies, minting tokens, making certificates) and must load on
first use. The server is started in a fresh interpreter, in a home whose certificates
already exist, as `labkit sandbox up` leaves a fresh home before its server needs them.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from labkit.sandbox.home import _tls

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = (
    "labkit.sandbox.runtime.shell.interpreter",    # the pod's shell: only when a command runs
    "labkit.sandbox.runtime.shell.parser",
    "labkit.sandbox.runtime.shell.lexer",
    "labkit.sandbox.runtime._interactive",
    "labkit.sandbox.runtime.tools",
    "labkit.sandbox.runtime._resolver",
    "labkit.sandbox.runtime._regex",
    "labkit.kube.printers",                        # kubectl's Table output
    "labkit.sandbox.apiserver._protobuf",          # protobuf request bodies
    "labkit.sandbox.apiserver._exec",              # exec, attach, port-forward, proxy: on first use
    "labkit.sandbox.apiserver._portforward",
    "labkit.sandbox.apiserver._spdy",
    "labkit.sandbox.apiserver._proxy",
    "jsonpatch",                                   # JSON patches
    "zoneinfo",                                    # a CronJob's timeZone
    "yaml",                                        # YAML bodies; the kubeconfig is written without it
    "cryptography",                                # certificates (made by `up`) and token keys
    "cryptography.hazmat.primitives.asymmetric.rsa",
    "kubernetes",                                  # the client: the server never imports it
    "labkit.sandbox.dns._server",                  # the DNS server: on first need (dns._port)
    "labkit.sandbox.dns._chain",
    "dns.message",                                 # dnspython, with the DNS server
    "labkit.sandbox.dns._udpbatch",                # DNS's UDP batches: after the first datagram
    "ctypes",
)

_SERVE = """
import json, sys
from pathlib import Path
from labkit.sandbox import Sandbox, SandboxConfig
# CoreDNS pods that start load the DNS server (dns._port): kept Pending here, what is loaded
# is start-up's alone, however long the snapshot below waits for the interpreter.
sb = Sandbox(home=Path(sys.argv[1]), config=SandboxConfig(pod_start_seconds=600))
sb.start()
loaded = sorted(sys.modules)
sb.stop()
print(json.dumps(loaded))
"""


def _loaded_at_ready(home: Path) -> set[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", _SERVE, str(home)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout.strip().splitlines()[-1]))


def test_server_start_loads_nothing_on_the_forbidden_list(tmp_path):
    home = tmp_path / "sandbox"
    _tls.ensure_certificates(home)
    loaded = _loaded_at_ready(home)
    assert "labkit.sandbox.apiserver._server" in loaded and "labkit.sandbox.dns._port" in loaded
    assert sorted(m for m in FORBIDDEN if m in loaded) == []


def test_the_api_server_names_protobuf_as_the_decoder_does():
    from labkit.sandbox.apiserver import _protobuf, _server
    assert _server._PROTOBUF == _protobuf.CONTENT_TYPE


def test_certificates_being_made_are_waited_for_not_made_twice(tmp_path):
    """`up` makes a fresh home's certificates while its server starts: a server that comes
    to them meanwhile waits on pki/.lock and takes those, never a second CA."""
    import fcntl
    pki = tmp_path / "pki"
    pki.mkdir(mode=0o700)
    fd = os.open(pki / _tls.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)                 # another maker is at work
    result: list = []
    waiter = threading.Thread(target=lambda: result.append(_tls.ensure_certificates(tmp_path)))
    waiter.start()
    ours = {"ca.crt": b"the other maker's CA\n", "server.crt": b"its cert\n", "server.key": b"its key\n"}
    for name, data in ours.items():
        (pki / name).write_bytes(data)
    os.close(fd)                                    # that maker is done
    waiter.join(timeout=60)
    assert not waiter.is_alive()
    assert result == [(pki / "ca.crt", pki / "server.crt", pki / "server.key")]
    assert {name: (pki / name).read_bytes() for name in ours} == ours


def test_a_fresh_home_gets_one_working_certificate_set(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec
    ca_crt, crt, key = _tls.ensure_certificates(tmp_path)
    ca = x509.load_pem_x509_certificate(ca_crt.read_bytes())
    server = x509.load_pem_x509_certificate(crt.read_bytes())
    ca.public_key().verify(server.signature, server.tbs_certificate_bytes,
                           ec.ECDSA(server.signature_hash_algorithm))
    made = [p.read_bytes() for p in (ca_crt, crt, key)]
    assert _tls.ensure_certificates(tmp_path) == (ca_crt, crt, key)
    assert [p.read_bytes() for p in (ca_crt, crt, key)] == made       # made once, then reused


@pytest.mark.parametrize("token", ["Qx3-_abc", "-starts-with-a-dash", "12345", "true", "a: b # c", "é\"\\"])
def test_the_kubeconfig_reads_back_as_written(token):
    import yaml
    from labkit.sandbox._sandbox import kubeconfig_text
    doc = yaml.safe_load(kubeconfig_text("https://127.0.0.1:6443", "LS0tLS1CRUdJTg==", token))
    assert doc == {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": "labkit-sandbox", "cluster": {
            "server": "https://127.0.0.1:6443", "certificate-authority-data": "LS0tLS1CRUdJTg=="}}],
        "users": [{"name": "labkit-learner", "user": {"token": token}}],
        "contexts": [{"name": "labkit-sandbox", "context": {
            "cluster": "labkit-sandbox", "user": "labkit-learner", "namespace": "default"}}],
        "current-context": "labkit-sandbox"}
