"""The sandbox's cluster DNS: a real DNS server on loopback that answers as CoreDNS does.

    server = DnsServer(cluster, config, clock, clients=registry)
    await server.start(); host, port = server.address
    server.log.entries(); server.cache.clear(); await server.stop()
    server.pod_log(pod)      # what a CoreDNS pod wrote: start-up, reloads, `log` lines

The Corefile in ConfigMap kube-system/coredns is read with CoreDNS's grammar
(_caddyfile, _corefile) and followed as the reload plugin does (_reload); the CoreDNS
pods' logs are kept in _podlog.

The plugins (log, loadbalance, cache, kubernetes, forward) are one `Chain` (_chain)
built from the running Corefile; the server frames what it answers, and
`answer(query, ClusterIndex.build(cluster, config), rng=..., outside=...)` asks the same
chain, without a cache, as a pure function.
"""
import importlib

__all__ = ["Chain", "ClusterIndex", "DnsCache", "DnsServer", "QueryLog", "answer"]
# Names load with their module on first use (PEP 562): the sandbox binds the port through
# _port at start-up, and the server, dnspython with it, loads when it is first needed.
_HOMES = {"DnsCache": "_cache", "Chain": "_chain", "answer": "_chain", "ClusterIndex": "_index",
          "QueryLog": "_querylog", "DnsServer": "_server"}


def __getattr__(name: str):
    if name in _HOMES:
        return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
