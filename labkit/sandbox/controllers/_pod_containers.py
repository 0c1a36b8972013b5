"""The kubelet's pod worker for a started pod: each container's image pulled (or not), its
command run, its exit recorded, restarts under the pod's restartPolicy with the kubelet's
back-off, and the pod's phase and conditions derived from its containers.

Follows pkg/kubelet: kuberuntime_manager.go (computePodActions, doBackOff: the first restart
is at once, later ones wait 10 s doubling to 5 min), kuberuntime_container.go (a container's
command and args), images/image_manager.go (ErrImagePull, then ImagePullBackOff with its
back-off; InvalidImageName), kubelet_pods.go getPhase and status/generate.go (conditions).
Times are the sandbox clock's, so advancing it moves back-offs and `sleep N` along.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..apis import _naming
from .._clock import rfc3339
from ..runtime import Interrupt, StreamInput
from ._base import PODS
from ._prober import readiness_failure
from ._containers import (Backoff, ContainerLog, Plan, exits_on_sigterm, full_image, go_duration, plan,
                          pull_error, reference_problem)

IMAGE_PULL_BACKOFF_AFTER = 1.0     # ErrImagePull shows until the pod worker's next sync
# Commands running at once on their threads; past this a container waits in ContainerCreating
# (a thread each; the interpreter's turns (runtime._cpu) already share the CPU among them).
MAX_RUNNING_COMMANDS = 256
# kuberuntime_container.go minimumGracePeriodInSeconds: SIGKILL never comes sooner after SIGTERM.
MINIMUM_GRACE_SECONDS = 2


@dataclass
class Container:
    """One container as the kubelet tracks it between syncs."""
    uid: str
    plan: Plan
    state: str = "waiting"            # waiting, running or terminated
    reason: str = "ContainerCreating"
    message: str = ""
    started_at: str = ""
    terminated: dict | None = None    # this start's end
    last: dict | None = None          # the previous start's end (lastState)
    restarts: int = 0
    attempt: int = 0                  # which start a command's result belongs to
    finished: float = 0.0             # sandbox clock, for the back-off
    due: float | None = None          # when the next sync has work for it
    pull_error: str = ""
    backoff: Backoff = field(default_factory=Backoff)
    pull_backoff: Backoff = field(default_factory=Backoff)
    interrupt: Interrupt | None = None
    log: ContainerLog = field(default_factory=ContainerLog)
    previous: ContainerLog | None = None
    stop_at: float | None = None      # SIGTERM sent: when it ends (sandbox time; inf: it ignores TERM)


class PodContainers:
    def __init__(self, kubelet) -> None:
        self.kubelet = kubelet
        self.store, self.config, self.manager = kubelet.store, kubelet.config, kubelet.manager
        self._pods: dict[tuple, dict[str, Container]] = {}
        self._events: list[tuple] = []         # recorded once the status they explain is written
        self._commands = 0                     # command threads running now
        # Containers whose readiness probe fails: a pod's spec never changes, so the probe's
        # verdict at the start stands until the pod is replaced.
        self._unready: dict[tuple, dict[str, str]] = {}
        self._stopping: dict[tuple, float] = {}     # terminating pods: when SIGTERM was sent

    # --- what the kubelet and the API server ask ---------------------------------------
    def started(self, pod: dict) -> bool:
        tracked = self._pods.get(_key(pod))
        return bool(tracked) and next(iter(tracked.values())).uid == pod["metadata"]["uid"]

    def log(self, pod: dict, container: str, previous: bool = False) -> ContainerLog | None:
        """The container's log if the sandbox ran its command (None: it serves, or it is not
        tracked); `previous`: the log of the start before this one."""
        c = self._tracked(pod, container)
        if c is None:
            return None
        return c.previous if previous else (c.log if c.plan.kind in ("run", "attach", "exit", "sleep")
                                             or c.restarts else None)

    def attached(self, pod: dict, container: str) -> tuple[Interrupt, ContainerLog, int] | None:
        """An attach to a running container whose shell reads stdin: the session is its
        process; (its interrupt, its log, its start) or None."""
        c = self._tracked(pod, container)
        if c is None or c.state != "running" or c.plan.kind != "attach":
            return None
        return c.interrupt, c.log, c.attempt

    def process_ended(self, pod: dict, container: str, attempt: int, code: int) -> None:
        """The container's process (a command run, an attached shell) exited with code."""
        c = self._tracked(pod, container)
        if c is None or c.attempt != attempt or c.state != "running":
            return
        self._terminate(c, code)
        self.kubelet.mark(_key(pod))

    def kill(self, pod: dict) -> None:
        for c in (self._pods.get(_key(pod)) or {}).values():
            if c.interrupt is not None:
                c.interrupt.kill()

    def forget(self, pod: dict) -> None:
        tracked = self._pods.get(_key(pod))
        if tracked and next(iter(tracked.values())).uid == pod["metadata"].get("uid"):
            self.kill(pod)
            del self._pods[_key(pod)]
            self._unready.pop(_key(pod), None)
            self._stopping.pop(_key(pod), None)

    def stop(self, pod: dict, deadline: float) -> float | None:
        """killPod (pkg/kubelet/kuberuntime/kuberuntime_container.go killContainer): each
        running container gets SIGTERM at once (the Killing event) and is not ready from then;
        one whose PID 1 ignores TERM runs on until `deadline` (the pod's deletionTimestamp on
        the sandbox clock, never sooner than MINIMUM_GRACE_SECONDS after the TERM) and gets
        SIGKILL, exit 137. Seconds until the next container ends, or None once none runs and
        the pod's last status (a terminal phase) is written."""
        if not self.started(pod):
            return None
        key, now, mono = _key(pod), self.store.clock.time(), self.store.clock.monotonic()
        kill_at = max(deadline, self._stopping.setdefault(key, now) + MINIMUM_GRACE_SECONDS)
        nearest = kill_at
        for name, c in self._pods[key].items():
            if c.state != "running":
                continue
            if c.stop_at is None:
                self._event(pod, "Killing", f"Stopping container {name}")
                c.stop_at = now + self.config.pod_stop_seconds if exits_on_sigterm(c.plan) else float("inf")
            if now >= c.stop_at or c.plan.kind == "sleep" and c.due is not None and mono >= c.due:
                self._terminate(c, 0)
            elif now >= kill_at:
                if c.interrupt is not None:
                    c.interrupt.kill()
                self._terminate(c, 137)
            else:
                nearest = min(nearest, c.stop_at, now + c.due - mono if c.plan.kind == "sleep" and c.due else kill_at)
        written = self._write_status(pod, {})
        self._flush_events(written or pod)
        if any(c.state == "running" for c in self._pods[key].values()):
            return max(0.0, nearest - now)
        return None

    def _tracked(self, pod: dict, container: str) -> Container | None:
        c = (self._pods.get(_key(pod)) or {}).get(container)
        return c if c is not None and c.uid == pod["metadata"]["uid"] else None

    # --- the pod worker --------------------------------------------------------------------
    def start_pod(self, pod: dict, network: dict) -> None:
        """The pod's sandbox is up (`network`: its IPs and start time, written with the
        containers' first status): start every container."""
        self.kill(pod)
        uid = pod["metadata"]["uid"]
        self._pods[_key(pod)] = {c["name"]: Container(uid, plan(c)) for c in pod["spec"]["containers"]}
        for spec in pod["spec"]["containers"]:
            self._start(pod, spec)
        failing = {c["name"]: msg for c in pod["spec"]["containers"]
                   if (msg := readiness_failure(pod, c, network.get("podIP"))) is not None}
        self._unready[_key(pod)] = failing
        for message in failing.values():
            self._event(pod, "Unhealthy", f"Readiness probe failed: {message}", "Warning")
        self.sync(pod, network)

    def sync(self, pod: dict, network: dict | None = None) -> None:
        now = self.store.clock.monotonic()
        policy = pod["spec"].get("restartPolicy") or "Always"
        specs = {c["name"]: c for c in pod["spec"]["containers"]}
        for name, c in self._pods[_key(pod)].items():
            if c.due is not None and c.due > now:
                continue
            c.due = None
            if c.state == "running" and c.plan.kind == "sleep":
                self._terminate(c, 0)
            if c.state == "waiting" and c.reason == "ErrImagePull":
                self._image_pull_backoff(pod, specs[name], c)
            elif c.state == "waiting" and c.reason in ("ImagePullBackOff", "ContainerCreating"):
                self._start(pod, specs[name])
            elif (c.state == "terminated" or c.reason == "CrashLoopBackOff") and \
                    _restarts(policy, c.terminated["exitCode"]):
                self._restart(pod, specs[name], c, now)
        written = self._write_status(pod, network or {})
        self._flush_events(written or pod)
        dues = [c.due for c in self._pods[_key(pod)].values() if c.due is not None]
        if dues:
            self.manager.later(max(0.0, min(dues) - now), self.kubelet.name, _key(pod))

    def _start(self, pod: dict, spec: dict) -> None:
        """Pull the image, create and start the container (or say why not)."""
        c = self._pods[_key(pod)][spec["name"]]
        image, now = spec.get("image", ""), self.store.clock.monotonic()
        problem = reference_problem(image)
        if problem is not None:
            c.state, c.reason = "waiting", "InvalidImageName"
            c.message = (f'Failed to apply default image tag "{image}": couldn\'t parse image '
                         f'reference "{image}": {problem}')
            self._event(pod, "InspectFailed", c.message, "Warning")
            self._event(pod, "Failed", "Error: InvalidImageName", "Warning")
            return
        error = pull_error(image, full_image(image))
        if error is not None:
            self._event(pod, "Pulling", f'Pulling image "{image}"')
            self._event(pod, "Failed", f'Failed to pull image "{image}": {error}', "Warning")
            self._event(pod, "Failed", "Error: ErrImagePull", "Warning")
            c.pull_backoff.next(now)
            c.state, c.reason, c.message, c.pull_error = "waiting", "ErrImagePull", error, error
            c.due = now + IMAGE_PULL_BACKOFF_AFTER
            return
        if c.plan.kind == "run" and self._commands >= MAX_RUNNING_COMMANDS:
            c.state, c.reason, c.due = "waiting", "ContainerCreating", now + 1.0
            return
        self._event(pod, "Pulled", f'Container image "{image}" already present on machine')
        self._event(pod, "Created", f"Created container {spec['name']}")
        self._event(pod, "Started", f"Started container {spec['name']}")
        c.state, c.reason, c.message, c.terminated = "running", "", "", None
        c.started_at = rfc3339(self.store.clock.now())
        c.attempt += 1
        c.interrupt = Interrupt()
        if c.plan.kind == "sleep":
            c.due = now + c.plan.seconds
        elif c.plan.kind == "exit":
            self._terminate(c, 0)
        elif c.plan.kind == "run" and self.manager.runner is not None:
            self._run(pod, spec["name"], c)

    def _run(self, pod: dict, name: str, c: Container) -> None:
        """The command on a thread of its own (it blocks: DNS queries, sleeps), its output
        into the log as written, its exit back on the controllers' loop."""
        import threading
        runner, clock, log, attempt, interrupt = self.manager.runner, self.store.clock, c.log, c.attempt, c.interrupt
        stdin = StreamInput(0)
        stdin.close()
        self._commands += 1

        def write(_channel: int, text: str) -> None:
            log.write(clock.time(), text)

        def main() -> None:
            try:
                code = runner(pod, name, list(c.plan.argv), stdin=stdin, on_output=write,
                              interrupt=interrupt).exit_code
            except Exception:                   # noqa: BLE001 - a failed start is exit 128
                code = 128
            log.close(clock.time())
            self.manager.call_from_thread(self._command_ended, pod, name, attempt, code)

        threading.Thread(target=main, name="labkit-container", daemon=True).start()

    def _command_ended(self, pod: dict, name: str, attempt: int, code: int) -> None:
        self._commands -= 1
        self.process_ended(pod, name, attempt, code)

    def _terminate(self, c: Container, code: int) -> None:
        c.log.close(self.store.clock.time())
        c.state, c.finished, c.due = "terminated", self.store.clock.monotonic(), None
        c.terminated = {"exitCode": code, "reason": "Completed" if code == 0 else "Error",
                        "startedAt": c.started_at, "finishedAt": rfc3339(self.store.clock.now()),
                        "containerID": ""}

    def _restart(self, pod: dict, spec: dict, c: Container, now: float) -> None:
        if c.backoff.in_backoff_since(c.finished, now):
            key_pod = f"{pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})"
            self._event(pod, "BackOff", f"Back-off restarting failed container {spec['name']} in pod "
                                        f"{key_pod}", "Warning")
            c.last = c.terminated
            c.state, c.reason = "waiting", "CrashLoopBackOff"
            c.message = (f"back-off {go_duration(c.backoff.delay)} restarting failed "
                         f"container={spec['name']} pod={key_pod}")
            c.due = c.finished + c.backoff.delay
            return
        c.backoff.next(now)
        c.last = c.terminated
        c.previous, c.log = c.log, ContainerLog()
        c.restarts += 1
        self._start(pod, spec)

    def _image_pull_backoff(self, pod: dict, spec: dict, c: Container) -> None:
        image = spec.get("image", "")
        self._event(pod, "BackOff", f'Back-off pulling image "{image}"')
        self._event(pod, "Failed", "Error: ImagePullBackOff", "Warning")
        c.reason = "ImagePullBackOff"
        c.message = f'Back-off pulling image "{image}": ErrImagePull: {c.pull_error}'
        c.due = c.pull_backoff.updated + c.pull_backoff.delay

    def _event(self, pod: dict, reason: str, message: str, type_: str = "Normal") -> None:
        self._events.append((reason, message, type_))

    def _flush_events(self, pod: dict) -> None:
        events, self._events = self._events, []
        for reason, message, type_ in events:
            self.kubelet.record(pod, reason, message, "kubelet", type_)

    # --- the status ------------------------------------------------------------------------
    def _write_status(self, pod: dict, network: dict) -> dict | None:
        ns, name = _key(pod)
        tracked = self._pods[(ns, name)]
        seed = self.config.seed
        statuses = []
        for spec in pod["spec"]["containers"]:
            c, image = tracked[spec["name"]], spec.get("image", "")
            pulled = c.state != "waiting" or c.last is not None
            status = {"name": spec["name"], "image": full_image(image) if c.reason != "InvalidImageName" else image,
                      "imageID": (f"{full_image(image).rsplit(':', 1)[0]}@sha256:"
                                  f"{_naming.spread(0, 'img', image):016x}") if pulled else ""}
            if c.attempt:
                # The first start's ID is what the sandbox always gave; restarts get new ones.
                extra = (c.attempt - 1,) if c.attempt > 1 else ()
                status["containerID"] = (
                    f"containerd://{_naming.spread(seed, 'cid', ns, name, spec['name'], *extra):016x}"
                    f"{_naming.spread(seed, 'cid2', ns, name, spec['name'], *extra):016x}")
            ready = c.state == "running" and spec["name"] not in self._unready.get((ns, name), {}) \
                and not pod["metadata"].get("deletionTimestamp")
            status.update(ready=ready, started=c.state == "running",
                          restartCount=c.restarts, state={}, lastState={})
            if c.state == "running":
                status["state"] = {"running": {"startedAt": c.started_at}}
            elif c.state == "terminated":
                status["state"] = {"terminated": dict(c.terminated, containerID=status.get("containerID", ""))}
            else:
                status["state"] = {"waiting": {"reason": c.reason, **({"message": c.message} if c.message else {})}}
            if c.last is not None:
                status["lastState"] = {"terminated": dict(c.last, containerID=status.get("containerID", ""))}
            statuses.append(status)
        terminal = bool(pod["metadata"].get("deletionTimestamp")) and all(
            c.state != "running" for c in tracked.values())
        phase = _phase(pod, statuses, terminal)
        now = rfc3339(self.store.clock.now())

        def write(p: dict) -> None:
            st = p.setdefault("status", {})
            old = {c["type"]: c for c in st.get("conditions") or []}
            st["phase"] = phase
            st.update(network)
            st["conditions"] = _conditions(phase, statuses, old, now)
            st["containerStatuses"] = statuses
        current = pod.get("status") or {}
        if not network and current.get("phase") == phase and current.get("containerStatuses") == statuses:
            return None
        # The kubelet's status manager writes pods/status as `kubelet`.
        return self.kubelet.registry.mutate(PODS, ns, name, write, manager="kubelet", subresource="status")


def _key(pod: dict) -> tuple:
    return pod["metadata"].get("namespace"), pod["metadata"]["name"]


def _restarts(policy: str, code: int) -> bool:
    return policy == "Always" or (policy == "OnFailure" and code != 0)


def _phase(pod: dict, statuses: list[dict], terminal: bool = False) -> str:
    """kubelet_pods.go getPhase for a pod without init containers; `terminal`: the pod was
    deleted and its containers are stopped, so none restarts whatever the policy."""
    policy = pod["spec"].get("restartPolicy") or "Always"
    running = waiting = stopped = succeeded = 0
    for s in statuses:
        state = s["state"]
        if "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"]["exitCode"] == 0
        elif s.get("lastState", {}).get("terminated"):
            stopped += 1
        else:
            waiting += 1
    if waiting:
        return "Pending"
    if running:
        return "Running"
    if terminal and stopped:
        return "Succeeded" if stopped == succeeded else "Failed"
    if policy == "Always":
        return "Running"
    if policy == "OnFailure":
        return "Succeeded" if stopped == succeeded else "Running"
    return "Succeeded" if stopped == succeeded else "Failed"


def _conditions(phase: str, statuses: list[dict], old: dict, now: str) -> list[dict]:
    """status/generate.go: Ready and ContainersReady from the containers, PodCompleted once
    the pod is done; a condition keeps its transition time while its status holds."""
    unready = [s["name"] for s in statuses if not s["ready"]]
    if phase in ("Succeeded", "Failed"):
        ready = {"status": "False", "reason": "PodCompleted"}
    elif unready:
        ready = {"status": "False", "reason": "ContainersNotReady",
                 "message": f"containers with unready status: [{' '.join(unready)}]"}
    else:
        ready = {"status": "True"}
    done = {"status": "False" if phase in ("Succeeded", "Failed") else "True"}

    def cond(kind: str, fields: dict) -> dict:
        before = old.get(kind) or {}
        since = before.get("lastTransitionTime") if before.get("status") == fields["status"] else None
        return {"type": kind, "status": fields["status"], "lastProbeTime": None,
                "lastTransitionTime": since or now, **{k: v for k, v in fields.items() if k != "status"}}
    scheduled = old.get("PodScheduled") or {"type": "PodScheduled", "status": "True",
                                            "lastProbeTime": None, "lastTransitionTime": now}
    return [cond("PodReadyToStartContainers", done), cond("Initialized", {"status": "True"}),
            cond("Ready", ready), cond("ContainersReady", ready), scheduled]
