"""Choosing a cluster: `connect()`.

Order of choice: explicit arguments, `LABKIT_BACKEND`, a reachable current kubeconfig
context, else the embedded sandbox (the running one, or a new background one).
Whatever is chosen, labkit then talks to it the same way: the official client and a
kubeconfig. A kubeconfig whose current context is `labkit-sandbox` is the sandbox.
"""
from __future__ import annotations

import os
from pathlib import Path

from . import errors
from ._transport import Transport

SANDBOX_CONTEXT = "labkit-sandbox"
PROBE_TIMEOUT = 2.0


def _load(kubeconfig: str | None, context: str | None):
    """(ApiClient, context name) from a kubeconfig; None when there is no usable one."""
    from kubernetes import config
    try:
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)
        name = context or (active or {}).get("name")
        client = config.new_client_from_config(config_file=kubeconfig, context=name)
    except (config.ConfigException, OSError, TypeError, KeyError, ValueError) as e:
        if kubeconfig or context:
            raise errors.LabkitError(f"cannot use kubeconfig {kubeconfig or '(default)'}"
                                     f"{' context ' + context if context else ''}: {e}") from e
        return None
    return client, name


def _reachable(client) -> bool:
    try:
        Transport(client).request("GET", "/version", timeout=PROBE_TIMEOUT)
        return True
    except errors.LabkitError:
        return False


def _sandbox_kubeconfig() -> str:
    from labkit import sandbox
    return sandbox.running()["kubeconfig"]


def connect(backend: str | None = None, *, context: str | None = None, kubeconfig: str | os.PathLike | None = None,
            namespace_prefix: str | None = None, quiet: bool = False, show_kubectl: bool | None = None):
    """Connect to a cluster and return a `Lab`.

    backend: "sandbox" (the embedded cluster on 127.0.0.1) or "cluster" (the kubeconfig's);
    default: env `LABKIT_BACKEND`, else the current kubeconfig context if it answers
    `/version` within 2 s, else the sandbox (started in the background if none runs).
    namespace_prefix (or env `LABKIT_NAMESPACE_PREFIX`): workshop mode, lesson namespaces
    `default`/`test` become `<prefix>-default`/`<prefix>-test`.
    show_kubectl: print the kubectl command line of each `lab.*` call before its output;
    default: env `LABKIT_SHOW_KUBECTL` (0 or 1), else on in a notebook and off elsewhere.

    >>> lab = labkit.connect()
    labkit: using the embedded sandbox (https://127.0.0.1:6443); set LABKIT_BACKEND=cluster or pass connect(context=...) to use a real cluster
    """
    from ._lab import Lab
    kubeconfig = str(kubeconfig) if kubeconfig is not None else None
    backend = backend or (None if (kubeconfig or context) else os.environ.get("LABKIT_BACKEND") or None)
    if backend not in (None, "sandbox", "cluster"):
        raise errors.LabkitError(f'backend must be "sandbox" or "cluster", not {backend!r}')
    loaded = None
    if backend == "sandbox":
        kubeconfig = _sandbox_kubeconfig()
        loaded = _load(kubeconfig, None)
    elif backend == "cluster" or kubeconfig or context:
        loaded = _load(kubeconfig, context)
        if loaded is None:
            raise errors.LabkitError("no kubeconfig found: set KUBECONFIG or pass connect(kubeconfig=...)")
    else:
        candidate = _load(None, None)
        if candidate is not None and _reachable(candidate[0]):
            loaded = candidate
        else:
            if candidate is not None:
                candidate[0].close()
            kubeconfig = _sandbox_kubeconfig()
            loaded = _load(kubeconfig, None)
    client, name = loaded
    kind = "sandbox" if name == SANDBOX_CONTEXT else "cluster"
    prefix = namespace_prefix if namespace_prefix is not None else os.environ.get("LABKIT_NAMESPACE_PREFIX") or None
    lab = Lab(client, backend=kind, context=name, namespace_prefix=prefix, show_kubectl=show_kubectl)
    # The file the lab came from, for tools that need one (`%kubectl`, a terminal's KUBECONFIG).
    lab.kubeconfig = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or \
        str(Path.home() / ".kube" / "config")
    if not quiet:
        if kind == "sandbox":
            print(f"labkit: using the embedded sandbox ({lab.server}); set LABKIT_BACKEND=cluster "
                  "or pass connect(context=...) to use a real cluster")
        else:
            print(f"labkit: using the cluster of kubeconfig context {name!r} ({lab.server})")
    return lab
