"""Decoding request bodies as the API server's serializers do, with their limits.

Each limit is the Go decoder's, with its wording, unless a note says otherwise:

- YAML: sigs.k8s.io/yaml decodes with go-yaml v2, which refuses `yaml: document contains
  excessive aliasing` (decode.go, allowedAliasRatio: the CVE-2019-11253 fix) and
  `yaml: exceeded max depth of 10000`; an alias inside its own anchor is `yaml: anchor 'a'
  value contains itself`. `_check_yaml` applies the same alias arithmetic to the event
  stream before anything is built, so a 384-byte "billion laughs" costs a few thousand
  steps, not a billion.
- JSON: Go's encoding/json stops at 10000 levels (`invalid character '[' exceeded max
  depth`, scanner.go). Python recurses once per level, so the sandbox stops at
  `MAX_DEPTH` levels instead, with the same wording; no Kubernetes object comes near it.
  Invalid UTF-8 inside strings becomes U+FFFD, as Go's decoder does.

Both the API server (request bodies) and the registry (patch documents) decode here.
"""
from __future__ import annotations

import functools
import json
import re

from . import _errors

MAX_DEPTH = 200                      # nesting the sandbox accepts (Go's decoders: 10000)

# go-yaml v2 decode.go: the alias-ratio bounds.
_ALIAS_RANGE_LOW, _ALIAS_RANGE_HIGH = 400_000, 4_000_000


class DecodeLimit(ValueError):
    """A body over a decoder's limit, in the Go decoder's words."""


def _summary(data: bytes, limit: int = 30) -> str:
    """summarizeData (handlers/rest.go): the start of the body, as text when it looks like
    JSON, else in hex."""
    if not data:
        return "<empty>"
    text = data[:limit].decode("utf-8", "replace") if data[:1] == b"{" else data[:limit].hex()
    return text + (" ..." if len(data) > limit else "")


def unrecognized(kind: str, problem: str, body: bytes) -> _errors.ApiError:
    """transformDecodeError when the body's kind could not be read (handlers/rest.go)."""
    return _errors.bad_request(f"the object provided is unrecognized (must be of type {kind}): "
                               f"{problem} ({_summary(body)})")


def _go_quote_char(ch: str) -> str:
    """encoding/json quoteChar: how the scanner names a character in its errors."""
    if ch == "'":
        return "'\\''"
    if ch == '"':
        return "'\"'"
    return "'" + ch + "'"


def loads_json(raw: bytes | str, *, reject_constants: bool = False):
    """json.loads with Go's tolerance (invalid UTF-8 -> U+FFFD) and a nesting bound.

    Raises DecodeLimit (too deep) or ValueError (malformed)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    if _deeper_than(text, MAX_DEPTH):
        raise DecodeLimit(f"invalid character {_go_quote_char(_too_deep(text))} exceeded max depth")
    try:
        if reject_constants:
            value = json.loads(text, parse_constant=_reject_constant)
        else:
            value = json.loads(text)
    except RecursionError:
        raise DecodeLimit(f"invalid character {_go_quote_char(_too_deep(text))} exceeded max depth") from None
    return value


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKET = re.compile(r'[^\[\]{}]+')
_ONE_KIND = str.maketrans("{}", "[]")


def _deeper_than(text: str, limit: int) -> bool:
    """Whether JSON text nests deeper than `limit`, at the speed of C string operations:
    with strings and everything but brackets removed, each pass of replace("[]", "")
    strips exactly the innermost level, so the passes needed are the depth."""
    if text.count("[") + text.count("{") <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text)).translate(_ONE_KIND)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = brackets.replace("[]", "")
        if len(shorter) == len(brackets):
            return False                # unbalanced: the parser will say what is wrong
        brackets = shorter
    return bool(brackets)


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(text: str, limit: int = MAX_DEPTH) -> str:
    """The bracket that opens level `limit` + 1 (strings skipped), as Go's scanner names it."""
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > limit:
                return token
        elif token in "]}":
            depth -= 1
    return "["


def _reject_constant(name: str):
    raise ValueError(f"invalid constant {name}")


def _allowed_alias_ratio(decode_count: int) -> float:
    """go-yaml v2 decode.go allowedAliasRatio."""
    if decode_count <= _ALIAS_RANGE_LOW:
        return 0.99
    if decode_count >= _ALIAS_RANGE_HIGH:
        return 0.10
    return 0.99 - 0.89 * ((decode_count - _ALIAS_RANGE_LOW) / (_ALIAS_RANGE_HIGH - _ALIAS_RANGE_LOW))


def _check_yaml(text: str, loader: type, build: bool = False):
    """Walk the YAML event stream as go-yaml's decoder would walk the node tree, and refuse
    what it refuses: nesting past MAX_DEPTH, an alias inside its own anchor, an unknown
    anchor, and aliases that make most of the decoding work. With `build`, also return the
    document's value built on the way (or `_UNUSUAL` when it needs PyYAML's constructor).

    Every node costs one decode; an alias costs one more plus the decodes of what its
    anchor expands to (known when the anchor's node ends), all of them counted as alias
    decodes. The ratio only grows while an alias expands, so checking it after each alias
    gives go-yaml's verdict without expanding anything."""
    import yaml
    try:
        return _walk_yaml(yaml.parse(text, Loader=loader), loader, build)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(getattr(exc, "problem", "") or exc):
            # libyaml stops at its own bound (1000 levels), past the sandbox's.
            raise DecodeLimit(f"yaml: exceeded max depth of {MAX_DEPTH}") from None
        raise


_UNUSUAL = object()             # a document the walk leaves to PyYAML's constructor
_STR, _NULL, _BOOL = "tag:yaml.org,2002:str", "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool"
_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"
_COLLECTION_TAGS = (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")


def _walk_yaml(events, loader: type, build: bool):
    import yaml
    resolver = _resolver(loader) if build else None
    sizes: dict[str, int] = {}          # anchor -> decodes one use of it costs
    values: dict[str, object] = {}      # anchor -> its value (when building)
    open_anchors: list[str | None] = []
    counts: list[int] = []              # decodes inside each open collection
    # Building: per open collection [container, is_mapping, key waiting for its value, have_key]
    frames: list[list] = []
    result: list = []
    documents = 0
    decode = alias = 0
    depth = 0

    def place(value) -> None:
        nonlocal build
        if not frames:
            result.append(value)
            return
        frame = frames[-1]
        if not frame[1]:
            frame[0].append(value)
        elif not frame[3]:
            if isinstance(value, (dict, list)):
                build = False           # a collection as a key: PyYAML's business
                return
            frame[2], frame[3] = value, True
        else:
            frame[0][frame[2]] = value
            frame[3] = False

    for event in events:
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise DecodeLimit(f"yaml: exceeded max depth of {MAX_DEPTH}")
            decode += 1
            counts.append(1)
            open_anchors.append(event.anchor)
            if build:
                if event.tag not in _COLLECTION_TAGS:
                    build = False
                else:
                    mapping = isinstance(event, yaml.MappingStartEvent)
                    frames.append([{} if mapping else [], mapping, None, False])
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1
            size = counts.pop()
            anchor = open_anchors.pop()
            if anchor is not None:
                sizes[anchor] = size
            if counts:
                counts[-1] += size
            if build:
                value = frames.pop()[0]
                if anchor is not None:
                    values[anchor] = value
                place(value)
        elif isinstance(event, yaml.ScalarEvent):
            decode += 1
            if event.anchor is not None:
                sizes[event.anchor] = 1
            if counts:
                counts[-1] += 1
            if build:
                value = _scalar(event, resolver)
                if value is _UNUSUAL:
                    build = False
                else:
                    if event.anchor is not None:
                        values[event.anchor] = value
                    place(value)
        elif isinstance(event, yaml.AliasEvent):
            name = event.anchor
            if name in open_anchors:
                raise DecodeLimit(f"yaml: anchor '{name}' value contains itself")
            if name not in sizes:
                raise DecodeLimit(f"yaml: unknown anchor '{name}' referenced")
            expanded = sizes[name]
            decode += 1 + expanded
            alias += expanded
            if counts:
                counts[-1] += 1 + expanded
            if alias > 100 and decode > 1000 and alias / decode > _allowed_alias_ratio(decode):
                raise DecodeLimit("yaml: document contains excessive aliasing")
            if build:
                place(values[name])
        elif isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                build = False           # PyYAML says what it thinks of a second document
    if not build:
        return _UNUSUAL
    value = result[0] if result else None
    # Aliases share one Python object; a copy gives every use its own, as Go's decoder does.
    return json.loads(json.dumps(value)) if alias else value


def _resolver(loader: type):
    import yaml
    resolver = yaml.resolver.Resolver()
    resolver.yaml_implicit_resolvers = loader.yaml_implicit_resolvers
    return resolver


@functools.cache
def _constructor():
    import yaml
    return yaml.constructor.SafeConstructor()


def _scalar(event, resolver):
    """A scalar's value as the loader would construct it, or _UNUSUAL for anything but
    strings, null, booleans, integers and floats (binary, timestamps, merge keys...)."""
    import yaml
    value = event.value
    if event.tag in (None, "!"):
        plain = event.implicit[0] and event.tag is None
        tag = resolver.resolve(yaml.ScalarNode, value, (plain, False)) if plain else _STR
    else:
        tag = event.tag
    if tag == _STR:
        return value
    if tag == _NULL:
        return None
    node = yaml.ScalarNode(tag, value)
    constructor = _constructor()
    if tag == _BOOL:
        return constructor.construct_yaml_bool(node)
    if tag == _INT:
        return constructor.construct_yaml_int(node)
    if tag == _FLOAT:
        return constructor.construct_yaml_float(node)
    return _UNUSUAL


def loads_yaml(raw: bytes | str, loader: type | None = None):
    """Decode a YAML body within go-yaml's limits, to plain JSON data (aliases copied, not
    shared). Raises DecodeLimit (a limit) or yaml.YAMLError (malformed; see yaml_problem).

    The value is built during the limits' walk over the parser's events, several times
    faster than PyYAML's composer and constructor; a document with other tags, merge keys
    or several documents goes through PyYAML's loader instead."""
    import yaml     # here, not at import: the server's start does not pay for it
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    loader = loader or yaml_loader()
    try:
        value = _check_yaml(text, loader, build=True)
        if value is not _UNUSUAL:
            return value
        value = yaml.load(text, Loader=loader)  # noqa: S506 - a SafeLoader with other resolvers
    except RecursionError:
        raise DecodeLimit(f"yaml: exceeded max depth of {MAX_DEPTH}") from None
    # Plain JSON data, with aliases copied (as Go's decoder copies them) and other values as text.
    return json.loads(json.dumps(value, default=str))


def yaml_problem(exc) -> str:
    """A YAML syntax error as sigs.k8s.io/yaml words go-yaml's: `yaml: line N: ...`."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"yaml: line {mark.line + 1}: {problem}" if mark is not None else f"yaml: {problem}"


_LOADER: type | None = None


def yaml_loader() -> type:
    """The apiserver's YAML scalars (see _yaml_loader), on libyaml when it is there."""
    global _LOADER
    if _LOADER is None:
        import yaml
        base = getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader
        resolvers = _yaml_loader().yaml_implicit_resolvers
        _LOADER = type("ApiYamlLoader", (base,), {"yaml_implicit_resolvers": resolvers})
    return _LOADER


def _yaml_loader() -> type:
    """A SafeLoader resolving scalars as the apiserver's YAML decoder does:
    timestamps stay strings, no sexagesimal numbers, "=" is a plain string."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass
    resolvers: dict = {}
    for first, entries in yaml.SafeLoader.yaml_implicit_resolvers.items():
        kept = [(tag, rx) for tag, rx in entries
                if tag not in ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value",
                               "tag:yaml.org,2002:int", "tag:yaml.org,2002:float")]
        if kept:
            resolvers[first] = kept
    Loader.yaml_implicit_resolvers = resolvers
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:int",
        re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
        list("-+0123456789"))
    Loader.add_implicit_resolver(
        "tag:yaml.org,2002:float",
        re.compile(r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
                   r"|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)"
                   r"|\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
                   r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
        list("-+0123456789."))
    return Loader
