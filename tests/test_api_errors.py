"""Error bodies byte for byte as kube-apiserver writes them.

metav1.Status through encoding/json: Go's field order (kind, apiVersion, metadata, status,
message, reason, details, code), omitempty (no `"group":""` for a core resource), no
spaces, HTML-safe escapes, a trailing newline, and `Content-Type: application/json` with no
charset (apiserver endpoints/handlers/responsewriters ErrorNegotiated).
"""
from __future__ import annotations

import http.client
import json
import ssl

from labkit.sandbox.apis import _errors, _gojson
from labkit.sandbox.apis._resources import by_plural


def request(sandbox, method: str, path: str, body: bytes | None = None, token: str | None = None,
            content_type: str = "application/json"):
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=10,
                                       context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    try:
        conn.request(method, path, body=body, headers={
            "Authorization": f"Bearer {token or sandbox.token}", "Content-Type": content_type})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def test_not_found_for_a_core_resource(sandbox):
    status, ctype, body = request(sandbox, "GET", "/api/v1/namespaces/default/pods/nobody")
    assert (status, ctype) == (404, "application/json")
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"pods \\"nobody\\" not found","reason":"NotFound",'
                    b'"details":{"name":"nobody","kind":"pods"},"code":404}\n')


def test_not_found_for_a_grouped_resource_names_its_group(sandbox):
    status, _, body = request(sandbox, "GET", "/apis/apps/v1/namespaces/default/deployments/nobody")
    assert status == 404
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"deployments.apps \\"nobody\\" not found","reason":"NotFound",'
                    b'"details":{"name":"nobody","group":"apps","kind":"deployments"},"code":404}\n')


def test_already_exists_and_unauthorized(sandbox, namespace):
    cm = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice"}}).encode()
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    assert request(sandbox, "POST", path, cm)[0] == 201
    status, ctype, body = request(sandbox, "POST", path, cm)
    assert (status, ctype) == (409, "application/json")
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"configmaps \\"twice\\" already exists","reason":"AlreadyExists",'
                    b'"details":{"name":"twice","kind":"configmaps"},"code":409}\n')
    status, ctype, body = request(sandbox, "GET", "/api/v1/pods", token="wrong")
    assert (status, ctype) == (401, "application/json")
    assert body == (b'{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",'
                    b'"message":"Unauthorized","reason":"Unauthorized","code":401}\n')


def test_success_bodies_have_no_charset_either(sandbox):
    status, ctype, body = request(sandbox, "GET", "/api/v1/namespaces/default")
    assert (status, ctype) == (200, "application/json") and body.endswith(b"}\n")


def test_status_with_causes_keeps_go_order():
    err = _errors.ApiError(403, "Forbidden", "no", {"causes": [{"reason": "R", "message": "m", "field": "f"}],
                                                     "kind": "pods", "group": "", "name": "x"})
    assert list(err.status()) == ["kind", "apiVersion", "metadata", "status", "message", "reason", "details", "code"]
    assert list(err.status()["details"]) == ["name", "kind", "causes"]
    assert "group" in _errors.not_found(by_plural("deployments"), "d").status()["details"]


def test_go_json_escapes_like_encoding_json():
    assert _gojson.dumps({"m": "a<b>&c\u2028é"}) == '{"m":"a\\u003cb\\u003e\\u0026c\\u2028é"}\n'.encode()
    assert _gojson.dumps("\b\f\\b") == b'"\\u0008\\u000c\\\\b"\n'


def test_a_list_from_kept_texts_is_what_encoding_the_list_gives():
    """dumps_list joins each item's kept compact JSON (json.dumps, ASCII escapes) rather than
    encoding the items again; the bytes are dumps' of the whole list, whatever the strings."""
    import random
    rng = random.Random(7)
    alphabet = ["a", "<", ">", "&", "\u2028", "\u2029", "é", "\u65e5", "\b", "\f", "\\", "\\b", "\\u",
                '"', "\n", "\x01", "\U0001F600", " "]
    for _ in range(300):
        items = [{"metadata": {"name": "".join(rng.choices(alphabet, k=rng.randint(0, 8)))},
                  "n": rng.choice([0, 1.5, -3, None, True, [1, "x<"]])} for _ in range(rng.randint(0, 4))]
        texts = [rng.choice([None, json.dumps(o, separators=(",", ":"))]) for o in items]
        head = rng.choice([{}, {"kind": "PodList", "metadata": {"resourceVersion": "5", "continue": "a&b"}}])
        assert _gojson.dumps_list(head, items, texts) == _gojson.dumps(dict(head, items=items))
        for item, text in zip(items, texts):
            assert _gojson.dumps_kept(item, text) == _gojson.dumps(item)


def test_a_list_answer_is_go_json_of_the_stored_objects(sandbox):
    """A list's items and a GET's object are written from the store's kept text; what
    reaches the client is still encoding/json's: UTF-8 as is, HTML characters escaped."""
    from labkit.sandbox.apis._resources import by_plural
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd-text", "namespace": "default"},
          "data": {"a": "<b>&\u2028日本\b\\b", "plain": "x"}}
    status, _, _ = request(sandbox, "POST", "/api/v1/namespaces/default/configmaps", json.dumps(cm).encode())
    assert status == 201
    status, ctype, body = request(sandbox, "GET", "/api/v1/namespaces/default/configmaps")
    assert (status, ctype) == (200, "application/json")
    listed = json.loads(body)
    stored = sandbox.store.list_resource(by_plural("configmaps"), "default")
    assert body == _gojson.dumps(dict({k: listed[k] for k in ("kind", "apiVersion", "metadata")}, items=stored))
    assert "\\u003cb\\u003e\\u0026\\u2028日本\\u0008\\\\b" in body.decode()
    # A GET of the one object too.
    status, ctype, body = request(sandbox, "GET", "/api/v1/namespaces/default/configmaps/odd-text")
    assert (status, ctype) == (200, "application/json")
    assert body == _gojson.dumps(next(o for o in stored if o["metadata"]["name"] == "odd-text"))


def test_exec_error_channel_status_is_compact_go_json():
    """remotecommand writes the exec's Status with json.Marshal: no spaces, no newline."""
    from labkit.sandbox.apiserver import _exec
    assert _exec._status_bytes(_exec.exit_status(3)) == (
        b'{"metadata":{},"status":"Failure","message":"command terminated with non-zero exit code: '
        b'error executing command [3], exit code 3","reason":"NonZeroExitCode",'
        b'"details":{"causes":[{"reason":"ExitCode","message":"3"}]}}')
