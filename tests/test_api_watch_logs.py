"""Watch bookmarks and pod log options over real HTTPS, as kube-apiserver and the kubelet
serve them."""
from __future__ import annotations

import datetime as dt
import http.client
import json
import ssl
import time

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from .conftest import wait_for


def _watch_lines(sandbox, path: str) -> list[tuple[float, dict]]:
    """Every event of a watch until the server ends it, with when it arrived."""
    conn = http.client.HTTPSConnection("127.0.0.1", sandbox.port, timeout=30,
                                       context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    start = time.monotonic()
    try:
        conn.request("GET", path, headers={"Authorization": f"Bearer {sandbox.token}"})
        resp = conn.getresponse()
        assert resp.status == 200
        return [(time.monotonic() - start, json.loads(line)) for line in resp if line.strip()]
    finally:
        conn.close()


def test_a_watch_that_allows_bookmarks_gets_one_before_its_timeout(sandbox, api_client, namespace):
    """apiserver/pkg/storage/cacher: a bookmark 2 s before the watch's deadline."""
    core = client.CoreV1Api(api_client)
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    events = _watch_lines(sandbox, f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=3"
                                   f"&allowWatchBookmarks=true&resourceVersion={rv}")
    marks = [(t, e) for t, e in events if e["type"] == "BOOKMARK"]
    assert len(marks) == 1
    at, mark = marks[0]
    assert 0.7 <= at < 3.0
    assert mark["object"]["kind"] == "ConfigMap" and mark["object"]["apiVersion"] == "v1"
    assert int(mark["object"]["metadata"]["resourceVersion"]) >= int(rv)


def test_no_bookmark_unless_asked(sandbox, api_client, namespace):
    core = client.CoreV1Api(api_client)
    rv = core.list_namespaced_config_map(namespace).metadata.resource_version
    events = _watch_lines(sandbox, f"/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=3"
                                   f"&resourceVersion={rv}")
    assert [e for _, e in events if e["type"] == "BOOKMARK"] == []


# --- logs ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def web(sandbox, api_client):
    """An nginx pod whose access log holds three requests, 100, 50 and 5 s old."""
    core = client.CoreV1Api(api_client)
    ns = "logs"
    core.create_namespace({"metadata": {"name": ns}})
    core.create_namespaced_pod(ns, {"metadata": {"name": "web"}, "spec": {"containers": [
        {"name": "web", "image": "nginxdemos/hello:plain-text"}]}})
    wait_for(lambda: core.read_namespaced_pod("web", ns).status.phase == "Running")
    startup = core.read_namespaced_pod_log("web", ns)
    sandbox.advance_clock(300)
    now = sandbox.store.clock.time()
    sandbox.network.access_log[(ns, "web")] = [(now - age, f"request {age}") for age in (100, 50, 5)]
    return core, ns, startup.splitlines(), now


def test_plain_tail_and_since(web):
    core, ns, startup, now = web
    assert startup and core.read_namespaced_pod_log("web", ns).splitlines() == startup + [
        "request 100", "request 50", "request 5"]
    assert core.read_namespaced_pod_log("web", ns, tail_lines=2) == "request 50\nrequest 5\n"
    assert core.read_namespaced_pod_log("web", ns, tail_lines=0) == ""
    assert core.read_namespaced_pod_log("web", ns, since_seconds=60) == "request 50\nrequest 5\n"
    # tail first, then since (the kubelet's ReadLogs).
    assert core.read_namespaced_pod_log("web", ns, tail_lines=1, since_seconds=200) == "request 5\n"


def test_since_time_and_timestamps(sandbox, web):
    core, ns, _, now = web
    since = dt.datetime.fromtimestamp(now - 60, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    from .test_api_errors import request
    status, ctype, body = request(sandbox, "GET", f"/api/v1/namespaces/{ns}/pods/web/log?sinceTime={since}")
    assert (status, ctype, body) == (200, "text/plain", b"request 50\nrequest 5\n")
    stamped = core.read_namespaced_pod_log("web", ns, tail_lines=1, timestamps=True)
    moment = dt.datetime.fromtimestamp(now - 5, dt.timezone.utc)
    fraction = f"{moment.microsecond:06d}000".rstrip("0")
    assert stamped == f"{moment:%Y-%m-%dT%H:%M:%S}{'.' + fraction if fraction else ''}Z request 5\n"


def test_limit_bytes_cuts_the_answer_mid_line(web):
    core, ns, _, _ = web
    assert core.read_namespaced_pod_log("web", ns, tail_lines=2, limit_bytes=13) == "request 50\nre"


def test_previous_without_a_terminated_container_is_400(web, kubectl):
    core, ns, _, _ = web
    with pytest.raises(ApiException) as e:
        core.read_namespaced_pod_log("web", ns, previous=True)
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"] == 'previous terminated container "web" in pod "web" not found'
    out = kubectl("logs", "-n", ns, "web", "--previous", check=False)
    assert out.returncode == 1
    assert out.stderr.strip() == \
        'Error from server (BadRequest): previous terminated container "web" in pod "web" not found'


@pytest.mark.parametrize("query,message", [
    ("tailLines=-1", 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0'),
    ("limitBytes=0", 'PodLogOptions "web" is invalid: limitBytes: Invalid value: 0: must be greater than 0'),
    ("sinceSeconds=0", 'PodLogOptions "web" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0'),
])
def test_invalid_log_options_are_422(sandbox, web, query, message):
    from .test_api_errors import request
    status, _, body = request(sandbox, "GET", f"/api/v1/namespaces/logs/pods/web/log?{query}")
    assert status == 422 and json.loads(body)["message"] == message


def test_since_seconds_and_since_time_together_are_refused(sandbox, web):
    from .test_api_errors import request
    status, _, body = request(sandbox, "GET", "/api/v1/namespaces/logs/pods/web/log"
                                              "?sinceSeconds=5&sinceTime=2026-01-01T00:00:00Z")
    assert status == 422
    assert "at most one of `sinceTime` or `sinceSeconds` may be specified" in json.loads(body)["message"]
