"""hosts, rewrite and stub-domain forward, as CoreDNS 1.x sets them up and answers.

Setup wording: plugin/hosts/setup.go hostsParse, plugin/rewrite/setup.go newRule and
name.go newNameRule. Answers: plugin/hosts/hosts.go ServeDNS (SERVFAIL for a name it does
not hold without fallthrough), plugin/rewrite/reverter.go (the question turned back, the
answer only with an `answer` rule), plugin/forward + plugin/errors for a dead upstream.
End-to-end tests edit kube-system/coredns and dig from a pod over real loopback sockets.
"""
from __future__ import annotations

import pytest

from labkit.sandbox import _bootstrap
from labkit.sandbox._clock import Clock
from labkit.sandbox._config import SandboxConfig
from labkit.sandbox.dns import _corefile
from labkit.sandbox.dns._cache import DnsCache
from labkit.sandbox.dns._chain import Chain

from .conftest import wait_for

BASE = _bootstrap.corefile(SandboxConfig())


def with_plugins(*lines: str, extra: str = "") -> str:
    return BASE.replace("    errors\n", "    errors\n" + "".join(f"    {l}\n" for l in lines)) + extra


@pytest.mark.parametrize("lines, message", [
    (["hosts {", "   ttl 0", "}"],
     "plugin/hosts: /etc/coredns/Corefile:4 - Error during parsing: ttl provided is invalid"),
    (["hosts {", "   ttl x", "}"],
     "plugin/hosts: /etc/coredns/Corefile:4 - Error during parsing: ttl needs a number of second"),
    (["hosts {", "   fallthrough", "   10.0.0.1 a.b", "}"],
     "plugin/hosts: /etc/coredns/Corefile:5 - Error during parsing: unknown property '10.0.0.1'"),
    (["rewrite name a.b"], "plugin/rewrite: too few arguments for a name rule"),
    (["rewrite name fuzzy a b"], "plugin/rewrite: name rule supports only exact, prefix, suffix, "
                                 "substring, and regex name matching, received: fuzzy"),
    (["rewrite continue"], "plugin/rewrite: continue rule must begin with a rule type"),
    (["rewrite nome a b"], 'plugin/rewrite: invalid rule type "nome"'),
    (["rewrite name regex (a).b {1}{2}"],
     "plugin/rewrite: the rewrite regex pattern ({1}{2}) uses more subexpressions than its "
     "corresponding matching regex pattern ((a).b)"),
    (["rewrite name exact a b answer"], "plugin/rewrite: response rewrites must consist only of a "
                                        "name rule with 3 arguments and an answer rule with 3 arguments"),
])
def test_setup_refuses_with_corednss_words(lines, message):
    with pytest.raises(_corefile.CorefileError) as exc:
        _corefile.parse(with_plugins(*lines))
    assert str(exc.value) == message


def test_the_chain_puts_rewrite_before_cache_and_hosts_before_kubernetes():
    text = with_plugins("hosts {", "   10.1.2.3 legacy.example", "   fallthrough", "}",
                        "rewrite name exact db.local web-svc.default.svc.cluster.local")
    chain = Chain.build(_corefile.parse(text), index=lambda: None, outside=None,
                        cache=DnsCache(Clock(), 30), rng=None)
    assert chain.plugins == ("rewrite", "cache", "hosts", "kubernetes", "forward")


def test_a_second_server_block_is_a_stub_domain():
    text = BASE + "corp.internal:53 {\n    errors\n    log\n    forward . 192.168.53.53:53\n}\n"
    stubs = _corefile.parse(text).stubs
    assert [(s.zones, s.upstreams, s.errors, bool(s.log)) for s in stubs] == [
        (("corp.internal.",), ("192.168.53.53",), True, True)]


# -- end to end: the ConfigMap edited, answers seen with dig from a pod --------------------

@pytest.fixture
def core(api_client):
    from kubernetes import client
    return client.CoreV1Api(api_client)


@pytest.fixture
def corefile(core):
    def edit(text):
        cm = core.read_namespaced_config_map("coredns", "kube-system")
        cm.data["Corefile"] = text
        core.replace_namespaced_config_map("coredns", "kube-system", cm)
    yield edit
    edit(BASE)


def dig(lab, args: str) -> str:
    return lab.exec("dnsutils", f"dig {args}").stdout


def test_hosts_answers_its_entries_and_ptrs_and_falls_through(lab, corefile):
    corefile(with_plugins("hosts {", "   10.20.30.40 legacy.example.com legacy", "   ttl 60",
                          "   fallthrough", "}"))
    out = wait_for(lambda: "10.20.30.40" in (o := dig(lab, "legacy.example.com")) and o)
    # hosts' ttl 60, capped by `cache 30` even in the first reply (plugin/cache computeTTL);
    # hosts sets no RA (SetReply), so dig warns.
    assert "legacy.example.com.\t30\tIN\tA\t10.20.30.40" in out and "flags: qr aa rd;" in out
    assert "legacy.example.com." in dig(lab, "+short -x 10.20.30.40")
    assert dig(lab, "+short web-svc.default.svc.cluster.local").strip()     # fell through


def test_hosts_without_fallthrough_answers_servfail_for_everything_else(lab, corefile):
    corefile(with_plugins("hosts {", "   10.20.30.40 legacy.example.com", "}"))
    wait_for(lambda: "SERVFAIL" in dig(lab, "web-svc.default.svc.cluster.local"))


def test_rewrite_answers_under_the_rewritten_name_unless_answer_auto(lab, corefile):
    target = "web-svc.default.svc.cluster.local."
    corefile(with_plugins(f"rewrite name exact web.corp.example {target}"))
    out = wait_for(lambda: "NOERROR" in (o := dig(lab, "web.corp.example")) and o)
    assert "QUESTION SECTION:\n;web.corp.example." in out and f"\n{target}" in out
    corefile(with_plugins(f"rewrite name exact web.corp.example {target} answer auto"))
    out = wait_for(lambda: "\nweb.corp.example.\t" in (o := dig(lab, "web.corp.example")) and o)
    assert target not in out.split("ANSWER SECTION:")[1]


def test_stub_domain_forwards_and_a_dead_upstream_is_servfail_with_the_errors_line(lab, core, corefile):
    corefile(BASE + "corp.internal:53 {\n    errors\n    forward . 192.168.53.53\n}\n"
             "dead.internal:53 {\n    errors\n    forward . 192.168.53.99\n}\n")
    out = wait_for(lambda: "192.168.53.10" in (o := dig(lab, "db.corp.internal")) and o)
    assert "flags: qr aa rd;" in out
    assert "NXDOMAIN" in dig(lab, "nope.corp.internal")
    assert "SERVFAIL" in dig(lab, "db.dead.internal")
    pods = core.list_namespaced_pod("kube-system", label_selector="k8s-app=kube-dns").items
    logs = "".join(core.read_namespaced_pod_log(p.metadata.name, "kube-system") for p in pods)
    line = next(l for l in logs.splitlines() if "plugin/errors" in l)
    assert line.startswith("[ERROR] plugin/errors: 2 db.dead.internal. A: read udp 10.")
    assert line.endswith("->192.168.53.99:53: i/o timeout")
