"""The API server's edge as pure functions (labkit/sandbox/_edge.py): decoders' limits,
strconv's wording, the fault log's budget. The same behaviour over HTTP is in
test_attacks_api.py."""
from __future__ import annotations

import json
import logging

import pytest
import yaml

from labkit.sandbox.apiserver import _edge
from labkit.sandbox.apis import _decode, _errors
from labkit.sandbox.home._faultlog import FaultLog, RateLimit


def _laughs(levels: int, fanout: int) -> str:
    lines = ["a0: &a0 lol"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fanout) + "]")
    return "\n".join(lines) + "\n"


def test_alias_arithmetic_matches_go_yaml():
    """go-yaml accepts 3 levels of 10 aliases (2420 alias decodes of 2469, under 99%) and
    refuses a 4th level (24630 of 24698): allowedAliasRatio's 0.99 below 400,000 decodes."""
    doc = _decode.loads_yaml(_laughs(3, 10))
    assert len(json.dumps(doc["a3"])) > 1000
    with pytest.raises(_decode.DecodeLimit, match="^yaml: document contains excessive aliasing$"):
        _decode.loads_yaml(_laughs(4, 10))
    with pytest.raises(_decode.DecodeLimit, match="excessive aliasing"):
        _decode.loads_yaml(_laughs(9, 9))             # 387 million strings, refused at once


def test_the_allowed_ratio_falls_from_99_to_10_percent():
    assert _decode._allowed_alias_ratio(400_000) == 0.99
    assert _decode._allowed_alias_ratio(4_000_000) == 0.10
    assert _decode._allowed_alias_ratio(2_200_000) == pytest.approx(0.545)


def test_an_aliased_value_is_a_copy_for_every_use():
    doc = _decode.loads_yaml("a: &x {k: [1]}\nb: *x\n")
    doc["a"]["k"].append(2)
    assert doc["b"] == {"k": [1]}


DOCUMENTS = [
    "a: 1\nb: 0x1F\nc: 0o17\nd: 017\ne: 1_000\nf: 1.5\ng: .inf\nh: true\ni: yes\nj: on\nk: null\nl: ~\n"
    "m: ''\nn: '1'\no: 2024-01-01\np: 1:30\nq: [1, two, 3.0]\nr: {x: y}\ns: !!str 5\nt: \"yes\"\nu:\nv: =\n"
    "w: -0\nx: +5\ny: 0b101\nz: 1e3\n",
    "a: &x {b: 1}\nc: *x\n",
    "<<: {a: 1}\nb: 2\n",                 # a merge key: PyYAML's constructor builds it
    "a: !!binary aGVsbG8=\n",
    "- a\n- {b: [c, {d: e}]}\n",
    "",
    "a: &s hello\nb: *s\n",
]


@pytest.mark.parametrize("text", DOCUMENTS)
def test_the_event_walk_builds_what_the_loader_builds(text):
    expected = json.loads(json.dumps(yaml.load(text, Loader=_decode.yaml_loader()), default=str))  # noqa: S506
    assert _decode.loads_yaml(text) == expected


@pytest.mark.parametrize("text", ["a: 1\n---\nb: 2\n", "? [a]\n: 1\n", "a: [1\n"])
def test_what_the_loader_refuses_is_refused(text):
    with pytest.raises(yaml.YAMLError):
        _decode.loads_yaml(text)


def test_json_depth_is_measured_exactly_and_strings_do_not_count():
    limit = _decode.MAX_DEPTH
    at_limit = '{"s": "[[[[{{{{", "x": ' + "[" * (limit - 1) + "]" * (limit - 1) + "}"
    assert _decode.loads_json(at_limit)["s"] == "[[[[{{{{"
    over = '{"x": ' + "[" * limit + "]" * limit + "}"
    with pytest.raises(_decode.DecodeLimit, match=r"^invalid character '\[' exceeded max depth$"):
        _decode.loads_json(over)
    mixed = '{"a":[' * limit + "]}" * limit          # level limit + 1 is an object
    with pytest.raises(_decode.DecodeLimit, match=r"^invalid character '\{' exceeded max depth$"):
        _decode.loads_json(mixed)


def test_invalid_utf8_in_json_becomes_the_replacement_character():
    assert _decode.loads_json(b'{"k": "a\xffb"}') == {"k": "a\ufffdb"}


@pytest.mark.parametrize("text, value", [("0", 0), ("-12", -12), ("+7", 7), ("007", 7),
                                         ("9223372036854775807", 2**63 - 1)])
def test_parse_int_takes_what_strconv_takes(text, value):
    assert _edge.parse_int(text) == value


@pytest.mark.parametrize("text, problem", [("", "invalid syntax"), (" 1", "invalid syntax"), ("1_0", "invalid syntax"),
                                           ("1.0", "invalid syntax"), ("0x10", "invalid syntax"),
                                           ("９", "invalid syntax"),
                                           ("9223372036854775808", "value out of range"),
                                           ("-9223372036854775809", "value out of range")])
def test_parse_int_refuses_as_strconv_words_it(text, problem):
    with pytest.raises(_errors.ApiError) as info:
        _edge.parse_int(text)
    assert (info.value.code, info.value.reason) == (400, "BadRequest")
    assert info.value.message == f"strconv.ParseInt: parsing {json.dumps(text, ensure_ascii=False)}: {problem}"


def test_a_resource_version_is_a_uint64():
    assert _edge.parse_resource_version("") == 0
    assert _edge.parse_resource_version("18446744073709551615") == 2**64 - 1
    with pytest.raises(_errors.ApiError) as info:
        _edge.parse_resource_version("+1")
    assert info.value.status() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "code": 500,
        "message": 'resourceVersion: Invalid value: "+1": strconv.ParseUint: parsing "+1": invalid syntax'}


def test_fault_log_keeps_one_traceback_per_kind_and_tallies_the_rest(caplog):
    log = FaultLog(logging.getLogger("labkit.test.faults"), max_kinds=2)
    with caplog.at_level(logging.ERROR, logger="labkit.test.faults"):
        for i in range(1000):
            try:
                raise ValueError(f"bad {i}")
            except ValueError as e:
                log.record("here", e)
        for kind in (KeyError, TypeError, OSError):
            try:
                raise kind("x")
            except Exception as e:
                log.record("here", e)
    messages = [r.getMessage() for r in caplog.records]
    assert sum(1 for r in caplog.records if r.exc_info) == 2          # ValueError and KeyError
    assert [m for m in messages if "has now happened" in m] == [
        m for m in messages if m.endswith(("10 times", "100 times", "1000 times"))]
    assert len(messages) == 1 + 3 + 1 + 1                               # + the overflow notice
    assert log.total == 1003


def test_rate_limit_filter_passes_first_and_powers_of_ten():
    f = RateLimit()
    records = [logging.LogRecord("aiohttp", logging.ERROR, __file__, 1, "Error handling request", (), None)
               for _ in range(1000)]
    passed = [i + 1 for i, r in enumerate(records) if f.filter(r)]
    assert passed == [1, 10, 100, 1000]
