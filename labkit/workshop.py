"""Workshops on one shared cluster: a pair of namespaces, a ServiceAccount and a kubeconfig
per learner, made and removed through the Kubernetes API only (the sandbox or any cluster).

    labkit workshop create 12 --out learners/     # alice, bob, ... each: <name>-default, <name>-test
    labkit workshop create --names ana,ben        # the names you choose
    labkit workshop list
    labkit workshop remove                        # every learner (or --names ana)

Each learner's ServiceAccount lives in the `labkit-workshop` namespace, where learners have
no rights (so none can delete their own account). RBAC comes from manifests/workshop/: the
`labkit-learner` Role bound in both of the learner's namespaces, and read-only cluster access
(nodes, namespaces, cluster DNS) shared by the group `system:serviceaccounts:labkit-workshop`.
A learner's kubeconfig holds a TokenRequest token (12 h by default, like `kubectl create token
--duration 12h`); learners run the course with `LABKIT_NAMESPACE_PREFIX=<name>`.
"""
from __future__ import annotations

import argparse
import base64
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import errors

NAMESPACE = "labkit-workshop"
PART_OF = {"app.kubernetes.io/part-of": "labkit-workshop"}
LEARNER_LABEL = "labkit.io/workshop-learner"
LESSON_NAMESPACES = ("default", "test")
NAMES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
         "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "yara")
TOKEN_SECONDS = 12 * 3600
_RBAC = "rbac.authorization.k8s.io"


def manifests_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "manifests" / "workshop"


def learner_names(count: int) -> list[str]:
    """The first `count` names: alice, bob, ... then learner21, learner22, ..."""
    return [NAMES[i] if i < len(NAMES) else f"learner{i + 1:02d}" for i in range(count)]


@dataclass
class Learner:
    name: str
    namespaces: tuple[str, ...]
    kubeconfig: Path | None = None


def _namespaces(name: str) -> tuple[str, ...]:
    return tuple(f"{name}-{ns}" for ns in LESSON_NAMESPACES)


def _learner_objects(name: str) -> list[dict]:
    """A learner's namespaces, ServiceAccount and the bindings of the learner Role."""
    labels = dict(PART_OF, **{LEARNER_LABEL: name})
    role = yaml.safe_load((manifests_dir() / "learner-role.yaml").read_text())
    objs: list[dict] = [{"apiVersion": "v1", "kind": "ServiceAccount",
                         "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels}}]
    for ns in _namespaces(name):
        objs.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": labels}})
        objs.append(dict(role, metadata=dict(role["metadata"], namespace=ns)))
        objs.append({"apiVersion": f"{_RBAC}/v1", "kind": "RoleBinding",
                     "metadata": {"name": "labkit-learner", "namespace": ns, "labels": labels},
                     "roleRef": {"apiGroup": _RBAC, "kind": "Role", "name": "labkit-learner"},
                     "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": NAMESPACE}]})
    return objs


def kubeconfig_for(lab, name: str, token: str) -> dict:
    """A kubeconfig for one learner: the instructor's cluster, the learner's token, and the
    learner's `default` namespace as the context's namespace."""
    conf = lab.api_client.configuration
    cluster: dict = {"server": lab.server}
    if conf.ssl_ca_cert:
        cluster["certificate-authority-data"] = base64.b64encode(Path(conf.ssl_ca_cert).read_bytes()).decode()
    elif not conf.verify_ssl:
        cluster["insecure-skip-tls-verify"] = True
    context = f"labkit-workshop-{name}"
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": "labkit-workshop", "cluster": cluster}],
            "users": [{"name": name, "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": "labkit-workshop", "user": name,
                                                       "namespace": _namespaces(name)[0]}}],
            "current-context": context}


def create(lab, names: list[str], out_dir: str | os.PathLike = "workshop-kubeconfigs", *,
           token_seconds: int = TOKEN_SECONDS, prepull: bool = False) -> list[Learner]:
    """Make (or refresh: it is idempotent) each learner's namespaces, account, bindings and
    kubeconfig (written 0600 to out_dir/<name>.kubeconfig). `lab` is the instructor's."""
    lab.apply(manifests_dir() / "cluster-read.yaml", progress=False)
    if prepull:
        lab.apply(manifests_dir() / "prepull-daemonset.yaml", progress=False)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    made = []
    for name in names:
        lab.apply(_learner_objects(name), progress=False)
        answer = lab._transport.request(
            "POST", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{name}/token",
            body={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                  "spec": {"expirationSeconds": token_seconds}})
        path = out / f"{name}.kubeconfig"
        # 0600 from the start: the file holds a credential.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(yaml.safe_dump(kubeconfig_for(lab, name, answer["status"]["token"]), sort_keys=False))
        made.append(Learner(name, _namespaces(name), path))
    return made


def learners(lab) -> list[str]:
    """The learners the cluster has, by their ServiceAccounts."""
    items = lab._transport.request("GET", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts",
                                   query={"labelSelector": LEARNER_LABEL}).get("items") or []
    return sorted(sa["metadata"]["labels"][LEARNER_LABEL] for sa in items)


def remove(lab, names: list[str] | None = None) -> list[str]:
    """Delete learners (all when names is None): their namespaces (and so everything in them)
    and accounts, which revokes their tokens; with all gone, the shared RBAC objects too."""
    try:
        names = learners(lab) if names is None else names
    except errors.NotFound:
        return []
    for name in names:
        for ns in _namespaces(name):
            _delete(lab, f"/api/v1/namespaces/{ns}")
        _delete(lab, f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/{name}")
    if not learners(lab):
        for path in (f"/apis/{_RBAC}/v1/clusterrolebindings/labkit-workshop-cluster-read",
                     f"/apis/{_RBAC}/v1/clusterroles/labkit-workshop-cluster-read",
                     f"/apis/{_RBAC}/v1/namespaces/kube-system/rolebindings/labkit-workshop-dns-read",
                     f"/apis/{_RBAC}/v1/namespaces/kube-system/roles/labkit-workshop-dns-read",
                     f"/api/v1/namespaces/{NAMESPACE}"):
            _delete(lab, path)
    return names


def _delete(lab, path: str) -> None:
    try:
        lab._transport.request("DELETE", path)
    except errors.NotFound:
        pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="labkit workshop", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("create", help="make N learners (or --names) and a kubeconfig each")
    make.add_argument("count", nargs="?", type=int, default=None)
    make.add_argument("--names", help="comma-separated learner names (instead of a count)")
    make.add_argument("--out", default="workshop-kubeconfigs", help="where the kubeconfigs go")
    make.add_argument("--duration", type=int, default=TOKEN_SECONDS, help="token lifetime in seconds")
    make.add_argument("--prepull", action="store_true", help="also apply the image pre-pull DaemonSet")
    drop = sub.add_parser("remove", help="delete learners (all, or --names)")
    drop.add_argument("--names")
    sub.add_parser("list", help="the learners this cluster has")
    for p in (make, drop, sub.choices["list"]):
        p.add_argument("--kubeconfig")
        p.add_argument("--context")
    args = parser.parse_args(argv)
    from ._connect import connect
    lab = connect(kubeconfig=args.kubeconfig, context=args.context, quiet=True)
    names = [n.strip() for n in args.names.split(",") if n.strip()] if getattr(args, "names", None) else None
    try:
        if args.command == "create":
            if names is None and not args.count:
                parser.error("give a learner count or --names")
            for learner in create(lab, names or learner_names(args.count), args.out,
                                  token_seconds=args.duration, prepull=args.prepull):
                print(f"{learner.name}: namespaces {', '.join(learner.namespaces)}; "
                      f"KUBECONFIG={learner.kubeconfig} LABKIT_NAMESPACE_PREFIX={learner.name}")
        elif args.command == "remove":
            for name in remove(lab, names):
                print(f"{name}: removed")
        else:
            print("\n".join(learners(lab)))
    except errors.LabkitError as e:
        print(f"labkit workshop: {e}")
        return 1
    finally:
        lab.close()
    return 0
