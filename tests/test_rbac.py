"""Identity and authorization on the sandbox, over HTTPS with kubectl and the official client:
ServiceAccounts and their tokens, RBAC as kube-apiserver decides it, and the reviews that
`kubectl auth` reads. Wording checked against plugin/pkg/auth/authorizer/rbac/rbac.go and
staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go (forbiddenMessage)."""
from __future__ import annotations

import base64
import json
import os
import ssl
import urllib.error
import urllib.request

import pytest
import yaml

from .conftest import kubectl_binary, wait_for

RBAC = "rbac.authorization.k8s.io"


def _claims(token: str) -> tuple[dict, dict]:
    head, body, _sig = token.split(".")
    pad = lambda s: s + "=" * (-len(s) % 4)      # noqa: E731
    return json.loads(base64.urlsafe_b64decode(pad(head))), json.loads(base64.urlsafe_b64decode(pad(body)))


@pytest.fixture(scope="module")
def admin(api_client):
    from kubernetes import client
    return client.CoreV1Api(api_client), client.RbacAuthorizationV1Api(api_client)


@pytest.fixture
def learner(sandbox, admin, namespace, tmp_path):
    """A ServiceAccount `learner` in a fresh namespace, its token and a kubeconfig for it."""
    core, _ = admin
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "learner"}})
    token = core.create_namespaced_service_account_token(
        "learner", namespace, {"spec": {"expirationSeconds": 3600}}).status.token
    doc = yaml.safe_load(sandbox.kubeconfig.read_text())
    doc["users"] = [{"name": "learner", "user": {"token": token}}]
    doc["contexts"] = [{"name": "learner", "context": {"cluster": doc["clusters"][0]["name"], "user": "learner",
                                                       "namespace": namespace}}]
    doc["current-context"] = "learner"
    path = tmp_path / "learner.kubeconfig"
    path.write_text(yaml.safe_dump(doc))
    return {"namespace": namespace, "token": token, "kubeconfig": path,
            "user": f"system:serviceaccount:{namespace}:learner"}


@pytest.fixture
def as_learner(learner, tmp_path):
    binary = kubectl_binary()
    if binary is None:
        pytest.skip("no kubectl binary")
    import subprocess
    env = dict(os.environ, KUBECONFIG=str(learner["kubeconfig"]), HOME=str(tmp_path))

    def run(*args: str, check: bool = True):
        proc = subprocess.run([binary, *args], capture_output=True, text=True, env=env, timeout=60)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc
    return run


def _raw(sandbox, path: str, token: str, method: str = "GET", body: dict | None = None):
    req = urllib.request.Request(sandbox.server + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    ctx = ssl.create_default_context(cafile=str(sandbox.ca_file))
    try:
        with urllib.request.urlopen(req, timeout=10, context=ctx) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def _bind(admin, namespace: str, name: str, role_kind: str, role: str, subject_ns: str, rules=None) -> None:
    _, rbac = admin
    if rules is not None:
        rbac.create_namespaced_role(namespace, {"metadata": {"name": role}, "rules": rules})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": name},
        "roleRef": {"apiGroup": RBAC, "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": "learner", "namespace": subject_ns}]})


# --- identity ---------------------------------------------------------------------------

def test_every_namespace_gets_the_default_account_and_the_root_ca(sandbox, admin, namespace):
    core, _ = admin
    sa = wait_for(lambda: [s for s in core.list_namespaced_service_account(namespace).items
                           if s.metadata.name == "default"])
    assert sa[0].metadata.uid
    cm = wait_for(lambda: [c for c in core.list_namespaced_config_map(namespace).items
                           if c.metadata.name == "kube-root-ca.crt"])[0]
    assert cm.data == {"ca.crt": sandbox.ca_file.read_text()}
    # Both controllers put back what is deleted, and the publisher undoes an edit.
    core.delete_namespaced_service_account("default", namespace)
    wait_for(lambda: any(s.metadata.name == "default" and s.metadata.uid != sa[0].metadata.uid
                         for s in core.list_namespaced_service_account(namespace).items))
    core.patch_namespaced_config_map("kube-root-ca.crt", namespace, {"data": {"ca.crt": "tampered"}})
    wait_for(lambda: core.read_namespaced_config_map("kube-root-ca.crt", namespace).data["ca.crt"]
             == sandbox.ca_file.read_text())


def test_create_token_prints_a_bound_jwt_with_the_real_claims(sandbox, kubectl, namespace):
    wait_for(lambda: kubectl("get", "sa", "default", "-n", namespace, check=False).returncode == 0)
    token = kubectl("create", "token", "default", "-n", namespace).stdout.strip()
    header, claims = _claims(token)
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "https://kubernetes.default.svc.cluster.local"
    assert claims["aud"] == ["https://kubernetes.default.svc.cluster.local"]
    assert claims["sub"] == f"system:serviceaccount:{namespace}:default"
    assert claims["exp"] - claims["iat"] == 3600 and claims["nbf"] == claims["iat"]
    assert claims["kubernetes.io"]["namespace"] == namespace
    assert claims["kubernetes.io"]["serviceaccount"]["name"] == "default"
    # Signed with the key the sandbox keeps in its home.
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    key = serialization.load_pem_private_key((sandbox.home / "pki" / "sa.key").read_bytes(), None)
    head, body, sig = token.split(".")
    key.public_key().verify(base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4)), f"{head}.{body}".encode(),
                            padding.PKCS1v15(), hashes.SHA256())
    # pkg/apis/authentication/validation: at least ten minutes.
    short = kubectl("create", "token", "default", "-n", namespace, "--duration=5m", check=False)
    assert short.returncode == 1
    assert "spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes" in short.stderr


def test_a_token_authenticates_as_its_service_account(sandbox, as_learner, learner):
    who = as_learner("auth", "whoami", "-o", "json")
    info = json.loads(who.stdout)["status"]["userInfo"]
    assert info["username"] == learner["user"]
    assert info["groups"] == ["system:serviceaccounts", f"system:serviceaccounts:{learner['namespace']}",
                              "system:authenticated"]


def test_unknown_expired_and_orphaned_tokens_are_401(sandbox, admin, learner):
    assert _raw(sandbox, "/version", learner["token"])[0] == 200
    forged = learner["token"][:-4] + ("AAAA" if not learner["token"].endswith("AAAA") else "BBBB")
    for token in ("not-a-token", forged, "a.b.c"):
        code, body = _raw(sandbox, "/version", token)
        assert (code, body["reason"]) == (401, "Unauthorized")
    core, _ = admin
    core.delete_namespaced_service_account("learner", learner["namespace"])
    assert _raw(sandbox, "/version", learner["token"])[0] == 401


def test_an_expired_token_is_401(sandbox, admin, learner):
    assert _raw(sandbox, "/version", learner["token"])[0] == 200
    sandbox.advance_clock(3601)
    assert _raw(sandbox, "/version", learner["token"])[0] == 401


# --- authorization ---------------------------------------------------------------------

def test_a_denial_is_403_with_kube_apiservers_message(sandbox, as_learner, learner, api_client):
    out = as_learner("get", "pods", "-n", "default", check=False)
    assert out.returncode == 1
    assert out.stderr.strip() == (
        f'Error from server (Forbidden): pods is forbidden: User "{learner["user"]}" cannot list resource '
        f'"pods" in API group "" in the namespace "default"')
    code, body = _raw(sandbox, "/apis/apps/v1/namespaces/default/deployments/web", learner["token"])
    assert code == 403 and body["reason"] == "Forbidden"
    assert body["message"] == (f'deployments.apps "web" is forbidden: User "{learner["user"]}" cannot get '
                               'resource "deployments" in API group "apps" in the namespace "default"')
    assert body["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    code, body = _raw(sandbox, "/api/v1/nodes", learner["token"])
    assert body["message"].endswith('cannot list resource "nodes" in API group "" at the cluster scope')
    code, body = _raw(sandbox, "/labkit/v1/dns-log", learner["token"])
    assert (code, body["message"]) == (403, f'forbidden: User "{learner["user"]}" cannot get path '
                                            '"/labkit/v1/dns-log"')


def test_discovery_and_reviews_work_for_everyone_authenticated(as_learner):
    listed = json.loads(as_learner("get", "--raw", "/apis/rbac.authorization.k8s.io/v1").stdout)
    assert {r["name"] for r in listed["resources"]} == {"roles", "rolebindings", "clusterroles",
                                                       "clusterrolebindings"}
    assert as_learner("version", "-o", "json").returncode == 0
    assert as_learner("auth", "can-i", "create", "pods", check=False).stdout.strip() == "no"


def test_a_role_binding_grants_within_its_namespace_only(sandbox, admin, as_learner, learner):
    ns = learner["namespace"]
    _bind(admin, ns, "learner-edit", "ClusterRole", "edit", ns)
    assert as_learner("auth", "can-i", "create", "deployments.apps").stdout.strip() == "yes"
    assert as_learner("auth", "can-i", "create", "pods", "-n", "default", check=False).returncode == 1
    # The allow names its binding as rbac.go's roleBindingDescriber and describeSubject do.
    code, review = _raw(sandbox, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", learner["token"], "POST",
                        {"spec": {"resourceAttributes": {"namespace": ns, "verb": "get", "resource": "pods"}}})
    assert code == 201 and review["status"] == {
        "allowed": True, "reason": f'RBAC: allowed by RoleBinding "learner-edit/{ns}" of ClusterRole "edit" to '
                                   f'ServiceAccount "learner/{ns}"'}
    as_learner("create", "configmap", "settings", "--from-literal=a=1")
    assert "settings" in as_learner("get", "configmaps").stdout
    listed = as_learner("auth", "can-i", "--list").stdout
    assert any(line.split()[:1] == ["deployments.apps"] for line in listed.splitlines())
    # Bindings and roles print as kubectl shows them.
    wide = as_learner("get", "rolebindings", "-o", "wide", check=False)
    assert wide.returncode == 1      # edit does not read RBAC objects
    assert 'cannot list resource "rolebindings" in API group "rbac.authorization.k8s.io"' in wide.stderr


def test_resource_names_subresources_and_exec_needs_create(admin, as_learner, learner, kubectl):
    ns = learner["namespace"]
    core, _ = admin
    for name in ("allowed", "other"):
        core.create_namespaced_config_map(ns, {"metadata": {"name": name}, "data": {"k": "v"}})
    _bind(admin, ns, "one-map", "Role", "one-map", ns,
          rules=[{"apiGroups": [""], "resources": ["configmaps"], "resourceNames": ["allowed"], "verbs": ["get"]},
                 {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
                 {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}])
    assert as_learner("get", "configmap", "allowed").returncode == 0
    other = as_learner("get", "configmap", "other", check=False)
    assert f'configmaps "other" is forbidden: User "{learner["user"]}" cannot get resource "configmaps"' \
        in other.stderr
    kubectl("run", "box", "-n", ns, "--image=centos:7", "--", "sleep", "infinity")
    wait_for(lambda: "Running" in kubectl("get", "pod", "box", "-n", ns).stdout)
    assert as_learner("logs", "box").returncode == 0
    # Since 1.35 a WebSocket exec (a GET) needs `create` on pods/exec as well.
    out = as_learner("exec", "box", "--", "hostname", check=False)
    assert f'cannot create resource "pods/exec" in API group "" in the namespace "{ns}"' in out.stderr


def test_a_binding_to_a_missing_role_says_so_in_the_reason(admin, as_learner, learner):
    ns = learner["namespace"]
    _bind(admin, ns, "dangling", "Role", "nope", ns)
    out = as_learner("get", "configmaps", check=False)
    assert out.stderr.strip().endswith(f'in the namespace "{ns}": RBAC: role.rbac.authorization.k8s.io '
                                       '"nope" not found')


def test_aggregated_cluster_roles_follow_their_labels(admin, kubectl):
    _, rbac = admin
    rbac.create_cluster_role({"metadata": {"name": "widgets-view",
                                           "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
                              "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"],
                                         "verbs": ["get"]}]})
    for role in ("view", "edit", "admin"):      # view feeds edit, which feeds admin
        wait_for(lambda role=role: any("widgets" in (r.resources or [])
                                       for r in rbac.read_cluster_role(role).rules or []))
    rbac.delete_cluster_role("widgets-view")
    wait_for(lambda: not any("widgets" in (r.resources or []) for r in rbac.read_cluster_role("view").rules))


def test_rbac_objects_are_validated_and_printed(sandbox, kubectl, namespace):
    code, body = _raw(sandbox, f"/apis/{RBAC}/v1/namespaces/{namespace}/roles", sandbox.token, "POST",
                      {"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]}]})
    assert (code, body["message"]) == (
        422, 'Role.rbac.authorization.k8s.io "r" is invalid: rules[0].verbs: Required value: verbs must contain '
             "at least one value")
    kubectl("create", "rolebinding", "b", "-n", namespace, "--clusterrole=view", "--serviceaccount=x:y",
            "--group=team")
    changed = kubectl("patch", "rolebinding", "b", "-n", namespace, "-p", '{"roleRef":{"name":"edit"}}',
                      check=False)
    assert changed.stderr.strip().endswith(
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"ClusterRole", '
        'Name:"edit"}: cannot change roleRef')
    wide = kubectl("get", "rolebinding", "b", "-n", namespace, "-o", "wide").stdout.splitlines()
    assert wide[0].split() == ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"]
    assert wide[1].split()[:2] == ["b", "ClusterRole/view"] and wide[1].split()[-2:] == ["team", "x/y"]
    names = kubectl("get", "clusterroles", "-o", "name").stdout.split()
    for role in ("clusterrole.rbac.authorization.k8s.io/cluster-admin", "clusterrole.rbac.authorization.k8s.io/view",
                 "clusterrole.rbac.authorization.k8s.io/system:discovery"):
        assert role in names


def test_the_admin_is_in_system_masters_and_may_impersonate(kubectl, learner):
    who = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)["status"]["userInfo"]
    assert who["username"] == "kubernetes-admin" and "system:masters" in who["groups"]
    assert kubectl("auth", "can-i", "--list").stdout.splitlines()[1].split() == ["*.*", "[]", "[]", "[*]"]
    out = kubectl("get", "pods", "-n", "default", f"--as={learner['user']}", check=False)
    assert f'User "{learner["user"]}" cannot list resource "pods"' in out.stderr
    who = json.loads(kubectl("auth", "whoami", "-o", "json", "--as=jane", "--as-group=devs").stdout)
    assert who["status"]["userInfo"] == {"username": "jane", "groups": ["devs", "system:authenticated"]}


def test_a_learner_may_not_impersonate(sandbox, learner):
    req = urllib.request.Request(sandbox.server + "/api/v1/namespaces/default/pods", headers={
        "Authorization": f"Bearer {learner['token']}", "Impersonate-User": "kubernetes-admin"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10, context=ssl.create_default_context(cafile=str(sandbox.ca_file)))
    assert err.value.code == 403
    assert json.loads(err.value.read())["message"] == (
        f'users "kubernetes-admin" is forbidden: User "{learner["user"]}" cannot impersonate resource "users" '
        'in API group "" at the cluster scope')


def test_an_access_review_needs_exactly_one_kind_of_attributes(sandbox, learner):
    url = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    code, body = _raw(sandbox, url, learner["token"], "POST", {"spec": {}})
    assert (code, body["message"]) == (
        422, 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
             '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified')
    code, body = _raw(sandbox, url, learner["token"], "POST",
                      {"spec": {"nonResourceAttributes": {"path": "/version", "verb": "get"}}})
    assert code == 201 and body["status"]["allowed"] is True
    assert body["status"]["reason"] == ('RBAC: allowed by ClusterRoleBinding "system:discovery" of ClusterRole '
                                        '"system:discovery" to Group "system:authenticated"')


def test_tokens_and_policy_survive_a_restart(tmp_path):
    """The signing key lives in the home, so a token outlives a restart of the sandbox; the
    default policy is put back on start, as kube-apiserver's bootstrap-roles hook does."""
    from labkit.sandbox import Sandbox, SandboxConfig
    from kubernetes import client, config
    home = tmp_path / "home"
    with Sandbox(home=home, config=SandboxConfig(pod_start_seconds=0.0)) as sb:
        api = config.new_client_from_config(str(sb.kubeconfig))
        core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
        wait_for(lambda: any(s.metadata.name == "default" for s in core.list_namespaced_service_account("default").items))
        token = core.create_namespaced_service_account_token("default", "default", {"spec": {}}).status.token
        rbac.delete_cluster_role("system:basic-user")
        api.close()
    with Sandbox(home=home) as sb:
        assert _raw(sb, "/version", token)[0] == 200
        code, review = _raw(sb, "/apis/authentication.k8s.io/v1/selfsubjectreviews", token, "POST", {})
        assert code == 201 and review["status"]["userInfo"]["username"] == "system:serviceaccount:default:default"


def test_a_pod_bound_token_names_the_pod_and_dies_with_it(sandbox, kubectl, namespace, api_client):
    from kubernetes import client
    core = client.CoreV1Api(api_client)
    kubectl("run", "box", "-n", namespace, "--image=centos:7", "--", "sleep", "infinity")
    pod = wait_for(lambda: (lambda p: p if p.spec.node_name else None)(core.read_namespaced_pod("box", namespace)))
    wait_for(lambda: kubectl("get", "sa", "default", "-n", namespace, check=False).returncode == 0)
    token = kubectl("create", "token", "default", "-n", namespace, "--bound-object-kind", "Pod",
                    "--bound-object-name", "box").stdout.strip()
    k8s = _claims(token)[1]["kubernetes.io"]
    assert k8s["pod"] == {"name": "box", "uid": pod.metadata.uid}
    assert k8s["node"] == {"name": pod.spec.node_name, "uid": core.read_node(pod.spec.node_name).metadata.uid}
    assert _raw(sandbox, "/version", token)[0] == 200
    core.delete_namespaced_pod("box", namespace, grace_period_seconds=0)
    wait_for(lambda: _raw(sandbox, "/version", token)[0] == 401)


# --- impersonating a uid and extra attributes (filters/impersonation.go) ---------------------

def _impersonating(sandbox, token: str, path: str, headers: list[tuple[str, str]], method="GET", body=None):
    """A request with repeatable Impersonate-* headers; (status, content type, body text)."""
    import http.client
    conn = http.client.HTTPSConnection(sandbox.server.split("://")[1],
                                       context=ssl.create_default_context(cafile=str(sandbox.ca_file)), timeout=10)
    conn.putrequest(method, path)
    for name, value in [("Authorization", f"Bearer {token}"), ("Content-Type", "application/json"), *headers]:
        conn.putheader(name, value)
    data = json.dumps(body).encode() if body is not None else b""
    conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type"), resp.read().decode()
    conn.close()
    return out


def test_whoami_shows_an_impersonated_uid_and_extra(kubectl):
    out = kubectl("--as", "jane", "--as-uid", "u-123", "--as-user-extra", "scopes=view", "--as-user-extra",
                  "scopes=edit", "--as-user-extra", "team=net", "--as-group", "devs", "auth", "whoami")
    assert [line.rstrip() for line in out.stdout.splitlines() if line.strip()] == [
        "ATTRIBUTE       VALUE",
        "Username        jane",
        "UID             u-123",
        "Groups          [devs system:authenticated]",
        "Extra: scopes   [view edit]",
        "Extra: team     [net]"]
    info = json.loads(kubectl("--as", "jane", "--as-user-extra", "Zone=b", "--as-user-extra", "app=a",
                              "--as-user-extra", "example.com/team=net", "auth", "whoami", "-o", "json",
                              ).stdout)["status"]["userInfo"]
    # Header names are case-insensitive: the key arrives lower-cased, and %-decoded (client-go
    # escapes "/" in it); a Go map prints sorted.
    assert info == {"username": "jane", "groups": ["system:authenticated"],
                    "extra": {"app": ["a"], "example.com/team": ["net"], "zone": ["b"]}}


def test_each_uid_and_extra_value_needs_its_own_impersonate_grant(sandbox, admin, learner):
    core, rbac = admin
    name = f"{learner['namespace']}-impersonator"
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": [
        {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["jane"]}]})
    rbac.create_cluster_role_binding({
        "metadata": {"name": name}, "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "learner", "namespace": learner["namespace"]}]})
    whoami = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
    me = learner["user"]
    code, _, text = _impersonating(sandbox, learner["token"], whoami, [("Impersonate-User", "jane"),
                                                                        ("Impersonate-Uid", "u-1")], "POST", {})
    assert code == 403 and json.loads(text)["message"] == (
        f'uids.authentication.k8s.io "u-1" is forbidden: User "{me}" cannot impersonate resource "uids" in API '
        'group "authentication.k8s.io" at the cluster scope')
    assert json.loads(text)["details"] == {"name": "u-1", "group": "authentication.k8s.io", "kind": "uids"}
    rbac.patch_cluster_role(name, {"rules": [
        {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["jane"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": ["uids"], "verbs": ["impersonate"]},
        {"apiGroups": ["authentication.k8s.io"], "resources": ["userextras/scopes"], "verbs": ["impersonate"],
         "resourceNames": ["view"]}]})
    code, _, text = _impersonating(sandbox, learner["token"], whoami, [
        ("Impersonate-User", "jane"), ("Impersonate-Uid", "u-1"), ("Impersonate-Extra-Scopes", "view")], "POST", {})
    assert code == 201 and json.loads(text)["status"]["userInfo"] == {
        "username": "jane", "uid": "u-1", "groups": ["system:authenticated"], "extra": {"scopes": ["view"]}}
    # Each value of each key is its own check: the value is the resourceName, the key the subresource.
    code, _, text = _impersonating(sandbox, learner["token"], whoami, [
        ("Impersonate-User", "jane"), ("Impersonate-Extra-Scopes", "view"), ("Impersonate-Extra-Scopes", "edit")],
        "POST", {})
    assert code == 403 and json.loads(text)["message"] == (
        f'userextras.authentication.k8s.io "edit" is forbidden: User "{me}" cannot impersonate resource '
        '"userextras/scopes" in API group "authentication.k8s.io" at the cluster scope')
    code, _, text = _impersonating(sandbox, learner["token"], whoami, [
        ("Impersonate-User", "jane"), ("Impersonate-Extra-Team", "net")], "POST", {})
    assert code == 403 and '"userextras/team"' in json.loads(text)["message"]
    # The user comes first: a user it may not be is refused before anything else is looked at.
    code, _, text = _impersonating(sandbox, learner["token"], whoami, [
        ("Impersonate-User", "bob"), ("Impersonate-Uid", "u-1")], "POST", {})
    assert code == 403 and json.loads(text)["message"].startswith('users "bob" is forbidden')
    # The access review runs as the impersonated user.
    code, _, text = _impersonating(sandbox, learner["token"], "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                                   [("Impersonate-User", "jane"), ("Impersonate-Uid", "u-1")], "POST",
                                   {"spec": {"resourceAttributes": {"verb": "list", "resource": "pods"}}})
    assert code == 201 and json.loads(text)["status"] == {"allowed": False}


def test_uid_groups_or_extra_without_a_user_is_an_internal_error(sandbox):
    """buildImpersonationRequests fails, and the filter answers with responsewriters.InternalError:
    plain text naming each request as fmt prints a v1.ObjectReference."""
    code, ctype, text = _impersonating(sandbox, sandbox.token, "/api/v1/pods?x=<1>", [
        ("Impersonate-Group", "devs"), ("Impersonate-Uid", "u-1")])
    assert (code, ctype) == (500, "text/plain; charset=utf-8")
    assert text == ('Internal Server Error: "/api/v1/pods?x=&lt;1&gt;": requested [{Group  devs    } '
                    '{UID  u-1  authentication.k8s.io/v1  }] without impersonating a user\n')


def test_an_impersonated_account_keeps_its_groups_only_when_none_are_sent(kubectl):
    who = json.loads(kubectl("auth", "whoami", "-o", "json", "--as=system:serviceaccount:ns1:robot").stdout)
    assert who["status"]["userInfo"]["groups"] == ["system:serviceaccounts", "system:serviceaccounts:ns1",
                                                   "system:authenticated"]
    who = json.loads(kubectl("auth", "whoami", "-o", "json", "--as=system:serviceaccount:ns1:robot",
                             "--as-group=devs").stdout)
    assert who["status"]["userInfo"]["groups"] == ["devs", "system:authenticated"]
    # The anonymous user is unauthenticated instead (and may ask who it is only once allowed to).
    denied = kubectl("auth", "whoami", "--as=system:anonymous", check=False)
    assert denied.stderr.strip() == ("error: the selfsubjectreviews API is not enabled in the cluster or you do "
                                     "not have permission to call it")
    kubectl("create", "clusterrole", "anonymous-whoami", "--verb=create",
            "--resource=selfsubjectreviews.authentication.k8s.io")
    kubectl("create", "clusterrolebinding", "anonymous-whoami", "--clusterrole=anonymous-whoami",
            "--group=system:unauthenticated")
    try:
        who = json.loads(kubectl("auth", "whoami", "-o", "json", "--as=system:anonymous").stdout)
        assert who["status"]["userInfo"] == {"username": "system:anonymous", "groups": ["system:unauthenticated"]}
    finally:
        kubectl("delete", "clusterrolebinding,clusterrole", "anonymous-whoami")


def test_a_subject_access_review_decides_for_the_user_it_names(sandbox, admin, learner, api_client):
    """SubjectAccessReview (pkg/registry/authorization/subjectaccessreview): the user, groups,
    uid and extra come from the spec, as sent, and the answer echoes them."""
    from kubernetes import client
    ns = learner["namespace"]
    _bind(admin, ns, "learner-view", "ClusterRole", "view", ns)
    authz = client.AuthorizationV1Api(api_client)
    spec = {"user": learner["user"], "uid": "u-7", "extra": {"scopes": ["view"]},
            "resourceAttributes": {"namespace": ns, "verb": "list", "resource": "pods"}}
    review = api_client.sanitize_for_serialization(authz.create_subject_access_review({"spec": spec}))
    assert review["spec"] == spec and review["status"] == {
        "allowed": True, "reason": f'RBAC: allowed by RoleBinding "learner-view/{ns}" of ClusterRole "view" to '
                                   f'ServiceAccount "learner/{ns}"'}
    denied = authz.create_subject_access_review({"spec": dict(spec, resourceAttributes={
        "namespace": ns, "verb": "delete", "resource": "pods"})})
    assert denied.status.allowed is False and not denied.status.denied
    # No group is added: a review for a group alone is answered for that group.
    grouped = authz.create_subject_access_review({"spec": {
        "groups": ["system:authenticated"], "nonResourceAttributes": {"path": "/version", "verb": "get"}}})
    assert grouped.status.allowed is True
    # The local form is about its own namespace only.
    local = authz.create_namespaced_local_subject_access_review(ns, {"spec": spec})
    assert local.status.allowed is True and local.metadata.namespace == ns
    code, body = _raw(sandbox, f"/apis/authorization.k8s.io/v1/namespaces/{ns}/localsubjectaccessreviews",
                      sandbox.token, "POST", {"spec": dict(spec, resourceAttributes={"namespace": "default",
                                                                                   "verb": "get", "resource": "pods"})})
    assert (code, body["message"]) == (
        422, 'LocalSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes.namespace: '
             'Invalid value: "default": must match metadata.namespace')
    code, body = _raw(sandbox, "/apis/authorization.k8s.io/v1/subjectaccessreviews", sandbox.token, "POST",
                      {"spec": {"resourceAttributes": {"verb": "get", "resource": "pods"}}})
    assert (code, body["message"]) == (
        422, 'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one '
             "of user or group must be specified")
    # Asking about others is itself a permission the learner lacks.
    code, body = _raw(sandbox, "/apis/authorization.k8s.io/v1/subjectaccessreviews", learner["token"], "POST",
                      {"spec": spec})
    assert code == 403 and body["message"].startswith(
        f'subjectaccessreviews.authorization.k8s.io is forbidden: User "{learner["user"]}" cannot create resource '
        '"subjectaccessreviews" in API group "authorization.k8s.io" at the cluster scope')
