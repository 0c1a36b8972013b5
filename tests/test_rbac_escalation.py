"""RBAC's escalation prevention, as kube-apiserver's policy-based RBAC storage applies it
(pkg/registry/rbac/validation/rule.go ConfirmNoEscalation, policy_comparator.go Covers,
pkg/registry/rbac/escalation_check.go): a Role, ClusterRole or binding is refused unless the
requester holds what it grants, has `escalate` (roles) or `bind` (bindings), or is in
system:masters."""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request

import pytest

from labkit.sandbox.auth import _escalation

RBAC = "rbac.authorization.k8s.io"


def _raw(sandbox, path: str, token: str, method: str = "GET", body=None, content_type="application/json"):
    req = urllib.request.Request(sandbox.server + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    ctx = ssl.create_default_context(cafile=str(sandbox.ca_file))
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


@pytest.fixture
def rbac_admin(api_client):
    from kubernetes import client
    return client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)


@pytest.fixture
def deployer(sandbox, rbac_admin, namespace):
    """ServiceAccount `deployer` that may write Roles and RoleBindings in its namespace and
    read ConfigMaps there, nothing more."""
    core, rbac = rbac_admin
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "deployer"}})
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "role-writer"}, "rules": [
        {"apiGroups": [RBAC], "resources": ["roles", "rolebindings"],
         "verbs": ["create", "update", "patch", "get"]},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "deployer"}, "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "role-writer"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace}]})
    token = core.create_namespaced_service_account_token("deployer", namespace, {"spec": {}}).status.token
    user = f"system:serviceaccount:{namespace}:deployer"
    groups = f'["system:serviceaccounts" "system:serviceaccounts:{namespace}" "system:authenticated"]'
    return {"ns": namespace, "token": token, "user": user, "groups": groups,
            "roles": f"/apis/{RBAC}/v1/namespaces/{namespace}/roles",
            "bindings": f"/apis/{RBAC}/v1/namespaces/{namespace}/rolebindings"}


def _role(name, *rules):
    return {"apiVersion": f"{RBAC}/v1", "kind": "Role", "metadata": {"name": name}, "rules": list(rules)}


def _binding(name, kind, role, namespace):
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": RBAC, "kind": kind, "name": role},
            "subjects": [{"kind": "ServiceAccount", "name": "default", "namespace": namespace}]}


def test_a_role_granting_more_than_the_requester_holds_is_refused(sandbox, deployer):
    code, body = _raw(sandbox, deployer["roles"], deployer["token"], "POST",
                      _role("secret-reader", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}))
    assert (code, body["reason"]) == (403, "Forbidden")
    assert body["message"] == (
        f'roles.rbac.authorization.k8s.io "secret-reader" is forbidden: user "{deployer["user"]}" '
        f'(groups={deployer["groups"]}) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}')
    assert body["details"] == {"name": "secret-reader", "group": RBAC, "kind": "roles"}
    # What it holds it may hand on, a subset included.
    code, _ = _raw(sandbox, deployer["roles"], deployer["token"], "POST",
                   _role("cm-reader", {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                                       "resourceNames": ["settings"]}))
    assert code == 201


def test_the_missing_rights_are_broken_down_compacted_and_sorted(sandbox, deployer):
    """Covers breaks rules down per verb; CompactRules merges verbs again per resource; the
    lines are a sorted set (rule.go ConfirmNoEscalation)."""
    code, body = _raw(sandbox, deployer["roles"], deployer["token"], "POST", _role(
        "wide",
        {"apiGroups": ["", "apps"], "resources": ["configmaps", "deployments"], "verbs": ["get", "delete"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"], "resourceNames": ["a", "b"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]}))
    assert code == 403
    held = body["message"].split("not currently held:\n", 1)[1].splitlines()
    assert held == [
        '{APIGroups:[""], Resources:["configmaps"], Verbs:["delete"]}',
        '{APIGroups:[""], Resources:["deployments"], Verbs:["get" "delete"]}',
        '{APIGroups:[""], Resources:["pods"], ResourceNames:["a"], Verbs:["get"]}',
        '{APIGroups:[""], Resources:["pods"], ResourceNames:["b"], Verbs:["get"]}',
        '{APIGroups:["apps"], Resources:["configmaps"], Verbs:["get" "delete"]}',
        '{APIGroups:["apps"], Resources:["deployments"], Verbs:["get" "delete"]}',
        '{NonResourceURLs:["/metrics"], Verbs:["get"]}']


def test_an_update_or_patch_that_escalates_is_refused_too(sandbox, deployer, kubectl):
    assert _raw(sandbox, deployer["roles"], deployer["token"], "POST",
                _role("grow", {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}))[0] == 201
    url = f'{deployer["roles"]}/grow'
    code, body = _raw(sandbox, url, deployer["token"], "PATCH",
                      [{"op": "add", "path": "/rules/0/verbs/-", "value": "delete"}],
                      content_type="application/json-patch+json")
    assert code == 403 and body["message"].endswith(
        '{APIGroups:[""], Resources:["configmaps"], Verbs:["delete"]}')
    _, current = _raw(sandbox, url, deployer["token"])
    current["rules"][0]["verbs"] = ["get", "list", "watch"]
    code, body = _raw(sandbox, url, deployer["token"], "PUT", current)
    assert code == 403 and body["message"].endswith(
        '{APIGroups:[""], Resources:["configmaps"], Verbs:["watch"]}')
    # Server-side apply goes through the same create and update.
    code, body = _raw(sandbox, f'{deployer["roles"]}/applied?fieldManager=e2e', deployer["token"], "PATCH",
                      _role("applied", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}),
                      content_type="application/apply-patch+yaml")
    assert code == 403 and body["message"].startswith('roles.rbac.authorization.k8s.io "applied" is forbidden')
    # Only what the garbage collector touches: no check (IsOnlyMutatingGCFields).
    _, current = _raw(sandbox, url, deployer["token"])
    assert _raw(sandbox, url, deployer["token"], "PATCH", {"metadata": {"finalizers": ["example.com/keep"]}},
                content_type="application/merge-patch+json")[0] == 200
    # The admin is in system:masters: exempt.
    kubectl("patch", "role", "grow", "-n", deployer["ns"], "--type=json",
            "-p", '[{"op":"add","path":"/rules/0/verbs/-","value":"delete"}]')
    kubectl("patch", "role", "grow", "-n", deployer["ns"], "--type=merge", "-p", '{"metadata":{"finalizers":null}}')


def test_escalate_on_roles_lifts_the_check(sandbox, deployer, rbac_admin):
    _, rbac = rbac_admin
    rbac.create_namespaced_role(deployer["ns"], {"metadata": {"name": "escalator"}, "rules": [
        {"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["escalate"]}]})
    rbac.create_namespaced_role_binding(deployer["ns"], {
        "metadata": {"name": "escalator"}, "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "escalator"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": deployer["ns"]}]})
    code, body = _raw(sandbox, deployer["roles"], deployer["token"], "POST",
                      _role("secret-reader", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}))
    assert code == 201, body
    # escalate does not grant the permission itself.
    code, _ = _raw(sandbox, f'/api/v1/namespaces/{deployer["ns"]}/secrets', deployer["token"])
    assert code == 403


def test_a_binding_needs_the_roles_permissions_or_bind(sandbox, deployer, rbac_admin):
    ns = deployer["ns"]
    _, rbac = rbac_admin
    rbac.create_namespaced_role(ns, _role("secret-reader", {"apiGroups": [""], "resources": ["secrets"],
                                                            "verbs": ["get", "list"]}))
    code, body = _raw(sandbox, deployer["bindings"], deployer["token"], "POST",
                      _binding("read-secrets", "Role", "secret-reader", ns))
    assert code == 403
    assert body["message"] == (
        f'rolebindings.rbac.authorization.k8s.io "read-secrets" is forbidden: user "{deployer["user"]}" '
        f'(groups={deployer["groups"]}) is attempting to grant RBAC permissions not currently held:\n'
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}')
    # A cluster role bound in the namespace counts only what it grants there: `view` is more than this.
    code, body = _raw(sandbox, deployer["bindings"], deployer["token"], "POST",
                      _binding("viewers", "ClusterRole", "view", ns))
    assert code == 403 and "is attempting to grant RBAC permissions not currently held" in body["message"]
    # A role whose every permission the requester holds may be bound.
    assert _raw(sandbox, deployer["bindings"], deployer["token"], "POST",
                _binding("cm", "Role", "role-writer", ns))[0] == 201
    # A role that does not exist is the role getter's NotFound (GetRoleReferenceRules).
    code, body = _raw(sandbox, deployer["bindings"], deployer["token"], "POST", _binding("x", "Role", "nope", ns))
    assert (code, body["message"]) == (404, 'roles.rbac.authorization.k8s.io "nope" not found')
    # `bind` on exactly that role, in the binding's namespace, is enough.
    rbac.create_namespaced_role(ns, _role("binder", {"apiGroups": [RBAC], "resources": ["roles"], "verbs": ["bind"],
                                                     "resourceNames": ["secret-reader"]}))
    rbac.create_namespaced_role_binding(ns, {
        "metadata": {"name": "binder"}, "roleRef": {"apiGroup": RBAC, "kind": "Role", "name": "binder"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}]})
    assert _raw(sandbox, deployer["bindings"], deployer["token"], "POST",
                _binding("read-secrets", "Role", "secret-reader", ns))[0] == 201
    code, _ = _raw(sandbox, deployer["bindings"], deployer["token"], "POST",
                   _binding("viewers", "ClusterRole", "view", ns))
    assert code == 403


def test_cluster_roles_and_the_aggregation_rule(sandbox, rbac_admin, namespace):
    """A ClusterRole is checked against cluster-wide bindings only; an aggregationRule needs
    * on *.* (clusterrole/policybased/storage.go)."""
    core, rbac = rbac_admin
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "ops"}})
    rbac.create_cluster_role({"metadata": {"name": f"{namespace}-ops"}, "rules": [
        {"apiGroups": [RBAC], "resources": ["clusterroles"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]}]})
    rbac.create_cluster_role_binding({
        "metadata": {"name": f"{namespace}-ops"},
        "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": f"{namespace}-ops"},
        "subjects": [{"kind": "ServiceAccount", "name": "ops", "namespace": namespace}]})
    token = core.create_namespaced_service_account_token("ops", namespace, {"spec": {}}).status.token
    url = f"/apis/{RBAC}/v1/clusterroles"
    ok = {"metadata": {"name": f"{namespace}-nodes"}, "rules": [{"apiGroups": [""], "resources": ["nodes"],
                                                                  "verbs": ["get"]}]}
    assert _raw(sandbox, url, token, "POST", ok)[0] == 201
    agg = {"metadata": {"name": f"{namespace}-agg"},
           "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {"x": "y"}}]}}
    code, body = _raw(sandbox, url, token, "POST", agg)
    assert (code, body["message"]) == (
        403, f'clusterroles.rbac.authorization.k8s.io "{namespace}-agg" is forbidden: must have cluster-admin '
             "privileges to use the aggregationRule")


def test_an_impersonated_user_is_checked_as_itself(kubectl, namespace, tmp_path):
    manifest = tmp_path / "role.yaml"
    manifest.write_text(json.dumps(_role("r", {"apiGroups": ["apps"], "resources": ["deployments"],
                                               "verbs": ["get"]})))
    kubectl("create", "role", "maker", "-n", namespace, "--verb=create", "--resource=roles.rbac.authorization.k8s.io")
    kubectl("create", "rolebinding", "maker", "-n", namespace, "--role=maker", "--user=jane")
    out = kubectl("create", "-f", str(manifest), "-n", namespace, "--as=jane", check=False)
    assert out.returncode == 1
    assert ('roles.rbac.authorization.k8s.io "r" is forbidden: user "jane" (groups=["system:authenticated"]) is '
            'attempting to grant RBAC permissions not currently held:\n'
            '{APIGroups:["apps"], Resources:["deployments"], Verbs:["get"]}') in out.stderr
    kubectl("create", "-f", str(manifest), "-n", namespace)      # the admin: system:masters


# --- the rule algebra alone -------------------------------------------------------------------

def test_covers_follows_policy_comparator():
    owner = [{"apiGroups": ["apps"], "resources": ["*/scale", "deployments"], "verbs": ["get", "update"]},
             {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"], "resourceNames": ["a"]},
             {"nonResourceURLs": ["/healthz/*"], "verbs": ["get"]}]
    assert _escalation.covers(owner, [{"apiGroups": ["apps"], "resources": ["statefulsets/scale"],
                                       "verbs": ["update"]}])[0]
    assert not _escalation.covers(owner, [{"apiGroups": ["apps"], "resources": ["statefulsets"],
                                           "verbs": ["get"]}])[0]
    # A name-limited owner rule covers that name only, never the whole resource.
    assert _escalation.covers(owner, [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"],
                                       "resourceNames": ["a"]}])[0]
    ok, missing = _escalation.covers(owner, [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}])
    assert not ok and missing == [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]}]
    assert _escalation.covers(owner, [{"nonResourceURLs": ["/healthz/etcd"], "verbs": ["get"]}])[0]
    assert not _escalation.covers(owner, [{"nonResourceURLs": ["/healthz"], "verbs": ["get"]}])[0]
    assert _escalation.covers(_escalation.FULL_AUTHORITY, owner)[0]


def test_compact_string_quotes_as_go_does():
    assert _escalation.compact_string({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}) == \
        '{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}'
    assert _escalation.compact_string({"nonResourceURLs": ['/a"b'], "verbs": ["*"]}) == \
        '{NonResourceURLs:["/a\\"b"], Verbs:["*"]}'


def test_kubectl_shows_the_refusal_as_a_cluster_does(sandbox, deployer, rbac_admin, kubectl):
    """`kubectl create rolebinding` by someone who lacks the role's permissions: kubectl's own
    prefix, then the API server's message on two lines."""
    _, rbac = rbac_admin
    ns = deployer["ns"]
    rbac.create_namespaced_role(ns, _role("pod-killer", {"apiGroups": [""], "resources": ["pods"],
                                                         "verbs": ["delete"]}))
    out = kubectl("create", "rolebinding", "kill", "-n", ns, "--role=pod-killer", f"--serviceaccount={ns}:default",
                  f"--token={deployer['token']}", check=False)
    assert out.returncode == 1
    assert out.stderr == (
        f'error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io "kill" is forbidden: user '
        f'"{deployer["user"]}" (groups={deployer["groups"]}) is attempting to grant RBAC permissions not currently '
        'held:\n{APIGroups:[""], Resources:["pods"], Verbs:["delete"]}\n')
