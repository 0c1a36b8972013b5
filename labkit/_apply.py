"""Reading manifests and applying them with server-side apply; kinds found by discovery."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import errors

FIELD_MANAGER = "labkit"
# Common kinds, so a lookup by short name need not walk every API group.
_WELL_KNOWN_GROUPS = ("apps/v1", "discovery.k8s.io/v1", "batch/v1", "networking.k8s.io/v1")


@dataclass(frozen=True)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """kubectl's object prefix: `deployment.apps`, `pod`."""
        return self.kind.lower() + (f".{self.group}" if self.group else "")

    def path(self, namespace: str | None = None, name: str | None = None, sub: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        return base + (f"/{sub}" if sub else "")


class Resources:
    """Kinds the server serves, from legacy discovery (fetched per group-version, cached)."""

    def __init__(self, transport) -> None:
        self._t = transport
        self._gv: dict[str, list[tuple[Resource, list[str], str]]] = {}

    def _list(self, gv: str) -> list[tuple[Resource, list[str], str]]:
        if gv not in self._gv:
            group, _, version = gv.rpartition("/")
            doc = self._t.request("GET", f"/apis/{gv}" if group else f"/api/{version}")
            out = []
            for r in doc.get("resources") or []:
                if "/" in r["name"]:
                    continue
                res = Resource(group, version, r["kind"], r["name"], bool(r.get("namespaced")))
                out.append((res, list(r.get("shortNames") or []), r.get("singularName") or r["kind"].lower()))
            self._gv[gv] = out
        return self._gv[gv]

    def for_kind(self, api_version: str, kind: str) -> Resource:
        try:
            entries = self._list(api_version)
        except errors.NotFound as e:
            raise errors.NotFound(f'no matches for kind "{kind}" in version "{api_version}"') from e
        for res, _, _ in entries:
            if res.kind == kind:
                return res
        raise errors.NotFound(f'no matches for kind "{kind}" in version "{api_version}"')

    def lookup(self, name: str) -> Resource:
        """`pods`, `pod`, `po`, `Pod`, `deploy`, `deployments.apps`: as kubectl resolves them."""
        word, _, group = name.partition(".")
        word = word.lower()
        gvs = ["v1", *_WELL_KNOWN_GROUPS]
        if group:
            gvs = [gv for gv in gvs if gv.startswith(group + "/")] or self._group_versions(group)
        for pass_ in (0, 1):
            for gv in gvs:
                try:
                    entries = self._list(gv)
                except errors.NotFound:
                    continue
                for res, shorts, singular in entries:
                    if word in (res.plural, singular, res.kind.lower(), *shorts):
                        return res
            if pass_ == 0 and not group:
                gvs = [gv for gv in self._group_versions(None) if gv not in gvs]
        raise errors.NotFound(f'the server doesn\'t have a resource type "{name}"')

    def _group_versions(self, group: str | None) -> list[str]:
        doc = self._t.request("GET", "/apis")
        return [g["preferredVersion"]["groupVersion"] for g in doc.get("groups") or []
                if group is None or g["name"] == group]


def is_path(source) -> bool:
    """Whether `apply`/`delete` read `source` as a file or folder (else as YAML text)."""
    return isinstance(source, Path) or (isinstance(source, str) and "\n" not in source.strip() and (
        Path(source).exists() or source.strip().endswith((".yaml", ".yml"))))


def load(source) -> list[dict]:
    """Objects from a path (file or folder: sorted *.yaml/*.yml), YAML text, a dict or a list."""
    import yaml
    if isinstance(source, dict):
        return [source]
    if isinstance(source, (list, tuple)):
        return [o for item in source for o in load(item)]
    if is_path(source):
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
            return [o for f in files for o in load(f)]
        if not path.exists():
            raise errors.LabkitError(f'the path "{path}" does not exist')
        text = path.read_text()
    else:
        text = str(source)
    try:
        docs = [d for d in yaml.safe_load_all(text) if d]
    except yaml.YAMLError as e:
        raise errors.BadRequest(f"error parsing YAML: {e}") from e
    out = []
    for d in docs:
        if not isinstance(d, dict):
            raise errors.BadRequest(f"not a Kubernetes object: {d!r}")
        if d.get("kind", "").endswith("List") and "items" in d:
            out.extend(d["items"])
        else:
            out.append(d)
    return out


@dataclass(frozen=True)
class Applied:
    kind: str          # kubectl's prefix, e.g. deployment.apps
    name: str
    namespace: str | None
    action: str        # created | configured | unchanged | deleted

    def __str__(self) -> str:
        return f"{self.kind}/{self.name} {self.action}"


class ApplyResult(list):
    """What `apply`/`delete` did, one `Applied` per object; prints like kubectl.

    >>> lab.apply("manifests/web-svc.yaml")
    service/web-svc created
    """

    def __repr__(self) -> str:
        return "\n".join(str(a) for a in self) if self else "(no objects)"

    def _repr_html_(self) -> str:
        return "<pre>" + repr(self) + "</pre>"

    def frame(self):
        import pandas as pd
        return pd.DataFrame([vars(a) for a in self], columns=["kind", "name", "namespace", "action"])

    def actions(self) -> dict[str, str]:
        """{"deployment.apps/nginx-deployment": "created", ...}"""
        return {f"{a.kind}/{a.name}": a.action for a in self}


def _check(obj: dict) -> None:
    missing = [f for f in ("apiVersion", "kind") if not obj.get(f)]
    if not (obj.get("metadata") or {}).get("name"):
        missing.append("metadata.name")
    if missing:
        raise errors.BadRequest(f"error validating data: {', '.join(missing)} not set in {obj!r:.80}")


def prepare(resources: Resources, objs: list[dict], namespace: str | None, map_ns) -> list[tuple[Resource, dict, str | None]]:
    """(resource, body with its namespace mapped, namespace) per object, Namespaces first."""
    out = []
    for obj in objs:
        _check(obj)
        res = resources.for_kind(obj["apiVersion"], obj["kind"])
        body = {**obj, "metadata": dict(obj["metadata"])}
        ns = None
        if res.namespaced:
            declared = body["metadata"].get("namespace")
            if namespace and declared and declared != namespace:
                # kubectl refuses the same mismatch (`-n b` on an object in namespace a).
                raise errors.BadRequest(
                    f'the namespace from the provided object "{declared}" does not match the namespace '
                    f'"{namespace}". You must pass \'namespace="{declared}"\' to perform this operation.')
            ns = map_ns(declared or namespace or "default")
            body["metadata"]["namespace"] = ns
        elif res.kind == "Namespace" and res.group == "":
            body["metadata"]["name"] = map_ns(body["metadata"]["name"])
        else:
            body["metadata"].pop("namespace", None)
        out.append((res, body, ns))
    out.sort(key=lambda t: 0 if (t[0].kind == "Namespace" and not t[0].group) else 1)
    return out


def apply_one(transport, res: Resource, body: dict, ns: str | None) -> Applied:
    name = body["metadata"]["name"]
    path = res.path(ns, name)
    try:
        before = transport.request("GET", path)["metadata"].get("resourceVersion")
    except errors.NotFound:
        before = None
    after = transport.request("PATCH", path, body=body, content_type="application/apply-patch+yaml",
                              query={"fieldManager": FIELD_MANAGER, "force": "true"})
    rv = after["metadata"].get("resourceVersion")
    action = "created" if before is None else ("unchanged" if rv == before else "configured")
    return Applied(res.qualified, name, ns, action)


def default_manifests() -> Path:
    """The course's manifests folder (`manifests/` beside the package)."""
    return Path(__file__).resolve().parent.parent / "manifests"
