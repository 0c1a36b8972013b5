"""Break the lab on purpose, then check the fix: the failures of the Kubernetes docs'
"Debugging DNS Resolution" and "Debug Services" pages, one call each.

Every scenario goes through the Kubernetes API only (`Lab.apply`, `patch`, `scale`,
`delete`, `exec`), so it breaks a real cluster the same way as the sandbox. Those that
touch `kube-system` (CoreDNS's Deployment or Corefile) are instructor-only: refused under
a workshop prefix (`LABKIT_NAMESPACE_PREFIX`), where the cluster DNS is shared.

>>> s = labkit.scenarios.get("selector-typo")
>>> s.start(lab)                 # breaks the lab; s.symptom says what to look at
>>> s.check(lab)                 # False (with what is still wrong) until the fix
>>> s.reset(lab)                 # puts everything back, fixed or not
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import clusterdns, errors
from . import _kubectl_lines
from ._kubectl_lines import quiet

MANIFESTS = Path(__file__).resolve().parent.parent / "manifests"
# Where a scenario keeps what it changed, so reset() works from a fresh kernel too.
ORIGINAL = "labkit.io/before-scenario"


@dataclass
class Check:
    """The verdict of `Scenario.check`: truthy when healthy; `problems` says what is not."""
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return not self.problems

    def __repr__(self) -> str:
        if not self.problems:
            return "healthy: the lab works again"
        return "still broken:\n" + "\n".join(f"  - {p}" for p in self.problems)

    _repr_pretty_ = lambda self, p, cycle: p.text(repr(self))    # noqa: E731  (IPython)


@dataclass
class Scenario:
    name: str
    title: str
    level: int                      # 1 (a first look) .. 5 (no hints in lesson 07)
    symptom: str                    # what the learner can observe
    observe: tuple[str, str]        # (pod, command) that shows the symptom; pod "coredns": its log
    hints: tuple[str, ...]
    cause: str
    fix: str
    breaks: Callable = field(repr=False)
    healthy: Callable = field(repr=False)      # lab -> list of problems (empty when healthy)
    restores: Callable = field(repr=False)
    instructor_only: bool = False

    def allowed(self, lab) -> bool:
        """Whether this lab may run the scenario (instructor-only ones not in a workshop)."""
        return not (self.instructor_only and lab.namespace_prefix)

    def _refuse(self, lab) -> None:
        if not self.allowed(lab):
            raise errors.NamespaceNotAllowed(
                f"scenario {self.name!r} changes kube-system, which the instructor shares with "
                f"every learner of this workshop (prefix {lab.namespace_prefix!r}): run it on your "
                "own cluster or the sandbox")

    # The scenarios' own calls print no kubectl lines: they stand for no command a learner types.
    def start(self, lab) -> "Scenario":
        """Break the lab; returns once the symptom can be observed."""
        self._refuse(lab)
        with quiet(lab):
            self.breaks(lab)
        return self

    def look(self, lab) -> str:
        """Run the observation (`observe`) and return what it shows, as a terminal would:
        the command, its output, and its exit code when not 0."""
        with quiet(lab):
            return self._look(lab)

    def _look(self, lab) -> str:
        pod, command = self.observe
        if pod == "coredns":
            lab.exec("client", ["getent", "hosts", "web-svc"])        # something to log
            name = clusterdns._coredns_pods(lab)[0]
            text = lab.logs(name, "kube-system", tail=int(command))
            return "\n".join(_kubectl_lines.logs(lab, name, "kube-system", tail=int(command))) + "\n" + text
        result = lab.exec(pod, command)
        code = f"(exit code {result.exit_code})\n" if result.exit_code else ""
        typed = "\n".join(_kubectl_lines.exec(lab, pod, command))
        return f"{typed}\n{result.stdout}{result.stderr}{code}"

    def check(self, lab) -> Check:
        """Healthy again? Looks at the cluster through the API and from inside the pods."""
        with quiet(lab):
            return Check(self.healthy(lab))

    def wait_healthy(self, lab, timeout: float = 90.0) -> Check:
        """check() until healthy or `timeout` seconds: after a fix the cluster DNS may still
        serve a cached NXDOMAIN for up to its cache TTL (30 s in kubeadm's Corefile)."""
        deadline = time.monotonic() + timeout
        while True:
            verdict = self.check(lab)
            if verdict or time.monotonic() > deadline:
                return verdict
            if lab.sandbox_extras:
                # A check made while the fix was still rolling out left a negative answer in
                # the cache; on the sandbox it is forgotten rather than waited out.
                lab.sandbox_extras.clear_dns_cache()
            time.sleep(0.2)

    def reset(self, lab) -> None:
        """Undo the scenario (and the usual fixes), whether or not it was fixed."""
        self._refuse(lab)
        with quiet(lab):
            self.restores(lab)

    def hint(self, n: int = 1) -> str:
        return self.hints[min(n, len(self.hints)) - 1] if self.hints else "no hints for this one"


# -- helpers: waiting on what the API shows, and looking from a pod --------------------------

def _until(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise errors.Timeout(f"{what} did not happen within {timeout:g} s")
        time.sleep(0.05)


def _ready_addresses(lab, service: str, namespace: str = "default") -> list[str]:
    try:
        ep = lab.get_object("endpoints", service, namespace)
    except errors.NotFound:
        return []
    return [a["ip"] for s in ep.get("subsets") or [] for a in s.get("addresses") or []]


def _resolves(lab, name: str, pod: str = "client", namespace: str = "default") -> str | None:
    """None when `getent hosts NAME` works in the pod, else what went wrong."""
    result = lab.exec(pod, ["getent", "hosts", name], namespace)
    if result.exit_code == 0:
        return None
    return f"`getent hosts {name}` in pod {pod} exits {result.exit_code} (the name does not resolve)"


def _apply_manifest(lab, filename: str) -> None:
    lab.apply(MANIFESTS / filename)


def _exists(lab, kind: str, name: str, namespace: str = "default") -> bool:
    try:
        lab.get_object(kind, name, namespace)
        return True
    except errors.NotFound:
        return False


def _annotation(lab, kind: str, name: str, namespace: str) -> str | None:
    return ((lab.get_object(kind, name, namespace).get("metadata") or {}).get("annotations") or {}).get(ORIGINAL)


# -- 1. a Service selector with a typo ---------------------------------------------------------

def _selector_break(lab) -> None:
    lab.patch("service", "web-svc", {"spec": {"selector": {"app": "wbe"}}})
    _until(lambda: not _ready_addresses(lab, "web-svc"), "web-svc losing its endpoints")


def _selector_healthy(lab) -> list[str]:
    problems = []
    if not _ready_addresses(lab, "web-svc"):
        selector = lab.get_object("service", "web-svc")["spec"].get("selector")
        problems.append(f"service web-svc has no endpoints (its selector {selector} matches no ready pod)")
    problem = _resolves(lab, "web-svc")
    return problems + ([problem] if problem else [])


def _selector_restore(lab) -> None:
    if not _exists(lab, "service", "web-svc"):
        return
    lab.patch("service", "web-svc", [{"op": "replace", "path": "/spec/selector", "value": {"app": "web"}}],
              type="json")
    _until(lambda: _ready_addresses(lab, "web-svc"), "web-svc getting its endpoints back")


# -- 2. a wrong targetPort ---------------------------------------------------------------------

def _port_break(lab) -> None:
    lab.patch("service", "web-clusterip", {"spec": {"ports": [{"port": 80, "targetPort": 8080}]}})
    _until(lambda: _endpoint_ports(lab, "web-clusterip") == {8080}, "web-clusterip's endpoints moving to 8080")


def _endpoint_ports(lab, service: str) -> set[int]:
    ep = lab.get_object("endpoints", service)
    return {p.get("port") for s in ep.get("subsets") or [] for p in s.get("ports") or []}


def _port_healthy(lab) -> list[str]:
    result = lab.exec("client", "curl -sS -o /dev/null -w '%{http_code}' --max-time 5 http://web-clusterip/")
    if result.exit_code == 0 and result.stdout.strip() == "200":
        return []
    return [f"`curl http://web-clusterip/` from client fails: {result.stderr.strip() or result.stdout.strip()}"]


def _port_restore(lab) -> None:
    if not _exists(lab, "service", "web-clusterip"):
        return
    lab.patch("service", "web-clusterip", {"spec": {"ports": [{"port": 80, "targetPort": "http"}]}})


# -- 3. a readiness probe that never passes --------------------------------------------------

_API = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: default, labels: {app: api}}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - name: hello
          image: nginxdemos/hello:plain-text
          ports: [{name: http, containerPort: 80}]
          readinessProbe:
            httpGet: {path: /, port: 8080}
            periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: default}
spec:
  clusterIP: None
  selector: {app: api}
  ports: [{name: http, port: 80, targetPort: http}]
"""


def _api_pods(lab) -> list[dict]:
    return [p for p in lab.list_objects("pods", selector="app=api")
            if (p.get("status") or {}).get("phase") == "Running" and not p["metadata"].get("deletionTimestamp")]


def _readiness_break(lab) -> None:
    lab.apply(_API)
    _until(lambda: _api_pods(lab), "the api pod starting")


def _readiness_healthy(lab) -> list[str]:
    problems = []
    try:
        dep = lab.get_object("deployment", "api")
    except errors.NotFound:
        return ["deployment api is gone: the scenario's app must stay (fix it, do not delete it)"]
    status = dep.get("status") or {}
    if (status.get("readyReplicas") or 0) < (dep["spec"].get("replicas") or 0) or not _ready_addresses(lab, "api"):
        problems.append(f"deployment api has {status.get('readyReplicas') or 0}/{dep['spec'].get('replicas')} "
                        "ready pods: the service api has no ready endpoints")
    problem = _resolves(lab, "api")
    return problems + ([problem] if problem else [])


def _readiness_restore(lab) -> None:
    lab.delete(_API, ignore_not_found=True)


# -- 4. a default-deny egress NetworkPolicy ----------------------------------------------------

_DENY = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny-egress, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Egress]
"""


def _deny_break(lab) -> None:
    lab.apply(_DENY)


def _deny_healthy(lab) -> list[str]:
    problem = _resolves(lab, "web-svc")
    return [problem + ": is egress to the CoreDNS pods on UDP and TCP 53 allowed?"] if problem else []


def _deny_restore(lab) -> None:
    for policy in lab.list_objects("networkpolicies"):
        lab.delete("networkpolicy", policy["metadata"]["name"], ignore_not_found=True)


# -- 5. a pod on the node's resolver (dnsPolicy: Default) ------------------------------------

_LEGACY = """
apiVersion: v1
kind: Pod
metadata: {name: legacy, namespace: default, labels: {role: client}}
spec:
  dnsPolicy: Default
  terminationGracePeriodSeconds: 0       # sleep ignores SIGTERM: delete at once
  containers:
    - name: legacy
      image: centos:7
      command: ["sleep", "infinity"]
"""


def _legacy_break(lab) -> None:
    lab.apply(_LEGACY, wait=True)


def _legacy_healthy(lab) -> list[str]:
    try:
        pod = lab.get_object("pod", "legacy")
    except errors.NotFound:
        return ["pod legacy is gone: recreate it (the app needs it) with a policy that uses the cluster DNS"]
    if pod["spec"].get("dnsPolicy") not in ("ClusterFirst", None):
        return [f"pod legacy has dnsPolicy {pod['spec'].get('dnsPolicy')}: it asks the node's resolver, "
                "which knows nothing of cluster.local"]
    if (pod.get("status") or {}).get("phase") != "Running":
        return ["pod legacy is not running yet"]
    problem = _resolves(lab, "web-svc", pod="legacy")
    return [problem] if problem else []


def _legacy_restore(lab) -> None:
    lab.delete("pod", "legacy", ignore_not_found=True)


# -- 6. CoreDNS scaled to zero (instructor-only) -----------------------------------------------

def _coredns_break(lab) -> None:
    dep = lab.get_object("deployment", "coredns", "kube-system")
    lab.patch("deployment", "coredns", {"metadata": {"annotations": {
        ORIGINAL: str(dep["spec"].get("replicas") or 2)}}}, namespace="kube-system")
    lab.scale("coredns", 0, namespace="kube-system")
    _until(lambda: not _ready_addresses(lab, "kube-dns", "kube-system"), "kube-dns losing its endpoints")


def _coredns_healthy(lab) -> list[str]:
    problems = []
    if not _ready_addresses(lab, "kube-dns", "kube-system"):
        problems.append("service kube-system/kube-dns has no ready endpoints (no CoreDNS pod is ready)")
    problem = _resolves(lab, "kubernetes.default")
    return problems + ([problem] if problem else [])


def _coredns_restore(lab) -> None:
    saved = _annotation(lab, "deployment", "coredns", "kube-system")
    if saved is None:
        return                               # never broken by this scenario: leave it as it is
    replicas = int(saved)
    lab.patch("deployment", "coredns", {"metadata": {"annotations": {ORIGINAL: None}}}, namespace="kube-system")
    lab.scale("coredns", replicas, namespace="kube-system")
    _until(lambda: _ready_addresses(lab, "kube-dns", "kube-system"), "kube-dns getting its endpoints back")


# -- 7. a typo in the Corefile (instructor-only) -----------------------------------------------

def _reload_state(lab) -> list[str]:
    """Per CoreDNS pod, the last thing its reload plugin said: "ok" or the error line."""
    states = []
    for pod in clusterdns._coredns_pods(lab):
        verdict = "ok"
        for line in lab.logs(pod, "kube-system").splitlines():
            if "plugin/reload: Running configuration" in line:
                verdict = "ok"
            elif "plugin/reload:" in line and ("[ERROR]" in line or "[WARNING]" in line):
                verdict = line.strip()
        states.append(verdict)
    return states


def _corefile_break(lab) -> None:
    text = clusterdns.corefile(lab)
    lab.patch("configmap", "coredns", {"metadata": {"annotations": {ORIGINAL: text}}}, namespace="kube-system")
    broken = clusterdns.with_directive(text, "log").replace("    errors\n", "    eror\n", 1)
    clusterdns.write_corefile(lab, broken)
    _until(lambda: any(s != "ok" for s in _reload_state(lab)), "CoreDNS refusing the new Corefile", 180)


def _corefile_healthy(lab) -> list[str]:
    problems = [f"CoreDNS pod's last reload failed: {s}" for s in _reload_state(lab) if s != "ok"]
    used = clusterdns.directives(clusterdns.corefile(lab))
    for wanted in ("errors", "log"):
        if wanted not in used:
            problems.append(f"the Corefile has no `{wanted}` (the task: log every query, keep errors)")
    return problems


def _corefile_restore(lab) -> None:
    original = _annotation(lab, "configmap", "coredns", "kube-system")
    if original is not None:
        clusterdns.write_corefile(lab, original)
        lab.patch("configmap", "coredns", {"metadata": {"annotations": {ORIGINAL: None}}}, namespace="kube-system")


# -- the catalogue -----------------------------------------------------------------------------

SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario(
        "selector-typo", "A Service that selects nothing", 1,
        "`nslookup web-svc` answers NXDOMAIN although the web pod runs; curl cannot resolve it.",
        ("dnsutils", "nslookup web-svc"),
        ("A headless Service's name has records only for its ready endpoints: does web-svc have any?",
         "Compare the Service's selector (`kubectl describe svc web-svc`) with the pods' labels "
         "(`kubectl get pods --show-labels`)."),
        "The Service's selector has a typo (app=wbe): no pod matches, so no endpoints and no records.",
        "Set the selector back to app=web (`kubectl edit svc web-svc`).",
        _selector_break, _selector_healthy, _selector_restore),
    Scenario(
        "wrong-targetport", "A Service that forwards to the wrong port", 2,
        "web-clusterip resolves, but `curl web-clusterip` fails at once: the connection is refused (exit 7).",
        ("client", "curl -sS --max-time 5 http://web-clusterip/"),
        ("The name resolves, so DNS is fine: the failure is at the port. What does the connection reach?",
         "Compare the Endpoints' port (`kubectl get endpoints web-clusterip`) with the container's port."),
        "targetPort is 8080; the nginx container listens on 80, so each connection is refused.",
        "Set targetPort back to the container port (80, or its name `http`).",
        _port_break, _port_healthy, _port_restore),
    Scenario(
        "readiness", "A pod that never becomes ready", 3,
        "The api pod is Running but 0/1 READY; `nslookup api` answers NXDOMAIN.",
        ("dnsutils", "nslookup api"),
        ("Only ready pods are published in DNS and in Endpoints: `kubectl get endpoints api`.",
         "`kubectl describe pod -l app=api` shows why: look at the events."),
        "The readiness probe asks port 8080; the container serves port 80, so the probe fails forever.",
        "Point the probe at the served port (80 or `http`), e.g. `kubectl edit deployment api`.",
        _readiness_break, _readiness_healthy, _readiness_restore),
    Scenario(
        "deny-egress", "A NetworkPolicy in the way", 4,
        "`getent hosts web-svc` exits 2 and curl waits, then cannot resolve; the CoreDNS pods are fine.",
        ("client", "getent hosts web-svc; echo exit=$?"),
        ("CoreDNS is running and ready, yet nothing comes back: is something dropping the packets?",
         "`kubectl get networkpolicy`: a pod selected by an Egress policy may send only what a rule allows."),
        "A default-deny egress NetworkPolicy selects every pod of the namespace, DNS included.",
        "Add a policy allowing egress to the CoreDNS pods (k8s-app=kube-dns in kube-system) on UDP and TCP 53.",
        _deny_break, _deny_healthy, _deny_restore),
    Scenario(
        "dns-policy-default", "A pod that asks the wrong resolver", 5,
        "In pod legacy, `getent hosts web-svc` fails while the same name resolves in pod client.",
        ("legacy", "getent hosts web-svc.default.svc.cluster.local; echo exit=$?"),
        (),
        "dnsPolicy: Default gives the pod the node's resolv.conf: the node's resolver knows no cluster names.",
        "Recreate the pod with dnsPolicy ClusterFirst (the default); dnsPolicy cannot be changed in place.",
        _legacy_break, _legacy_healthy, _legacy_restore),
    Scenario(
        "coredns-down", "No CoreDNS pod", 5,
        "Every lookup fails: `nslookup kubernetes.default` prints `no servers could be reached`.",
        ("dnsutils", "nslookup kubernetes.default"),
        (),
        "The coredns Deployment was scaled to 0: kube-dns has no endpoints, so kube-proxy rejects queries.",
        "Scale it back (`kubectl -n kube-system scale deployment coredns --replicas=2`).",
        _coredns_break, _coredns_healthy, _coredns_restore, instructor_only=True),
    Scenario(
        "corefile-typo", "A Corefile edit that never took", 5,
        "Query logging was turned on, yet `kubectl logs -n kube-system -l k8s-app=kube-dns` shows no queries.",
        ("coredns", "4"),
        (),
        "The edit has a typo (`eror`): the reload plugin refuses the new Corefile and keeps the old one.",
        "Fix the directive (`errors`) in `kubectl -n kube-system edit configmap coredns`; watch the reload.",
        _corefile_break, _corefile_healthy, _corefile_restore, instructor_only=True),
]}


def get(name: str) -> Scenario:
    """One scenario by name (see `names()`)."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"no scenario {name!r}; there are: {', '.join(SCENARIOS)}") from None


def names() -> list[str]:
    return list(SCENARIOS)


def table(lab=None):
    """The catalogue as a DataFrame; with `lab`, whether each may run here."""
    import pandas as pd
    rows = [{"scenario": s.name, "title": s.title, "level": s.level, "instructor_only": s.instructor_only}
            | ({"runs_here": s.allowed(lab)} if lab is not None else {}) for s in SCENARIOS.values()]
    return pd.DataFrame(rows)


def summary():
    """Symptom -> cause -> fix for every scenario, as a DataFrame (lesson 07's closing table)."""
    import pandas as pd
    return pd.DataFrame([{"symptom": s.symptom, "cause": s.cause, "fix": s.fix} for s in SCENARIOS.values()],
                        index=pd.Index([s.name for s in SCENARIOS.values()], name="scenario"))


def reset_all(lab) -> None:
    """Reset every scenario this lab may run (safe when none was started)."""
    for s in SCENARIOS.values():
        if s.allowed(lab):
            s.reset(lab)
