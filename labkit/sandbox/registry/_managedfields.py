"""`metadata.managedFields`: who owns which field, as kube-apiserver's field manager keeps it
(k8s.io/apiserver/pkg/endpoints/handlers/fieldmanager and its internal/ chain:
stripmeta, managedfieldsupdater, buildmanagerinfo, capmanagers, skipnonapplied, over
sigs.k8s.io/structured-merge-diff merge/update.go).

`update` records what a create, update or non-apply patch changed (operation Update);
`apply` is server-side apply (operation Apply): merge, conflicts, then pruning of what the
manager stopped applying. Both work on plain JSON objects and return the new object with
its managedFields encoded.
"""
from __future__ import annotations

import json

from ...kube.objects import clone
from ..apis import _errors
from . import _fieldpath as fp
from ._patch import server_side_apply

APPLY, UPDATE = "Apply", "Update"
# capmanagers.go DefaultMaxUpdateManagers, and the bucket the oldest ones merge into.
MAX_UPDATE_MANAGERS = 10
ANCIENT = "ancient-changes"
# stripmeta.go: never owned by anyone.
_STRIPPED = {(), ("f:apiVersion",), ("f:kind",), ("f:metadata",)} | {
    ("f:metadata", "f:" + f) for f in ("name", "namespace", "creationTimestamp", "selfLink", "uid",
                                       "clusterName", "generation", "managedFields", "resourceVersion")}
# What a Go zero value of a kind holds before a create (handlers/create.go compares the new
# object with scope.Creater.New()): structs are never omitted, so `spec` is there already
# and only what is new under it counts as added.
_TEMPLATE = {"metadata": {}, "spec": {"containers": None}}
_ZERO = {"Pod": {"spec": {"containers": None}, "status": {}},
         "Deployment": {"spec": {"selector": None, "template": _TEMPLATE, "strategy": {}}, "status": {}},
         "ReplicaSet": {"spec": {"selector": None, "template": _TEMPLATE}, "status": {}},
         "StatefulSet": {"spec": {"selector": None, "template": _TEMPLATE, "updateStrategy": {}}, "status": {}},
         "DaemonSet": {"spec": {"selector": None, "template": _TEMPLATE, "updateStrategy": {}}, "status": {}},
         "Job": {"spec": {"template": _TEMPLATE}, "status": {}},
         "Service": {"spec": {}, "status": {"loadBalancer": {}}}}
# What admission plugins (ServiceAccount, Priority, DefaultTolerationSeconds) and the
# strategy's PrepareForCreate fill in: they run after the field manager (handlers/create.go),
# so a creator owns these only when it sent them.
_TOKEN_MOUNT = 'k:{"mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}'
_SERVER_FILLED = {"Pod": {("f:spec", "f:" + f) for f in ("priority", "preemptionPolicy", "serviceAccount",
                                                           "serviceAccountName", "tolerations")},
                  "Service": {("f:spec", "f:" + f) for f in ("clusterIP", "clusterIPs", "ipFamilies",
                                                               "ipFamilyPolicy")}}


def _server_filled(kind: str, path: tuple) -> bool:
    if len(path) < 2 or path[0] != "f:spec":        # all of them are under spec
        return False
    if path[:2] in _SERVER_FILLED.get(kind, ()):
        return True
    if kind != "Pod":
        return False
    return (path[:2] == ("f:spec", "f:volumes")
            and (len(path) == 2 or path[2].startswith('k:{"name":"kube-api-access-'))) \
        or path[-1] == "f:volumeMounts" or _TOKEN_MOUNT in path


class Manager:
    """One managedFields entry; its field set is decoded on first use (a write that touches
    none of an entry's fields keeps the entry as it was, undecoded)."""
    __slots__ = ("name", "operation", "api_version", "subresource", "time", "_paths", "raw", "_decoded")

    def __init__(self, name, operation, api_version, subresource, time, paths, raw=None):
        self.name, self.operation, self.api_version = name, operation, api_version
        self.subresource, self.time, self._paths = subresource, time, paths
        self.raw, self._decoded = raw, paths        # the entry it was read from, kept if unchanged

    @property
    def paths(self) -> set:
        if self._paths is None:
            self._paths = self._decoded = fp.decode(self.raw.get("fieldsV1"))
        return self._paths

    @paths.setter
    def paths(self, value: set) -> None:
        self._paths = value

    def owns_any(self, paths: set) -> bool:
        """Whether the entry holds any of `paths`, read from its trie when not decoded."""
        if self._paths is not None or len(paths) > 64:
            return not self.paths.isdisjoint(paths)
        trie = self.raw.get("fieldsV1")
        if not isinstance(trie, dict):
            return False
        # A status write touches only status: an entry with no status field answers at once.
        return any(p and p[0] in trie and fp.has(trie, p) for p in paths)

    @property
    def identity(self) -> tuple:
        # buildmanagerinfo.go: an applier is the same whatever apiVersion it applied.
        return (self.name, self.operation, self.subresource,
                "" if self.operation == APPLY else self.api_version)

    def describe(self) -> str:
        """conflict.go printManager: `"kubectl-edit" using v1`, `"alice"`."""
        text = json.dumps(self.name)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text

    def entry(self) -> dict:
        raw = self.raw
        same = raw is not None and (self._paths is self._decoded or self._paths == self._decoded)
        if same and raw.get("time") == self.time and raw.get("apiVersion") == self.api_version:
            return raw
        out = {"manager": self.name, "operation": self.operation, "apiVersion": self.api_version}
        if self.time:
            out["time"] = self.time
        out["fieldsType"] = "FieldsV1"
        out["fieldsV1"] = raw["fieldsV1"] if same else fp.encode(self.paths)
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def decode(entries) -> list[Manager]:
    """managedFields as Managers; entries that do not decode are dropped."""
    out = []
    for e in entries or ():
        if isinstance(e, dict) and e.get("operation") in (APPLY, UPDATE) and e.get("fieldsType") == "FieldsV1":
            out.append(Manager(e.get("manager", ""), e["operation"], e.get("apiVersion", ""),
                               e.get("subresource", ""), e.get("time"), None, e))
    return out


def _is_reset(sent) -> bool:
    """fieldmanager.go isResetManagedFields: `[]` or `[{}]` sent clears the entries."""
    return isinstance(sent, list) and (not sent or (len(sent) == 1 and sent[0] == {}))


def _encode(obj: dict, managers: list[Manager]) -> dict:
    managers = _cap([m for m in managers if (m.raw.get("fieldsV1") if m._paths is None else m.paths)])
    # managedfields.go sortEncodedManagedFields: operation, time, manager, apiVersion, subresource.
    managers.sort(key=lambda m: (m.operation, m.time or "", m.name, m.api_version, m.subresource))
    meta = obj.setdefault("metadata", {})
    if not isinstance(meta, dict):         # refused later, as decoding the object refuses it
        return obj
    if managers:
        meta["managedFields"] = [m.entry() for m in managers]
    else:
        meta.pop("managedFields", None)
    return obj


def _cap(managers: list[Manager]) -> list[Manager]:
    """capmanagers.go: past ten Update entries, the oldest merge into `ancient-changes`
    (one per apiVersion), taking the time of the newest merged."""
    updaters = sorted((m for m in managers if m.operation == UPDATE), key=lambda m: (m.time or "", m.name))
    if len(updaters) <= MAX_UPDATE_MANAGERS:
        return managers
    out = list(managers)
    first: dict[str, Manager] = {}
    count = len(updaters)
    for m in updaters:
        if count <= MAX_UPDATE_MANAGERS:
            break
        seen = first.get(m.api_version)
        if seen is None:
            first[m.api_version] = m
            continue
        if seen.name != ANCIENT:
            bucket = Manager(ANCIENT, UPDATE, m.api_version, "", seen.time, set(seen.paths))
            out[out.index(seen)] = bucket
            first[m.api_version] = bucket
            seen = bucket
        seen.paths |= m.paths
        seen.time = m.time
        out.remove(m)
        count -= 1
    return out


def _ignored(subresource: str, obj: dict) -> set:
    """The strategy's reset fields (GetResetFields): the main resource never writes status,
    the status subresource writes nothing but status."""
    if subresource == "status":
        return {(f"f:{k}",) for k in obj if k != "status"}
    return {("f:status",)}


def _strip(managers: list[Manager], ignored: set | None = None) -> None:
    for m in managers:
        m.paths -= _STRIPPED
        if ignored:
            m.paths = fp.recursive_difference(m.paths, ignored)


def _bare(obj: dict) -> dict:
    meta = obj.get("metadata")
    if isinstance(meta, dict) and "managedFields" in meta:
        obj = dict(obj, metadata={k: v for k, v in meta.items() if k != "managedFields"})
    return obj


def update(live: dict | None, new: dict, manager: str, api_version: str, kind: str, now: str,
           subresource: str = "", sent: dict | None = None) -> dict:
    """A create (live None) or update by `manager`: its entry gains what it added or changed,
    every entry loses what it removed, and others lose what it changed. An object stored
    without managedFields stays without them (skipnonapplied.go); managedFields sent as
    `[{}]` clear them. `sent`, on a create, is the object as the client sent it: what the
    server filled in that the client did not send is nobody's."""
    sent_entries = (new.get("metadata") or {}).get("managedFields")
    from_live = False
    if live is None:        # a create keeps the entries it was sent, as an update does
        managers: list[Manager] = [] if _is_reset(sent_entries) else decode(sent_entries)
    elif subresource or sent_entries is None or not decode(sent_entries) and not _is_reset(sent_entries):
        managers, from_live = decode(live["metadata"].get("managedFields")), True
    elif _is_reset(sent_entries):
        managers = []
    else:
        managers = decode(sent_entries)
    if live is not None and not managers:
        new.get("metadata", {}).pop("managedFields", None)
        return new
    t = fp.root_type(api_version, kind)
    before = _bare(live) if live is not None else clone(_ZERO.get(kind, {}))
    after = _bare(new)
    if subresource == "status":     # only status is written: compare nothing else
        before = {"status": before["status"]} if "status" in before else {}
        after = {"status": after["status"]} if "status" in after else {}
    elif "status" in before or "status" in after:
        before = {k: v for k, v in before.items() if k != "status"}
        after = {k: v for k, v in after.items() if k != "status"}
    added, modified, removed = fp.compare(before, after, t)
    ignored = _ignored(subresource, new)
    changed = fp.recursive_difference(added | modified, ignored)
    removed = fp.recursive_difference(removed, ignored)
    if from_live and not changed and not removed:       # nothing changed hands: entries as they were
        new["metadata"]["managedFields"] = live["metadata"]["managedFields"]
        return new
    me = (manager, UPDATE, subresource, api_version)
    mine = None
    touched = changed | removed
    for m in managers:
        if m.owns_any(touched):
            m.paths = m.paths - touched
        if m.identity == me:
            mine = m
    own = changed - _STRIPPED
    for m in managers:      # never owned (stripmeta.go); an entry read as it was has none
        if m._paths is not None and not m.paths.isdisjoint(_STRIPPED):
            m.paths = m.paths - _STRIPPED
    if live is None and sent is not None and kind in _SERVER_FILLED:
        filled = {p for p in own if _server_filled(kind, p)}
        if filled:
            # A list the client sent is its own even when the server added items to it.
            sent_paths = fp.field_set(sent, t)
            own -= filled - sent_paths - fp.with_prefixes(sent_paths)
    if own:
        if mine is None:
            mine = Manager(manager, UPDATE, api_version, subresource, now, set())
            managers.append(mine)
        mine.paths = mine.paths | own
        mine.time = now
    return _encode(new, managers)


def apply(live: dict | None, applied: dict, manager: str, api_version: str, kind: str, now: str,
          *, force: bool = False, subresource: str = "") -> dict:
    """Server-side apply of `applied` by `manager` (merge.Updater.Apply): the merged object
    with managedFields, or ApiError 409 when another manager owns a field it changes."""
    t = fp.root_type(api_version, kind)
    managers = decode((live or {}).get("metadata", {}).get("managedFields")) if live else []
    ignored = _ignored(subresource, applied)
    config = {k: v for k, v in applied.items() if (f"f:{k}",) not in ignored}
    me = (manager, APPLY, subresource, "")
    last = next((m for m in managers if m.identity == me), None)
    new_set = fp.recursive_difference(fp.field_set(config, t), ignored) - _STRIPPED
    live_bare = _bare(live) if live is not None else None
    merged = server_side_apply(live_bare, config, kind)
    owned = set(new_set)
    for m in managers:
        if m is not last:
            owned |= m.paths
    if last is not None:
        gone = last.paths - owned
        if gone:
            merged = fp.remove(merged, gone, fp.with_prefixes(owned), t)
    base = live_bare if live_bare is not None else {}
    # What the write may not change (the strategy's reset fields) is not compared.
    added, modified, removed = fp.compare({k: v for k, v in base.items() if (f"f:{k}",) not in ignored},
                                          {k: v for k, v in merged.items() if (f"f:{k}",) not in ignored}, t)
    changed = added | modified
    conflicts = [(m, p) for m in managers if m is not last for p in _ordered(m.paths & changed)]
    if conflicts and not force:
        raise _conflict_error(conflicts)
    for m in managers:
        if m is not last:
            m.paths = m.paths - changed - removed
    if last is None:
        last = Manager(manager, APPLY, api_version, subresource, now, set())
        managers.append(last)
    last.paths, last.api_version = new_set, api_version
    if live is None or added or modified or removed or last.time is None:
        last.time = now
    _strip(managers)
    return _encode(_bare(merged), managers)


def _ordered(paths: set) -> list[tuple]:
    """Set.Iterate's order: at each level the members, then each child's subtree."""
    trie = fp.path_trie(paths)
    out: list[tuple] = []

    def walk(node: dict, prefix: tuple) -> None:
        keys = sorted(k for k in node if k is not None)
        out.extend(prefix + (k,) for k in keys if node[k].get(None))
        for k in keys:
            walk(node[k], prefix + (k,))
    walk(trie, ())
    return out


def _conflict_error(conflicts: list[tuple[Manager, tuple]]) -> _errors.ApiError:
    """conflict.go NewConflictError: one conflict in a line, more grouped by manager."""
    conflicts.sort(key=lambda c: c[0].name)
    causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {m.describe()}",
               "field": fp.path_string(p)} for m, p in conflicts]
    if len(conflicts) == 1:
        m, p = conflicts[0]
        message = f"Apply failed with 1 conflict: conflict with {m.describe()}: {fp.path_string(p)}"
    else:
        lines, seen = [], None
        for m, p in conflicts:
            if m.describe() != seen:
                seen = m.describe()
                lines.append(f"conflicts with {seen}:")
            lines.append(f"- {fp.path_string(p)}")
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return _errors.ApiError(409, "Conflict", message, {"causes": causes})


def strip(obj: dict) -> dict:
    """The object as `kubectl get -o yaml` shows it by default: without managedFields."""
    return _bare(obj)


def keep_times_of_a_no_op(old: dict, new: dict) -> None:
    """fieldmanager/equality.go IgnoreManagedFieldsTimestampsTransformer: a write that changes
    nothing but managedFields' times keeps the old entries, so it stays a no-op (re-applying
    the same configuration does not bump the resourceVersion)."""
    before, after = old["metadata"].get("managedFields"), new["metadata"].get("managedFields")
    if before is None or after is None or before is after or len(before) != len(after):
        return
    if any({k: v for k, v in a.items() if k != "time"} != {k: v for k, v in b.items() if k != "time"}
           for a, b in zip(before, after)):
        return
    skip = ("managedFields", "resourceVersion")
    if {k: v for k, v in old.items() if k != "metadata"} != {k: v for k, v in new.items() if k != "metadata"}:
        return
    if {k: v for k, v in old["metadata"].items() if k not in skip} != \
            {k: v for k, v in new["metadata"].items() if k not in skip}:
        return
    new["metadata"]["managedFields"] = before
