"""Field sets of server-side apply, as sigs.k8s.io/structured-merge-diff (v6) keeps them.

A field set is a Python set of paths; a path is a tuple of path elements written as the
FieldsV1 keys write them (fieldpath/serialize-pe.go): ``f:<field>``, ``k:<key fields as
JSON>`` (an item of a list-type map), ``v:<value as JSON>`` (an item of a list-type set),
``i:<index>``. `encode`/`decode` turn a set into the FieldsV1 trie of `managedFields` and
back; `path_string` prints a path as fieldpath.Path.String does (``.spec.ports[port=80,
protocol="TCP"]``), as conflict messages show it.

The object walks follow sigs.k8s.io/structured-merge-diff typed/: `field_set`
(tofieldset.go), `compare` (compare.go), `merge` (merge.go) and `remove` (remove.go),
typed by the release's OpenAPI definitions as kube-openapi's schemaconv types them: list
types and map keys from ``x-kubernetes-list-type``/``x-kubernetes-list-map-keys`` (else a
``merge`` patch strategy with its merge key), ``x-kubernetes-map-type: atomic`` structs and
maps, and anything the schema does not declare deduced from its value.
"""
from __future__ import annotations

import json
import threading
from collections import OrderedDict
from functools import lru_cache

from ..apis import _openapi

_lock = threading.Lock()
_MISSING = object()        # a field that is not there (Go's nil Value), unlike a JSON null


class Type:
    """One schema node: "scalar", "struct" (fields), "map" (elem), "list" (elem, how,
    keys) or "deduced" (typed by the value it meets)."""
    __slots__ = ("kind", "fields", "elem", "atomic", "how", "keys")

    def __init__(self, kind: str, *, fields=None, elem=None, atomic=False, how="atomic", keys=()):
        self.kind, self.fields, self.elem, self.atomic = kind, fields, elem, atomic
        self.how, self.keys = how, keys


SCALAR = Type("scalar")
DEDUCED = Type("deduced")
# List-map keys that the API defaults (Container/Service/EndpointPort protocol): the
# vendored definitions do not carry the default, which the key of an item needs.
_KEY_DEFAULTS = {"protocol": "TCP"}


class _Schemas:
    """The definitions, each compiled to a `Type` when a kind that reaches it is first
    written: a sandbox's first writes (the bootstrap's kinds) compile a fraction of them,
    not all 800, at a moment when the API server is answering its first requests."""

    def __init__(self) -> None:
        self.defs = _openapi._shapes()
        self.named: dict[str, Type] = {}
        self.roots: dict[tuple[str, str], str] = {}     # (apiVersion, kind) -> definition
        for name, schema in self.defs.items():
            for gvk in schema.get("x-kubernetes-group-version-kind", ()):
                api_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
                self.roots.setdefault((api_version, gvk["kind"]), name)

    def named_type(self, name: str) -> Type:
        t = self.named.get(name)
        if t is None:
            schema = self.defs.get(name)
            if schema is None:
                return DEDUCED
            # In the table before its parts are compiled: a definition that reaches itself
            # (JSONSchemaProps) finds this object, filled in below.
            t = self.named[name] = Type("struct")
            compiled = self._compile(schema)
            for slot in Type.__slots__:
                setattr(t, slot, getattr(compiled, slot))
        return t

    def _compile(self, schema: dict) -> Type:
        ref = schema.get("$ref") or next((s.get("$ref") for s in schema.get("allOf", ()) if "$ref" in s), None)
        if ref:
            return self.named_type(ref.rsplit("/", 1)[-1])
        kind = schema.get("type")
        if kind == "array":
            how, keys = schema.get("x-kubernetes-list-type"), schema.get("x-kubernetes-list-map-keys") or ()
            if how is None:        # schemaconv: a merge patch strategy makes it associative
                merge = "merge" in (schema.get("x-kubernetes-patch-strategy") or "").split(",")
                key = schema.get("x-kubernetes-patch-merge-key")
                how, keys = ("map", (key,)) if merge and key else ("set" if merge else "atomic", ())
            return Type("list", elem=self._compile(schema.get("items") or {}), how=how, keys=tuple(keys))
        atomic = schema.get("x-kubernetes-map-type") == "atomic"
        if "properties" in schema:
            return Type("struct", fields={k: self._compile(v) for k, v in schema["properties"].items()},
                        atomic=atomic)
        if isinstance(schema.get("additionalProperties"), dict):
            return Type("map", elem=self._compile(schema["additionalProperties"]), atomic=atomic)
        if kind == "object" or kind is None:
            return Type("map", elem=DEDUCED, atomic=atomic) if kind == "object" else DEDUCED
        return SCALAR


@lru_cache(maxsize=1)
def _schemas() -> _Schemas:
    return _Schemas()


def root_type(api_version: str, kind: str) -> Type:
    """The schema of a kind (by kind alone when the apiVersion is not known); an unknown
    kind is typed by its values."""
    with _lock:
        schemas = _schemas()
        name = schemas.roots.get((api_version, kind))
        if name is None:
            name = next((n for (_, k), n in schemas.roots.items() if k == kind), None)
        return schemas.named_type(name) if name is not None else DEDUCED


def _resolve(t: Type, value) -> Type:
    if t.kind != "deduced":
        return t
    if isinstance(value, dict):
        return _DEDUCED_MAP
    return SCALAR          # a deduced list is atomic: a leaf, as a scalar is


_DEDUCED_MAP = Type("map", elem=DEDUCED)


def _child(t: Type, key: str) -> tuple[Type, bool]:
    """(the type of a map entry, whether the struct declares it)."""
    if t.kind == "struct":
        found = t.fields.get(key)
        return (found, True) if found is not None else (DEDUCED, False)
    return t.elem, False


# --------------------------------------------------------------------------
# Path elements

def _go_json(value) -> str:
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# Key elements already written, by (key names, typed values): a thousand pods repeat the same
# few (`k:{"name":"hello"}`, `k:{"type":"Ready"}`); JSON-encoding each again was a tenth of a
# status write. Typed, so 1 and true (equal in Python) stay apart.
_key_elements: dict = {}
_KEY_ELEMENTS_LIMIT = 4096
_HASHABLE = (str, int, float, bool, type(None))


def item_element(t: Type, item, index: int) -> str:
    """The path element of a list item: its key fields, its value or its index."""
    if t.how == "map" and isinstance(item, dict):
        key, memo, plain = {}, [t.keys], True
        for name in t.keys:
            if name in item:
                value = key[name] = item[name]
            elif name in _KEY_DEFAULTS:
                value = key[name] = _KEY_DEFAULTS[name]
            else:
                continue
            if type(value) not in _HASHABLE:
                plain = False
            memo.append((name, type(value), value))
        if not plain:
            return "k:" + _go_json(key)
        memo = tuple(memo)
        found = _key_elements.get(memo)
        if found is None:
            if len(_key_elements) >= _KEY_ELEMENTS_LIMIT:
                _key_elements.clear()
            found = _key_elements[memo] = "k:" + _go_json(key)
        return found
    if t.how == "set":
        return "v:" + _go_json(item)
    return f"i:{index}"


def _go_value(value) -> str:
    """value.ToString: strings quoted as Go's %q does, the rest as JSON."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, str) else _go_json(value)


def path_string(path: tuple) -> str:
    """fieldpath.Path.String: `.spec.containers[name="web"].image`."""
    out = []
    for pe in path:
        tag, text = pe[0], pe[2:]
        if tag == "f":
            out.append("." + text)
        elif tag == "k":
            fields = json.loads(text)
            out.append("[" + ",".join(f"{k}={_go_value(v)}" for k, v in sorted(fields.items())) + "]")
        elif tag == "v":
            out.append(f"[={_go_value(json.loads(text))}]")
        else:
            out.append(f"[{text}]")
    return "".join(out)


# --------------------------------------------------------------------------
# FieldsV1

# Shared tries, most recently used last: a thousand pods of one template carry the same sets,
# so they share one copy (never mutated: the store copies an object before changing it).
_interned: OrderedDict = OrderedDict()
_INTERN_LIMIT = 1024
_INTERN_WIDTH = 32          # a wider node (a ConfigMap's many keys) is rarely shared


def encode(paths) -> dict:
    """A field set as its FieldsV1 trie: a member with children holds ``".": {}``."""
    trie: dict = {}
    members: set = set()
    for path in paths:
        node = trie
        for pe in path:
            node = node.setdefault(pe, {})
        members.add(path)

    def build(node: dict, prefix: tuple):
        items = [(".", ())] if node and prefix in members else []
        # Byte order puts "." first and fields before keys and values, as PathElement.Less
        # does (it differs only for i: next to others, which no built-in schema has).
        for pe in sorted(node):
            sub = node[pe]
            items.append((pe, build(sub, prefix + (pe,)) if sub else ()))
        return tuple(items)

    def freeze(key: tuple) -> dict:
        if len(key) > _INTERN_WIDTH:
            return {pe: freeze(sub) if sub else _EMPTY for pe, sub in key}
        found = _interned.get(key)
        if found is None:
            found = _interned[key] = {pe: freeze(sub) if sub else _EMPTY for pe, sub in key}
            if len(_interned) > _INTERN_LIMIT:
                _interned.popitem(last=False)
        else:
            _interned.move_to_end(key)
        return found
    return freeze(build(trie, ()))


_EMPTY: dict = {}


def decode(trie) -> set:
    """A FieldsV1 trie as the set of paths it holds."""
    out: set = set()

    def walk(node: dict, prefix: tuple) -> None:
        for pe, sub in node.items():
            if pe == ".":
                out.add(prefix)
            elif not sub:
                out.add(prefix + (pe,))
            elif isinstance(sub, dict):
                walk(sub, prefix + (pe,))
    if isinstance(trie, dict):
        walk(trie, ())
    return out


def has(trie, path: tuple) -> bool:
    """Whether a FieldsV1 trie holds `path` as a member."""
    node = trie
    for pe in path:
        if not isinstance(node, dict):
            return False
        node = node.get(pe)
        if node is None:
            return False
    return isinstance(node, dict) and (not node or "." in node)


def recursive_difference(paths: set, prefixes) -> set:
    """The paths under none of `prefixes` (nor equal to one)."""
    prefixes = set(prefixes)
    if not prefixes:
        return set(paths)
    lengths = sorted({len(p) for p in prefixes})
    if lengths == [1]:
        return {p for p in paths if p[:1] not in prefixes}
    return {p for p in paths if not any(p[:n] in prefixes for n in lengths if n <= len(p))}


def with_prefixes(paths) -> set:
    """Every path and every ancestor of one: what a removal must descend into, not drop."""
    out = set()
    for p in paths:
        for i in range(1, len(p)):
            out.add(p[:i])
    return out


# --------------------------------------------------------------------------
# Walks over objects

def field_set(value, t: Type) -> set:
    """typed.TypedValue.ToFieldSet: the fields an applied configuration sets."""
    out: set = set()
    _to_set(value, t, (), out)
    return out


def _to_set(v, t: Type, path: tuple, out: set) -> None:
    t = _resolve(t, v)
    if t.kind == "scalar" or t.atomic or (t.kind == "list" and t.how == "atomic"):
        out.add(path)
        return
    if t.kind in ("struct", "map"):
        if not isinstance(v, dict):
            return
        for k, x in v.items():
            child, declared = _child(t, k)
            p = path + ("f:" + k,)
            _to_set(x, child, p, out)
            if x is None or (isinstance(x, dict) and not x) or not declared:
                out.add(p)
    elif t.kind == "list" and isinstance(v, list):
        for i, item in enumerate(v):
            p = path + (item_element(t, item, i),)
            _to_set(item, t.elem, p, out)
            out.add(p)


def compare(lhs, rhs, t: Type) -> tuple[set, set, set]:
    """typed.TypedValue.Compare: (added, modified, removed) from lhs to rhs."""
    added, modified, removed = set(), set(), set()
    _compare(lhs, rhs, t, (), added, modified, removed)
    return added, modified, removed


def _leaf(lhs, rhs, path, added, modified, removed) -> None:
    if lhs is _MISSING:
        added.add(path)
    elif rhs is _MISSING:
        removed.add(path)
    elif lhs != rhs:
        modified.add(path)


def _compare(lhs, rhs, t: Type, path: tuple, added, modified, removed) -> None:
    # Equal values differ nowhere below (compare.go would walk them to find nothing): most
    # of an update is unchanged, and == on plain JSON stops at the first difference.
    if lhs is rhs or (lhs is not _MISSING and rhs is not _MISSING and lhs == rhs):
        return
    if lhs is _MISSING:
        _added(rhs, t, path, added)
        return
    t = _resolve(t, rhs if rhs is not _MISSING else lhs)
    atomic = t.kind == "scalar" or t.atomic or (t.kind == "list" and t.how == "atomic")
    if t.kind in ("struct", "map") and not atomic:
        lm = lhs if isinstance(lhs, dict) else None
        rm = rhs if isinstance(rhs, dict) else None
        if not lm and not rm:
            atomic = True              # emptyPromoteToLeaf
        else:
            lm, rm = lm or {}, rm or {}
            for k in lm.keys() | rm.keys():
                child, _ = _child(t, k)
                lv, rv = lm.get(k, _MISSING), rm.get(k, _MISSING)
                if child is SCALAR or (child is DEDUCED and not isinstance(lv, dict) and not isinstance(rv, dict)):
                    _leaf(lv, rv, path + ("f:" + k,), added, modified, removed)     # the common case, inline
                else:
                    _compare(lv, rv, child, path + ("f:" + k,), added, modified, removed)
    elif t.kind == "list" and not atomic:
        ll = lhs if isinstance(lhs, list) else None
        rl = rhs if isinstance(rhs, list) else None
        if not ll and not rl:
            atomic = True
        else:
            left, right = _index(t, ll or ()), _index(t, rl or ())
            for pe in left.keys() | right.keys():
                ls, rs = left.get(pe, ()), right.get(pe, ())
                p = path + (pe,)
                if len(ls) <= 1 and len(rs) <= 1:
                    _compare(ls[0] if ls else _MISSING, rs[0] if rs else _MISSING, t.elem, p,
                             added, modified, removed)
                elif len(ls) >= 2 and len(rs) >= 2:
                    if ls != rs:
                        modified.add(p)
                elif len(ls) >= 2:
                    removed.add(p)
                else:
                    added.add(p)
    if atomic:
        _leaf(lhs, rhs, path, added, modified, removed)
    elif lhs is _MISSING:
        added.add(path)
    elif rhs is _MISSING:
        removed.add(path)


def _added(rhs, t: Type, path: tuple, added: set) -> None:
    """_compare with nothing on the left: every path of `rhs` is added (a create's object,
    a new list item), walked without looking for a left side."""
    t = _resolve(t, rhs)
    kind = t.kind
    if kind == "scalar" or t.atomic or (kind == "list" and t.how == "atomic"):
        added.add(path)
        return
    if kind in ("struct", "map"):
        if isinstance(rhs, dict) and rhs:
            for k, rv in rhs.items():
                child = t.fields.get(k, DEDUCED) if kind == "struct" else t.elem
                if child is SCALAR or (child is DEDUCED and not isinstance(rv, dict)):
                    added.add(path + ("f:" + k,))
                else:
                    _added(rv, child, path + ("f:" + k,), added)
    elif kind == "list" and isinstance(rhs, list) and rhs:
        for pe, rs in _index(t, rhs).items():
            if len(rs) == 1:
                _added(rs[0], t.elem, path + (pe,), added)
            else:
                added.add(path + (pe,))
    added.add(path)


def _index(t: Type, items) -> dict[str, list]:
    out: dict[str, list] = {}
    for i, item in enumerate(items):
        out.setdefault(item_element(t, item, i), []).append(item)
    return out


def merge(lhs, rhs, t: Type):
    """typed.TypedValue.Merge: rhs (an applied configuration) set into lhs (the live object).
    Granular maps merge key by key, associative lists item by item (live order kept, new
    items after the live ones they follow), atomic values and scalars are replaced."""
    if lhs is _MISSING or lhs is None:
        return rhs
    t = _resolve(t, rhs)
    if t.kind in ("struct", "map") and not t.atomic and isinstance(lhs, dict) and isinstance(rhs, dict):
        out = dict(lhs)
        for k, v in rhs.items():
            out[k] = merge(lhs.get(k, _MISSING), v, _child(t, k)[0])
        return out
    if t.kind == "list" and t.how != "atomic" and isinstance(lhs, list) and isinstance(rhs, list):
        return _merge_list(lhs, rhs, t)
    return rhs


def _merge_list(lhs: list, rhs: list, t: Type) -> list:
    """merge.go visitListItems: walk both lists; a live item the configuration does not
    name stays where it is; shared items follow the configuration's order."""
    lpe = [item_element(t, x, i) for i, x in enumerate(lhs)]
    rpe = [item_element(t, x, i) for i, x in enumerate(rhs)]
    lmap, rmap = dict(zip(lpe, lhs)), dict(zip(rpe, rhs))
    shared = [pe for pe in dict.fromkeys(rpe) if pe in lmap]
    out, done = [], set()
    li = ri = 0
    nxt = shared.pop(0) if shared else None
    while li < len(lpe) or ri < len(rpe):
        if li < len(lpe) and ri < len(rpe):
            pe = lpe[li]
            if pe == rpe[ri]:
                done.add(pe)
                out.append(merge(lmap[pe], rmap[pe], t.elem))
                li, ri = li + 1, ri + 1
                nxt = shared.pop(0) if shared else None
                continue
            if pe in rmap and nxt is not None and nxt != pe:
                li += 1
                continue
        if li < len(lpe):
            pe = lpe[li]
            if pe not in rmap:
                out.append(lhs[li])
                li += 1
                continue
            if pe in done:
                li += 1
        if ri < len(rpe):
            pe = rpe[ri]
            if pe not in done:
                done.add(pe)
                out.append(merge(lmap.get(pe, _MISSING), rmap[pe], t.elem))
            ri += 1
            if nxt is not None and nxt == pe:
                nxt = shared.pop(0) if shared else None
    return out


def path_trie(paths) -> dict:
    """The paths as nested dicts by path element; `None: True` marks where a path ends."""
    trie: dict = {}
    for p in paths:
        node = trie
        for pe in p:
            node = node.setdefault(pe, {})
        node[None] = True
    return trie


def remove(value, paths: set, keep: set, t: Type):
    """typed.TypedValue.RemoveItems: `value` without the fields in `paths`; a path in `keep`
    (an ancestor of a field someone still owns) is descended into rather than dropped.
    A map or list left empty goes too (SMD leaves it null, which decoding drops)."""
    out = _remove(value, path_trie(paths), keep, (), t)
    return {} if out is _MISSING else out


def _remove(v, trie: dict, keep: set, path: tuple, t: Type):
    t = _resolve(t, v)
    if t.kind in ("struct", "map") and not t.atomic and isinstance(v, dict):
        out = {}
        for k, x in v.items():
            pe = "f:" + k
            sub = trie.get(pe)
            if sub is None:
                out[k] = x
                continue
            p = path + (pe,)
            if sub.get(None) and p not in keep:
                continue
            kept = _remove(x, sub, keep, p, _child(t, k)[0])
            if kept is not _MISSING:
                out[k] = kept
        return out if out or not v else _MISSING
    if t.kind == "list" and t.how != "atomic" and isinstance(v, list):
        out = []
        for i, item in enumerate(v):
            pe = item_element(t, item, i)
            sub = trie.get(pe)
            if sub is None:
                out.append(item)
                continue
            p = path + (pe,)
            if sub.get(None) and p not in keep:
                continue
            kept = _remove(item, sub, keep, p, t.elem)
            if kept is not _MISSING:
                out.append(kept)
        return out if out or not v else _MISSING
    return v
