"""The registry layer between HTTP and the store, as kube-apiserver's REST storage.

It does what a real API server does synchronously on a write: namespace checks,
defaulting, validation, ClusterIP allocation, patch application. Derived state
(ReplicaSets, pods, endpoints, status) is left to the controllers.
"""
from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import NamedTuple

from ...kube.objects import clone
from ...kube.labels import match_labels_selector, selector_string
from . import _admission, _managedfields, _nodeports, _patch, _patch_errors, _policybased
from ..apis import _errors, _naming, _schema
from ..validation._field_errors import _goquote
from .._clock import rfc3339
from .._config import SandboxConfig
from ..apis._defaults_batch import generate_job_selector
from ..apis._resources import Resource, by_plural
from ..storage._store import Store

_NAMESPACES = by_plural("namespaces")
_SERVICES = by_plural("services")

# Fields each subresource may change; the rest of a write is ignored, as the real
# status and scale strategies do.
_STATUS_ONLY = ("status",)
# apimachinery validation.FieldManagerMaxLength
_FIELD_MANAGER_MAX = 128


class WriteOptions(NamedTuple):
    """Who writes, as a create, update or patch request says it: `?fieldManager=`, the
    User-Agent, and `?force=` as sent (None when absent)."""
    field_manager: str = ""
    user_agent: str = ""
    force: str | None = None

    @property
    def manager(self) -> str:
        """handlers/rest.go managerOrUserAgent: the fieldManager, else the User-Agent up to
        its first `/`, unprintable characters dropped, cut at 128 bytes (prefixFromUserAgent):
        `OpenAPI-Generator` for the Python client."""
        if self.field_manager:
            return self.field_manager
        out = ""
        for ch in self.user_agent.split("/", 1)[0]:
            if not ch.isprintable():
                continue
            if len((out + ch).encode()) > _FIELD_MANAGER_MAX:
                break
            out += ch
        return out


class Registry:
    def __init__(self, store: Store, config: SandboxConfig) -> None:
        self.store, self.config = store, config

    # --- create --------------------------------------------------------------------
    def create(self, resource: Resource, namespace: str | None, obj: dict, *, dry_run: bool = False,
               requester=None, manager: str | None = None) -> dict:
        """requester: the request's user, for what only some users may write (RBAC's
        escalation checks); None for the sandbox's own writes. manager: who creates it,
        recorded in managedFields (None: an untracked write)."""
        if not isinstance(obj, dict):
            raise _errors.bad_request("the body of the request was in an unknown format")
        obj = clone(obj)
        sent = clone(obj) if manager is not None and resource.kind in ("Pod", "Service") else None
        self._check_type(resource, obj)
        _as_decoded(resource, obj, requester)
        meta = obj.setdefault("metadata", {})
        if resource.namespaced:
            sent = meta.get("namespace")
            if sent and namespace and sent != namespace:
                raise _errors.bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request")
            meta["namespace"] = namespace = sent or namespace or "default"
            self._check_namespace(resource, namespace, meta.get("name") or meta.get("generateName", ""))
        else:
            meta.pop("namespace", None)
        _policybased.check(self.store, requester, resource, namespace, "", obj)
        for field in ("resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "generation"):
            meta.pop(field, None)
        if not meta.get("name") and meta.get("generateName") and not dry_run:
            # Named before admission, as the real registry does, so defaults may use the name.
            meta["name"] = self.store.generate_name(resource, namespace, meta["generateName"])
        obj = _admission.default(resource.kind, obj, config=self.config)
        if resource.kind == "Job":
            # The Job strategy's PrepareForCreate selects the pods by the Job's own uid.
            obj["metadata"]["uid"] = self.store.next_uid(resource, namespace, obj["metadata"].get("name", ""))
            generate_job_selector(obj)
        _admission.validate(resource.kind, obj)
        if manager is not None:     # before the strategy's allocations (an object refused costs nothing)
            obj = _managedfields.update(None, obj, manager, resource.api_version, resource.kind, self._now(),
                                        sent=sent)
        if resource.kind == "Service":
            self._allocate_cluster_ip(obj)
            _nodeports.allocate(obj, self.store.list_resource(_SERVICES), self.config.seed)
        if resource.kind == "Namespace":
            obj["status"] = {"phase": "Active"}
        if dry_run:
            # The real registry fills the system fields before the dry-run point
            # (rest.FillObjectMetaSystemFields): a uid, a creation time, a first generation.
            meta = obj["metadata"]
            meta["uid"] = meta.get("uid") or str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339(self.store.clock.now())
            if "spec" in obj and resource.kind not in ("Pod", "Service", "Node", "Namespace"):
                meta["generation"] = 1
            return obj
        return self.store.create(resource, obj)

    # --- update --------------------------------------------------------------------
    def update(self, resource: Resource, namespace: str | None, name: str, obj: dict,
               *, subresource: str | None = None, dry_run: bool = False, requester=None,
               manager: str | None = None, tracked_as: str | None = None) -> dict:
        """manager: who writes, recorded in managedFields (None: the object's managedFields
        are taken as they are); tracked_as: the subresource the write came through, when
        another than `subresource` (a scale)."""
        if not isinstance(obj, dict):
            raise _errors.bad_request("the body of the request was in an unknown format")
        current = self._existing(resource, namespace, name)
        self._check_type(resource, obj)
        _as_decoded(resource, obj, requester)
        meta = obj.setdefault("metadata", {})
        if meta.get("name") not in (None, name):
            raise _errors.bad_request("the name of the object (%s) does not match the name on the URL (%s)"
                                      % (meta.get("name"), name))
        sent_rv = meta.get("resourceVersion")
        if sent_rv and sent_rv != current["metadata"]["resourceVersion"]:
            raise _errors.conflict(resource, name)
        if subresource is None:
            _policybased.check(self.store, requester, resource, namespace, name, obj, old=current)
        if subresource == "status":
            new = clone(current)
            new["status"] = clone(obj.get("status", {}))
            if manager is None and "managedFields" in meta:       # an apply's own bookkeeping
                new["metadata"]["managedFields"] = meta["managedFields"]
        elif subresource == "finalize":
            # pkg/registry/core/namespace/strategy.go namespaceFinalizeStrategy: only the spec's
            # finalizers change here, validated as on create.
            new = clone(current)
            new["spec"] = dict(new.get("spec") or {}, finalizers=list((obj.get("spec") or {}).get("finalizers") or []))
            if not new["spec"]["finalizers"]:
                del new["spec"]["finalizers"]
            _admission.validate(resource.kind, new, old=current)
        else:
            new = clone(obj)
            new["metadata"] = dict(clone(meta), name=name)
            # Only a delete sets these; an update keeps what a delete set.
            for field in ("deletionTimestamp", "deletionGracePeriodSeconds"):
                new["metadata"].pop(field, None)
                if current["metadata"].get(field) is not None:
                    new["metadata"][field] = current["metadata"][field]
            if resource.namespaced:
                new["metadata"]["namespace"] = namespace
            if "status" in current:                # the main resource never writes status
                new["status"] = clone(current["status"])
            new = _admission.default(resource.kind, new, config=self.config, old=current)
            if resource.kind == "Service" and isinstance(new.get("spec"), dict):
                _nodeports.keep_allocated(new["spec"], current.get("spec") or {})
            _admission.validate(resource.kind, new, old=current)
            if manager is not None:
                new = _managedfields.update(current, new, manager, resource.api_version, resource.kind,
                                            self._now(), tracked_as or "")
            if resource.kind == "Service":
                _nodeports.allocate(new, self.store.list_resource(_SERVICES), self.config.seed)
        if subresource == "status" and manager is not None:
            new = _managedfields.update(current, new, manager, resource.api_version, resource.kind,
                                        self._now(), "status")
        new["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        _managedfields.keep_times_of_a_no_op(current, new)
        if dry_run:
            return new
        updated = self.store.update(resource, new)
        if updated["metadata"].get("deletionTimestamp") and not updated["metadata"].get("finalizers") \
                and resource.kind not in ("Pod", "Namespace"):
            # The last finalizer removed from a deleting object: it goes now.
            self.store.delete(resource, namespace, name)
        return updated

    # --- patch ---------------------------------------------------------------------
    def patch(self, resource: Resource, namespace: str | None, name: str, content_type: str,
              body: bytes, *, subresource: str | None = None, dry_run: bool = False,
              check=None, decoded: tuple | None = None, requester=None,
              options: WriteOptions | None = None) -> dict:
        """check(obj), when given, sees the patched object before it is written (field validation).
        decoded, when given, is `_decode(content_type, body)` done already (off the event loop).
        options, when given, name the manager (managedFields) and whether an apply forces."""
        patch_type, decoded = decoded or _decode(content_type, body)
        manager = force = None
        if options is not None:
            check_patch_options(options, patch_type)
            manager, force = options.manager, options.force == "true"
        applying = patch_type == _patch.APPLY_PATCH and manager is not None
        current = self.store.get_resource(resource, namespace, name)
        if current is None:
            if patch_type != _patch.APPLY_PATCH or subresource:
                raise _errors.not_found(resource, name)
            # Server-side apply creates what does not exist yet (kubectl apply --server-side).
            obj = _apply(resource.kind, patch_type, None, decoded)
            if check:
                check(obj)
            _require_object_meta(resource, obj)
            if applying:
                obj = _managedfields.apply(None, obj, manager, resource.api_version, resource.kind,
                                           self._now(), force=force)
            obj.setdefault("metadata", {}).setdefault("name", name)
            return self.create(resource, namespace, obj, dry_run=dry_run, requester=requester)
        if applying:
            _apply(resource.kind, patch_type, None, decoded)       # the patch's own refusals first
            try:
                patched = _managedfields.apply(clone(current), decoded, manager, resource.api_version,
                                               resource.kind, self._now(), force=force,
                                               subresource=subresource or "")
            except _patch.PatchError as e:
                raise _patch_error(e) from None
            manager = None                                         # recorded: the update keeps it
        else:
            patched = _apply(resource.kind, patch_type, clone(current), decoded)
        if check and subresource is None:
            try:
                check(patched)
            except _errors.ApiError as e:
                raise _undecodable_patch(patched, e, patch_type, decoded) from None
        _require_object_meta(resource, patched)
        patched.setdefault("metadata", {})["resourceVersion"] = (
            patched["metadata"].get("resourceVersion") or current["metadata"]["resourceVersion"])
        if patch_type == _patch.APPLY_PATCH:
            patched["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        return self.update(resource, namespace, name, patched, subresource=subresource, dry_run=dry_run,
                           requester=requester, manager=manager)

    # --- the scale subresource ----------------------------------------------------
    def scale(self, resource: Resource, namespace: str | None, name: str, *, sent: dict | None = None,
              content_type: str = "", body: bytes = b"", dry_run: bool = False,
              manager: str | None = None) -> dict:
        """Read (no `sent`, no `body`), replace (`sent`, a PUT's Scale) or patch a workload's
        autoscaling/v1 Scale, as pkg/registry/apps/deployment/storage's ScaleREST does:
        decode the Scale (an int32 that overflows is a 400), ValidateScale (422), then
        write spec.replicas into the workload; with dry_run nothing is stored."""
        obj = self._existing(resource, namespace, name)
        if sent is None and not body:
            return scale_of(obj)
        if sent is not None:
            if not isinstance(sent, dict):
                raise _errors.bad_request("the body of the request was in an unknown format")
            _schema.check("Scale", "autoscaling/v1", sent, "Ignore")
            scale = sent
        else:
            patch_type, decoded = _decode(content_type, body)
            scale = _apply("Scale", patch_type, scale_of(obj), decoded)
            try:
                _schema.check("Scale", "autoscaling/v1", scale, "Ignore")
            except _errors.ApiError as e:
                raise _undecodable_patch(scale, e, patch_type, decoded) from None
        sent_rv = (scale.get("metadata") or {}).get("resourceVersion")
        if sent_rv and sent_rv != obj["metadata"]["resourceVersion"]:
            raise _errors.conflict(resource, name)
        replicas = (scale.get("spec") or {}).get("replicas", 0)
        if replicas < 0:       # pkg/apis/autoscaling/validation ValidateScale
            raise _admission.Invalid("Scale", name, [{
                "reason": "FieldValueInvalid", "field": "spec.replicas",
                "message": f"Invalid value: {replicas}: must be greater than or equal to 0"}])
        new = dict(obj, spec=dict(obj["spec"], replicas=replicas))
        new["metadata"] = dict(obj["metadata"])
        return scale_of(self.update(resource, namespace, name, new, dry_run=dry_run, manager=manager,
                                    tracked_as="scale"))

    # --- delete --------------------------------------------------------------------
    def delete(self, resource: Resource, namespace: str | None, name: str, *, dry_run: bool = False,
               grace_seconds: int | None = None, propagation: str | None = None) -> dict:
        """Delete an object. Pods terminate gracefully (deletionTimestamp, STATUS Terminating,
        out of the endpoints at once) and the kubelet removes them; grace_seconds=0 removes
        them at once (`kubectl delete --grace-period=0 --force`). propagation Orphan or
        Foreground leaves the object deleting with that finalizer for the garbage collector;
        an object with finalizers stays until they are removed."""
        if propagation not in (None, "Orphan", "Foreground", "Background"):
            raise _admission.Invalid("DeleteOptions", "", [{
                "reason": "FieldValueNotSupported", "field": "propagationPolicy",
                "message": f'Unsupported value: "{propagation}": supported values: '
                           '"Foreground", "Background", "Orphan"'}], group="")
        current = self._existing(resource, namespace, name)
        if dry_run:
            return current
        if resource.kind == "Pod":
            graceful = self._delete_pod_gracefully(resource, namespace, name, current, grace_seconds)
            if graceful is not None:
                return graceful
        if resource.kind == "Namespace":
            if name in ("default", "kube-system", "kube-public"):
                raise _errors.ApiError(
                    403, "Forbidden", f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    {"name": name, "kind": "namespaces"})
            # Namespaces terminate: the namespace controller empties them, then removes them.
            # A second delete meanwhile is a Conflict (pkg/registry/core/namespace/storage);
            # once finalized (no spec.finalizers left), the namespace goes.
            if current["metadata"].get("deletionTimestamp"):
                if not (current.get("spec") or {}).get("finalizers"):
                    return self.store.delete(resource, None, name)
                raise _errors.ApiError(
                    409, "Conflict",
                    f'Operation cannot be fulfilled on namespaces "{name}": The system is ensuring all '
                    "content is removed from this namespace.  Upon completion, this namespace will "
                    "automatically be purged by the system.", {"name": name, "kind": "namespaces"})

            def terminate(ns: dict) -> None:
                ns["metadata"]["deletionTimestamp"] = rfc3339(self.store.clock.now())
                ns["status"] = {"phase": "Terminating"}
            return self.store.mutate(resource, None, name, terminate, exempt_quota=True)
        # The store's deletion with finalizers (staging/.../registry/generic/registry/store.go
        # updateForGracefulDeletionAndFinalizers): the policy's finalizer is added, and an
        # object with any finalizer is only marked.
        wanted = {"Orphan": "orphan", "Foreground": "foregroundDeletion"}.get(propagation or "")
        finalizers = list(current["metadata"].get("finalizers") or [])
        if wanted and wanted not in finalizers:
            finalizers.append(wanted)
        if finalizers:
            def mark(obj: dict) -> None:
                obj["metadata"].setdefault("deletionTimestamp", rfc3339(self.store.clock.now()))
                obj["metadata"].setdefault("deletionGracePeriodSeconds", 0)
                obj["metadata"]["finalizers"] = finalizers
            return self.store.mutate(resource, namespace, name, mark, exempt_quota=True)
        return self.store.delete(resource, namespace, name)

    def mutate(self, resource: Resource, namespace: str | None, name: str, change, *, manager: str,
               subresource: str = "") -> dict | None:
        """A controller's read-modify-write (`Store.mutate`) recorded in managedFields under
        its manager, as its API call would be (`kubelet` writing pods/status)."""
        def tracked(obj: dict) -> None:
            live = self.store.get_resource(resource, namespace, name)     # mutate hands out a copy
            change(obj)
            _managedfields.update(live, obj, manager, resource.api_version, resource.kind, self._now(),
                                  subresource)
        return self.store.mutate(resource, namespace, name, tracked)

    def _delete_pod_gracefully(self, resource: Resource, namespace: str, name: str, current: dict,
                               grace_seconds: int | None) -> dict | None:
        """The pod's graceful deletion (pkg/registry/core/pod/strategy.go CheckGracefulDelete,
        staging/.../registry/rest/delete.go BeforeDelete): the grace period is the request's,
        else spec.terminationGracePeriodSeconds; 0 for a pod no node runs or that has ended.
        deletionTimestamp is now + grace, and the kubelet removes the pod once its containers
        are stopped. A later delete may only shorten the period. None: delete it now."""
        meta = current["metadata"]
        if meta.get("deletionTimestamp"):
            pending = meta.get("deletionGracePeriodSeconds")
            if not pending:
                return None             # marked with no grace left: finish the deletion
            if grace_seconds is None or grace_seconds >= pending:
                return current          # graceful deletion is pending: nothing changes
            if grace_seconds <= 0 and not meta.get("finalizers"):
                return None
            shortened = parse_time(meta["deletionTimestamp"]) - pending + max(grace_seconds, 0)

            def shorten(pod: dict) -> None:
                pod["metadata"]["deletionTimestamp"] = rfc3339(_utc(shortened))
                pod["metadata"]["deletionGracePeriodSeconds"] = max(grace_seconds, 0)
            return self.store.mutate(resource, namespace, name, shorten, exempt_quota=True)
        period = grace_seconds if grace_seconds is not None else current["spec"].get("terminationGracePeriodSeconds", 0)
        if not current["spec"].get("nodeName") or (current.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            period = 0
        if period < 0:
            period = 1
        if period == 0 and not meta.get("finalizers"):
            return None

        def terminate(pod: dict) -> None:
            pod["metadata"]["deletionTimestamp"] = rfc3339(_utc(self.store.clock.time() + period))
            pod["metadata"]["deletionGracePeriodSeconds"] = period
        return self.store.mutate(resource, namespace, name, terminate, exempt_quota=True)

    # --- helpers -------------------------------------------------------------------
    def _now(self) -> str:
        return rfc3339(self.store.clock.now())

    def _existing(self, resource: Resource, namespace: str | None, name: str) -> dict:
        current = self.store.get_resource(resource, namespace, name)
        if current is None:
            raise _errors.not_found(resource, name)
        return current

    def _check_type(self, resource: Resource, obj: dict) -> None:
        kind, api_version = obj.get("kind"), obj.get("apiVersion")
        if kind and kind != resource.kind or api_version and api_version != resource.api_version:
            raise _errors.bad_request(
                f"the API version in the data ({api_version}) does not match the expected API version "
                f"({resource.api_version})" if api_version != resource.api_version else
                f"the kind in the data ({kind}) does not match the expected kind ({resource.kind})")

    def _check_namespace(self, resource: Resource, namespace: str, name: str) -> None:
        ns = self.store.get_resource(_NAMESPACES, None, namespace)
        if ns is None:
            raise _errors.namespace_not_found(namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise _errors.forbidden_in_terminating_namespace(resource, name, namespace)

    def _allocate_cluster_ip(self, service: dict) -> None:
        spec = service.setdefault("spec", {})
        if spec.get("type") == "ExternalName":
            spec.pop("clusterIP", None)
            return
        wanted = spec.get("clusterIP")
        if wanted == "None":
            spec["clusterIPs"] = ["None"]
            return
        used = {s["spec"].get("clusterIP") for s in self.store.list_resource(_SERVICES)}
        net = self.config.service_network
        if wanted:
            if wanted in used:
                raise _admission.Invalid("Service", service["metadata"].get("name", ""), [{
                    "reason": "FieldValueInvalid", "field": "spec.clusterIPs",
                    "message": f"Invalid value: []string{{\"{wanted}\"}}: failed to allocate IP {wanted}: "
                               "provided IP is already allocated"}])
            spec["clusterIPs"] = [wanted]
            return
        # The allocator picks at random; here, a seeded pick from the service's identity,
        # probing past used and reserved addresses (network, .1 kubernetes, .10 DNS, broadcast).
        reserved = {self.config.kubernetes_service_ip, self.config.cluster_dns_ip}
        size = net.num_addresses - 2
        start = _naming.spread(self.config.seed, "svc", service["metadata"].get("namespace"),
                               service["metadata"].get("name")) % size
        for step in range(size):
            ip = str(net[1 + (start + step) % size])
            if ip not in used and ip not in reserved:
                spec["clusterIP"], spec["clusterIPs"] = ip, [ip]
                return
        raise _errors.ApiError(500, "InternalError",
                               "Internal error occurred: failed to allocate a serviceIP: range is full")


def parse_time(stamp: str) -> float:
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp()


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


def _as_decoded(resource: Resource, obj: dict, requester) -> None:
    """The object as kube-apiserver holds it once decoded into its Go type: every
    resource.Quantity in canonical form (`cpu: 0.5` is stored and read back as "500m").
    Every request's write comes here once its patch is applied (create, update, the status
    subresource, each patch type and server-side apply), before defaulting and validation.
    The sandbox's own writes (requester None: its bootstrap objects, controllers copying a
    stored template, a scale's new replicas) hold values already stored or written canonical,
    and skipping them keeps the typed schema from being compiled while the sandbox starts."""
    if requester is not None:
        _schema.canonicalize_quantities(resource.kind, obj, resource.api_version)


def _require_object_meta(resource: Resource, obj: dict) -> None:
    """A patched object whose metadata is not an object fails to decode, as encoding/json
    words it (the typed decode after the patch, before anything is stored)."""
    meta = obj.get("metadata")
    if meta is not None and not isinstance(meta, dict):
        kind = resource.kind
        version = resource.api_version.rpartition("/")[2]
        jtype = _patch_errors._go_json_type(meta)
        raise _errors.bad_request(f'{kind} in version "{version}" cannot be handled as a {kind}: json: cannot '
                                  f"unmarshal {jtype} into Go struct field {kind}.metadata of type ObjectMeta")


def _undecodable_patch(patched, error: _errors.ApiError, patch_type: str = "", patch=None) -> Exception:
    """A patched object that does not decode: the patch handler's 422 on field `patch`, kind
    and name left empty (staging/.../endpoints/handlers/patch.go), so kubectl prints
    `The request is invalid: patch: Invalid value: ...`. The value is the patched object's
    JSON for merge and JSON patches (jsonPatcher), the patch map as Go's %+v prints it for
    strategic merge patches (smpPatcher: `map[spec:map[replicas:1e+30]]`); the decoder's
    words follow (the strategic path's converter words it its own way: not reproduced)."""
    if error.code != 400 or ": json: cannot unmarshal" not in error.message or patch_type == _patch.APPLY_PATCH:
        return error                       # server-side apply decodes the applied object itself: its 400 stands
    reason = error.message.split(": ", 1)[1]
    if patch_type == _patch.STRATEGIC_MERGE_PATCH and isinstance(patch, dict):
        text = _patch_errors._gofmt(patch, int64s=True)     # smpPatcher prints the patch map with %+v
    else:
        text = json.dumps(patched, separators=(",", ":"))
    return _admission.Invalid("", "", [{"reason": "FieldValueInvalid", "field": "patch",
                                        "message": f"Invalid value: {_goquote(text)}: {reason}"}], group="")


def scale_of(obj: dict) -> dict:
    """The autoscaling/v1 Scale of a Deployment, ReplicaSet, StatefulSet or ReplicationController."""
    status = obj.get("status") or {}
    # apps' scale subresource: LabelSelectorAsSelector(spec.selector).String(); a
    # ReplicationController's (pkg/registry/core/replicationcontroller/storage):
    # labels.SelectorFromSet(spec.selector).String().
    try:
        text = selector_string(obj["spec"].get("selector")) if obj.get("kind") != "ReplicationController" \
            else match_labels_selector(obj["spec"].get("selector"))
    except ValueError:
        text = ""
    meta = obj["metadata"]
    return {"kind": "Scale", "apiVersion": "autoscaling/v1",
            "metadata": {"name": meta["name"], "namespace": meta.get("namespace"), "uid": meta["uid"],
                         "resourceVersion": meta["resourceVersion"],
                         "creationTimestamp": meta["creationTimestamp"]},
            "spec": {"replicas": obj["spec"].get("replicas", 1)},
            "status": {"replicas": status.get("replicas", 0), "selector": text}}


def check_dry_run(values: list[str], method: str) -> bool:
    """Whether a write is a dry run. Anything but `All` is refused as the handlers' options
    validation does (apimachinery/pkg/apis/meta/v1/validation ValidateDryRun): a 422 on the
    request's options kind, e.g. `CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported
    value: ["Foo"]: supported values: "All"`."""
    if any(v != "All" for v in values):
        kind = {"POST": "CreateOptions", "PUT": "UpdateOptions", "PATCH": "PatchOptions",
                "DELETE": "DeleteOptions"}.get(method, "CreateOptions")
        # field.Error prints a list value as JSON in current apimachinery (older: Go's %#v,
        # []string{"Foo"}); live clusters answer `dryRun: Unsupported value: ["Foo"]`.
        rendered = json.dumps(values, separators=(",", ":"))
        raise _admission.Invalid(kind, "", [{"reason": "FieldValueNotSupported", "field": "dryRun",
                                             "message": f'Unsupported value: {rendered}: supported values: "All"'}],
                                 group="meta.k8s.io")
    return bool(values)


def check_patch_options(options: WriteOptions, patch_type: str) -> None:
    """apimachinery/pkg/apis/meta/v1/validation ValidatePatchOptions: an apply names its
    manager; only an apply may force; a manager fits in 128 bytes."""
    causes = []
    if patch_type != _patch.APPLY_PATCH:
        if options.force is not None:
            causes.append({"reason": "FieldValueForbidden", "field": "force",
                           "message": "Forbidden: may not be specified for non-apply patch"})
    elif not options.field_manager:
        causes.append({"reason": "FieldValueRequired", "field": "fieldManager",
                       "message": "Required value: is required for apply patch"})
    if len(options.field_manager.encode()) > _FIELD_MANAGER_MAX:
        causes.append({"reason": "FieldValueTooLong", "field": "fieldManager",
                       "message": f"Too long: may not be more than {_FIELD_MANAGER_MAX} bytes"})
    if causes:
        raise _admission.Invalid("PatchOptions", "", causes, group="meta.k8s.io")


def _decode(content_type: str, body: bytes):
    try:
        return _patch.decode_patch(content_type, body)
    except _patch.PatchError as e:
        raise _patch_error(e)


def _apply(kind: str, patch_type: str, live: dict | None, decoded) -> dict:
    try:
        return _patch.apply_patch(kind, patch_type, live, decoded)
    except _patch.PatchError as e:
        raise _patch_error(e)


def _patch_error(e) -> _errors.ApiError:
    code = e.code or {"BadRequest": 400, "Invalid": 422, "UnsupportedMediaType": 415,
                      "Conflict": 409}.get(e.reason, 500)
    return _errors.ApiError(code, e.reason or "InternalError", e.message)
