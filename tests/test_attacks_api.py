"""A standing attack suite for the sandbox's API server: bad input must cost little and be
answered as kube-apiserver answers it.

Each test replays one attack on the in-process sandbox over real TLS sockets on 127.0.0.1,
while `Watch` polls `GET /version` on its own connection and samples the process's RSS
(/proc/self/status VmRSS). Each test then checks that the API never took 1 s or more to
answer the poller, that RSS stayed under 300 MB, and that every refusal is a `kind: Status`
(Content-Type application/json) with kube-apiserver's code, reason and message.

Where the expected answers come from (kubernetes/kubernetes unless named):
- 413 `Request entity too large: limit is 3145728`: apiserver endpoints/handlers/rest.go
  limitedReadBody, api/errors.NewRequestEntityTooLargeError, --max-request-body-bytes.
- 422 `[]: Too long: must have at most 1048576 bytes`: pkg/apis/core/validation
  ValidateConfigMap (core.MaxSecretSize), field.TooLong.
- `yaml: document contains excessive aliasing`: go-yaml v2 decode.go (CVE-2019-11253),
  through sigs.k8s.io/yaml's `error converting YAML to JSON`.
- `exceeded max depth`: encoding/json scanner.go (the sandbox's bound is lower, see apis._decode).
- 400 `strconv.ParseInt: parsing "abc": invalid syntax`: apimachinery
  runtime/conversion.go through the parameter codec; #101350 records the body.
- 500 `resourceVersion: Invalid value: ...`: storage APIObjectVersioner.ParseResourceVersion
  (kubernetes/kubernetes#113939 records the answer).
"""
from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from labkit.sandbox.apis import _decode
from labkit.sandbox.apiserver import _edge

from .conftest import wait_for
from .test_protobuf import varint

LIMIT = 3 * 1024 * 1024
WORST_LATENCY = 1.0          # seconds, for a concurrent GET /version
MAX_RSS = 300 * 1024 * 1024  # bytes
# The sandbox shares this test process with pytest, the client and earlier tests' leftovers;
# as a process of its own it idles near 100 MB (benchmarks: memory). So an attack may add at
# most this much, which keeps the sandbox's own RSS under MAX_RSS.
MAX_GROWTH = MAX_RSS - 100 * 1024 * 1024


# --- plumbing -------------------------------------------------------------------------------
def _rss() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def _context(sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(sandbox.ca_file))


def _connection(sandbox, timeout: float = 30.0) -> http.client.HTTPSConnection:
    return http.client.HTTPSConnection("127.0.0.1", sandbox.port, context=_context(sandbox), timeout=timeout)


def call(sandbox, method: str, path: str, body: bytes | str | None = None, content_type: str | None = None,
         headers: dict | None = None, timeout: float = 30.0):
    """One request on a fresh connection: (status, headers, body bytes)."""
    conn = _connection(sandbox, timeout)
    hdrs = {"Authorization": f"Bearer {sandbox.token}"}
    if content_type:
        hdrs["Content-Type"] = content_type
    hdrs.update(headers or {})
    try:
        conn.request(method, path, body=body.encode() if isinstance(body, str) else body, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


def status_of(answer, code: int, reason: str | None) -> dict:
    """The answer's Status, checked for its code, its reason and its Content-Type."""
    status, headers, body = answer
    assert status == code, (status, body[:500])
    assert headers.get("Content-Type", "").startswith("application/json"), headers
    doc = json.loads(body)
    assert doc["kind"] == "Status" and doc["apiVersion"] == "v1" and doc["status"] == "Failure", doc
    assert doc["code"] == code
    assert doc.get("reason") == reason, doc
    return doc


class Watch:
    """While the block runs: poll GET /version on a connection of its own, keep the worst
    latency, and sample RSS. On exit, check both limits."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.worst = 0.0
        self.peak_rss = self.start_rss = _rss()
        self.polls = 0
        self.failures: list[str] = []
        self._stop = threading.Event()

    def _run(self) -> None:
        conn = _connection(self.sandbox, timeout=10)
        hdrs = {"Authorization": f"Bearer {self.sandbox.token}"}
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                conn.request("GET", "/version", headers=hdrs)
                resp = conn.getresponse()
                body = resp.read()
                if resp.status != 200 or b"gitVersion" not in body:
                    self.failures.append(f"{resp.status} {body[:100]!r}")
            except (OSError, http.client.HTTPException) as e:
                self.failures.append(repr(e))
                conn.close()
                conn = _connection(self.sandbox, timeout=10)
            self.worst = max(self.worst, time.monotonic() - start)
            self.peak_rss = max(self.peak_rss, _rss())
            self.polls += 1
            self._stop.wait(0.01)
        conn.close()

    def __enter__(self) -> "Watch":
        self._thread = threading.Thread(target=self._run, name="version-poller", daemon=True)
        self._thread.start()
        wait_for(lambda: self.polls > 0, timeout=10)
        return self

    def __exit__(self, *exc) -> None:
        polls = self.polls
        wait_for(lambda: self.polls > polls, timeout=10)   # at least one poll after the attack
        self._stop.set()
        self._thread.join(15)
        if exc[0] is None:
            assert not self.failures, self.failures[:5]
            assert self.worst < WORST_LATENCY, f"GET /version took {self.worst:.3f} s during the attack"
            grown = self.peak_rss - self.start_rss
            assert grown < MAX_GROWTH, f"RSS grew by {grown / 2**20:.0f} MB during the attack"
        REPORT.append((self.name, self.polls, self.worst, self.peak_rss, self.start_rss))

    name = ""


REPORT: list[tuple[str, int, float, int, int]] = []


@pytest.fixture(scope="module", autouse=True)
def _timed_apart_from_pytest(leftovers_out_of_sight):
    """The watch times GET /version: pytest's leftovers stay out of the collector's sight."""


@pytest.fixture
def watch(sandbox, request):
    def make() -> Watch:
        w = Watch(sandbox)
        w.name = request.node.name
        return w
    return make


def _configmap(name: str, size: int) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"blob": "x" * size}}


def _laughs(levels: int = 9, fanout: int = 9) -> str:
    """The classic "billion laughs": each level lists the one before `fanout` times."""
    lines = ['a0: &a0 "lol"']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * fanout) + "]")
    return "\n".join(lines) + "\n"


CM_PATH = "/api/v1/namespaces/{ns}/configmaps"


# --- body size ------------------------------------------------------------------------------
@pytest.mark.parametrize("megabytes", [10, 15])
def test_a_body_over_3_mib_is_a_413_status(sandbox, namespace, watch, megabytes):
    body = json.dumps(_configmap("big", megabytes * 2**20))
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), body, "application/json"),
                        413, "RequestEntityTooLarge")
    assert doc["message"] == f"Request entity too large: limit is {LIMIT}"
    assert call(sandbox, "GET", CM_PATH.format(ns=namespace) + "/big")[0] == 404


def test_a_chunked_body_is_cut_at_the_limit_too(sandbox, namespace, watch):
    """No Content-Length to refuse early: the reader stops one byte past the limit."""
    def chunks():
        yield b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"chunked"},"data":{"b":"'
        for _ in range(64):                      # 4 MiB in 64 KiB pieces
            yield b"x" * 65536
        yield b'"}}'
    with watch():
        conn = _connection(sandbox)
        try:
            conn.request("POST", CM_PATH.format(ns=namespace), body=chunks(), encode_chunked=True,
                         headers={"Authorization": f"Bearer {sandbox.token}",
                                  "Content-Type": "application/json", "Transfer-Encoding": "chunked"})
            resp = conn.getresponse()
            answer = resp.status, dict(resp.getheaders()), resp.read()
        except (BrokenPipeError, ConnectionResetError):
            pytest.fail("the server closed the connection before answering")
        finally:
            conn.close()
    status_of(answer, 413, "RequestEntityTooLarge")


def test_a_body_of_exactly_the_limit_is_read(sandbox, namespace):
    """The limit is inclusive: 3 MiB are read (and then judged by validation: 422, not 413)."""
    head = json.dumps(_configmap("edge", 0))[:-4]          # ends with '"blob": '
    pad = LIMIT - len(head) - len('""}}')
    body = head + '"' + "y" * pad + '"}}'
    assert len(body) == LIMIT
    status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), body, "application/json"), 422, "Invalid")


# --- object size ------------------------------------------------------------------------------
def test_configmap_data_over_1_mib_is_a_422_with_the_field_cause(sandbox, namespace, watch):
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace),
                             json.dumps(_configmap("toolong", 2**20 + 1)), "application/json"), 422, "Invalid")
    assert doc["message"] == 'ConfigMap "toolong" is invalid: []: Too long: must have at most 1048576 bytes'
    assert doc["details"]["causes"] == [{"reason": "FieldValueTooLong", "field": "[]",
                                         "message": "Too long: must have at most 1048576 bytes"}]


def test_configmap_data_of_exactly_1_mib_is_stored(sandbox, namespace):
    cm = _configmap("full", 2**20 - 3)
    cm["binaryData"] = {"b": base64.b64encode(b"abc").decode()}      # binaryData counts decoded
    status, _, _ = call(sandbox, "POST", CM_PATH.format(ns=namespace), json.dumps(cm), "application/json")
    assert status == 201


# --- YAML ------------------------------------------------------------------------------------
def test_a_yaml_alias_bomb_is_refused_as_go_yaml_refuses_it(sandbox, namespace, watch):
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\n" + _laughs()
    assert len(bomb) < 500
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), bomb, "application/yaml"),
                        400, "BadRequest")
    assert doc["message"].startswith("the object provided is unrecognized (must be of type ConfigMap): "
                                     "error converting YAML to JSON: yaml: document contains excessive aliasing (")
    assert call(sandbox, "GET", CM_PATH.format(ns=namespace) + "/bomb")[0] == 404


def test_a_yaml_alias_bomb_by_server_side_apply_is_refused(sandbox, namespace, watch):
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb2\n" + _laughs()
    with watch():
        doc = status_of(call(sandbox, "PATCH", CM_PATH.format(ns=namespace) + "/bomb2?fieldManager=x", bomb,
                             "application/apply-patch+yaml"), 400, "BadRequest")
    assert doc["message"] == "error encoding patch: yaml: document contains excessive aliasing"


def test_modest_yaml_aliases_still_work(sandbox, namespace):
    """go-yaml lets a document alias freely until aliases do most of the work."""
    text = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: anchors\n  labels: &l {app: web}\n"
            "  annotations: *l\ndata: {a: &v hello, b: *v}\n")
    status, _, body = call(sandbox, "POST", CM_PATH.format(ns=namespace), text, "application/yaml")
    assert status == 201, body
    obj = json.loads(body)
    assert obj["metadata"]["annotations"] == {"app": "web"} and obj["data"] == {"a": "hello", "b": "hello"}


@pytest.mark.parametrize("text, problem", [
    ("a: &a [*a]\n", "yaml: anchor 'a' value contains itself"),
    ("a: *nope\n", "yaml: unknown anchor 'nope' referenced"),
    ("x: " + "[" * 5000 + "]" * 5000 + "\n", f"yaml: exceeded max depth of {_decode.MAX_DEPTH}"),
    ("x:\n" + "".join("  " * i + "- \n" for i in range(1, 400)), f"yaml: exceeded max depth of {_decode.MAX_DEPTH}"),
])
def test_yaml_recursion_and_nesting_are_bounded(sandbox, namespace, watch, text, problem):
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), text, "application/yaml"),
                        400, "BadRequest")
    assert f"error converting YAML to JSON: {problem} (" in doc["message"], doc["message"]


# --- JSON -------------------------------------------------------------------------------------
def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_json_nested_1000_deep_is_a_400(sandbox, namespace, watch):
    body = '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"x":' + _nested(1000) + "}"
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), body, "application/json"),
                        400, "BadRequest")
    assert doc["message"] == ("the object provided is unrecognized (must be of type ConfigMap): couldn't get "
                              "version/kind; json parse error: invalid character '[' exceeded max depth "
                              '({"apiVersion":"v1","kind":"Con ...)')


def test_json_nested_just_inside_the_bound_is_not_an_internal_error(sandbox, namespace):
    depth = _decode.MAX_DEPTH - 3
    body = ('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deepish","annotations":{"a":"b"}},'
            '"data":{"k":' + _nested(depth) + "}}")
    status, _, answer = call(sandbox, "POST", CM_PATH.format(ns=namespace), body, "application/json")
    assert status < 500, answer[:300]


@pytest.mark.parametrize("content_type, make", [
    ("application/strategic-merge-patch+json", lambda d: '{"data":{"k":' + _nested(d) + "}}"),
    ("application/merge-patch+json", lambda d: '{"data":{"k":' + _nested(d) + "}}"),
    ("application/json-patch+json", lambda d: '[{"op":"add","path":"/data/k","value":' + _nested(d) + "}]"),
    ("application/apply-patch+yaml", lambda d: '{"apiVersion":"v1","kind":"ConfigMap","data":{"k":'
                                              + _nested(d) + "}}"),
])
def test_deeply_nested_patches_are_a_400(sandbox, namespace, watch, content_type, make):
    call(sandbox, "POST", CM_PATH.format(ns=namespace), json.dumps(_configmap("target", 1)), "application/json")
    path = CM_PATH.format(ns=namespace) + "/target?fieldManager=t"
    with watch():
        doc = status_of(call(sandbox, "PATCH", path, make(5000), content_type), 400, "BadRequest")
        assert "exceeded max depth" in doc["message"], doc["message"]
        # Just inside the bound the patch is decoded and judged, never a 500.
        status, _, body = call(sandbox, "PATCH", path, make(_decode.MAX_DEPTH - 5), content_type)
        assert status < 500, body[:300]


def test_invalid_utf8_in_a_json_string_becomes_u_fffd_as_in_go(sandbox, namespace):
    body = b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"utf"},"data":{"k":"a\xff\xfeb"}}'
    status, _, answer = call(sandbox, "POST", CM_PATH.format(ns=namespace), body, "application/json")
    assert status == 201, answer
    assert json.loads(answer)["data"]["k"] == "a\ufffd\ufffdb"


def test_invalid_utf8_outside_a_string_is_a_400(sandbox, namespace, watch):
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), b"{\xff\xfe}", "application/json"),
                        400, "BadRequest")
    assert doc["message"].startswith("the object provided is unrecognized (must be of type ConfigMap): "
                                     "couldn't get version/kind; json parse error: ")


# --- protobuf -------------------------------------------------------------------------------------


@pytest.mark.parametrize("envelope, problem", [
    (b"\x12" + varint(1 << 62) + b"abc", "unexpected EOF"),                    # raw: 4 EiB claimed
    (b"\x12" + varint((1 << 64) - 1), "proto: negative length found during unmarshaling"),
    (b"\x0a" + b"\xff" * 11, "proto: integer overflow"),                        # a varint that never ends
    (b"\x0a\x05\x0a\x80\x80\x80\x80\x08", "unexpected EOF"),                    # a length past its message
])
def test_protobuf_with_absurd_lengths_is_a_400(sandbox, namespace, watch, envelope, problem):
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), b"k8s\x00" + envelope,
                             "application/vnd.kubernetes.protobuf"), 400, "BadRequest")
    assert problem in doc["message"], doc["message"]


# --- query parameters -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pod_ns(sandbox, api_client):
    from kubernetes import client
    core = client.CoreV1Api(api_client)
    core.create_namespace({"metadata": {"name": "attacks"}})
    core.create_namespaced_pod("attacks", {"metadata": {"name": "box"}, "spec": {"containers": [
        {"name": "box", "image": "centos:7", "command": ["sleep", "infinity"]}]}})
    wait_for(lambda: core.read_namespaced_pod("box", "attacks").status.phase == "Running")
    return "attacks"


@pytest.mark.parametrize("method, path", [
    ("DELETE", "/api/v1/namespaces/attacks/configmaps/any?gracePeriodSeconds={v}"),
    ("GET", "/api/v1/namespaces/attacks/pods/box/log?tailLines={v}"),
    ("GET", "/api/v1/namespaces/attacks/pods/box/log?sinceSeconds={v}"),
    ("GET", "/api/v1/namespaces/attacks/pods?watch=true&timeoutSeconds={v}"),
    ("GET", "/api/v1/namespaces/attacks/pods?limit={v}"),
    ("GET", "/api/v1/pods?timeoutSeconds={v}"),
])
@pytest.mark.parametrize("value, problem", [
    ("abc", "invalid syntax"), ("0.1s", "invalid syntax"), ("", "invalid syntax"), ("1_000", "invalid syntax"),
    ("99999999999999999999", "value out of range"),
])
def test_a_bad_integer_parameter_is_a_400_in_strconv_words(sandbox, pod_ns, method, path, value, problem):
    doc = status_of(call(sandbox, method, path.format(v=value)), 400, "BadRequest")
    assert doc["message"] == f'strconv.ParseInt: parsing "{value}": {problem}'


def test_a_negative_tail_is_invalid_pod_log_options(sandbox, pod_ns):
    doc = status_of(call(sandbox, "GET", "/api/v1/namespaces/attacks/pods/box/log?tailLines=-1"), 422, "Invalid")
    assert doc["message"] == ('PodLogOptions "box" is invalid: tailLines: Invalid value: -1: '
                              "must be greater than or equal to 0")


@pytest.mark.parametrize("value, problem", [("abc", "invalid syntax"), ("-1", "invalid syntax"),
                                            ("18446744073709551616", "value out of range")])
@pytest.mark.parametrize("path", ["/api/v1/namespaces/attacks/pods?watch=1&resourceVersion={v}",
                                  "/api/v1/namespaces/attacks/pods?resourceVersion={v}"])
def test_a_bad_resource_version_is_the_storage_layers_500(sandbox, pod_ns, path, value, problem):
    """kube-apiserver answers 500 with no reason here (kubernetes/kubernetes#113939)."""
    doc = status_of(call(sandbox, "GET", path.format(v=value)), 500, None)
    assert doc["message"] == (f'resourceVersion: Invalid value: "{value}": '
                              f'strconv.ParseUint: parsing "{value}": {problem}')


@pytest.mark.parametrize("timeout", ["0", "-5"])
def test_a_watch_timeout_of_zero_is_the_default_and_a_negative_one_ends_at_once(sandbox, pod_ns, timeout):
    """kube-apiserver's watch handler: 0 means "pick one" (at least --min-request-timeout);
    a negative one has expired already."""
    conn = _connection(sandbox, timeout=3)
    try:
        conn.request("GET", f"/api/v1/namespaces/attacks/pods?watch=1&resourceVersion=1&timeoutSeconds={timeout}",
                     headers={"Authorization": f"Bearer {sandbox.token}"})
        resp = conn.getresponse()
        assert resp.status == 200
        if timeout == "0":
            with pytest.raises(TimeoutError):
                resp.read()              # still open after 3 s
        else:
            resp.read()                  # ended
    finally:
        conn.close()


def test_a_watch_with_absurd_values_opens_and_leaves_the_api_responsive(sandbox, pod_ns, watch):
    before = len(sandbox.store._watches)
    with watch():
        conn = _connection(sandbox, timeout=10)
        conn.request("GET", "/api/v1/namespaces/attacks/pods?watch=true&timeoutSeconds=9223372036854775807"
                     "&resourceVersion=18446744073709551615",
                     headers={"Authorization": f"Bearer {sandbox.token}"})
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Content-Type") == "application/json"
        conn.close()
    wait_for(lambda: len(sandbox.store._watches) <= before, timeout=10)   # the cut watch is gone


# --- many, slow and malformed requests ------------------------------------------------------------
def test_200_concurrent_bad_requests_each_get_their_status(sandbox, namespace, watch):
    kinds = [
        (("POST", CM_PATH.format(ns=namespace), b"{not json", "application/json"), 400, "BadRequest"),
        (("GET", f"/api/v1/namespaces/{namespace}/pods?limit=x", None, None), 400, "BadRequest"),
        (("POST", CM_PATH.format(ns=namespace), _laughs(), "application/yaml"), 400, "BadRequest"),
        (("GET", f"/api/v1/namespaces/{namespace}/configmaps/missing", None, None), 404, "NotFound"),
        (("POST", CM_PATH.format(ns=namespace), json.dumps(_configmap("Not_A_Name", 1)), "application/json"),
         422, "Invalid"),
        (("GET", f"/api/v1/namespaces/{namespace}/pods?watch=1&resourceVersion=x", None, None), 500, None),
        (("GET", "/version", None, None, {"Authorization": "Bearer wrong"}), 401, "Unauthorized"),
    ]
    with watch(), ThreadPoolExecutor(max_workers=50) as pool:
        futures = [(pool.submit(call, sandbox, *kinds[i % len(kinds)][0]), kinds[i % len(kinds)][1:])
                   for i in range(200)]
        for future, (code, reason) in futures:
            status_of(future.result(timeout=60), code, reason)


def _tiny_nodes_yaml(name: str, size: int = LIMIT) -> str:
    head = f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata:\n"
    lines, total, i = [head], len(head), 0
    while True:
        line = f"  k{i}: v{i}\n"
        if total + len(line) > size:
            return "".join(lines)
        lines.append(line)
        total += len(line)
        i += 1


def test_three_bodies_of_3_mib_of_tiny_yaml_nodes_at_once(sandbox, namespace, watch):
    """The most expensive body that fits the limit: about 200,000 keys, each a node to build."""
    bodies = [_tiny_nodes_yaml(f"wide{i}") for i in range(3)]
    with watch(), ThreadPoolExecutor(max_workers=3) as pool:
        answers = list(pool.map(lambda b: call(sandbox, "POST", CM_PATH.format(ns=namespace), b,
                                               "application/yaml", timeout=120), bodies))
    for answer in answers:
        doc = status_of(answer, 422, "Invalid")
        assert doc["details"]["causes"][0]["message"] == "Too long: must have at most 1048576 bytes"


def _tls_socket(sandbox) -> ssl.SSLSocket:
    raw = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
    return _context(sandbox).wrap_socket(raw, server_hostname="127.0.0.1")


def test_slowloris_headers_do_not_hold_other_clients(sandbox, watch):
    socks = []
    with watch():
        for _ in range(40):
            s = _tls_socket(sandbox)
            s.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            socks.append(s)
        for i in range(5):                               # trickle one header line each round
            for s in socks:
                s.sendall(f"X-Slow-{i}: {'a' * 10}\r\n".encode())
        # The poller of `watch` keeps being answered meanwhile; so is a fresh client.
        assert call(sandbox, "GET", "/version")[0] == 200
    for s in socks:
        s.close()


def test_headers_not_finished_by_the_header_deadline_close_the_connection(tmp_path, monkeypatch):
    """kube-apiserver's ReadHeaderTimeout (32 s), here shortened to 1 s in a sandbox of its own:
    a client that never finishes its headers is cut off; one that finishes in time is served."""
    from labkit.sandbox import Sandbox, SandboxConfig
    monkeypatch.setattr(_edge, "HEADER_SECONDS", 1.0)
    with Sandbox(home=tmp_path / "sb", config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        slow = _tls_socket(sb)
        slow.sendall(b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        start = time.monotonic()
        slow.settimeout(10)
        try:
            assert slow.recv(100) == b""
        except (ConnectionResetError, ssl.SSLError):
            pass                               # closed: either way the connection is gone
        assert 0.9 <= time.monotonic() - start < 5
        slow.close()
        prompt = _tls_socket(sb)
        prompt.sendall(f"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {sb.token}\r\n"
                       "Connection: close\r\n\r\n".encode())
        prompt.settimeout(10)
        assert prompt.recv(100).startswith(b"HTTP/1.1 200")
        prompt.close()


def test_a_trickled_body_times_out_with_a_504_status(sandbox, namespace, watch, monkeypatch):
    monkeypatch.setattr(_edge, "BODY_SECONDS", 1.0)
    s = _tls_socket(sandbox)
    try:
        with watch():
            s.sendall((f"POST {CM_PATH.format(ns=namespace)} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                       f"Authorization: Bearer {sandbox.token}\r\nContent-Type: application/json\r\n"
                       "Content-Length: 1000\r\n\r\n{\"apiVersion\":").encode())
            s.settimeout(10)
            reply = b""
            while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
    finally:
        s.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 504"), head
    assert b"Content-Type: application/json" in head
    doc = json.loads(body)
    assert doc["reason"] == "Timeout" and doc["code"] == 504
    assert doc["message"] == ("Timeout: request did not complete within requested timeout - "
                              "context deadline exceeded")


@pytest.mark.parametrize("what", ["header", "url"])
def test_a_huge_header_or_url_is_refused_before_the_api(sandbox, watch, what):
    """aiohttp refuses a header line over 8190 bytes with a plain-text 400 and closes; Go's
    net/http (kube-apiserver) refuses over 1 MiB with a plain-text 431. Neither reaches the
    API, so neither is a Status; what matters here is that it costs nothing."""
    big = "a" * 100_000
    path = "/version" if what == "header" else "/api/v1/namespaces/" + big
    headers = {"X-Huge": big} if what == "header" else {}
    with watch():
        for _ in range(20 if what == "header" else 10):
            try:
                answer = call(sandbox, "GET", path, headers=headers)
            except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
                continue        # the server refused and closed while the client was still sending
            assert 400 <= answer[0] < 500
    assert call(sandbox, "GET", "/version")[0] == 200
    # aiohttp logs each refusal with a traceback; the sandbox's log keeps one per kind.
    text = (sandbox.home / "sandbox.log").read_text()
    assert text.count("aiohttp.http_exceptions.LineTooLong") == 1, text[-2000:]
    assert "(seen 10 times; repeats are counted)" in text


# --- the catch-all -------------------------------------------------------------------------------------
def test_an_unexpected_error_is_a_500_status_logged_once_with_its_traceback(sandbox, namespace, monkeypatch):
    def broken(*args, **kwargs):
        raise KeyError("nobody expected this")
    monkeypatch.setattr(sandbox.registry, "create", broken)
    log = sandbox.home / "sandbox.log"
    for _ in range(3):
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), json.dumps(_configmap("boom", 1)),
                             "application/json"), 500, "InternalError")
    assert doc["message"] == "Internal error occurred: KeyError: 'nobody expected this'"
    assert doc["details"] == {"causes": [{"message": "KeyError: 'nobody expected this'"}]}
    text = log.read_text()
    assert "api: unexpected KeyError" in text and "Traceback (most recent call last)" in text
    assert text.count('raise KeyError("nobody expected this")') == 1   # one traceback; repeats counted
    assert sandbox.api.faults.total >= 3


def test_the_python_client_still_sees_errors_as_api_exceptions(sandbox, api_client, namespace, pod_ns):
    from kubernetes import client
    from kubernetes.client.rest import ApiException
    core = client.CoreV1Api(api_client)
    with pytest.raises(ApiException) as info:
        core.create_namespaced_config_map(namespace, _configmap("toolong2", 2**20 + 1))
    assert info.value.status == 422
    assert json.loads(info.value.body)["details"]["causes"][0]["field"] == "[]"
    with pytest.raises(ApiException) as info:
        core.read_namespaced_pod_log("box", pod_ns, tail_lines=-1)
    assert info.value.status == 422


def test_an_exec_that_fails_inside_reports_a_status_on_the_error_channel(sandbox, pod_ns, monkeypatch):
    """Once the WebSocket is up, an HTTP error can no longer be sent: the failure travels as a
    Status on channel 3, as the kubelet's stream server reports one, and the log has it."""
    import asyncio

    import aiohttp

    def broken(*args, **kwargs):
        raise OSError("the runtime fell over")
    monkeypatch.setattr(sandbox, "run_in_pod", broken)
    url = f"{sandbox.server}/api/v1/namespaces/{pod_ns}/pods/box/exec"

    async def run():
        frames: dict[int, bytes] = {}
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url, params=[("command", "true"), ("stdout", "true")],
                                          protocols=("v5.channel.k8s.io",), ssl=_context(sandbox),
                                          headers={"Authorization": f"Bearer {sandbox.token}"}) as ws:
                async for msg in ws:
                    if msg.type == aiohttp.WSMsgType.BINARY:
                        frames[msg.data[0]] = frames.get(msg.data[0], b"") + msg.data[1:]
        return frames
    frames = asyncio.run(asyncio.wait_for(run(), 30))
    status = json.loads(frames[3])
    assert status["status"] == "Failure" and status["reason"] == "InternalError" and status["code"] == 500
    assert status["message"] == "Internal error occurred: OSError: the runtime fell over"
    assert "exec: unexpected OSError" in (sandbox.home / "sandbox.log").read_text()


def test_kubectl_reports_the_limits_as_against_a_real_api_server(kubectl, namespace, tmp_path):
    """What kubectl prints for the two size limits (it sends `create configmap` as protobuf
    from 1.32 on, JSON before; both are judged the same)."""
    big = tmp_path / "big.txt"
    big.write_text("x" * (4 * 2**20))
    proc = kubectl("create", "configmap", "big", f"--from-file={big}", "-n", namespace, check=False)
    assert proc.returncode == 1, proc.stderr
    # kubectl's `create configmap` wraps the server's message so (create_configmap.go).
    assert proc.stderr.strip() == f"error: failed to create configmap: Request entity too large: limit is {LIMIT}"
    mid = tmp_path / "mid.txt"
    mid.write_text("x" * (2**20 + 1))
    proc = kubectl("create", "configmap", "mid", f"--from-file={mid}", "-n", namespace, check=False)
    assert proc.returncode == 1
    assert 'ConfigMap "mid" is invalid: []: Too long: must have at most 1048576 bytes' in proc.stderr


def test_a_server_side_apply_with_metadata_not_an_object_is_a_400(sandbox, namespace):
    call(sandbox, "POST", CM_PATH.format(ns=namespace), json.dumps(_configmap("ssa", 1)), "application/json")
    doc = status_of(call(sandbox, "PATCH", CM_PATH.format(ns=namespace) + "/ssa?fieldManager=x",
                         json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": 1.5}),
                         "application/apply-patch+yaml"), 400, "BadRequest")
    assert "cannot unmarshal number into Go struct field ConfigMap.metadata" in doc["message"]


_ODD_VALUES = [None, 1, -1, 1.5, "x", [], {}, [1], {"a": 1}, True, "a" * 300, {"spec": None}, {"spec": []},
               {"metadata": []}, {"metadata": {"name": 5}}, {"spec": {"replicas": "3"}}, {"spec": {"ports": [{}]}},
               {"spec": {"containers": None}}, {"metadata": 1.5}]


def test_seeded_malformed_writes_never_get_an_internal_error(sandbox, namespace, watch):
    """300 writes of odd shapes, types and patches (seeded): each is a 4xx Status, never a 500."""
    rng = __import__("random").Random(5)
    paths = [f"/api/v1/namespaces/{namespace}/{p}" for p in ("configmaps", "services", "pods", "endpoints")] + \
        [f"/apis/apps/v1/namespaces/{namespace}/deployments"]
    types = ["application/json", "application/yaml", "application/merge-patch+json",
             "application/strategic-merge-patch+json", "application/json-patch+json", "application/apply-patch+yaml"]

    def body():
        obj = {"apiVersion": rng.choice(["v1", "apps/v1", 5, None]),
               "kind": rng.choice(["ConfigMap", "Service", "Pod", "Deployment", None, 3])}
        for key in ("metadata", "spec", "data", "status"):
            if rng.random() < 0.6:
                obj[key] = rng.choice(_ODD_VALUES)
        if rng.random() < 0.5:
            obj["metadata"] = {"name": f"n{rng.randrange(5)}"}
        return rng.choice([obj, obj, rng.choice(_ODD_VALUES)])
    with watch():
        for _ in range(300):
            method = rng.choice(["POST", "PUT", "PATCH", "DELETE"])
            path = rng.choice(paths)
            if method != "POST":
                path += f"/n{rng.randrange(5)}" + rng.choice(["", "", "/status", "/scale"])
            path += rng.choice(["", "?dryRun=All", "?fieldValidation=Strict", "?fieldManager=f"])
            payload = body()
            if method == "PATCH" and rng.random() < 0.4:
                payload = [{"op": rng.choice(["add", "remove", "replace", "move", "copy", "test", "x"]),
                            "path": rng.choice(["/spec", "/metadata/name", "/x/y", "", "/data/a"]),
                            "value": rng.choice(_ODD_VALUES), "from": "/metadata"}]
            status, headers, answer = call(sandbox, method, path, json.dumps(payload), rng.choice(types))
            assert status < 500, (method, path, payload, answer[:300])
            if status >= 400:
                assert json.loads(answer)["kind"] == "Status"


@pytest.mark.parametrize("grace, sent", [("abc", "string"), (1.5, "number 1.5"), ([], "array")])
def test_a_bad_grace_period_in_delete_options_is_a_400(sandbox, namespace, grace, sent):
    call(sandbox, "POST", CM_PATH.format(ns=namespace), json.dumps(_configmap("graceful", 1)), "application/json")
    doc = status_of(call(sandbox, "DELETE", CM_PATH.format(ns=namespace) + "/graceful",
                         json.dumps({"gracePeriodSeconds": grace}), "application/json"), 400, "BadRequest")
    assert doc["message"] == (f"json: cannot unmarshal {sent} into Go struct field "
                              "DeleteOptions.gracePeriodSeconds of type int64")


def test_a_gzip_bomb_is_not_inflated(sandbox, namespace, watch):
    """kube-apiserver does not decode a request's Content-Encoding: the gzip bytes are the body,
    and not JSON. (aiohttp would inflate them: the sandbox turns that off.)"""
    import gzip
    bomb = gzip.compress(b'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"gz"},"data":{"k":"'
                         + b"0" * (64 * 2**20) + b'"}}', compresslevel=9)
    assert len(bomb) < LIMIT
    with watch():
        doc = status_of(call(sandbox, "POST", CM_PATH.format(ns=namespace), bomb, "application/json",
                             headers={"Content-Encoding": "gzip"}), 400, "BadRequest")
    assert doc["message"].startswith("the object provided is unrecognized (must be of type ConfigMap): "
                                     "couldn't get version/kind; json parse error: ")


def test_report_worst_latency_and_peak_rss():
    """Prints what the attacks above measured (pytest -s shows it); keep it last."""
    if not REPORT:
        pytest.skip("no attack ran in this session")
    worst = max(REPORT, key=lambda r: r[2])
    peak = max(REPORT, key=lambda r: r[3])
    print(f"\n{len(REPORT)} attacks; worst GET /version latency {worst[2] * 1000:.0f} ms ({worst[0]}); "
          f"peak RSS {peak[3] / 2**20:.0f} MB ({peak[0]}, {peak[4] / 2**20:.0f} MB before it)")
    assert worst[2] < WORST_LATENCY and max(r[3] - r[4] for r in REPORT) < MAX_GROWTH
