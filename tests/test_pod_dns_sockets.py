"""Each command in a pod asks the cluster DNS from a socket of its own, as each process on a
real node does: a shell loop of lookups shows one client port per run in the query log."""
from __future__ import annotations


def test_each_tool_run_in_one_exec_has_its_own_client_port(sandbox, lab):
    pod = sandbox.store.get("pods", "default", "client")
    since = sandbox.dns.log.total
    result = sandbox.run_in_pod(pod, pod["spec"]["containers"][0]["name"],
                                ["sh", "-c", "for i in 1 2 3; do getent hosts web-svc; done"])
    assert result.exit_code == 0, result
    queries = [e for e in sandbox.dns.log.entries(since=since) if e["client"].get("pod") == "client"]
    # glibc's getent: AAAA through the search list and the bare name, then A: five per run.
    assert len(queries) == 15
    ports = [e["client_port"] for e in queries]
    runs = [ports[i:i + 5] for i in range(0, 15, 5)]
    assert all(len(set(run)) == 1 for run in runs), runs       # one socket within a run
    assert len({run[0] for run in runs}) == 3, runs             # a new one for each run
