"""List pagination over real HTTPS, as kube-apiserver's etcd3 store pages
(staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go GetList): `limit`, `continue`
tokens that read one snapshot, `remainingItemCount` only without selectors, and 410 Expired
for a token whose revision is compacted."""
from __future__ import annotations

import collections
import json

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from labkit.sandbox.apiserver import _paging

from .test_api_errors import request


@pytest.fixture
def five(api_client, namespace):
    core = client.CoreV1Api(api_client)
    for i in range(5):
        core.create_namespaced_config_map(namespace, {"metadata": {"name": f"c{i}", "labels": {"n": str(i)}}})
    names = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    return core, namespace, names


def _pages(core, namespace, limit, **kw):
    pages, token = [], None
    while True:
        page = core.list_namespaced_config_map(namespace, limit=limit, _continue=token, **kw)
        pages.append(page)
        token = page.metadata._continue
        if not token:
            return pages


def test_pages_cover_the_list_in_key_order_with_the_remaining_count(five):
    core, namespace, names = five
    pages = _pages(core, namespace, 2)
    assert [c.metadata.name for p in pages for c in p.items] == names == sorted(names)
    assert [len(p.items) for p in pages[:-1]] == [2] * (len(pages) - 1)
    remaining = [p.metadata.remaining_item_count for p in pages]
    assert remaining[:-1] == [len(names) - 2 * (i + 1) for i in range(len(pages) - 1)]
    assert remaining[-1] is None
    assert len({p.metadata.resource_version for p in pages}) == 1     # one snapshot


def test_later_pages_show_the_first_pages_snapshot(five):
    core, namespace, names = five
    first = core.list_namespaced_config_map(namespace, limit=2)
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "zz-new"}})
    core.delete_namespaced_config_map("c3", namespace)
    core.patch_namespaced_config_map("c4", namespace, {"data": {"k": "v"}})
    rest = core.list_namespaced_config_map(namespace, limit=100, _continue=first.metadata._continue)
    shown = [c.metadata.name for c in first.items + rest.items]
    assert shown == names                                  # c3 still there, zz-new not yet
    assert next(c for c in rest.items if c.metadata.name == "c4").data is None
    fresh = [c.metadata.name for c in core.list_namespaced_config_map(namespace).items]
    assert "zz-new" in fresh and "c3" not in fresh


def test_selectors_page_without_a_remaining_count(five):
    core, namespace, _ = five
    page = core.list_namespaced_config_map(namespace, limit=1, label_selector="n in (1,2,3)")
    assert [c.metadata.name for c in page.items] == ["c1"]
    assert page.metadata._continue and page.metadata.remaining_item_count is None
    rest = _pages(core, namespace, 1, label_selector="n in (1,2,3)")
    assert [c.metadata.name for p in rest for c in p.items] == ["c1", "c2", "c3"]
    # etcd3 offers a next page whenever a key follows the last match, matching or not: after
    # c3 comes c4, so the last page is empty.
    assert [len(p.items) for p in rest] == [1, 1, 1, 0]


def test_a_bad_token_and_a_token_with_a_resource_version_are_refused(five):
    core, namespace, _ = five
    with pytest.raises(ApiException) as e:
        core.list_namespaced_config_map(namespace, limit=1, _continue="not-a-token")
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"].startswith("invalid continue token: continue key is not valid: ")
    token = core.list_namespaced_config_map(namespace, limit=1).metadata._continue
    with pytest.raises(ApiException) as e:
        core.list_namespaced_config_map(namespace, limit=1, _continue=token, resource_version="5")
    assert e.value.status == 400
    assert json.loads(e.value.body)["message"] == "specifying resource version is not allowed when using continue"


def test_a_compacted_token_is_410_with_a_token_to_go_on_inconsistently(sandbox, five):
    core, namespace, names = five
    token = core.list_namespaced_config_map(namespace, limit=2).metadata._continue
    store = sandbox.store
    kept = store._history
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "d1"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "d2"}})
    # etcd compacts old revisions: here the store's history keeps only the latest write, so
    # the first of the two creations after the token's revision is gone.
    store._history = collections.deque(list(kept)[-1:], maxlen=kept.maxlen)
    try:
        status, ctype, body = request(sandbox, "GET", f"/api/v1/namespaces/{namespace}/configmaps"
                                      f"?limit=2&continue={token}")
    finally:
        # Writes made meanwhile (the controllers') join the full history again.
        kept.extend(e for e in store._history if e.rv > kept[-1].rv)
        store._history = kept
    assert (status, ctype) == (410, "application/json")
    status_body = json.loads(body)
    assert status_body["reason"] == "Expired" and status_body["code"] == 410
    assert status_body["message"] == _paging.INCONSISTENT_CONTINUE
    assert status_body["message"].startswith("The provided continue parameter is too old to display a consistent")
    latest = status_body["metadata"]["continue"]
    assert _paging.decode(latest)[0] == -1
    rest = core.list_namespaced_config_map(namespace, limit=100, _continue=latest)
    assert [c.metadata.name for c in rest.items] == sorted(names[2:] + ["d1", "d2"])    # the latest state


def test_kubectl_raw_limit_and_chunked_get(kubectl, five):
    _, namespace, names = five
    raw = json.loads(kubectl("get", "--raw", f"/api/v1/namespaces/{namespace}/configmaps?limit=1").stdout)
    assert [i["metadata"]["name"] for i in raw["items"]] == names[:1]
    assert raw["metadata"]["continue"] and raw["metadata"]["remainingItemCount"] == len(names) - 1
    chunked = kubectl("get", "configmaps", "-n", namespace, "--chunk-size=1", "-o", "name").stdout.split()
    assert chunked == [f"configmap/{n}" for n in names]
    table = kubectl("get", "configmaps", "-n", namespace, "--chunk-size=2").stdout.splitlines()
    assert [line.split()[0] for line in table] == ["NAME"] + names


def test_resource_version_0_is_served_whole_as_the_watch_cache_does(five):
    core, namespace, names = five
    page = core.list_namespaced_config_map(namespace, limit=1, resource_version="0")
    assert [c.metadata.name for c in page.items] == names and not page.metadata._continue
