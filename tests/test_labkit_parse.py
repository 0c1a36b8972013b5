"""labkit's parsers on the real tools' recorded output (tests/fixtures/real-tool-output)."""

import pytest

from labkit import _parse
from .conftest import REAL_TOOL_OUTPUT

REAL = REAL_TOOL_OUTPUT
if not REAL.exists():
    pytest.skip("recorded tool output not available", allow_module_level=True)


def body(name: str) -> str:
    lines = (REAL / name).read_text().splitlines()
    return "\n".join(lines[1:-1])          # drop "$ command" and "[exit N]"


def test_ping_reply_with_ptr_name_and_without():
    rows = _parse.ping(body("ping-localhost.txt"))
    assert [r["seq"] for r in rows] == [1, 2, 3]
    assert rows[0] == {"seq": 1, "address": "127.0.0.1", "ptr_name": "localhost", "ttl": 64, "rtt_ms": 0.018}
    plain = _parse.ping(body("ping-ip-loopback.txt"))
    assert plain[1]["ptr_name"] is None and plain[1]["address"] == "127.0.0.1" and plain[1]["rtt_ms"] == 0.043


def test_getent_hosts_and_ahosts():
    assert _parse.getent_hosts(body("getent-hosts-web-svc.txt")) == [("10.10.100.37", "web-svc.default.svc.cluster.local")]
    assert _parse.getent_hosts(body("getent-ahosts-web-svc.txt")) == [("10.10.100.37", "web-svc.default.svc.cluster.local")]
    assert _parse.getent_hosts(body("getent-hosts-missing.txt")) == []


def test_hello_page_and_dig_short():
    assert _parse.hello_page(body("curl-plain.txt")) == {"server_address": "127.0.0.1:18080", "server_name": "vm"}
    assert _parse.dig_short(body("dig-short-search.txt")) == ["10.10.100.37"]


def test_dig_showsearch_walk():
    rows = _parse.dig_showsearch(body("dig-search-showsearch-missing.txt"))
    assert [r["query"] for r in rows] == ["nosuch.default.svc.cluster.local.", "nosuch.svc.cluster.local.",
                                          "nosuch.cluster.local.", "nosuch."]
    assert {r["rcode"] for r in rows} == {"NXDOMAIN"} and not any(r["answered"] for r in rows)
    hit = _parse.dig_showsearch(body("dig-search-showsearch-svc-ns.txt"))
    assert [(r["rcode"], r["answered"]) for r in hit] == [("NXDOMAIN", False), ("NOERROR", True)]
    assert hit[1]["qtype"] == "A"
