"""The pod printer (printPod): STATUS, READY, RESTARTS and the row's conditions."""
from __future__ import annotations

import datetime as dt

from ..objects import clone
from .durations import human_duration, parse_time
from .formats import age, meta

__all__ = ["print_pod"]


_POD_SUCCEEDED = [{"type": "Completed", "status": "True", "reason": "Succeeded",
                   "message": "The pod has completed successfully."}]
_POD_FAILED = [{"type": "Completed", "status": "True", "reason": "Failed",
                "message": "The pod failed."}]


def _later(a: dt.datetime | None, ts: str | None) -> dt.datetime | None:
    moment = parse_time(ts)
    if moment is None:
        return a
    return moment if a is None or a < moment else a


def _is_restartable_init(container: dict | None) -> bool:
    # Sidecars: init containers with restartPolicy Always (podutil.IsRestartableInitContainer).
    return bool(container) and container.get("restartPolicy") == "Always"


def _condition_true(conditions: list[dict], ctype: str) -> bool:
    for cond in conditions:
        if cond.get("type") == ctype:
            return cond.get("status") == "True"
    return False


def _pod_status_reason(pod: dict) -> tuple[str, int, int, int, dt.datetime | None]:
    """printPod's STATUS logic: (reason, ready, total, restarts, last restart time)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    conditions = status.get("conditions") or []
    restarts = 0
    sidecar_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: dt.datetime | None = None
    last_sidecar_restart: dt.datetime | None = None

    phase = status.get("phase") or ""
    reason = status.get("reason") or phase
    for cond in conditions:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"

    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))

    initializing = False
    n_init = len(spec.get("initContainers") or [])
    for i, cs in enumerate(status.get("initContainerStatuses") or []):
        restarts += int(cs.get("restartCount") or 0)
        last_term = (cs.get("lastState") or {}).get("terminated")
        if last_term:
            last_restart = _later(last_restart, last_term.get("finishedAt"))
        sidecar = _is_restartable_init(init_specs.get(cs.get("name")))
        if sidecar:
            sidecar_restarts += int(cs.get("restartCount") or 0)
            if last_term:
                last_sidecar_restart = _later(last_sidecar_restart, last_term.get("finishedAt"))
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and int(terminated.get("exitCode") or 0) == 0:
            continue
        if sidecar and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated:
            if not terminated.get("reason"):
                if terminated.get("signal"):
                    reason = f"Init:Signal:{terminated['signal']}"
                else:
                    reason = f"Init:ExitCode:{int(terminated.get('exitCode') or 0)}"
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{n_init}"
        initializing = True
        break

    if not initializing or _condition_true(conditions, "Initialized"):
        restarts = sidecar_restarts
        last_restart = last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += int(cs.get("restartCount") or 0)
            last_term = (cs.get("lastState") or {}).get("terminated")
            if last_term:
                last_restart = _later(last_restart, last_term.get("finishedAt"))
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                if terminated.get("signal"):
                    reason = f"Signal:{terminated['signal']}"
                else:
                    reason = f"ExitCode:{int(terminated.get('exitCode') or 0)}"
            elif cs.get("ready") and "running" in state:
                has_running = True
                ready += 1
        # A finished container next to a running one does not make the pod "Completed".
        if reason == "Completed" and has_running:
            reason = "Running" if _condition_true(conditions, "Ready") else "NotReady"

    deleting = bool(meta(pod).get("deletionTimestamp"))
    if deleting and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif deleting and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason, ready, total, restarts, last_restart


def print_pod(pod: dict, now: dt.datetime) -> tuple[list, list | None]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason, ready, total, restarts, last_restart = _pod_status_reason(pod)
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        since = human_duration((now - last_restart) / dt.timedelta(seconds=1))
        restarts_text = f"{restarts} ({since} ago)"

    pod_ips = status.get("podIPs") or []
    # Served objects may carry only podIP; the internal conversion fills podIPs from it.
    pod_ip = (pod_ips[0].get("ip") if pod_ips else status.get("podIP")) or "<none>"
    gates = spec.get("readinessGates") or []
    readiness = "<none>"
    if gates:
        conds = status.get("conditions") or []
        true_count = 0
        for gate in gates:
            for cond in conds:
                if cond.get("type") == gate.get("conditionType"):
                    true_count += cond.get("status") == "True"
                    break
        readiness = f"{true_count}/{len(gates)}"
    cells = [meta(pod).get("name", ""), f"{ready}/{total}", reason, restarts_text,
             age(pod, now), pod_ip, spec.get("nodeName") or "<none>",
             status.get("nominatedNodeName") or "<none>", readiness]
    phase = status.get("phase")
    conditions = {"Succeeded": _POD_SUCCEEDED, "Failed": _POD_FAILED}.get(phase)
    return cells, clone(conditions)

