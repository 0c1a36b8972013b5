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
from ._cache import DnsCache
from ._chain import Chain, answer
from ._index import ClusterIndex
from ._querylog import QueryLog
from ._server import DnsServer

__all__ = ["Chain", "ClusterIndex", "DnsCache", "DnsServer", "QueryLog", "answer"]
