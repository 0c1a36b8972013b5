"""`Lab`: the kubectl verbs a lesson uses, against whatever cluster `connect()` chose."""
from __future__ import annotations

import json
import time
from pathlib import Path

from . import _apply, _exec, _frames, _readiness, errors
from . import _kubectl_lines as _kubectl
from ._apply import default_manifests
from ._sandbox_extras import SandboxExtras
from ._transport import Transport
from .kube.labels import selector_string
from .kube.objects import without_managed_fields
from .kube.resolvconf import ResolvConf
from ._progress import Progress as _Progress
from ._progress import in_notebook as _in_notebook

LESSON_NAMESPACES = ("default", "test")
# What a workshop learner may read but never change: where cluster DNS lives.
READABLE_NAMESPACES = ("kube-system", "kube-public")


class Lab:
    """A connected cluster. Methods are kubectl's verbs; results are DataFrames or small records.

    >>> lab = labkit.connect()
    >>> lab.apply("manifests/")
    >>> lab.exec("client", "ping -c 3 web-svc")
    """

    lesson_namespaces = LESSON_NAMESPACES

    def __init__(self, api_client, *, backend: str, context: str | None = None,
                 namespace_prefix: str | None = None, show_kubectl: bool | None = None) -> None:
        self.api_client = api_client
        self.backend = backend
        self.context = context
        self.namespace_prefix = namespace_prefix
        self._transport = Transport(api_client)
        self.server = self._transport.server
        self._resources = _apply.Resources(self._transport)
        self.sandbox_extras = SandboxExtras(self._transport) if backend == "sandbox" else None
        # Print the kubectl command each call stands for (see _kubectl_lines): by default in a
        # notebook only, or as LABKIT_SHOW_KUBECTL says.
        self.show_kubectl = _kubectl.default_enabled() if show_kubectl is None else bool(show_kubectl)
        self._kubectl_depth, self._kubectl_echoing = 0, False
        self._cluster_domain: str | None = None

    def __repr__(self) -> str:
        prefix = f", namespace_prefix={self.namespace_prefix!r}" if self.namespace_prefix else ""
        return f"<Lab {self.backend} {self.server}{prefix}>"

    def close(self) -> None:
        self.api_client.close()

    # --- namespaces ------------------------------------------------------------------
    def ns(self, namespace: str = "default", *, read_only: bool = False) -> str:
        """The real name of a lesson namespace: `test` -> `alice-test` with prefix `alice`.

        Without a prefix every namespace is itself. With one, only the lesson namespaces
        (and their mapped names) are allowed: anything else raises NamespaceNotAllowed,
        except that reads (`get`) may look at the system namespaces (kube-system's DNS).
        """
        if not self.namespace_prefix:
            return namespace
        if read_only and namespace in READABLE_NAMESPACES:
            return namespace
        p = self.namespace_prefix
        if namespace in LESSON_NAMESPACES:
            return f"{p}-{namespace}"
        if namespace in (f"{p}-{n}" for n in LESSON_NAMESPACES):
            return namespace
        raise errors.NamespaceNotAllowed(
            f'namespace "{namespace}" is outside this workshop\'s namespaces '
            f"({', '.join(f'{p}-{n}' for n in LESSON_NAMESPACES)})")

    # --- apply / delete --------------------------------------------------------------
    @_kubectl.shows(_kubectl.apply)
    def apply(self, source, namespace: str | None = None, wait: bool = False, timeout: float = 60,
              progress: bool | None = None) -> _apply.ApplyResult:
        """Server-side apply of a file, folder (sorted *.yaml/*.yml), YAML text, dict or list.

        Like `kubectl apply --server-side --force-conflicts --field-manager=labkit`, but each
        object reports created/configured/unchanged as client-side `kubectl apply` does, and
        Namespaces are applied first whatever the file order.

        With `wait=True` it then waits, within `timeout` seconds for the whole call, until what
        it applied is ready: Pods Ready, Deployments rolled out (all replicas updated and
        available, as `kubectl rollout status` decides), Namespaces Active; other kinds need no
        wait. kubectl needs a separate `kubectl wait` or `rollout status` for this. On timeout
        it raises `errors.Timeout` naming each object that is not ready and why (e.g. a
        container waiting with ErrImagePull). `progress` shows a bar: by default only in a
        notebook (ipywidgets), True also as text, False never.

        >>> lab.apply("manifests/")
        pod/client created
        ...
        >>> lab.apply("manifests/nginx-deployment.yaml", wait=True)   # returns once rolled out
        """
        deadline = time.monotonic() + timeout
        objs = _apply.load(source)
        ns = self.ns(namespace) if namespace else None
        planned = _apply.prepare(self._resources, objs, ns, self.ns)
        result = _apply.ApplyResult()
        for res, body, obj_ns in planned:
            if obj_ns and self.namespace_prefix:
                self._ensure_namespace(obj_ns)
            result.append(_apply.apply_one(self._transport, res, body, obj_ns))
        if wait:
            self._wait_ready(planned, deadline, timeout, progress)
        return result

    def _wait_ready(self, planned, deadline: float, timeout: float, progress: bool | None) -> None:
        """Wait, in apply order, until each applied Pod, Deployment and Namespace is ready."""
        targets: list = []
        for res, body, ns in planned:
            target = (res, ns, body["metadata"]["name"])
            if res.plural in _readiness.CHECKED and target not in targets:
                targets.append(target)
        show = _in_notebook() if progress is None else progress
        bar = _Progress("ready: ", len(targets), unit="ready", text=progress is True) if show and targets else None
        for res, ns, name in targets:
            _kubectl.also(self, _kubectl.ready_wait(self, res.plural, name, ns, timeout))
        for done, (res, ns, name) in enumerate(targets):
            obj, reason = self._watch_until(res, ns, name, lambda o, p=res.plural: _readiness.not_ready(p, o),
                                            deadline)
            if reason is not None:
                if bar:
                    bar.fail()
                late = [(res, ns, name, obj, reason)] + [(r, n, m, *self._readiness_now(r, n, m))
                                                         for r, n, m in targets[done + 1:]]
                lines = [f"  {r.qualified}/{m}{f' in {n}' if n else ''}: {why}{self._pods_reason(r, o)}"
                         for r, n, m, o, why in late if why is not None]
                raise errors.Timeout(f"timed out after {timeout:g} s waiting for {len(lines)} of {len(targets)} "
                                     "applied objects to be ready:\n" + "\n".join(lines), reason="Timeout")
            if bar:
                bar.update(done + 1)
        if bar:
            bar.done()

    def _readiness_now(self, res, ns, name) -> tuple[dict | None, str | None]:
        try:
            obj = self._transport.request("GET", res.path(ns, name))
        except errors.NotFound:
            obj = None
        return obj, _readiness.not_ready(res.plural, obj)

    def _pods_reason(self, res, dep: dict | None) -> str:
        """For a Deployment that is not rolled out: why its first unready pod is not ready."""
        if res.plural != "deployments" or dep is None:
            return ""
        from .kube.labels import selector_string
        try:
            selector = selector_string((dep.get("spec") or {}).get("selector"))
            pods = self._transport.request("GET", f"/api/v1/namespaces/{dep['metadata']['namespace']}/pods",
                                           query={"labelSelector": selector}).get("items") or []
        except (ValueError, errors.LabkitError):
            return ""
        for pod in sorted(pods, key=lambda p: p["metadata"]["name"]):
            why = _readiness.not_ready("pods", pod)
            if why is not None:
                return f"; pod {pod['metadata']['name']}: {why}"
        return ""

    def _ensure_namespace(self, name: str) -> None:
        try:
            self._transport.request("GET", f"/api/v1/namespaces/{name}")
        except errors.NotFound:
            try:
                self._transport.request("POST", "/api/v1/namespaces", body={
                    "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
            except errors.AlreadyExists:
                pass

    @_kubectl.shows(_kubectl.delete)
    def delete(self, source_or_kind, name: str | None = None, namespace: str | None = None,
               wait: bool = True, timeout: float = 60, ignore_not_found: bool = False,
               cascade: str = "background") -> _apply.ApplyResult:
        """Delete objects: `delete("pod", "client")` or `delete("manifests/web-svc.yaml")`.

        `cascade` is kubectl's `--cascade`: "background" (its default: the object goes at
        once, its pods terminate after it), "foreground" (the object stays until its
        dependents are gone, so `wait` also waits for its pods) or "orphan". With `wait`
        returns once each object is gone. A missing object raises NotFound unless
        `ignore_not_found=True`.
        """
        policies = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}
        if cascade not in policies:
            raise ValueError(f'cascade must be "background", "foreground" or "orphan", not {cascade!r}')
        if name is not None:
            res = self._resources.lookup(source_or_kind)
            planned = [(res, {"metadata": {"name": name}}, self.ns(namespace or "default") if res.namespaced else None)]
        else:
            planned = _apply.prepare(self._resources, _apply.load(source_or_kind),
                                     self.ns(namespace) if namespace else None, self.ns)
            planned.reverse()                       # Namespaces last
            # The same object in two files (Namespace `test` is in client-pods.yaml and
            # namespace-test.yaml) is deleted once: a second DELETE of a terminating namespace
            # is a 409 Conflict on a real API server (registry/core/namespace/storage).
            seen: set = set()
            planned = [p for p in planned if not ((p[0].qualified, p[2], p[1]["metadata"]["name"]) in seen
                                                  or seen.add((p[0].qualified, p[2], p[1]["metadata"]["name"])))]
        result = _apply.ApplyResult()
        uids: dict[str, str | None] = {}
        for res, body, ns in planned:
            is_namespace = res.kind == "Namespace" and not res.group
            if is_namespace:
                self.ns(body["metadata"]["name"])   # refuses namespaces outside the mapping
            path = res.path(ns, body["metadata"]["name"])
            try:
                gone = self._transport.request("DELETE", path, body={"propagationPolicy": policies[cascade]})
                uids[path] = ((gone or {}).get("metadata") or {}).get("uid")
            except errors.NotFound:
                if ignore_not_found:
                    continue
                raise
            except errors.Conflict:
                if not is_namespace:                # already terminating: wait for it below
                    raise
            result.append(_apply.Applied(res.qualified, body["metadata"]["name"], ns, "deleted"))
        if wait:
            deadline = time.monotonic() + timeout
            for res, body, ns in planned:
                path = res.path(ns, body["metadata"]["name"])
                while True:
                    # Gone when the name is free or held by a new object (a replaced pod), as
                    # `kubectl delete --wait` decides by uid.
                    try:
                        current = self._transport.request("GET", path)
                    except errors.NotFound:
                        break
                    if uids.get(path) and current["metadata"].get("uid") != uids[path]:
                        break
                    if time.monotonic() > deadline:
                        raise errors.Timeout(f"{res.qualified}/{body['metadata']['name']} still exists after {timeout:g} s")
                    time.sleep(0.05)
        return result

    @_kubectl.shows(_kubectl.patch)
    def patch(self, kind: str, name: str, patch: dict | list, namespace: str = "default",
              type: str = "strategic") -> dict:
        """`kubectl patch KIND NAME --type=strategic|merge|json -p PATCH`; the patched object.

        Unlike `apply`, it changes only what the patch names and takes no field ownership.
        >>> lab.patch("service", "web-svc", {"spec": {"selector": {"app": "web"}}})
        """
        res = self._resources.lookup(kind)
        content = {"strategic": "application/strategic-merge-patch+json",
                   "merge": "application/merge-patch+json", "json": "application/json-patch+json"}[type]
        path = res.path(self.ns(namespace) if res.namespaced else None, name)
        return self._transport.request("PATCH", path, body=patch, content_type=content)

    def reset(self, manifests: str | Path | None = None, timeout: float = 60) -> _apply.ApplyResult:
        """Delete what the lessons create (the objects in manifests/, in this lab's namespaces,
        and the `test` namespace itself). Safe to run twice.

        A workshop learner may not delete their namespaces (manifests/workshop/): there the
        namespaces stay and only their content goes. Foreground deletion, so it returns once
        the Deployment's pods have terminated too."""
        source = manifests or default_manifests()
        try:
            return self.delete(source, wait=True, timeout=timeout, ignore_not_found=True, cascade="foreground")
        except errors.Forbidden:
            if not self.namespace_prefix:
                raise
        # Namespaces are deleted last: everything else is gone already; confirm it, keep them.
        kept = [d for d in _apply.load(source) if not (d.get("kind") == "Namespace" and d.get("apiVersion") == "v1")]
        return self.delete(kept, wait=True, timeout=timeout, ignore_not_found=True, cascade="foreground")

    # --- reading ---------------------------------------------------------------------
    def _list(self, res: _apply.Resource, namespace: str | None, name: str | None = None,
              selector: str | None = None) -> list[dict]:
        if name:
            return [self._transport.request("GET", res.path(namespace, name))]
        query = {"labelSelector": selector} if selector else None
        return self._transport.request("GET", res.path(namespace), query=query).get("items") or []

    @_kubectl.shows(_kubectl.get)
    def get(self, kind: str, name: str | None = None, namespace: str | None = "default",
            selector: str | None = None):
        """`kubectl get KIND [NAME] -o wide` as a DataFrame, columns as kubectl prints them.

        Computed from the objects (not server-side Tables), so it is the same on every cluster.
        Unlike kubectl, an empty list is an empty DataFrame, not "No resources found". A read
        RBAC refuses outside the lab's namespaces (nodes, kube-system for a workshop learner)
        prints why and returns an empty DataFrame whose `attrs["forbidden"]` is the reason.

        >>> lab.get("pods")[["NAME", "IP"]]
        """
        res = self._resources.lookup(kind)
        ns = self.ns(namespace, read_only=True) if (res.namespaced and namespace) else None
        try:
            items = self._list(res, ns, name, selector)
        except errors.Forbidden as e:
            if res.namespaced and ns not in READABLE_NAMESPACES:
                raise                          # the learner's own namespaces: a real problem
            # A workshop learner may not read cluster-wide objects (nodes): say so, go on.
            print(f"labkit: cannot read {res.plural}{f' in {ns}' if ns else ''}: {e.message} "
                  "(this account's RBAC does not allow it; ask the cluster's admin, or go on without it)")
            frame = _frames.frame(res.plural, [])
            frame.attrs["forbidden"] = e.message
            return frame
        return _frames.frame(res.plural, items)

    @_kubectl.shows(_kubectl.get_object)
    def get_object(self, kind: str, name: str, namespace: str = "default") -> dict:
        """The object itself as a dict (`kubectl get -o json`: without managedFields, as kubectl
        prints it unless `--show-managed-fields`)."""
        res = self._resources.lookup(kind)
        return without_managed_fields(self._transport.request(
            "GET", res.path(self.ns(namespace, read_only=True) if res.namespaced else None, name)))

    @_kubectl.shows(_kubectl.list_objects)
    def list_objects(self, kind: str, namespace: str | None = "default", selector: str | None = None) -> list[dict]:
        """The objects themselves as dicts (`kubectl get KIND -l SELECTOR -o json`'s items).
        `namespace=None` lists a cluster-scoped kind, or every namespace of a namespaced one."""
        res = self._resources.lookup(kind)
        ns = self.ns(namespace, read_only=True) if (res.namespaced and namespace) else None
        return [without_managed_fields(o) for o in self._list(res, ns, selector=selector)]

    def pods(self, namespace: str = "default", selector: str | None = None):
        """`kubectl get pods -o wide`: NAME READY STATUS RESTARTS AGE IP NODE."""
        return self.get("pods", namespace=namespace, selector=selector)

    def services(self, namespace: str = "default"):
        """`kubectl get services -o wide`: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE SELECTOR."""
        return self.get("services", namespace=namespace)

    def endpoints(self, namespace: str = "default"):
        """`kubectl get endpoints`: NAME ENDPOINTS AGE (ready addresses only)."""
        return self.get("endpoints", namespace=namespace)

    # --- exec / logs -----------------------------------------------------------------
    @_kubectl.shows(_kubectl.exec)
    def exec(self, pod: str, command: str | list[str], namespace: str = "default",
             container: str | None = None, timeout: float = 60) -> _exec.ExecResult:
        """Run a command in a pod (`kubectl exec POD -- ...`); returns stdout, stderr, exit_code.

        A string runs through `sh -c` (so pipes and loops work); a list runs as is. Unlike
        kubectl, a non-zero exit is not an error: check `.ok` or call `.check()`. A pod that
        is not running (not scheduled, still starting, or completed) raises
        `errors.PodNotRunning` with the server's reason and what to do, e.g. `lab.wait(...)`.

        >>> lab.exec("client", "ping -c 3 web-svc")
        """
        return _exec.run(self, pod, command, self.ns(namespace), container, timeout, asked_namespace=namespace)

    @_kubectl.shows(_kubectl.logs)
    def logs(self, pod: str, namespace: str = "default", tail: int | None = None,
             container: str | None = None, timestamps: bool = False) -> str:
        """`kubectl logs POD [--tail N] [--timestamps]` as text. Reading is allowed in the
        system namespaces too (a workshop learner may read CoreDNS's log)."""
        query = {}
        if tail is not None:
            query["tailLines"] = tail
        if container:
            query["container"] = container
        if timestamps:
            query["timestamps"] = "true"
        return self._transport.request(
            "GET", f"/api/v1/namespaces/{self.ns(namespace, read_only=True)}/pods/{pod}/log", query=query, raw=True)

    @_kubectl.shows(_kubectl.resolv_conf)
    def resolv_conf(self, pod: str, namespace: str = "default") -> ResolvConf:
        """The pod's /etc/resolv.conf (read with `cat` through exec), parsed."""
        return ResolvConf.parse(self.exec(pod, ["cat", "/etc/resolv.conf"], namespace).check().stdout)

    # --- scale / wait ----------------------------------------------------------------
    @_kubectl.shows(_kubectl.scale)
    def scale(self, deployment: str, replicas: int, namespace: str = "default", wait: bool = True,
              timeout: float = 60, progress: bool = False) -> dict:
        """`kubectl scale deployment NAME --replicas=N`, then (unlike kubectl) wait until the
        Deployment has N available replicas, the Endpoints of every Service selecting it
        list N ready addresses, and the pods a scale-down removes have finished terminating. Returns the Scale's spec and status (after the wait, when it waits).

        >>> lab.scale("nginx-deployment", 3)
        {'spec': {'replicas': 3}, 'status': {'replicas': 3, 'selector': 'app=web'}}
        """
        ns = self.ns(namespace)
        res = self._resources.lookup("deployments")
        scale = self._transport.request("PATCH", res.path(ns, deployment, "scale"),
                                        body={"spec": {"replicas": int(replicas)}},
                                        content_type="application/merge-patch+json")
        if wait:
            self._wait_scaled(res, ns, deployment, int(replicas), timeout, progress)
            scale = self._transport.request("GET", res.path(ns, deployment, "scale"))
        return {"spec": scale.get("spec") or {}, "status": scale.get("status") or {}}

    def _wait_scaled(self, res, ns, name, replicas, timeout, progress) -> None:
        bar = _Progress(f"{name}: ", replicas) if progress else None
        deadline = time.monotonic() + timeout
        while True:
            dep = self._transport.request("GET", res.path(ns, name))
            available = (dep.get("status") or {}).get("availableReplicas", 0) or 0
            labels = (dep["spec"]["template"].get("metadata") or {}).get("labels") or {}
            endpoints_ok = available == replicas and all(
                len(self.ready_endpoints(svc, ns)) == replicas for svc in self._services_selecting(ns, labels))
            # Pods a scale-down deleted stay, Terminating, for as long as they take to stop.
            settled = endpoints_ok and len(self._list(
                self._resources.lookup("pods"), ns, selector=selector_string(dep["spec"].get("selector")))) == replicas
            if bar:
                bar.update(available)
            if settled:
                if bar:
                    bar.done()
                return
            if time.monotonic() > deadline:
                raise errors.Timeout(f"deployment {ns}/{name}: {available}/{replicas} available after {timeout:g} s")
            time.sleep(0.05)

    def _services_selecting(self, ns: str, labels: dict) -> list[str]:
        """The Services whose selector matches pods with `labels` (none for selector-less ones)."""
        services = self._transport.request("GET", f"/api/v1/namespaces/{ns}/services").get("items") or []
        return [svc["metadata"]["name"] for svc in services
                if (sel := (svc.get("spec") or {}).get("selector")) and all(labels.get(k) == v for k, v in sel.items())]

    def ready_pods(self, namespace: str = "default", selector: str | None = None) -> list[dict]:
        """The pods `kubectl wait --for=condition=Ready` would pass (not terminating)."""
        return _readiness.ready_pods(self.list_objects("pods", namespace, selector))

    def ready_endpoints(self, service: str, namespace: str = "default") -> set[str]:
        """The ready addresses of a Service's Endpoints (`kubectl get endpoints`); empty when it has none."""
        try:
            return _readiness.ready_addresses(self.get_object("endpoints", service, namespace))
        except errors.NotFound:
            return set()

    @_kubectl.shows(_kubectl.wait)
    def wait(self, kind: str, name: str, condition: str | None = None, namespace: str = "default",
             timeout: float = 60) -> dict:
        """`kubectl wait KIND/NAME --for=condition=COND` (default Ready for pods, Available
        for deployments); returns the object. `condition="delete"` is `--for=delete`: wait
        until the object is gone (a pod finishes terminating), returns None. Lists, then
        watches from that version."""
        res = self._resources.lookup(kind)
        ns = self.ns(namespace) if res.namespaced else None
        condition = condition or ("Available" if res.kind == "Deployment" else "Ready")
        if condition == "delete":
            check = lambda o: None if o is None else "still there"      # noqa: E731
        else:
            check = lambda o: _readiness.condition_unmet(o, condition)  # noqa: E731
        obj, reason = self._watch_until(res, ns, name, check, time.monotonic() + timeout)
        if reason is not None:
            raise errors.Timeout(f"timed out waiting for the condition on {res.plural}/{name}")
        return obj

    @_kubectl.shows(_kubectl.rollout_status)
    def rollout_status(self, deployment: str, namespace: str = "default", timeout: float = 60) -> dict:
        """`kubectl rollout status deployment/NAME`: wait until the Deployment is rolled out (the
        controller saw its latest spec, every replica is updated and available, no old ones
        remain); returns it. Raises errors.Timeout with kubectl's waiting message."""
        res = self._resources.lookup("deployments")
        obj, reason = self._watch_until(res, self.ns(namespace), deployment,
                                        lambda o: _readiness.not_ready("deployments", o), time.monotonic() + timeout)
        if reason is not None:
            raise errors.Timeout(f"deployment {deployment!r}: {reason} (after {timeout:g} s)", reason="Timeout")
        return obj

    @_kubectl.shows(_kubectl.describe)
    def describe(self, kind: str, name: str, namespace: str = "default") -> None:
        """`kubectl describe KIND NAME`: runs the real kubectl (as `%kubectl` does) and prints
        what it prints; raises LabkitError when no kubectl is installed or it fails."""
        from . import _kubectl_cli
        res = self._resources.lookup(kind)
        args = ["describe", kind, name] + (["-n", self.ns(namespace, read_only=True)] if res.namespaced else [])
        if _kubectl_cli.kubectl_binary() is None:
            raise errors.LabkitError(_kubectl_cli.NO_KUBECTL)
        code = _kubectl_cli.run(args, self, timeout=60)
        if code:
            raise errors.LabkitError(f"kubectl describe {kind} {name} failed (exit code {code}): see its error above")

    def _watch_until(self, res, ns: str | None, name: str, check, deadline: float) -> tuple[dict | None, str | None]:
        """List one object, then watch it from that version, until `check(obj)` says None
        (ready) or the deadline passes; returns (last object seen, check's last answer)."""
        while True:
            listing = self._transport.request("GET", res.path(ns), query={"fieldSelector": f"metadata.name={name}"})
            items = listing.get("items") or []
            obj = items[0] if items else None
            reason = check(obj)
            if reason is None:
                return obj, None
            rv = listing["metadata"].get("resourceVersion")
            left = deadline - time.monotonic()
            if left <= 0:
                return obj, reason
            resp = self._transport.request("GET", res.path(ns), stream=True, timeout=left + 2, query={
                "fieldSelector": f"metadata.name={name}", "watch": "true", "resourceVersion": rv,
                "timeoutSeconds": max(1, int(left))})
            try:
                buf, relist = b"", False
                for chunk in resp.stream(4096):
                    buf += chunk
                    while b"\n" in buf and not relist:
                        line, buf = buf.split(b"\n", 1)
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        if event.get("type") == "ERROR":
                            relist = True             # expired: list again
                        elif event.get("type") in ("ADDED", "MODIFIED", "DELETED"):
                            obj = event["object"] if event["type"] != "DELETED" else None
                            if check(obj) is None:
                                return obj, None
                    if relist or time.monotonic() > deadline:
                        break
            except Exception as e:
                if isinstance(e, errors.LabkitError):
                    raise
                if time.monotonic() <= deadline:
                    raise errors.translate(e, self.server) from e
            finally:
                resp.release_conn()

    # --- node / cluster facts --------------------------------------------------------
    @_kubectl.shows(_kubectl.kubelet_config)
    def kubelet_config(self, node: str | None = None) -> dict:
        """The kubelet's configuration (`GET /api/v1/nodes/NODE/proxy/configz`), e.g.
        `clusterDNS` and `clusterDomain`. Default: the first node."""
        if node is None:
            nodes = self._transport.request("GET", "/api/v1/nodes").get("items") or []
            if not nodes:
                raise errors.NotFound("the cluster has no nodes")
            node = nodes[0]["metadata"]["name"]
        return self._transport.request("GET", f"/api/v1/nodes/{node}/proxy/configz")["kubeletconfig"]

    @property
    def cluster_domain(self) -> str:
        """The cluster's DNS domain (`cluster.local` on most clusters): the kubelet's
        `clusterDomain`, else the zone the Corefile's kubernetes plugin serves (a learner
        without node access may still read kube-system), else kubeadm's default."""
        if self._cluster_domain is None:
            with _kubectl.quiet(self):
                from ._doctor import cluster_facts
                self._cluster_domain = cluster_facts(self, {}, None)[0] or DEFAULT_CLUSTER_DOMAIN
        return self._cluster_domain

    def doctor(self, quiet: bool = False) -> dict:
        """Backend, server, version, cluster domain and DNS IP, DNS health, node count, and
        whether the course's images run here (a real cluster must be able to pull them).

        An account without cluster-wide read (a workshop learner's) gets what it may read:
        each refused read (403) is named under `not_readable` with the API server's reason,
        and the rest of the report goes on."""
        from . import _doctor
        with _kubectl.quiet(self):
            report = _doctor.report(self)
        if not quiet:
            print(_doctor.text(report))
        return report

# kubeadm's default (ClusterConfiguration networking.dnsDomain), which most clusters keep.
DEFAULT_CLUSTER_DOMAIN = "cluster.local"


