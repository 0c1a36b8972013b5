"""The controller manager: one asyncio task that reconciles each controller's dirty keys.

Like kube-controller-manager, the scheduler and the kubelet, the controllers only read and
write the store. Store events mark keys dirty (each controller decides which); the task
reconciles them until nothing is left, controller by controller in a fixed order and keys
in sorted order, so the same calls give the same results.
"""
from __future__ import annotations

import asyncio
import gc
import heapq
import inspect
import itertools
import logging
import threading
import time

from .._config import SandboxConfig
from ..storage._store import Event, Store
from ._base import EVENTS, PODS, Controller
from ._clusterroles import ClusterRoleAggregator
from ._deployment import DeploymentController
from ._endpoints import EndpointsController
from ._events import EventRecorder
from ._cronjob import CronJobController
from ._job import JobController
from ._kubelet import Kubelet
from ._garbagecollector import GarbageCollector
from ._mirroring import MirroringController
from ._namespaces import NamespaceController
from ._replicaset import ReplicaSetController
from ._replication import ReplicationManager
from ._daemonset import DaemonSetController
from ._nodestatus import NodeStatusController
from ._scheduler import Scheduler
from ._statefulset import StatefulSetController
from ._serviceaccounts import RootCAPublisher, ServiceAccountController

EVENT_SWEEP_SECONDS = 1.0
SLICE_SECONDS = 0.005      # the longest the controllers hold the loop between two pauses
EVENT_SWEEP_CHUNK = 200    # Event deletions between two turns of the loop
FREEZE_PODS = 500          # from this many pods, the collector is kept off the store's objects while busy
# This many store writes without a quiet second start a busy spell (a scale-out, a namespace's
# deletion): until a quiet second, the collector's youngest generation waits for
# BUSY_GC_THRESHOLD allocations rather than CPython's 700. Measured on a 1000-replica
# scale-out: the collections on the sandbox's thread took 0.6 s at 700 (two full passes
# among them), 0.3 s at 10000 (none).
BUSY_WRITES = 200
BUSY_GC_THRESHOLD = 10000
_busy_lock = threading.Lock()
_busy_managers: set = set()      # the Controllers in a busy spell (several sandboxes may share a process)
_saved_threshold: tuple | None = None


def _busy_spell(owner, busy: bool) -> None:
    """Raise the collector's first threshold while any sandbox of the process is busy; put
    back what it was once none is."""
    global _saved_threshold
    with _busy_lock:
        if busy and owner not in _busy_managers:
            if not _busy_managers:
                _saved_threshold = gc.get_threshold()
                gc.set_threshold(max(BUSY_GC_THRESHOLD, _saved_threshold[0]), *_saved_threshold[1:])
            _busy_managers.add(owner)
        elif not busy and owner in _busy_managers:
            _busy_managers.discard(owner)
            if not _busy_managers and _saved_threshold is not None:
                gc.set_threshold(*_saved_threshold)
                _saved_threshold = None


class Controllers:
    def __init__(self, store: Store, registry, config: SandboxConfig, *, root_ca: str = "") -> None:
        self.store, self.registry, self.config = store, registry, config
        self.events = EventRecorder(store, config)
        self.record, self.expire_events = self.events.record, self.events.expire_events
        self.namespace = NamespaceController(self)
        self.gc = GarbageCollector(self)
        self.deployment = DeploymentController(self)
        self.replicaset = ReplicaSetController(self)
        self.replication = ReplicationManager(self)
        self.cronjob = CronJobController(self)
        self.job = JobController(self)
        self.statefulset = StatefulSetController(self)
        self.daemonset = DaemonSetController(self)
        self.nodestatus = NodeStatusController(self)
        self.scheduler = Scheduler(self)
        self.kubelet = Kubelet(self)
        self.endpoints = EndpointsController(self)
        self.mirroring = MirroringController(self)
        self.serviceaccount = ServiceAccountController(self)
        self.root_ca = RootCAPublisher(self, root_ca)       # root_ca: the cluster CA's PEM
        self.clusterroles = ClusterRoleAggregator(self)
        # The order one pass reconciles in: what deletes first, then what creates, then what reports.
        self.order: list[Controller] = [self.namespace, self.gc, self.serviceaccount, self.root_ca,
                                        self.clusterroles, self.deployment, self.replicaset,
                                        self.replication,
                                        self.statefulset, self.daemonset, self.cronjob, self.job,
                                        self.scheduler, self.kubelet, self.nodestatus, self.endpoints,
                                        self.mirroring]
        self._every_kind = [c for c in self.order if c.every_kind]
        self._dirty: dict[str, set] = {c.name: set() for c in self.order}
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._closing = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._next_sweep = 0.0
        self._next_freeze, self._frozen = 0.0, False
        self._writes = 0            # store writes since the last quiet second
        self._slice_end = 0.0       # when the controllers' turn on the loop is up
        self._timers: list[tuple[float, int, str, object]] = []   # (due on the sandbox clock, ...)
        self._timer_seq = itertools.count()
        # How a container's command runs in its pod (Sandbox.run_in_pod); None: not run.
        self.runner = None
        store.add_listener(self._on_event)

    # --- wiring --------------------------------------------------------------------
    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        # Reconcile everything once: after a restart, state may lag behind specs.
        for resource, obj in self.store.all_objects():
            self._on_event(Event("ADDED", resource, obj, None, 0))
        self._task = self._loop.create_task(self._run())

    async def stop(self) -> None:
        self._closing = True
        self._wake.set()
        _busy_spell(self, False)
        if self._frozen:
            self._frozen = False
            gc.unfreeze()
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def idle(self) -> bool:
        return not any(self._dirty.values())

    def mark(self, controller: str, key) -> None:
        self._dirty[controller].add(key)
        self._wake.set()

    def later(self, seconds: float, controller: str, key) -> None:
        """Mark the key again after `seconds` of the sandbox clock (a kubelet's start delay,
        a grace period, a back-off): advancing the clock brings it nearer."""
        due = self.store.clock.monotonic() + seconds
        heapq.heappush(self._timers, (due, next(self._timer_seq), controller, key))

    def clock_moved(self) -> None:
        """The sandbox clock was advanced (from any thread): timers now due fire."""
        if self._loop and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    def call_from_thread(self, fn, *args) -> None:
        """fn(*args) on the controllers' loop (a container's command ended on its thread)."""
        if self._loop and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:            # closed meanwhile: the sandbox stopped
                pass

    def _fire_timers(self) -> float:
        """Mark the keys whose time has come; seconds until the next one (or a sweep)."""
        now = self.store.clock.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, controller, key = heapq.heappop(self._timers)
            self.mark(controller, key)
        return min(EVENT_SWEEP_SECONDS, self._timers[0][0] - now) if self._timers else EVENT_SWEEP_SECONDS

    def _on_event(self, event: Event) -> None:
        self._writes += 1
        if self._writes == BUSY_WRITES:
            _busy_spell(self, True)
        if event.resource.key == EVENTS.key:
            self.events.on_event(event)
            for controller in self._every_kind:
                controller.on_event(event)
            return
        for controller in self.order:
            controller.on_event(event)

    async def _run(self) -> None:
        while not self._closing:
            timeout = self._fire_timers()
            try:
                await asyncio.wait_for(self._wake.wait(), max(timeout, 0.001))
            except asyncio.TimeoutError:
                if timeout >= EVENT_SWEEP_SECONDS:     # a whole quiet second, not a timer due
                    self._thaw()
            if self._closing:       # wait_for before 3.12 can lose a cancel that meets a wake-up
                return
            self._wake.clear()
            self._slice_end = time.perf_counter() + SLICE_SECONDS
            self._fire_timers()
            if time.monotonic() >= self._next_sweep:
                self._next_sweep = time.monotonic() + EVENT_SWEEP_SECONDS
                try:
                    while self.events.expire_events(limit=EVENT_SWEEP_CHUNK):
                        await asyncio.sleep(0)      # a long sweep lets the API server answer
                except Exception as e:  # noqa: BLE001 - the sweep must not stop the controllers
                    self._record_failure("events", None, e)
            for _ in range(1000):
                if self.idle():
                    break
                for controller in self.order:
                    keys = sorted(self._dirty[controller.name], key=_sort_key)
                    self._dirty[controller.name].clear()
                    if keys:
                        controller.begin()        # state shared by one batch (node load, used IPs)
                    self._freeze()
                    for key in keys:
                        try:
                            steps = controller.reconcile(key)
                            if inspect.isgenerator(steps):      # a long reconcile yields between steps
                                for _ in steps:
                                    await self._pause()
                        except Exception as e:  # a controller error must not stop the others
                            self._record_failure(controller.name, key, e)
                        if time.perf_counter() >= self._slice_end:
                            await self._pause()
                await self._pause()

    async def _pause(self) -> None:
        """Give the loop back, so that the API server answers meanwhile; then a new slice.
        A request waits for the slice under way (SLICE_SECONDS, or one long key), not for a
        whole batch (the cluster's first pass at start-up, a scale-out's)."""
        await asyncio.sleep(0)
        self._slice_end = time.perf_counter() + SLICE_SECONDS

    # CPython's cyclic collector scans every tracked object on a full pass: with thousands of
    # pods that is most of a second in which the API server answers nothing. The store's
    # objects are acyclic JSON that reference counting frees, so while the controllers work
    # through a large cluster the objects that exist are put out of the collector's sight
    # (gc.freeze), at most once a second; once the cluster is small and idle again they are
    # handed back and collected (gc.unfreeze), so cyclic garbage does not outlive the spell.
    def _freeze(self) -> None:
        now = time.monotonic()
        if now >= self._next_freeze and self.store.count(PODS) >= FREEZE_PODS:
            self._next_freeze = now + 1.0
            gc.freeze()
            self._frozen = True

    def _thaw(self) -> None:
        self._writes = 0
        _busy_spell(self, False)
        # Only once the cluster is small again: a full collection over thousands of pods
        # would be the very pause the freezing avoids.
        if self._frozen and self.store.count(PODS) < FREEZE_PODS:
            self._frozen = False
            gc.unfreeze()
            gc.collect()

    def _record_failure(self, controller: str, key, error: Exception) -> None:
        logging.getLogger("labkit.sandbox").warning("%s controller failed on %s: %s", controller, key, error)


def _sort_key(key) -> tuple:
    return tuple(str(x) for x in (key if isinstance(key, tuple) else (key,)))
